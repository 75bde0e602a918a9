// The result callback's body: what the control plane stores for an execution, bounded so that
// it CAN store it. Its columns are TEXT (65,535 bytes): a larger value is refused with a 500
// forever. So stdout, stderr and the serialized return value are each kept under
// CALLBACK_FIELD_BYTES; what does not fit is cut (text) or replaced by null (return value), with
// a *_truncated flag. The whole result stays in the journal for GET /executions/{id}.
// A pure function of the result: the same result always gives the same body.
import { cutAtCharacter } from './bounded-text.js';
import type { CallbackBody, ExecutionResult } from './execution-types.js';
import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, isJsonWhitespace, OPEN_ARRAY, OPEN_OBJECT, QUOTE } from './json-text.js';

/** 60 KiB: under the control plane's 65,535-byte TEXT columns with room for its own framing. */
export const CALLBACK_FIELD_BYTES = 60 * 1024;

export function callbackBody(result: ExecutionResult): CallbackBody {
  const { status, exit_code, execution_time, metrics, artifacts, sandbox } = result;
  const stdout = boundedText(result.stdout);
  const stderr = boundedText(result.stderr);
  const returnValueFits = result.return_value === null || storedJsonBytes(result.return_value.text, CALLBACK_FIELD_BYTES) <= CALLBACK_FIELD_BYTES;
  return {
    status,
    stdout: stdout.text,
    stderr: stderr.text,
    exit_code,
    execution_time,
    return_value: returnValueFits ? result.return_value : null,
    metrics,
    artifacts,
    sandbox,
    stdout_truncated: result.stdout_truncated || stdout.cut,
    stderr_truncated: result.stderr_truncated || stderr.cut,
    return_value_truncated: result.return_value_truncated || !returnValueFits,
  };
}

const CUT_NOTICE = '\n[cut for the control plane: the whole output is in GET /executions/{id}]\n';

function boundedText(text: string): { text: string; cut: boolean } {
  if (Buffer.byteLength(text, 'utf8') <= CALLBACK_FIELD_BYTES) return { text, cut: false };
  return { text: cutAtCharacter(text, CALLBACK_FIELD_BYTES - Buffer.byteLength(CUT_NOTICE)) + CUT_NOTICE, cut: true };
}

/**
 * Deeper than this, the control plane's json.loads raises RecursionError (Python's limit is 1000
 * frames, its own request handling takes some): such a value cannot be stored there at all.
 */
export const MAX_STORED_JSON_DEPTH = 500;
/** Longer integers, json.loads refuses (Python's int_max_str_digits, 4,300 by default since 3.11). */
const MAX_INTEGER_DIGITS = 4300;
/** A number of a text already checked as JSON (isJsonText). */
const NUMBER = /-?\d+(\.\d+)?([eE][-+]?\d+)?/y;

/**
 * The bytes the control plane may need to store a JSON value. It re-serializes the value with
 * Python's json.dumps, whatever text we sent, so the verbatim text is measured as that writes it:
 * ", " and ": " between items (JavaScript's JSON.stringify and our Python encoder write them
 * without the space: 50,001 bytes of zeros became 75,000), no other whitespace outside strings,
 * a number with a fraction or an exponent as Python's float repr, and every non-ASCII character
 * as \uXXXX (6 bytes per UTF-16 unit, the most any of its encodings takes). An upper bound;
 * infinite for a value json.loads refuses (nested too deep, an integer too long). The count stops
 * once over `stopAbove`.
 */
export function storedJsonBytes(json: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let bytes = 0;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length && bytes <= stopAbove; i++) {
    const code = json.charCodeAt(i);
    if (code >= 0x7f)
      bytes += 6; // DEL too: json.dumps escapes all but space to tilde
    else if (inString) {
      if (code === BACKSLASH) {
        bytes += 2; // an escape's first two characters: \" stays inside the string
        i++;
      } else {
        if (code === QUOTE) inString = false;
        bytes += 1;
      }
    } else if (code === QUOTE) {
      inString = true;
      bytes += 1;
    } else if (code === COMMA || code === COLON) bytes += 2;
    else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      if (++depth > MAX_STORED_JSON_DEPTH) return Number.POSITIVE_INFINITY;
      bytes += 1;
    } else if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) {
      depth--;
      bytes += 1;
    } else if (isJsonWhitespace(code)) continue;
    else {
      NUMBER.lastIndex = i;
      const number = NUMBER.exec(json)?.[0];
      if (!number)
        bytes += 1; // a letter of true, false or null
      else {
        const integer = !/[.eE]/.test(number);
        if (integer && number.replace('-', '').length > MAX_INTEGER_DIGITS) return Number.POSITIVE_INFINITY;
        bytes += integer ? number.length : pythonFloatRepr(Number(number)).length;
        i += number.length - 1;
      }
    }
  }
  return bytes;
}

/** Python's repr of a float: the shortest digits, fixed from 1e-4 to 1e16, else d.ddde+XX. */
export function pythonFloatRepr(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const shown = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${shown}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  return `${sign}${digits.slice(0, exponent + 1).padEnd(exponent + 1, '0')}.${digits.slice(exponent + 1) || '0'}`;
}
