// The one way to talk to the control plane: POST a JSON body to {CONTROL_PLANE_URL}/api/v1/internal/…
// with the internal token, within a time bound, and an answer sorted for the caller's retry
// policy. Every attempt is counted in /metrics by kind and outcome.
import type { Metrics } from '../metrics.js';

export const CALL_KINDS = ['result', 'heartbeat', 'ready', 'exited'] as const;
export type CallKind = (typeof CALL_KINDS)[number];
/** Labels of sandbox_callback_attempts_total's outcome. */
const OUTCOME_LABELS = ['success', 'rejected', 'http_error', 'timeout', 'network_error', 'aborted'] as const;

export type CallOutcome =
  /** 2xx (a 2xx may still say that nothing was done: `answer` is its body's start) */
  | { kind: 'accepted'; status: number; answer: string }
  /** an answer the contract calls final (400/404/409/422): sending the same body again cannot help */
  | { kind: 'refused'; status: number; answer: string }
  /** any other answer, a timeout or a network error: worth another try later */
  | { kind: 'failed'; error: string }
  /** the caller gave up (shutdown): nothing is known about this attempt */
  | { kind: 'aborted' };

export interface CallOptions {
  timeoutMs: number;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

const FINAL_STATUSES = new Set([400, 404, 409, 422]);
/** What is kept of the control plane's answer for logs and the journal. */
const MAX_ANSWER_BYTES = 2048;

export class ControlPlaneClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly metrics: Metrics,
  ) {
    // every series at 0 from the start: rate() and increase() see the first failure, not only the second
    for (const kind of CALL_KINDS) for (const outcome of OUTCOME_LABELS) metrics.callbackAttempts.inc({ kind, outcome }, 0);
  }

  /** `body` is sent as given: callers keep control of every byte (return values are verbatim JSON). */
  async post(kind: CallKind, path: string, body: string, options: CallOptions): Promise<CallOutcome> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (options.idempotencyKey) headers['Idempotency-Key'] = headerSafe(options.idempotencyKey);
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let outcome: CallOutcome;
    let label: (typeof OUTCOME_LABELS)[number];
    try {
      const response = await fetch(`${this.baseUrl}${path}`, { method: 'POST', headers, body, signal });
      // read (a bounded part of) every answer: an unread body keeps its connection busy
      const answer = await readBounded(response, MAX_ANSWER_BYTES);
      if (response.ok) {
        outcome = { kind: 'accepted', status: response.status, answer };
        label = 'success';
      } else if (FINAL_STATUSES.has(response.status)) {
        outcome = { kind: 'refused', status: response.status, answer };
        label = 'rejected';
      } else {
        outcome = { kind: 'failed', error: `HTTP ${response.status}: ${answer}` };
        label = 'http_error';
      }
    } catch (error) {
      if (options.signal?.aborted) {
        outcome = { kind: 'aborted' };
        label = 'aborted';
      } else if (timeout.aborted) {
        outcome = { kind: 'failed', error: `no answer within ${options.timeoutMs} ms` };
        label = 'timeout';
      } else {
        outcome = { kind: 'failed', error: networkError(error) };
        label = 'network_error';
      }
    }
    this.metrics.callbackAttempts.inc({ kind, outcome: label });
    return outcome;
  }
}

/** ISO-8601 in UTC with an explicit offset: "+00:00" parses everywhere, "Z" not in every Python. */
export function isoTimestamp(date = new Date()): string {
  return date.toISOString().replace(/Z$/, '+00:00');
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= maxBytes) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/** fetch hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, a reset socket, …). */
function networkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message || cause?.code || (error as Error).message;
}

/**
 * A header value is bytes: fetch refuses a character above U+00FF (an id such as "日本-1"), which
 * failed every delivery of that result. Printable ASCII but '%' is sent as it is (every id the
 * control plane makes), anything else percent-encoded as UTF-8: an id holding '%' is encoded too,
 * so that no two ids share a key ("日本-1" and "%E6%97%A5%E6%9C%AC-1").
 */
export function headerSafe(value: string): string {
  return /^[\x20-\x24\x26-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}
