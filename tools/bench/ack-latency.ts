// The acknowledgement under load: what a control plane's submit call waits while the executor is
// busy. `concurrency - 1` workers keep executions of a workload running (?wait=true, one session
// each); one prober submits executions of the same workload in its own session (POST /execute,
// no wait) and times the answer, the contract's 200 PENDING. The prober waits for each of its
// executions to finish before the next, so `concurrency` run at once, as in the http cells.
import { performance } from 'node:perf_hooks';
import { executeOnce, type Target } from './load.js';
import { summarize, type Summary } from './stats.js';
import type { Workload } from './workloads.js';

export interface AckResult {
  workload: string;
  /** executions in flight: the prober's and the background workers' */
  concurrency: number;
  /** measured acknowledgements (warm-up excluded) */
  acks: number;
  latency: Summary | null;
  /** the prober's failures: a refused or malformed acknowledgement, or an execution that never finished */
  errors: number;
  first_error: string | null;
  /** executions the background workers finished meanwhile (proof that the load was there) */
  background_executions: number;
}

/** The figure: the acknowledgement while 16 executions run (15 busy clients and the prober). */
export const ACK_REFERENCE_LEVEL = 16;

/**
 * The levels a run measures the acknowledgement at: the reference level when the run has it, and
 * the run's highest level (where the executor is busiest), once each; never level 1 (no load).
 */
export function ackLevels(levels: number[]): number[] {
  const top = Math.max(...levels);
  const chosen = levels.includes(ACK_REFERENCE_LEVEL) ? [ACK_REFERENCE_LEVEL, top] : [top];
  return [...new Set(chosen)].filter((level) => level > 1).sort((a, b) => a - b);
}

/** A run's acknowledgements, whichever shape its file has (before 2026-12-07: one object or null). */
export function ackResultsOf(http: { ack_under_load: AckResult[] | AckResult | null }): AckResult[] {
  const acks = http.ack_under_load;
  if (!acks) return [];
  return Array.isArray(acks) ? acks : [acks];
}

/** Acknowledgements not measured: the prober's connection and session warm up. */
const WARMUP_ACKS = 3;
/** How often the prober asks whether its execution finished (wait mode). */
const POLL_MS = 10;

export async function measureAcks(target: Target, workload: Workload, concurrency: number, acks: number, progress: (line: string) => void): Promise<AckResult> {
  const label = `ack under load: ${workload.name} c=${concurrency}`;
  let stop = false;
  let backgroundDone = 0;
  let sequence = 0;
  const nextId = (who: string) => `${target.runId}-ack-${workload.name}-${who}-${sequence++}`;
  const background = Array.from({ length: concurrency - 1 }, async (_, w) => {
    while (!stop) {
      await executeOnce(target, workload, `${target.runId}-ackload${w}`, nextId(`w${w}`));
      backgroundDone++;
    }
  });

  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  try {
    for (let i = 0; i < WARMUP_ACKS + acks; i++) {
      const outcome = await submitAndAwait(target, workload, `${target.runId}-ackprobe`, nextId('probe'));
      if (i < WARMUP_ACKS) continue;
      if (typeof outcome === 'number') latencies.push(outcome);
      else {
        errors++;
        firstError ??= outcome;
      }
    }
  } finally {
    stop = true;
    await Promise.all(background);
  }
  const latency = latencies.length ? summarize(latencies) : null;
  progress(`http: ${label} done: p50 ${latency?.p50 ?? 'n/a'} ms, p99 ${latency?.p99 ?? 'n/a'} ms, ${errors} errors`);
  return { workload: workload.name, concurrency, acks, latency, errors, first_error: firstError, background_executions: backgroundDone };
}

/** The acknowledgement's latency in ms, or what went wrong; returns once the execution finished. */
async function submitAndAwait(target: Target, workload: Workload, sessionId: string, executionId: string): Promise<number | string> {
  const body = { execution_id: executionId, session_id: sessionId, code: workload.code, language: workload.language, event: {}, timeout: target.timeoutSeconds };
  const deadline = performance.now() + (target.timeoutSeconds + 30) * 1000;
  const delivery = target.mode === 'callback' ? target.receiver!.expect(executionId, deadline - performance.now()) : null;
  delivery?.catch(() => {}); // settled below, or abandoned when the submission fails
  const began = performance.now();
  let acknowledged: number;
  try {
    const response = await target.client.request('POST', '/execute', body);
    acknowledged = performance.now() - began;
    if (response.status !== 200) {
      target.receiver?.forget(executionId);
      return `HTTP ${response.status}: ${response.body.slice(0, 200)}`;
    }
    const answer = JSON.parse(response.body) as { status?: unknown };
    if (typeof answer.status !== 'string' || answer.status.toUpperCase() !== 'PENDING') return `the acknowledgement is not PENDING: ${response.body.slice(0, 200)}`;
  } catch (error) {
    return (error as Error).message;
  }
  try {
    if (delivery) await delivery;
    else await finished(target, executionId, deadline);
  } catch (error) {
    return (error as Error).message;
  }
  return acknowledged;
}

/** Polls GET /executions/{id} until it has a result (an executor without that route: a pause). */
async function finished(target: Target, executionId: string, deadline: number): Promise<void> {
  const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  while (performance.now() < deadline) {
    const response = await target.client.request('GET', `/executions/${encodeURIComponent(executionId)}`);
    if (response.status === 404 || response.status === 405) return pause(100); // not ours: no way to know
    if (response.status === 200 && (JSON.parse(response.body) as { result?: unknown }).result) return;
    await pause(POLL_MS);
  }
  throw new Error(`execution ${executionId} did not finish in time`);
}
