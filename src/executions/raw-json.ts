// A handler's return value travels as the exact JSON text the runtime produced, never parsed
// into JS numbers and re-serialized: integers beyond 2^53 arrive as they were returned.
// Documents holding one are serialized by walking their structure: a RawJson is written where it
// stands and every string through JSON.stringify, so no byte a sandbox printed or returned can
// change the document's keys or make it invalid JSON (no markers, nothing searched in the output).

export class RawJson {
  private constructor(readonly text: string) {}

  /** Accepts only valid JSON (the result channel is the sandbox's: never trust it blindly). */
  static from(text: string): RawJson {
    JSON.parse(text);
    return new RawJson(text.trim());
  }
}

/**
 * JSON.stringify for plain data (objects, arrays, primitives) that writes RawJson values verbatim.
 * Subtrees without a RawJson go to JSON.stringify whole, and pieces are joined by `+`, not
 * Array.join: results carry megabytes of output, and join made the walk cost four times
 * JSON.stringify's (measured with a 1 MiB stdout).
 */
export function stringifyWithRaw(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (!holdsRaw(value)) return JSON.stringify(value) ?? 'null'; // undefined (an array item) is null, as in JSON.stringify
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) text += (i > 0 ? ',' : '') + stringifyWithRaw(value[i]);
    return text + ']';
  }
  let text = '{';
  for (const [key, item] of Object.entries(value as object)) {
    if (item !== undefined) text += (text.length > 1 ? ',' : '') + JSON.stringify(key) + ':' + stringifyWithRaw(item);
  }
  return text + '}';
}

function holdsRaw(value: unknown): boolean {
  if (value instanceof RawJson) return true;
  if (value === null || typeof value !== 'object') return false;
  for (const item of Array.isArray(value) ? value : Object.values(value)) if (holdsRaw(item)) return true;
  return false;
}
