// A handler's return value travels as the exact JSON text the runtime produced, never parsed
// into JS numbers and re-serialized: integers beyond 2^53 arrive as they were returned.
// A document holding one is serialized by JSON.stringify (native: a result carries megabytes of
// output), with each RawJson written as a token that is then replaced by its text. The token
// holds a random value drawn for that one serialization, after every byte of the document
// exists: no byte a sandbox printed or returned can be a token, so none can change the
// document's keys or make it invalid JSON.
import { randomUUID } from 'node:crypto';
import { isJsonText } from './json-text.js';

/** The serialization under way: its token prefix, and the texts of the RawJson values it met. */
let serializing: { token: string; texts: string[] } | null = null;

export class RawJson {
  private constructor(readonly text: string) {}

  /** Accepts only valid JSON (the result channel is the sandbox's: never trust it blindly). */
  static from(text: string): RawJson {
    if (!isJsonText(text)) throw new SyntaxError('not one JSON value');
    return new RawJson(text.trim());
  }

  /** JSON.stringify's hook: inside stringifyWithRaw a token, elsewhere the parsed value. */
  toJSON(): unknown {
    if (!serializing) return JSON.parse(this.text);
    serializing.texts.push(this.text);
    return `${serializing.token}${serializing.texts.length - 1}`;
  }
}

/** JSON.stringify for plain data (objects, arrays, primitives) that writes RawJson values verbatim. */
export function stringifyWithRaw(value: unknown): string {
  const current = { token: `${randomUUID()}:`, texts: [] as string[] };
  const outer = serializing; // a toJSON of the document's own could serialize another document
  serializing = current;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } finally {
    serializing = outer;
  }
  if (text === undefined) return 'null';
  if (current.texts.length === 0) return text;
  // every piece after the first starts with a token's index and its closing quote
  const [first, ...rest] = text.split(`"${current.token}`);
  let out = first ?? '';
  for (const piece of rest) {
    const end = piece.indexOf('"');
    out += current.texts[Number(piece.slice(0, end))] + piece.slice(end + 1);
  }
  return out;
}
