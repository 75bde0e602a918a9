// Closed-loop load: `concurrency` workers send one execution at a time until the cell's request
// budget is spent. Worker i always uses session i of the run (executions of one session share a
// workspace, so no two workers may share one), as a control plane with that many users would. Latency is
// submit -> full result in hand: the ?wait=true response, or the callback's arrival.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallbackReceiver } from './callback-receiver.js';
import type { HttpClient } from './http-client.js';
import { cpuTotals, sampleRss } from './proc-stats.js';
import { summarize, type Summary } from './stats.js';
import type { Workload } from './workloads.js';

export interface Target {
  client: HttpClient;
  mode: 'wait' | 'callback';
  /** required in callback mode */
  receiver?: CallbackReceiver;
  /** the executor's pid when it runs on this machine under our control: server CPU and RSS per cell */
  serverPid?: number;
  /** prefixes execution and session ids: unique per run */
  runId: string;
  timeoutSeconds: number;
}

export type ErrorKind = 'rejected_503' | 'http_error' | 'wrong_result' | 'transport';

type Outcome = { ok: true; id: string; ms: number; result: Record<string, unknown> } | { ok: false; kind: ErrorKind; message: string };

export const PHASES = ['queue_ms', 'prepare_ms', 'spawn_ms', 'run_ms', 'artifact_scan_ms', 'result_build_ms'] as const;
export type PhaseMedians = Record<(typeof PHASES)[number], number>;

export interface CellResult {
  workload: string;
  concurrency: number;
  /** measured requests (warm-up excluded) */
  requests: number;
  warmup: number;
  ok: number;
  latency: Summary | null;
  throughput_rps: number;
  elapsed_s: number;
  errors: Record<ErrorKind, number> & { total: number; first: string | null };
  /** medians of the phases the server reported (null when it reports none) */
  phases_p50: PhaseMedians | null;
  /** only when the server is our child process */
  /**
   * tree_cpu_ms_per_execution: the server and every sandbox process, alive or reaped (proc-stats
   * cpuTotals), over the cell: the machine's CPU for the executions, including the warm and primed
   * sandboxes made meanwhile, used or not (absent in older runs)
   */
  server: { cpu_ms_per_execution: number; tree_cpu_ms_per_execution?: number; rss_peak_mb: number; rss_mean_mb: number } | null;
}

export async function executeOnce(target: Target, workload: Workload, sessionId: string, executionId: string): Promise<Outcome> {
  const body = { execution_id: executionId, session_id: sessionId, code: workload.code, language: workload.language, event: {}, timeout: target.timeoutSeconds };
  const clientTimeout = (target.timeoutSeconds + 30) * 1000;
  const began = performance.now();
  try {
    let text: string;
    let ended: number;
    if (target.mode === 'wait') {
      const response = await target.client.request('POST', '/execute?wait=true', body, clientTimeout);
      ended = performance.now();
      if (response.status !== 200) return httpFailure(response.status, response.body);
      text = response.body;
    } else {
      const delivery = target.receiver!.expect(executionId, clientTimeout);
      delivery.catch(() => {}); // settled below, or abandoned when the submission fails
      const response = await target.client.request('POST', '/execute', body, clientTimeout);
      if (response.status !== 200) {
        target.receiver!.forget(executionId);
        return httpFailure(response.status, response.body);
      }
      const arrived = await delivery;
      ended = arrived.at;
      text = arrived.body;
    }
    const result = JSON.parse(text) as Record<string, unknown>;
    const wrong = workload.check(result);
    if (wrong) return { ok: false, kind: 'wrong_result', message: wrong };
    return { ok: true, id: executionId, ms: ended - began, result };
  } catch (error) {
    return { ok: false, kind: 'transport', message: (error as Error).message };
  }
}

function httpFailure(status: number, body: string): Outcome {
  return { ok: false, kind: status === 503 ? 'rejected_503' : 'http_error', message: `HTTP ${status}: ${body.slice(0, 200)}` };
}

/** How many results of a callback-mode cell are looked up (GET /executions/{id}) for their phases. */
const PHASE_LOOKUPS = 50;

async function phasesOf(target: Target, executionId: string): Promise<Record<string, number> | null> {
  try {
    const state = (await target.client.getJson(`/executions/${encodeURIComponent(executionId)}`)) as { result?: { phases?: Record<string, number> } };
    return state.result?.phases ?? null;
  } catch {
    return null; // an executor without GET /executions/{id}
  }
}

function phaseMedians(reported: Record<string, number>[]): PhaseMedians | null {
  if (reported.length === 0) return null;
  const medians = {} as PhaseMedians;
  for (const phase of PHASES) {
    const values = reported.map((p) => p[phase]).filter((v): v is number => typeof v === 'number');
    medians[phase] = values.length ? summarize(values).p50 : NaN;
  }
  return medians;
}

/** Executions before a cell's measured ones (rounded up to whole rounds of all workers). */
export const WARMUP_EXECUTIONS = 20;

/**
 * thinkMs: each worker waits that long after a result before its next request, as an agent that
 * reads a result before it runs more code (the pauses count in the cell's elapsed time).
 */
export async function runCell(target: Target, workload: Workload, concurrency: number, requests: number, progress: (line: string) => void, thinkMs = 0): Promise<CellResult> {
  const label = `${workload.name} c=${concurrency}`;
  let sequence = 0;
  const nextId = () => `${target.runId}-${workload.name}-c${concurrency}-${sequence++}`;
  let opened = 0;
  const session = (worker: number) => (workload.newSessionEach ? `${target.runId}-${workload.name}-c${concurrency}-s${opened++}` : `${target.runId}-w${worker}`);

  // warm-up, not counted: every worker opens its connection and warms its session, and at least
  // WARMUP_EXECUTIONS run in all, so that the executor's code is compiled (a long-running server's
  // steady state is what is measured, not its first requests after start)
  const rounds = Math.max(1, Math.ceil(WARMUP_EXECUTIONS / concurrency));
  for (let round = 0; round < rounds; round++) {
    await Promise.all(Array.from({ length: concurrency }, (_, w) => executeOnce(target, workload, session(w), nextId())));
    if (thinkMs > 0) await sleep(thinkMs);
  }

  const latencies: number[] = [];
  const phases: Record<string, number>[] = [];
  const finishedIds: string[] = [];
  const errors: CellResult['errors'] = { rejected_503: 0, http_error: 0, wrong_result: 0, transport: 0, total: 0, first: null };
  let issued = 0;
  let done = 0;
  let reportedQuarter = 0;
  const cpuBefore = target.serverPid ? cpuTotals(target.serverPid) : null;
  const rss = target.serverPid ? sampleRss(target.serverPid) : null;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, requests) }, async (_, w) => {
      while (issued < requests) {
        issued++;
        const outcome = await executeOnce(target, workload, session(w), nextId());
        if (outcome.ok) {
          latencies.push(outcome.ms);
          const reported = outcome.result.phases;
          if (typeof reported === 'object' && reported !== null) phases.push(reported as Record<string, number>);
          else if (finishedIds.length < PHASE_LOOKUPS) finishedIds.push(outcome.id);
        } else {
          errors[outcome.kind]++;
          errors.total++;
          errors.first ??= outcome.message;
        }
        done++;
        if (thinkMs > 0) await sleep(thinkMs);
        const quarter = Math.floor((done * 4) / requests);
        if (quarter > reportedQuarter && quarter < 4) {
          reportedQuarter = quarter;
          progress(`http: ${label} ${done}/${requests}`);
        }
      }
    }),
  );
  const elapsedMs = performance.now() - began;
  const server =
    target.serverPid && rss && cpuBefore
      ? (() => {
          const memory = rss.stop();
          const cpuAfter = cpuTotals(target.serverPid);
          const cpu = cpuAfter.self_ms - cpuBefore.self_ms;
          const treeCpu = cpuAfter.tree_ms - cpuBefore.tree_ms;
          const perExecution = (ms: number) => Math.round((ms / requests) * 1000) / 1000;
          return { cpu_ms_per_execution: perExecution(cpu), tree_cpu_ms_per_execution: perExecution(treeCpu), rss_peak_mb: memory.peak_mb, rss_mean_mb: memory.mean_mb };
        })()
      : null;
  // callbacks carry only the contract's keys: ask for the phases afterwards, off the clock
  for (const id of finishedIds) {
    const reported = await phasesOf(target, id);
    if (!reported) break;
    phases.push(reported);
  }
  const latency = latencies.length ? summarize(latencies) : null;
  progress(`http: ${label} done: p50 ${latency?.p50 ?? 'n/a'} ms, p99 ${latency?.p99 ?? 'n/a'} ms, ${errors.total} errors`);
  return {
    workload: workload.name,
    concurrency,
    requests,
    warmup: concurrency,
    ok: latencies.length,
    latency,
    throughput_rps: Math.round((latencies.length / (elapsedMs / 1000)) * 10) / 10,
    elapsed_s: Math.round(elapsedMs) / 1000,
    errors,
    phases_p50: phaseMedians(phases),
    server,
  };
}
