// A handler's return value travels as the exact JSON text the runtime produced, never parsed
// into JS numbers and re-serialized: integers beyond 2^53 arrive as they were returned.

const MARKER = '\u0000raw-json\u0000';

export class RawJson {
  private constructor(readonly text: string) {}

  /** Accepts only valid JSON (the result channel is the sandbox's: never trust it blindly). */
  static from(text: string): RawJson {
    JSON.parse(text);
    return new RawJson(text.trim());
  }

  toJSON(): string {
    return `${MARKER}${this.text}${MARKER}`;
  }
}

/** JSON.stringify that writes RawJson values verbatim. */
export function stringifyWithRaw(value: unknown): string {
  const json = JSON.stringify(value);
  if (!json.includes('\\u0000raw-json\\u0000')) return json;
  return json.replace(/"\\u0000raw-json\\u0000((?:[^"\\]|\\.)*)\\u0000raw-json\\u0000"/g, (_m, escaped: string) => JSON.parse(`"${escaped}"`) as string);
}
