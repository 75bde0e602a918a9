// Checks that a text is one JSON value (RFC 8259, what JSON.parse accepts) without building it.
// A sandbox's return value is kept and sent as the text it wrote, so it only has to be valid.
// JSON.parse of that text would build every array and object in it: for a 1 MiB return value of
// nested brackets, 500,000 arrays and 50-120 ms of the event loop that every other request waits
// behind, paid again each time the text is read. This walk builds nothing (a byte for each open
// container) and is linear in the text.

// the characters of JSON's structure (also walked by callback-body.ts)
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const LITERALS = ['true', 'false', 'null'];
/** what a string holds between escapes: sticky, and used with test() so that no match is built */
const UNESCAPED_RUN = /[^"\\\u0000-\u001f]*/y;

export function isJsonWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Whether `text` is exactly one JSON value, with nothing but JSON whitespace around it. */
export function isJsonText(text: string): boolean {
  // the closing bracket of each container not yet closed (every one takes two bytes of text)
  const closing = new Uint8Array((text.length >> 1) + 1);
  let depth = 0;
  let i = skipWhitespace(text, 0);
  for (;;) {
    // a value starts at i
    const c = text.charCodeAt(i);
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      const close = c + 2; // ] and } follow [ and { two code points on
      i = skipWhitespace(text, i + 1);
      if (text.charCodeAt(i) === close) {
        i++;
      } else {
        if (c === OPEN_OBJECT) i = skipMemberName(text, i);
        if (i < 0 || depth === closing.length) return false; // (more open than the text could close)
        closing[depth++] = close;
        continue; // its first value
      }
    } else {
      i = skipScalar(text, i);
      if (i < 0) return false;
    }
    // after a value: close containers until one takes a comma and another value
    for (;;) {
      i = skipWhitespace(text, i);
      if (depth === 0) return i === text.length;
      const d = text.charCodeAt(i);
      if (d === COMMA) {
        i = skipWhitespace(text, i + 1);
        if (closing[depth - 1] === CLOSE_OBJECT) i = skipMemberName(text, i);
        if (i < 0) return false;
        break;
      }
      if (d !== closing[depth - 1]) return false;
      depth--;
      i++;
    }
  }
}

export function skipWhitespace(text: string, i: number): number {
  while (isJsonWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/** `"name" :` and the whitespace after it; -1 when that is not what is at i. */
function skipMemberName(text: string, i: number): number {
  if (text.charCodeAt(i) !== QUOTE) return -1;
  i = skipString(text, i);
  if (i < 0) return -1;
  i = skipWhitespace(text, i);
  if (text.charCodeAt(i) !== COLON) return -1;
  return skipWhitespace(text, i + 1);
}

/** A string, number, true, false or null at i: the index after it, or -1. */
function skipScalar(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return skipString(text, i);
  if (c === MINUS || isDigit(c)) return skipNumber(text, i);
  for (const word of LITERALS) if (text.startsWith(word, i)) return i + word.length;
  return -1; // also past the end: charCodeAt gives NaN
}

/** The string whose opening quote is at i: the index after its closing quote, or -1. */
export function skipString(text: string, i: number): number {
  for (i++; i < text.length; ) {
    UNESCAPED_RUN.lastIndex = i;
    UNESCAPED_RUN.test(text);
    i = UNESCAPED_RUN.lastIndex;
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    if (c !== BACKSLASH) return -1; // a control character (they must be escaped), or the end
    const escaped = text.charCodeAt(i + 1);
    if (escaped === 0x75 /* u */) {
      for (let k = 2; k < 6; k++) if (!isHexDigit(text.charCodeAt(i + k))) return -1;
      i += 6;
    } else if ('"\\/bfnrt'.includes(text[i + 1] ?? 'x')) {
      i += 2;
    } else {
      return -1;
    }
  }
  return -1; // not closed
}

/** -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?: the index after it, or -1. */
export function skipNumber(text: string, i: number): number {
  if (text.charCodeAt(i) === MINUS) i++;
  if (text.charCodeAt(i) === ZERO) i++;
  else if (isDigit(text.charCodeAt(i))) i = skipDigits(text, i);
  else return -1;
  if (text.charCodeAt(i) === DOT) {
    if (!isDigit(text.charCodeAt(i + 1))) return -1;
    i = skipDigits(text, i + 1);
  }
  const e = text.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === PLUS || sign === MINUS) i++;
    if (!isDigit(text.charCodeAt(i))) return -1;
    i = skipDigits(text, i);
  }
  return i;
}

function skipDigits(text: string, i: number): number {
  while (isDigit(text.charCodeAt(i))) i++;
  return i;
}

export function isDigit(c: number): boolean {
  return c >= ZERO && c <= 0x39;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * Whether `text` opens more than `limit` objects and arrays inside one another (outside strings).
 * Checked before JSON.parse builds a request body: a 16 MiB body of 8 million nested arrays held
 * the event loop for 5 s there, where this scan takes tens of milliseconds. Not a validator: any
 * text is scanned, and a malformed one is left for JSON.parse to refuse.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = skipString(text, i) - 1; // at the closing quote
      if (i < 0) return false; // not a string JSON.parse would take: it refuses the text
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}
