// The event as the client wrote its big integers. The request body is parsed with JSON.parse,
// which turns every number into a double: an integer beyond 2^53 (a 64-bit id, say) would reach a
// python handler changed (9007199254740993 as 9007199254740992). Python reads integers exactly,
// so when the event holds such an integer, the event is written from the body's own text, as
// JSON.stringify writes (no whitespace, strings and every other number as it writes them) but for
// those integers, kept as sent, and for its members, in the order and number sent (python keeps
// the last of duplicate names, as JSON.parse does). Only for an event of at most
// MAX_EXACT_EVENT_CHARS: the walk costs up to ten times JSON.parse on hostile text (a number in
// another form between every two spaces), and past that size it would hold the event loop.
import { CLOSE_ARRAY, CLOSE_OBJECT, COMMA, isDigit, isJsonWhitespace, OPEN_ARRAY, OPEN_OBJECT, QUOTE, skipNumber, skipString, skipWhitespace } from '../executions/json-text.js';

/** A 16-digit run after what can precede a number (not a '.', a letter or another digit). */
const LONG_INTEGER_HINT = /[-:,[\s]\d{16}/;
const INTEGER = /^-?\d+$/;
/** Larger events are written as JSON.stringify writes the parsed one (their big integers rounded). */
export const MAX_EXACT_EVENT_CHARS = 1_048_576;
/** Python refuses to read an integer of more digits (sys.get_int_max_str_digits): such an event is written as before. */
const MAX_INTEGER_DIGITS = 4300;

/**
 * The top-level "event" member of `body` (a JSON text JSON.parse has accepted) written as above,
 * integers a double cannot hold keeping their digits; undefined when there is none (JSON.stringify
 * of the parsed event is then exact) or the event is larger than MAX_EXACT_EVENT_CHARS.
 */
export function exactEventText(body: string): string | undefined {
  if (!LONG_INTEGER_HINT.test(body)) return undefined;
  const span = topLevelMember(body, 'event');
  if (span === undefined || span.end - span.start > MAX_EXACT_EVENT_CHARS || !holdsInexactInteger(body, span.start, span.end)) return undefined;
  return compact(body, span.start, span.end);
}

/** Where the value of the last top-level member named `name` lies (JSON.parse keeps the last). */
function topLevelMember(body: string, name: string): { start: number; end: number } | undefined {
  let at = skipWhitespace(body, 0);
  if (body.charCodeAt(at) !== OPEN_OBJECT) return undefined;
  at = skipWhitespace(body, at + 1);
  let found: { start: number; end: number } | undefined;
  while (body.charCodeAt(at) === QUOTE) {
    const keyEnd = skipString(body, at);
    const key = body.slice(at, keyEnd);
    at = skipWhitespace(body, skipWhitespace(body, keyEnd) + 1); // past the ':'
    const end = endOfValue(body, at);
    if ((key.includes('\\') ? JSON.parse(key) : key.slice(1, -1)) === name) found = { start: at, end };
    at = skipWhitespace(body, end);
    if (body.charCodeAt(at) === COMMA) at = skipWhitespace(body, at + 1);
  }
  return found;
}

/** Where the value starting at `at` ends (strings skipped whole, brackets counted). */
function endOfValue(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return skipString(text, at);
  if (first === OPEN_ARRAY || first === OPEN_OBJECT) {
    let depth = 0;
    for (; at < text.length; at++) {
      const c = text.charCodeAt(at);
      if (c === QUOTE) at = skipString(text, at) - 1;
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
      else if ((c === CLOSE_ARRAY || c === CLOSE_OBJECT) && --depth === 0) return at + 1;
    }
    return at;
  }
  // a number, true, false or null: up to the next delimiter
  while (at < text.length) {
    const c = text.charCodeAt(at);
    if (c === COMMA || c === CLOSE_ARRAY || c === CLOSE_OBJECT || isJsonWhitespace(c)) break;
    at++;
  }
  return at;
}

/** Whether the value holds an integer token a double cannot hold (and python can read). */
function holdsInexactInteger(text: string, start: number, end: number): boolean {
  for (let at = start; at < end; at++) {
    const c = text.charCodeAt(at);
    if (c === QUOTE) at = skipString(text, at) - 1;
    else if (startsNumber(c)) {
      const tokenEnd = skipNumber(text, at);
      if (tokenEnd - at > 15 && isKeptInteger(text.slice(at, tokenEnd))) return true;
      at = tokenEnd - 1;
    }
  }
  return false;
}

function isKeptInteger(token: string): boolean {
  return token.length > 15 && token.length <= MAX_INTEGER_DIGITS && INTEGER.test(token) && !Number.isSafeInteger(Number(token));
}

/**
 * The value as JSON.stringify writes it, but for the integers kept as sent: the text is copied in
 * runs, and only what JSON.stringify writes otherwise is replaced (whitespace, a string with an
 * escape, a number not in its shortest form).
 */
function compact(text: string, start: number, end: number): string {
  let out = ''; // V8 joins these appends as a rope, flattened once
  let run = start; // the start of the text not yet copied
  const replace = (from: number, to: number, replacement: string) => {
    out += text.slice(run, from) + replacement;
    run = to;
  };
  for (let at = start; at < end; at++) {
    const c = text.charCodeAt(at);
    if (c === QUOTE) {
      const close = skipString(text, at) - 1;
      // without an escape a JSON string is already as JSON.stringify writes it
      if (hasBackslash(text, at, close)) replace(at, close + 1, JSON.stringify(JSON.parse(text.slice(at, close + 1))));
      at = close;
    } else if (startsNumber(c)) {
      const tokenEnd = skipNumber(text, at);
      if (!isShortestSafeInteger(text, at, tokenEnd)) {
        const token = text.slice(at, tokenEnd);
        if (!isKeptInteger(token)) replace(at, tokenEnd, JSON.stringify(Number(token)));
      }
      at = tokenEnd - 1;
    } else if (isJsonWhitespace(c)) {
      const after = skipWhitespace(text, at);
      replace(at, after, ''); // a whole run at once
      at = after - 1;
    }
  }
  return out + text.slice(run, end);
}

/** An integer of at most 15 digits, not -0: JSON.stringify writes it as it is. */
function isShortestSafeInteger(text: string, start: number, end: number): boolean {
  const digitsStart = text.charCodeAt(start) === 0x2d ? start + 1 : start;
  if (end - digitsStart > 15) return false;
  for (let at = digitsStart; at < end; at++) if (!isDigit(text.charCodeAt(at))) return false;
  return !(digitsStart > start && end - digitsStart === 1 && text.charCodeAt(digitsStart) === 0x30);
}

function hasBackslash(text: string, from: number, to: number): boolean {
  for (let at = from; at < to; at++) if (text.charCodeAt(at) === 0x5c) return true;
  return false;
}

/** '-' or a digit */
function startsNumber(c: number): boolean {
  return c === 0x2d || isDigit(c);
}
