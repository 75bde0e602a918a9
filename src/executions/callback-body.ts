// The result callback's body: what the control plane stores for an execution, bounded so that
// it CAN store it. Its columns are TEXT (65,535 bytes): a larger value is refused with a 500
// forever. So stdout, stderr and the serialized return value are each kept under
// CALLBACK_FIELD_BYTES; what does not fit is cut (text) or replaced by null (return value), with
// a *_truncated flag. The whole result stays in the journal for GET /executions/{id}.
// A pure function of the result: the same result always gives the same body.
import { cutAtCharacter } from './bounded-text.js';
import type { CallbackBody, ExecutionResult } from './execution-types.js';

/** 60 KiB: under the control plane's 65,535-byte TEXT columns with room for its own framing. */
export const CALLBACK_FIELD_BYTES = 60 * 1024;

export function callbackBody(result: ExecutionResult): CallbackBody {
  const { status, exit_code, execution_time, metrics, artifacts, sandbox } = result;
  const stdout = boundedText(result.stdout);
  const stderr = boundedText(result.stderr);
  const returnValueFits = result.return_value === null || storedJsonBytes(result.return_value.text) <= CALLBACK_FIELD_BYTES;
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
 * The bytes the control plane may need to store a JSON value: it re-serializes it (Python's
 * json.dumps escapes every non-ASCII character as \uXXXX, 6 bytes per UTF-16 unit), so the
 * verbatim text is measured that way: an upper bound for any encoding it might choose.
 */
export function storedJsonBytes(json: string): number {
  let bytes = 0;
  for (let i = 0; i < json.length; i++) bytes += json.charCodeAt(i) < 0x80 ? 1 : 6;
  return bytes;
}
