// What the executor itself costs, read from /proc of the server process we start: RSS idle and
// under load, memory per in-flight execution, and server CPU per execution (the sandboxes'
// own CPU is not in it: utime+stime exclude children).
import { setTimeout as sleep } from 'node:timers/promises';
import { openSession } from './http-suite.js';
import { runCell, type CellResult } from './load.js';
import { cpuMs, memory, treeMemory, type TreeMemory } from './proc-stats.js';
import { PYTHON_RETURN_1, SHELL_ECHO, SHELL_SLEEP, type Workload } from './workloads.js';

export interface CostSuiteResult {
  iterations_per_load: number;
  load_concurrency: number;
  settle_ms: number;
  /** right after start-up, nothing run yet */
  rss_idle_start_mb: number;
  /** after a few executions of each language loaded everything lazily loaded */
  rss_idle_warm_mb: number;
  /** server CPU per second while idle, just started (timers, GC, start-up's lazy work) */
  cpu_ms_per_idle_second: number;
  loads: { workload: string; concurrency: number; executions: number; throughput_rps: number; cpu_ms_per_execution: number; rss_peak_mb: number; rss_mean_mb: number }[];
  in_flight: { executions: number; rss_mb: number; overhead_kb_per_execution: number };
  /** RSS once all the load is over and settled: what finished executions leave behind */
  rss_after_load_mb: number;
  /**
   * the server and all its sandboxes: after the loads, right after one execution in each of
   * `sessions` new sessions, and idle_wait_s later; idle_cpu_ms_per_second: the server's CPU over
   * the last idle_cpu_window_s of that wait, its sessions' sandboxes given back (absent in older runs)
   */
  burst?: { sessions: number; before: TreeMemory; after: TreeMemory; after_idle: TreeMemory; idle_wait_s: number; idle_cpu_ms_per_second?: number; idle_cpu_window_s?: number };
  executions_total: number;
}

export interface CostOptions {
  /** measured executions per load */
  iterations: number;
  concurrency: number;
  /** executions held in flight at once for the memory-per-execution figure */
  inFlight: number;
  sleepSeconds: number;
  /** pause before each idle reading */
  settleMs: number;
  /** sessions opened at once for the burst; their warm sandboxes are what the memory figures hold */
  burstSessions: number;
  /** WARM_IDLE_SECONDS of the executor child: when the burst's sessions give their sandboxes back */
  warmIdleSeconds: number;
  /** how long after the burst its memory is measured again */
  afterBurstSeconds: number;
  progress: (line: string) => void;
}

export async function benchCost(options: CostOptions): Promise<CostSuiteResult> {
  const progress = (line: string) => options.progress(line.replace(/^http: /, 'cost: '));
  progress('cost: starting an executor');
  const session = await openSession({
    mode: 'wait',
    receiverHost: '127.0.0.1',
    receiverPort: 0,
    maxConcurrent: Math.max(64, options.inFlight, options.concurrency),
    timeoutSeconds: 60,
    serverEnv: { WARM_IDLE_SECONDS: String(options.warmIdleSeconds) },
  });
  const pid = session.child!.pid;
  let executions = 0;
  const cell = async (workload: Workload, concurrency: number, requests: number): Promise<CellResult> => {
    const result = await runCell(session.target, workload, concurrency, requests, progress);
    executions += result.requests + result.warmup;
    return result;
  };
  try {
    await sleep(options.settleMs);
    const rssIdleStart = memory(pid).rss_mb;
    const idleCpuBefore = cpuMs(pid);
    await sleep(2 * options.settleMs); // CPU time comes in clock ticks (10 ms): a longer window
    const cpuPerIdleSecond = ((cpuMs(pid) - idleCpuBefore) * 1000) / (2 * options.settleMs);

    progress('cost: warm-up (each language once)');
    for (const workload of [SHELL_ECHO, PYTHON_RETURN_1]) await cell(workload, 1, 2);
    await sleep(options.settleMs);
    const rssIdleWarm = memory(pid).rss_mb;

    // Executions that sleep hold their slot, pipes, timers and pending response: the server's
    // memory per in-flight execution is the RSS growth while all of them are running.
    progress(`cost: ${options.inFlight} executions in flight`);
    const sleeper = SHELL_SLEEP(options.sleepSeconds);
    const { client, runId } = session.target;
    const pending = Promise.all(
      Array.from({ length: options.inFlight }, (_, i) =>
        client.request('POST', '/execute?wait=true', { execution_id: `${runId}-inflight-${i}`, session_id: `${runId}-inflight-${i}`, code: sleeper.code, language: sleeper.language, timeout: 60 }),
      ),
    );
    const rssInFlight = await peakWhileActive(client, pid, options.inFlight, pending);
    const answers = await pending;
    executions += answers.length;
    const failed = answers.filter((a) => a.status !== 200 || sleeper.check(JSON.parse(a.body) as Record<string, unknown>) !== null).length;
    if (failed > 0) progress(`cost: ${failed} of the in-flight executions failed`);

    const loads: CostSuiteResult['loads'] = [];
    for (const workload of [SHELL_ECHO, PYTHON_RETURN_1]) {
      progress(`cost: ${workload.name} load at concurrency ${options.concurrency}`);
      const result = await cell(workload, options.concurrency, Math.max(options.iterations, options.concurrency));
      if (result.errors.total > 0) progress(`cost: ${result.errors.total} errors under load, first: ${result.errors.first}`);
      loads.push({
        workload: workload.name,
        concurrency: options.concurrency,
        executions: result.requests,
        throughput_rps: result.throughput_rps,
        cpu_ms_per_execution: result.server!.cpu_ms_per_execution,
        rss_peak_mb: result.server!.rss_peak_mb,
        rss_mean_mb: result.server!.rss_mean_mb,
      });
    }

    await sleep(options.settleMs);
    const rssAfterLoad = memory(pid).rss_mb;
    const burst = await burstOfSessions(session.target, pid, options, progress);

    return {
      iterations_per_load: options.iterations,
      load_concurrency: options.concurrency,
      settle_ms: options.settleMs,
      rss_idle_start_mb: rssIdleStart,
      rss_idle_warm_mb: rssIdleWarm,
      cpu_ms_per_idle_second: Math.round(cpuPerIdleSecond * 100) / 100,
      loads,
      in_flight: {
        executions: options.inFlight,
        rss_mb: rssInFlight,
        overhead_kb_per_execution: Math.round(((rssInFlight - rssIdleWarm) * 1024) / options.inFlight),
      },
      rss_after_load_mb: rssAfterLoad,
      burst,
      executions_total: executions + burst.sessions,
    };
  } finally {
    await session.close();
  }
}

/**
 * One python execution in each of `burstSessions` new sessions at once: each session then holds its
 * warm sandboxes with primed runtimes. Measured once they are ready, and again afterBurstSeconds
 * later, past the idle time that gives them back (the child's WARM_IDLE_SECONDS).
 */
async function burstOfSessions(
  target: { client: { request(method: string, path: string, body: unknown): Promise<{ status: number }> }; runId: string },
  pid: number,
  options: CostOptions,
  progress: (line: string) => void,
): Promise<NonNullable<CostSuiteResult['burst']>> {
  const before = treeMemory(pid);
  progress(`cost: a burst of ${options.burstSessions} sessions`);
  const answers = await Promise.all(
    Array.from({ length: options.burstSessions }, (_, i) =>
      target.client.request('POST', '/execute?wait=true', {
        execution_id: `${target.runId}-burst-${i}`,
        session_id: `${target.runId}-burst-${i}`,
        code: PYTHON_RETURN_1.code,
        language: PYTHON_RETURN_1.language,
        timeout: 60,
      }),
    ),
  );
  const failed = answers.filter((a) => a.status !== 200).length;
  if (failed > 0) progress(`cost: ${failed} of the burst's executions failed`);
  await sleep(options.settleMs); // the warm sandboxes are made after each execution
  const after = treeMemory(pid);
  progress(`cost: ${options.afterBurstSeconds} s for the burst's sessions to go idle`);
  // the settled idle CPU: the last third of the wait, past WARM_IDLE_SECONDS (a longer window than
  // just after start, for the 10 ms clock ticks, and without start-up's lazy compilation and GC)
  const window = Math.max(1, Math.min(20, Math.floor(options.afterBurstSeconds / 3)));
  await sleep((options.afterBurstSeconds - window) * 1000);
  const cpuBefore = cpuMs(pid);
  await sleep(window * 1000);
  const idleCpu = (cpuMs(pid) - cpuBefore) / window;
  return {
    sessions: options.burstSessions,
    before,
    after,
    after_idle: treeMemory(pid),
    idle_wait_s: options.afterBurstSeconds,
    idle_cpu_ms_per_second: Math.round(idleCpu * 100) / 100,
    idle_cpu_window_s: window,
  };
}

/** The highest RSS seen while `count` executions were active at once (polled through GET /info). */
async function peakWhileActive(client: { getJson(path: string): Promise<unknown> }, pid: number, count: number, until: Promise<unknown>): Promise<number> {
  let finished = false;
  void until.then(() => (finished = true));
  let peak = 0;
  while (!finished) {
    const info = (await client.getJson('/info').catch(() => ({}))) as { active_executions?: number };
    if ((info.active_executions ?? 0) >= count) peak = Math.max(peak, memory(pid).rss_mb);
    await sleep(100);
  }
  return peak || memory(pid).rss_mb;
}
