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

/** JSON.stringify for plain data (objects, arrays, primitives) that writes RawJson values verbatim. */
export function stringifyWithRaw(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((item) => stringifyWithRaw(item)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members: string[] = [];
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) members.push(`${JSON.stringify(key)}:${stringifyWithRaw(item)}`);
    }
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null'; // undefined (an array item) is null, as in JSON.stringify
}
