// Spawn latency of /bin/true: native sandbox vs bwrap vs a plain (unsandboxed) spawn, interleaved
// in one run (ABAB...) so machine drift cancels; then native again with 1 GiB of live JS heap, to
// show the spawn does not copy the server. Latency = spawn call to exit observed on the loop.
// "native" joins a network namespace the addon made ahead, as the service's sandboxes do;
// "native-own-netns" creates its own in its clone, for comparison. Then the CPU of one spawn of
// each variant, what a sandbox costs the machine before it runs anything: this process and the
// sandboxes it reaped, measured over sequential spawns of one variant at a time.
import { performance } from 'node:perf_hooks';
import type { Backend } from '../../src/sandbox/backend.js';
import { NativeBackend } from '../../src/sandbox/backends/native.js';
import { loadNative, type NativeSpawnPlan } from '../../src/sandbox/native-addon.js';
import type { Policy } from '../../src/sandbox/policy.js';
import type { SandboxHost } from '../../src/sandbox/sandbox-host.js';
import { SandboxRun } from '../../src/sandbox/sandbox-run.js';
import { cpuWithReapedMs } from './proc-stats.js';
import { summarize, type Summary } from './stats.js';

export interface SpawnBenchResult {
  iterations: number;
  warmup: number;
  true_path: string;
  variants: Record<string, Summary & { spawns_per_second: number }>;
  ratios: {
    native_over_bwrap: number | null;
    native_1gib_over_native: number | null;
    native_over_plain: number | null;
    /** absent in runs before the variant existed */
    native_own_netns_over_bwrap?: number | null;
  };
  concurrency: Record<string, { spawns_per_second: number; latency: Summary }>;
  heap_used_mb_during_1gib: number | null;
  /**
   * user + system CPU of one spawn, per variant: the spawning process (its spawner thread's clone
   * and the JS around it) and the sandbox's processes, which it reaps; absent in older runs
   */
  cpu_ms_per_spawn?: Record<string, number>;
}

/**
 * The CPU pass reads four fields of 10 ms clock ticks: each variant spawns until a second of CPU
 * is counted (±4 %), at least CPU_SPAWNS times (or --iterations, if fewer) and at most 20 times that.
 */
const CPU_SPAWNS = 100;
const CPU_PASS_MS = 1000;

/** user + system CPU ms per spawn of `once`: this process's and what it reaped (the sandbox's). */
async function cpuPerSpawn(once: () => Promise<number>, minSpawns: number): Promise<number> {
  const before = cpuWithReapedMs(process.pid);
  let spawns = 0;
  let used = 0;
  while (spawns < minSpawns || (used < CPU_PASS_MS && spawns < minSpawns * 20)) {
    await once();
    spawns++;
    used = cpuWithReapedMs(process.pid) - before;
  }
  return Math.round((used / spawns) * 100) / 100;
}

const TRUE = '/bin/true';

function runOnce(backend: Backend, policy: Policy): Promise<number> {
  const began = performance.now();
  const run = new SandboxRun(
    backend,
    policy,
    { argv: [TRUE], env: { PATH: '/usr/bin:/bin' }, cwd: '/' },
    {
      timeoutMs: 10_000,
      captureBytesPerStream: 1024,
      maxTotalOutputBytes: 1 << 20,
      resultChannel: false,
    },
  );
  return run.result.then((r) => {
    if (r.exitCode !== 0) throw new Error(`${backend.name}: /bin/true exited ${r.exitCode} ${r.stderr.head.toString()}`);
    return performance.now() - began;
  });
}

/** A plain fork+exec of /bin/true through the same addon, no namespaces, no init. */
function plainOnce(): Promise<number> {
  const { addon, initPath } = loadNative();
  const plan: NativeSpawnPlan = {
    sandboxed: false,
    newNetwork: false,
    initPath,
    execPath: TRUE,
    argv: [TRUE],
    env: [],
    cwd: '/',
    hostname: '',
    mounts: [],
    rlimits: [],
    maxProcesses: 0,
    userNamespaceLimits: [],
    insideUid: 0,
    insideGid: 0,
    outsideUid: 0,
    outsideGid: 0,
    denySetgroups: true,
    runAsOutsideUser: false,
    seccomp: false,
    withInit: false,
    fds: ['null', 'null', 'null'],
  };
  const began = performance.now();
  return new Promise((resolve, reject) => {
    try {
      addon.spawn(plan, (exit) => (exit.exitCode === 0 ? resolve(performance.now() - began) : reject(new Error(`plain /bin/true exited ${exit.exitCode}`))));
    } catch (error) {
      reject(error);
    }
  });
}

function withRate(summary: Summary): Summary & { spawns_per_second: number } {
  return { ...summary, spawns_per_second: Math.round((1000 / summary.mean) * 10) / 10 };
}

/** Holds ~1 GiB of live, touched JS heap (arrays of doubles), returned so it stays reachable. */
function allocateHeap(mib: number): number[][] {
  const arrays: number[][] = [];
  const perArray = (8 * 1024 * 1024) / 8; // 8 MiB of doubles
  for (let i = 0; i < mib / 8; i++) arrays.push(new Array<number>(perArray).fill(i + 0.5));
  return arrays;
}

export async function benchSpawn(
  host: SandboxHost,
  native: Backend | undefined,
  bwrap: Backend | undefined,
  options: { iterations: number; warmup: number; concurrency: number[]; progress: (line: string) => void },
): Promise<SpawnBenchResult> {
  const policy = host.policy([]);
  const variants: { name: string; once: () => Promise<number> }[] = [];
  if (native) variants.push({ name: 'native', once: () => runOnce(native, policy) });
  const ownNetwork = native instanceof NativeBackend ? native.withoutPreparedNetworks() : undefined;
  if (ownNetwork) variants.push({ name: 'native-own-netns', once: () => runOnce(ownNetwork, policy) });
  if (bwrap) variants.push({ name: 'bwrap', once: () => runOnce(bwrap, policy) });
  variants.push({ name: 'plain', once: plainOnce });

  const samples: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let i = 0; i < options.warmup; i++) for (const v of variants) await v.once();
  for (let i = 0; i < options.iterations; i++) {
    for (const v of variants) samples[v.name]!.push(await v.once());
    if ((i + 1) % 50 === 0) options.progress(`spawn: ${i + 1}/${options.iterations} interleaved`);
  }

  // before the 1 GiB heap: the collection that frees it must not land in a CPU pass
  const cpuMsPerSpawn: Record<string, number> = {};
  for (const v of variants) {
    options.progress(`spawn: the CPU of ${v.name} spawns`);
    cpuMsPerSpawn[v.name] = await cpuPerSpawn(v.once, Math.min(options.iterations, CPU_SPAWNS));
  }

  let heapUsedMb: number | null = null;
  if (native) {
    options.progress('spawn: allocating 1 GiB of JS heap');
    const heap = allocateHeap(1024);
    heapUsedMb = Math.round(process.memoryUsage().heapUsed / (1024 * 1024));
    const withHeap: number[] = [];
    for (let i = 0; i < options.warmup; i++) await runOnce(native, policy);
    for (let i = 0; i < options.iterations; i++) withHeap.push(await runOnce(native, policy));
    samples['native-1gib-heap'] = withHeap;
    heap.length = 0; // release before the concurrency runs
  }

  const concurrency: SpawnBenchResult['concurrency'] = {};
  if (native) {
    for (const level of options.concurrency) {
      options.progress(`spawn: native at concurrency ${level}`);
      const latencies: number[] = [];
      const total = Math.max(level * 4, Math.min(options.iterations, 200));
      let next = 0;
      const began = performance.now();
      await Promise.all(
        Array.from({ length: level }, async () => {
          while (next < total) {
            next++;
            latencies.push(await runOnce(native, policy));
          }
        }),
      );
      const elapsed = performance.now() - began;
      concurrency[String(level)] = { spawns_per_second: Math.round((total / elapsed) * 1000 * 10) / 10, latency: summarize(latencies) };
    }
  }

  const summaries = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, withRate(summarize(v))]));
  const ratio = (a?: Summary, b?: Summary) => (a && b ? Math.round((a.p50 / b.p50) * 1000) / 1000 : null);
  return {
    iterations: options.iterations,
    warmup: options.warmup,
    true_path: TRUE,
    variants: summaries,
    ratios: {
      native_over_bwrap: ratio(summaries.native, summaries.bwrap),
      native_1gib_over_native: ratio(summaries['native-1gib-heap'], summaries.native),
      native_over_plain: ratio(summaries.native, summaries.plain),
      native_own_netns_over_bwrap: ratio(summaries['native-own-netns'], summaries.bwrap),
    },
    concurrency,
    heap_used_mb_during_1gib: heapUsedMb,
    cpu_ms_per_spawn: cpuMsPerSpawn,
  };
}
