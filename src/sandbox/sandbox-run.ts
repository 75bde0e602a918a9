// One sandboxed process, from spawn to a complete result: bounded capture of stdout/stderr and
// the result channel (fd 3) that never blocks the child, a wall-clock kill of the whole tree, and
// usage figures from sandbox-init's report. Shared by every backend.
import { closeSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Backend, BackendName } from './backend.js';
import { isNativeSpawnError, loadNative, type FdKind, type InitReport, type NativeChild, type NativeExit, type NetworkHandle } from './native-addon.js';
import type { Command, Policy } from './policy.js';

export type KilledBy = 'timeout' | 'cpu' | 'memory' | 'disk' | 'files' | 'output' | 'file_size' | 'shutdown' | null;

export interface CapturedStream {
  /** the first bytes, at most the capture limit */
  head: Buffer;
  totalBytes: number;
  truncated: boolean;
}

export interface RunOptions {
  timeoutMs: number;
  captureBytesPerStream: number;
  /** stdout+stderr beyond this kills the sandbox (killed_by "output") */
  maxTotalOutputBytes: number;
  /** a private pipe on fd 3 for the runtime's return value */
  resultChannel: boolean;
  maxResultBytes?: number;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export interface RunResult {
  backend: BackendName;
  exitCode: number | null;
  signal: string | null;
  killedBy: KilledBy;
  /** the command could not be executed (ENOENT, EACCES, ...) */
  execError: string | null;
  stdout: CapturedStream;
  stderr: CapturedStream;
  result: CapturedStream | null;
  spawnMs: number;
  wallMs: number;
  userCpuMs: number;
  systemCpuMs: number;
  peakMemoryKb: number | null;
  ioReadBytes: number | null;
  ioWriteBytes: number | null;
  processesReaped: number | null;
  report: InitReport | null;
}

export class SandboxSpawnError extends Error {
  constructor(
    message: string,
    readonly backend: BackendName,
    readonly step: string | undefined,
    readonly errno: string | undefined,
  ) {
    super(message);
    this.name = 'SandboxSpawnError';
  }
}

/** Seconds to wait for sandbox-init to report after a kill request, before SIGKILLing it. */
const KILL_GRACE_MS = 2000;

class Capture {
  readonly chunks: Buffer[] = [];
  kept = 0;
  total = 0;
  constructor(private readonly limit: number) {}
  add(chunk: Buffer) {
    this.total += chunk.length;
    const room = this.limit - this.kept;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(part);
      this.kept += part.length;
    }
  }
  result(): CapturedStream {
    return { head: Buffer.concat(this.chunks), totalBytes: this.total, truncated: this.total > this.kept };
  }
}

/** A spawned sandbox: its addon child, the parent's pipe ends, and its exit. */
export interface SpawnedSandbox {
  backend: BackendName;
  childId: number;
  /** parent's end per child fd (-1 for 'null') */
  fds: number[];
  exit: Promise<NativeExit>;
  exited: () => boolean;
  spawnMs: number;
}

/** The fds every sandbox gets: stdin /dev/null, stdout, stderr, and the result channel on fd 3. */
export const SANDBOX_FDS: FdKind[] = ['null', 'pipe-out', 'pipe-out', 'pipe-out'];

/**
 * Creates a sandbox; with command null (or primed) it is warm: built, idle, waiting for its
 * command. background: cloned off the event loop, for sandboxes nobody waits for yet. network: a
 * network namespace to join (Backend.takeNetwork) instead of a new one.
 */
export function spawnSandbox(backend: Backend, policy: Policy, command: Command | null, background = false, network?: NetworkHandle): SpawnedSandbox {
  const { addon } = loadNative();
  const { plan, inputs } = backend.render(policy, command, SANDBOX_FDS, network);
  const began = performance.now();
  let exitValue: NativeExit | undefined;
  let resolveExit: (exit: NativeExit) => void = () => {};
  const exit = new Promise<NativeExit>((resolve) => (resolveExit = resolve));
  let child: NativeChild;
  try {
    child = addon.spawn(
      plan,
      (e) => {
        exitValue = e;
        resolveExit(e);
      },
      background,
    );
  } catch (error) {
    if (isNativeSpawnError(error)) throw new SandboxSpawnError(`${backend.name} sandbox: ${error.message}`, backend.name, error.step, error.errno);
    throw error;
  }
  const spawnMs = performance.now() - began;
  for (const [fd, bytes] of inputs) {
    const parentEnd = child.fds[fd]!;
    writeSync(parentEnd, bytes);
    closeSync(parentEnd);
  }
  return { backend: backend.name, childId: child.id, fds: child.fds.slice(0, SANDBOX_FDS.length), exit, exited: () => exitValue !== undefined, spawnMs };
}

export class SandboxRun {
  readonly result: Promise<RunResult>;
  private killedBy: KilledBy = null;
  private sandbox: SpawnedSandbox | undefined;

  /**
   * Runs the command: in `spawned` when given (a warm sandbox, already built for this policy),
   * else in a sandbox spawned for it now. `result` rejects with SandboxSpawnError when the sandbox
   * cannot be created.
   */
  constructor(backend: Backend, policy: Policy, command: Command, options: RunOptions, spawned?: SpawnedSandbox) {
    try {
      this.sandbox = spawned ?? spawnSandbox(backend, policy, command);
      this.result = this.collect(this.sandbox, command, options);
    } catch (error) {
      this.result = Promise.reject(error);
    }
  }

  /** Ends the whole tree now; the result says why. Safe to call at any time, more than once. */
  kill(reason: Exclude<KilledBy, null>): void {
    if (!this.sandbox || this.sandbox.exited()) return;
    this.killedBy ??= reason;
    killSandbox(this.sandbox);
  }

  private collect(sandbox: SpawnedSandbox, command: Command, options: RunOptions): Promise<RunResult> {
    const began = performance.now();
    const stdout = new Capture(options.captureBytesPerStream);
    const stderr = new Capture(options.captureBytesPerStream);
    const result = options.resultChannel ? new Capture(options.maxResultBytes ?? 16 * 1024 * 1024) : null;
    let totalOutput = 0;
    const output = (name: 'stdout' | 'stderr', capture: Capture) => (chunk: Buffer) => {
      capture.add(chunk);
      totalOutput += chunk.length;
      options.onOutput?.(name, chunk);
      if (totalOutput > options.maxTotalOutputBytes) this.kill('output');
    };
    // the result pipe is always there; a run that does not want it drains and ignores it
    const sinks = [output('stdout', stdout), output('stderr', stderr), result ? (chunk: Buffer) => result.add(chunk) : () => {}];
    const ended: (() => void)[] = [];
    const streams = sinks.map(() => new Promise<void>((resolve) => ended.push(resolve)));
    // read on the event loop by the addon (epoll, never a thread-pool read per sandbox); it
    // closes each pipe at its end
    const { addon } = loadNative();
    const reading = addon.readOutputs(sandbox.fds.slice(1, 4), (index, chunk) => (chunk ? sinks[index]!(chunk) : ended[index]!()));
    // Once the sandbox has exited nothing in it writes any more; a write end still open is in
    // another process (an execution of the session that was handed it): it must not hold the
    // result back past the timeout. What the pipes hold is read (what that process wrote before
    // this, at most a pipe's size), then they end and its writes fail.
    void sandbox.exit.then(() => addon.stopOutputs(reading));

    const timer = setTimeout(() => this.kill('timeout'), options.timeoutMs);
    return Promise.all([sandbox.exit, ...streams]).then(([e]) => {
      clearTimeout(timer);
      if (e.setupError) {
        const { step, errno, message } = e.setupError;
        throw new SandboxSpawnError(`${sandbox.backend} sandbox: ${message}`, sandbox.backend, step, errno);
      }
      const wallMs = performance.now() - began;
      const report = e.report;
      const killedBy = this.killedBy ?? limitThatStopped(report, e);
      const fromReport = report !== null;
      return {
        backend: sandbox.backend,
        ...exitOf(report, e),
        killedBy,
        execError: report?.end === 'exec_failed' ? `${command.argv[0]}: ${report.execError}` : null,
        stdout: stdout.result(),
        stderr: stderr.result(),
        result: result ? result.result() : null,
        spawnMs: sandbox.spawnMs,
        wallMs,
        userCpuMs: (fromReport ? report.userCpuUs : e.wait4.userCpuUs) / 1000,
        systemCpuMs: (fromReport ? report.systemCpuUs : e.wait4.systemCpuUs) / 1000,
        // without a report, wait4's peak includes the server's own memory: say nothing instead.
        // The watchdog's measure is the whole sandbox's; the largest process's RSS, when more,
        // holds file pages the watchdog leaves out.
        peakMemoryKb: fromReport ? Math.max(report.peakRssKb, report.sandboxPeakKb) : null,
        ioReadBytes: fromReport && report.ioReadBytes >= 0 ? report.ioReadBytes : null,
        ioWriteBytes: fromReport && report.ioWriteBytes >= 0 ? report.ioWriteBytes : null,
        processesReaped: fromReport ? report.processesReaped : null,
        report,
      };
    });
  }
}

/** sandbox-init kills the tree and reports; if it does not exit in time, SIGKILL it. */
export function killSandbox(sandbox: SpawnedSandbox): void {
  const { addon } = loadNative();
  addon.killTree(sandbox.childId);
  setTimeout(() => {
    if (!sandbox.exited()) addon.signal(sandbox.childId, 9);
  }, KILL_GRACE_MS).unref();
}

/** The command's own end: init's report when there is one (init's exit says nothing about it). */
function exitOf(report: InitReport | null, exit: NativeExit): { exitCode: number | null; signal: string | null } {
  if (!report) return { exitCode: exit.exitCode, signal: exit.signal };
  switch (report.end) {
    case 'exited':
      return { exitCode: report.exitCode, signal: null };
    case 'signaled':
      return { exitCode: null, signal: signalName(report.termSignal) };
    case 'exec_failed':
      return { exitCode: 127, signal: null };
    default:
      return { exitCode: null, signal: 'SIGKILL' }; // killed on request with the rest of the tree
  }
}

const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  5: 'SIGTRAP',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  10: 'SIGUSR1',
  11: 'SIGSEGV',
  12: 'SIGUSR2',
  13: 'SIGPIPE',
  14: 'SIGALRM',
  15: 'SIGTERM',
  24: 'SIGXCPU',
  25: 'SIGXFSZ',
  31: 'SIGSYS',
};

export function signalName(signal: number): string {
  return SIGNAL_NAMES[signal] ?? `SIG${signal}`;
}

export function signalNumber(name: string): number {
  const found = Object.entries(SIGNAL_NAMES).find(([, n]) => n === name);
  return found ? Number(found[0]) : Number(name.replace(/^SIG/, '')) || 0;
}

/** Which kernel-enforced limit ended the command, when its death says so. */
function limitThatStopped(report: InitReport | null, exit: NativeExit): KilledBy {
  if (report?.limitExceeded) return report.limitExceeded; // sandbox-init's watchdog killed the tree
  const signal = report?.end === 'signaled' ? signalName(report.termSignal) : report ? null : exit.signal;
  if (signal === 'SIGXCPU') return 'cpu';
  if (signal === 'SIGXFSZ') return 'file_size';
  // Code that ignores SIGXCPU runs on to RLIMIT_CPU's hard limit, where the kernel SIGKILLs it.
  if (signal === 'SIGKILL' && report && usedCpuBudget(report)) return 'cpu';
  // RLIMIT_DATA makes one process's allocations fail (MemoryError, ENOMEM) rather than kill: the
  // runtime's own error says so on stderr.
  return null;
}

/**
 * The tree used a good part of the CPU seconds attested inside (the soft RLIMIT_CPU, listed first).
 * Only half is asked: rusage reads below the clock RLIMIT_CPU is checked against (2.64 s reported
 * for a process SIGKILLed at a 3 s limit, on a VM), and a SIGKILL with that much CPU spent and no
 * kill requested by us is the hard limit's.
 */
function usedCpuBudget(report: InitReport): boolean {
  const softSeconds = report.attested.rlimits[0] ?? -1;
  return softSeconds > 0 && report.userCpuUs + report.systemCpuUs >= (softSeconds * 1_000_000) / 2;
}
