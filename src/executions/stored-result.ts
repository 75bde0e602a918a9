// How a result is kept in the journal: once. Our own fields as JSON (`result`, return_value null)
// and the return value's JSON text in a column of its own (`return_value`): the answer to GET and
// the callback body are both serialized from these when asked, so the return value is stored
// once and never parsed into JS numbers (big integers keep every digit).
import { callbackBody } from './callback-body.js';
import type { ExecutionResult } from './execution-types.js';
import { RawJson, stringifyWithRaw } from './raw-json.js';

export interface StoredResult {
  result: string;
  return_value: string | null;
  /** the whole callback body, in rows written before results were stored once: sent as it is */
  callback: string | null;
}

export function toStored(result: ExecutionResult): Omit<StoredResult, 'callback'> {
  return { result: stringifyWithRaw({ ...result, return_value: null }), return_value: result.return_value?.text ?? null };
}

export function fromStored(stored: StoredResult): ExecutionResult {
  const result = JSON.parse(stored.result) as ExecutionResult;
  result.return_value = stored.return_value === null ? null : RawJson.from(stored.return_value);
  return result;
}

/** The result document (GET, ?wait=true), to be written with stringifyWithRaw. */
export function resultDocument(stored: StoredResult): ExecutionResult | RawJson {
  return stored.callback === null ? fromStored(stored) : RawJson.from(stored.result);
}

export function resultJson(stored: StoredResult): string {
  return stringifyWithRaw(resultDocument(stored));
}

/** The callback body, as sent to the control plane. */
export function callbackJson(stored: StoredResult): string {
  return stored.callback ?? stringifyWithRaw(callbackBody(fromStored(stored)));
}
