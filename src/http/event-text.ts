// The event as the client wrote its numbers. The request body is parsed with JSON.parse, which
// turns every number into a double: an integer beyond 2^53 (a 64-bit id, say) would reach a
// python handler changed (9007199254740993 as 9007199254740992). Python reads integers exactly,
// so when the body holds such an integer, the event is written from the body's own text instead:
// the same compact text JSON.stringify gives (strings re-encoded as it encodes them, no
// whitespace), with each number token kept as sent.

/** Runs of 16 or more digits: without one, every integer in the body is exact as a double. */
const LONG_DIGIT_RUN = /\d{16}/;
const STRING = /"(?:[^"\\]|\\.)*"/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;
const WHITESPACE = /[ \t\n\r]*/y;

/**
 * The top-level "event" member of `body` (a JSON text JSON.parse has accepted) as compact JSON
 * with its numbers as sent, when some integer in it is not exact as a double; undefined otherwise
 * (JSON.stringify of the parsed event is then the same text).
 */
export function exactEventText(body: string): string | undefined {
  if (!LONG_DIGIT_RUN.test(body)) return undefined;
  const span = topLevelMember(body, 'event');
  if (span === undefined) return undefined;
  const { text, inexact } = compact(body, span.start, span.end);
  return inexact ? text : undefined;
}

/** Where the value of the last top-level member named `name` lies (JSON.parse keeps the last). */
function topLevelMember(body: string, name: string): { start: number; end: number } | undefined {
  let at = skipWhitespace(body, 0);
  if (body[at] !== '{') return undefined;
  at = skipWhitespace(body, at + 1);
  let found: { start: number; end: number } | undefined;
  while (body[at] === '"') {
    const key = match(STRING, body, at)!;
    at = skipWhitespace(body, skipWhitespace(body, at + key.length) + 1); // past the ':'
    const end = endOfValue(body, at);
    if (JSON.parse(key) === name) found = { start: at, end };
    at = skipWhitespace(body, end);
    if (body[at] === ',') at = skipWhitespace(body, at + 1);
  }
  return found;
}

/** Where the value starting at `at` ends: strings are skipped whole, brackets counted. */
function endOfValue(text: string, at: number): number {
  let depth = 0;
  do {
    const c = text[at];
    if (c === '"') at += match(STRING, text, at)!.length;
    else {
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') depth--;
      else if (depth === 0 && (c === ',' || c === ' ' || c === '\t' || c === '\n' || c === '\r')) return at;
      at++;
    }
  } while (depth > 0 && at < text.length);
  // a scalar at depth 0 runs until a delimiter
  while (at < text.length && !',}] \t\n\r'.includes(text[at]!)) at++;
  return at;
}

/** The value's tokens without whitespace, strings as JSON.stringify writes them, numbers as sent. */
function compact(text: string, start: number, end: number): { text: string; inexact: boolean } {
  const out: string[] = [];
  let inexact = false;
  let at = start;
  while (at < end) {
    const c = text[at]!;
    if (c === '"') {
      const token = match(STRING, text, at)!;
      out.push(JSON.stringify(JSON.parse(token)));
      at += token.length;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const token = match(NUMBER, text, at)!;
      if (!inexact && /^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) inexact = true;
      out.push(token);
      at += token.length;
    } else if (c === 't' || c === 'f' || c === 'n') {
      const token = match(LITERAL, text, at)!;
      out.push(token);
      at += token.length;
    } else {
      if (!' \t\n\r'.includes(c)) out.push(c);
      at++;
    }
  }
  return { text: out.join(''), inexact };
}

function match(pattern: RegExp, text: string, at: number): string | undefined {
  pattern.lastIndex = at;
  return pattern.exec(text)?.[0];
}

function skipWhitespace(text: string, at: number): number {
  WHITESPACE.lastIndex = at;
  WHITESPACE.exec(text);
  return WHITESPACE.lastIndex;
}
