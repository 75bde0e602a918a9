// The callback body of CONTRACT.md section 3, taken from a result when it is sent (the journal
// keeps the result only).
import type { CallbackBody, ExecutionResult } from './execution-types.js';

export function callbackBody(result: ExecutionResult): CallbackBody {
  const { status, stdout, stderr, exit_code, execution_time, return_value, metrics, artifacts, sandbox } = result;
  return { status, stdout, stderr, exit_code, execution_time, return_value, metrics, artifacts, sandbox };
}
