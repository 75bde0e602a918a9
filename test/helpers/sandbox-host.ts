// Shared setup for the sandbox tests: one SandboxHost per test file (probing both backends), a
// throw-away state dir and workspaces under os.tmpdir(), and a run() that spawns one command on a
// chosen backend with the standard policy. Everything is real: namespaces, mounts, seccomp.
//
// Note: `node --test dist/test/` treats every .js file under test/ as a test file, so this module
// must do nothing when imported on its own.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendName } from '../../src/sandbox/backend.js';
import { bind, type FsEntry, type Limits } from '../../src/sandbox/policy.js';
import { KERNEL_COUNTS } from '../../src/sandbox/limits.js';
import { SandboxHost } from '../../src/sandbox/sandbox-host.js';
import { SandboxRun, type RunOptions, type RunResult } from '../../src/sandbox/sandbox-run.js';

export const MiB = 1024 * 1024;

/** The backends every sandbox test runs on. */
export const BACKENDS = ['native', 'bwrap'] as const;
export type TestBackend = (typeof BACKENDS)[number];

export const SERVER_IS_ROOT = process.getuid!() === 0;
/** The host uid/gid a root server hands to sandboxes (SANDBOX_HOST_UID's default). */
export const ROOT_SERVER_SANDBOX_UID = 1_000_000;
export const ROOT_SERVER_SANDBOX_GID = 1_000_000;
/** The host uid every sandbox process must run as: never 0. */
export const EXPECTED_HOST_UID = SERVER_IS_ROOT ? ROOT_SERVER_SANDBOX_UID : process.getuid!();
export const EXPECTED_HOST_GID = SERVER_IS_ROOT ? ROOT_SERVER_SANDBOX_GID : process.getgid!();

export const TEST_LIMITS: Limits = {
  cpuSeconds: 60,
  memoryBytes: 512 * MiB,
  fileSizeBytes: 64 * MiB,
  openFiles: 256,
  stackBytes: 8 * MiB,
  maxProcesses: 400,
  kernelCounts: KERNEL_COUNTS,
  storageMaxBytes: 1024 * MiB,
  storageMaxFiles: 100_000,
  nice: 10,
};

export const DEFAULT_ENV: Readonly<Record<string, string>> = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };

export interface RunSpec {
  argv: string[];
  /** the command's whole environment (default DEFAULT_ENV) */
  env?: Record<string, string>;
  cwd?: string;
  /** host dir bound writable at /workspace (default: a fresh one) */
  workspace?: string;
  /** a private tmpfs at /tmp (default true) */
  tmp?: boolean;
  /** more filesystem entries, after the standard ones */
  extra?: FsEntry[];
  limits?: Partial<Limits>;
  timeoutMs?: number;
  captureBytes?: number;
  maxTotalOutputBytes?: number;
}

export interface StartedRun {
  run: SandboxRun;
  workspace: string;
}

export interface FinishedRun extends RunResult {
  workspace: string;
  /** stdout as text */
  out: string;
  /** stderr as text */
  err: string;
}

export class SandboxFixture {
  private workspaceCount = 0;

  private constructor(
    readonly host: SandboxHost,
    /** a 0711 temp dir holding the state dir and every workspace */
    readonly root: string,
  ) {}

  /** Starts a host that probes native and bwrap, under a fresh temp dir. */
  static async start(options: { network?: boolean; limits?: Partial<Limits> } = {}): Promise<SandboxFixture> {
    const root = mkdtempSync(path.join(os.tmpdir(), 'sandbox-test-'));
    // The sandbox's host uid must traverse it to reach the workspaces bound from it.
    chmodSync(root, 0o711);
    try {
      const host = await SandboxHost.start({
        isolation: 'auto',
        disableBwrap: false,
        network: options.network ?? false,
        stateDir: path.join(root, 'state'),
        rootServerUid: ROOT_SERVER_SANDBOX_UID,
        rootServerGid: ROOT_SERVER_SANDBOX_GID,
        limits: { ...TEST_LIMITS, ...options.limits },
        probeAll: true,
      });
      return new SandboxFixture(host, root);
    } catch (error) {
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  get stateDir(): string {
    return path.join(this.root, 'state');
  }

  /**
   * The skip reason for a backend's tests: only bwrap may be missing (a host without bubblewrap),
   * loudly. A native backend that fails its probe is a defect: its tests run and fail, each
   * with the probe's reason.
   */
  unavailable(backend: TestBackend): string | null {
    if (this.host.usable[backend] || backend === 'native') return null;
    const why = `${backend} backend is NOT USABLE on this host (${this.probeFailure(backend)}): its sandbox tests are SKIPPED`;
    process.stderr.write(`\n!!!!! ${why}\n\n`);
    return why;
  }

  private probeFailure(backend: TestBackend): string {
    return this.host.probes.find((p) => p.backend === backend)?.reason ?? 'not probed';
  }

  /** A new host dir the sandbox may write (owned by the sandbox's host uid). */
  workspace(): string {
    const dir = path.join(this.root, `workspace-${++this.workspaceCount}`);
    this.host.prepareWritableDir(dir);
    return dir;
  }

  /** A new dir for files the sandbox only reads (binaries, scripts): the server's, world-readable. */
  readOnlyDir(): string {
    const dir = path.join(this.root, `files-${++this.workspaceCount}`);
    mkdirSync(dir, { mode: 0o755 });
    return dir;
  }

  start(backend: TestBackend, spec: RunSpec): StartedRun {
    const chosen = this.host.usable[backend as BackendName];
    if (!chosen) throw new Error(`the ${backend} backend failed its probe: ${this.probeFailure(backend)}`);
    const workspace = spec.workspace ?? this.workspace();
    const filesystem: FsEntry[] = [bind(workspace, '/workspace', { writable: true })!];
    if (spec.tmp ?? true) filesystem.push({ kind: 'tmpfs', target: '/tmp', sizeBytes: 64 * MiB, mode: 0o1777 });
    filesystem.push(...(spec.extra ?? []));
    const policy = this.host.policy(filesystem, { ...TEST_LIMITS, ...spec.limits });
    const options: RunOptions = {
      timeoutMs: spec.timeoutMs ?? 30_000,
      captureBytesPerStream: spec.captureBytes ?? MiB,
      maxTotalOutputBytes: spec.maxTotalOutputBytes ?? 64 * MiB,
      resultChannel: false,
    };
    const run = new SandboxRun(chosen, policy, { argv: spec.argv, env: spec.env ?? { ...DEFAULT_ENV }, cwd: spec.cwd ?? '/workspace' }, options);
    return { run, workspace };
  }

  async run(backend: TestBackend, spec: RunSpec): Promise<FinishedRun> {
    const { run, workspace } = this.start(backend, spec);
    const result = await run.result;
    return { ...result, workspace, out: result.stdout.head.toString('utf8'), err: result.stderr.head.toString('utf8') };
  }

  close(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export const sh = (script: string): string[] => ['/bin/sh', '-c', script];
export const bash = (script: string): string[] => ['/bin/bash', '-c', script];
export const python = (code: string, ...args: string[]): string[] => ['/usr/bin/python3', '-c', code, ...args];

/** A readable summary of a run for assertion messages. */
export function describeRun(r: RunResult): string {
  const text = (b: Buffer) => b.toString('utf8').slice(0, 2000);
  return `backend=${r.backend} exit=${r.exitCode} signal=${r.signal} killedBy=${r.killedBy} execError=${r.execError}\n--- stdout\n${text(r.stdout.head)}\n--- stderr\n${text(r.stderr.head)}`;
}
