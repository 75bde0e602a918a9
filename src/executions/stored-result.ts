// How a result is kept in the journal: once. Our own fields as JSON (`result`, return_value null)
// and the return value's JSON text in a column of its own (`return_value`): the answer to GET and
// the callback body are both serialized from these when asked, so the return value is stored
// once and never parsed into JS numbers (big integers keep every digit).
import { callbackBody } from './callback-body.js';
import type { ExecutionResult } from './execution-types.js';
import { RawJson, stringifyWithRaw } from './raw-json.js';

/**
 * A stored result's own fields (all but the return value, itself at most 1 MiB) stay under this:
 * the streams are bounded by MAX_OUTPUT_BYTES (60 KiB, at most 6 times that once escaped), so
 * only a long artifact list (MAX_ARTIFACTS paths of up to 4 KiB, twice) can reach it.
 */
export const MAX_STORED_FIELDS_BYTES = 2 * 1024 * 1024;

/**
 * The result, its artifact lists cut to what fits under MAX_STORED_FIELDS_BYTES (and then marked
 * incomplete): what is stored, answered and sent is the same bounded document.
 */
export function withinStorageCap(result: ExecutionResult): ExecutionResult {
  if (result.artifacts.length === 0) return result; // the rest is bounded under the cap (above)
  const bytes = (value: unknown) => Buffer.byteLength(stringifyWithRaw(value)) + 1; // + a comma
  const withoutArtifacts = { ...result, return_value: null, artifacts: [], artifact_details: [], artifacts_complete: false };
  let total = bytes(withoutArtifacts);
  let fitting = 0;
  for (; fitting < result.artifacts.length; fitting++) {
    total += bytes(result.artifacts[fitting]) + bytes(result.artifact_details[fitting] ?? null);
    if (total > MAX_STORED_FIELDS_BYTES) break;
  }
  if (fitting === result.artifacts.length) return result;
  return { ...result, artifacts: result.artifacts.slice(0, fitting), artifact_details: result.artifact_details.slice(0, fitting), artifacts_complete: false };
}

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
