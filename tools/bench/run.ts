// One benchmark run: the selected suites in order, with the machine, versions and configuration
// they ran under, as one JSON document (the source of the Markdown table and the SVG chart).
import { performance } from 'node:perf_hooks';
import { benchCost, type CostSuiteResult } from './cost-suite.js';
import { benchHttp, type HttpSuiteResult } from './http-suite.js';
import { benchJournal, JOURNAL_RESULT_SIZES, type JournalSuiteResult } from './journal-suite.js';
import { machineInfo, versions, type MachineInfo, type Versions } from './machine.js';
import { spawnHost } from './spawn-host.js';
import { benchSpawn, type SpawnBenchResult } from './spawn-suite.js';
import { HTTP_WORKLOADS } from './workloads.js';

export const SUITES = ['spawn', 'http', 'cost', 'journal'] as const;
export type SuiteName = (typeof SUITES)[number];
export const SCHEMA = 'sandbox-executor-bench/1';

/** Sized so `npm run bench` (all suites) ends well within 5 minutes on 2 cores. */
export const DEFAULTS = {
  spawnIterations: 300,
  spawnConcurrency: [1, 2, 4, 8, 16],
  httpIterations: 150,
  httpConcurrency: [1, 4, 16, 64],
  costIterations: 200,
  costConcurrency: 16,
  costInFlight: 32,
  costSettleMs: 1000,
  costBurstSessions: 16,
  costAfterBurstSeconds: 60,
  journalIterations: 300,
  /** the journal suite's cap: about 16,000 small results, 64 large ones */
  journalCapMb: 64,
  timeoutSeconds: 60,
  /** http suite: back to back unless --think-ms says otherwise */
  thinkMs: 0,
};

export interface RunOptions {
  suites: SuiteName[];
  /** overrides every suite's iteration count (tests use tiny ones) */
  iterations?: number;
  /** overrides the concurrency levels of spawn and http */
  concurrency?: number[];
  /** the http suite's workloads by name (default: all of HTTP_WORKLOADS) */
  workloads?: string[];
  /** http suite: each worker's pause between a result and its next request */
  thinkMs?: number;
  target?: string;
  mode: 'wait' | 'callback';
  token?: string;
  receiverHost: string;
  receiverPort: number;
  progress: (line: string) => void;
}

export interface BenchRun {
  schema: typeof SCHEMA;
  suites: SuiteName[];
  started_at: string;
  duration_s: number;
  machine: MachineInfo;
  versions: Versions;
  config: Record<string, unknown>;
  spawn: SpawnBenchResult | null;
  http: HttpSuiteResult | null;
  cost: CostSuiteResult | null;
  /** absent in runs written before the journal suite existed */
  journal?: JournalSuiteResult | null;
  /** why a selected suite produced nothing */
  skipped: Record<string, string>;
}

export async function runBenchmarks(options: RunOptions): Promise<BenchRun> {
  const began = performance.now();
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const spawnIterations = options.iterations ?? DEFAULTS.spawnIterations;
  const httpIterations = options.iterations ?? DEFAULTS.httpIterations;
  const costIterations = options.iterations ?? DEFAULTS.costIterations;
  const journalIterations = options.iterations ?? DEFAULTS.journalIterations;
  const tiny = options.iterations !== undefined && options.iterations < 20;
  const thinkMs = options.thinkMs ?? DEFAULTS.thinkMs;
  const config = {
    spawn: { iterations: spawnIterations, warmup: Math.min(20, spawnIterations), concurrency: options.concurrency ?? DEFAULTS.spawnConcurrency },
    http: {
      iterations_per_cell: httpIterations,
      concurrency: options.concurrency ?? DEFAULTS.httpConcurrency,
      workloads: HTTP_WORKLOADS.map((w) => ({ name: w.name, language: w.language, code: w.code.length > 200 ? `${w.code.slice(0, 200)}...` : w.code })),
      target: options.target ?? 'self',
      mode: options.mode,
      timeout_seconds: DEFAULTS.timeoutSeconds,
      think_ms: thinkMs,
    },
    cost: {
      iterations_per_load: costIterations,
      concurrency: options.concurrency ? Math.max(...options.concurrency) : DEFAULTS.costConcurrency,
      in_flight: tiny ? 4 : DEFAULTS.costInFlight,
      in_flight_sleep_seconds: tiny ? 1 : 3,
      settle_ms: tiny ? 200 : DEFAULTS.costSettleMs,
      burst_sessions: tiny ? 2 : DEFAULTS.costBurstSessions,
      // the executor's own default unless the caller's environment sets one
      warm_idle_seconds: tiny ? 1 : Number(process.env.WARM_IDLE_SECONDS ?? 30),
      after_burst_seconds: tiny ? 3 : DEFAULTS.costAfterBurstSeconds,
    },
    journal: {
      iterations: journalIterations,
      cap_mb: tiny ? 8 : DEFAULTS.journalCapMb,
      result_bytes: JOURNAL_RESULT_SIZES.map((size) => size.result_bytes),
    },
    env: pick(process.env, [
      'ISOLATION',
      'DISABLE_BWRAP',
      'MAX_MEMORY_MB',
      'MAX_CPU_SECONDS',
      'SANDBOX_NETWORK',
      'SANDBOX_NICE',
      'SERVER_AUTOGROUP_NICE',
      'WARM_SANDBOXES_PER_SESSION',
      'WARM_IDLE_SECONDS',
    ]),
  };
  const run: BenchRun = {
    schema: SCHEMA,
    suites: options.suites,
    started_at: startedAt,
    duration_s: 0,
    machine,
    versions: versions(),
    config,
    spawn: null,
    http: null,
    cost: null,
    journal: null,
    skipped: {},
  };
  const { progress } = options;

  for (const suite of options.suites) {
    const suiteBegan = performance.now();
    progress(`suite ${suite}: start`);
    if (suite === 'spawn') {
      const { host, close } = await spawnHost();
      try {
        run.spawn = await benchSpawn(host, host.usable.native, host.usable.bwrap, { ...config.spawn, progress });
      } finally {
        close();
      }
      if (!host.usable.native) run.skipped['spawn.native'] = 'the native backend is not usable here (see sandbox-executor probe)';
      if (!host.usable.bwrap) run.skipped['spawn.bwrap'] = 'bwrap is not usable here (see sandbox-executor probe)';
    } else if (suite === 'http') {
      run.http = await benchHttp({
        target: options.target,
        mode: options.mode,
        token: options.token,
        receiverHost: options.receiverHost,
        receiverPort: options.receiverPort,
        iterations: httpIterations,
        concurrency: config.http.concurrency,
        workloads: options.workloads ? HTTP_WORKLOADS.filter((w) => options.workloads!.includes(w.name)) : HTTP_WORKLOADS,
        timeoutSeconds: DEFAULTS.timeoutSeconds,
        thinkMs,
        progress,
      });
    } else if (suite === 'journal') {
      // the journal's own code on this machine's disk: no executor, so --target changes nothing
      run.journal = await benchJournal({ iterations: journalIterations, capMb: config.journal.cap_mb, progress });
    } else if (options.target) {
      run.skipped.cost = 'the cost suite reads /proc of an executor it starts itself; it does not measure --target';
    } else {
      const c = config.cost;
      run.cost = await benchCost({
        iterations: costIterations,
        concurrency: c.concurrency,
        inFlight: c.in_flight,
        sleepSeconds: c.in_flight_sleep_seconds,
        settleMs: c.settle_ms,
        burstSessions: c.burst_sessions,
        warmIdleSeconds: c.warm_idle_seconds,
        afterBurstSeconds: c.after_burst_seconds,
        progress,
      });
    }
    progress(`suite ${suite}: done in ${((performance.now() - suiteBegan) / 1000).toFixed(1)} s`);
  }
  run.duration_s = Math.round(performance.now() - began) / 1000;
  return run;
}

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((n) => env[n] !== undefined).map((n) => [n, env[n]!]));
}
