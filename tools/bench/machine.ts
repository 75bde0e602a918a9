// What a run was measured on: absolute times mean nothing without the machine, kernel, versions
// and commit next to them. Every probe is best-effort: a missing tool is recorded as null.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SANDBOX_PYTHON } from '../../src/runtimes/runtime.js';
import { VERSION } from '../../src/version.js';

export interface MachineInfo {
  hostname: string;
  os: string | null;
  kernel: string;
  arch: string;
  cpus: number;
  cpu_model: string;
  memory_gib: number;
  load_average: number[];
  uid: number | null;
  container: string | null;
}

export interface Versions {
  sandbox_executor: string;
  node: string;
  python: string | null;
  bwrap: string | null;
  git_commit: string | null;
  git_dirty: boolean | null;
}

/** The repository root: dist/bench/machine.js -> ../.. */
export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

function run(file: string, args: string[], cwd?: string): string | null {
  try {
    return execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

function osRelease(): string | null {
  try {
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return match?.[1] ?? null;
  } catch {
    return null;
  }
}

function container(): string | null {
  if (existsSync('/.dockerenv')) return 'docker';
  if (existsSync('/run/.containerenv')) return 'podman';
  return process.env.container ?? null;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    os: osRelease(),
    kernel: os.release(),
    arch: os.arch(),
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? 'unknown',
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    load_average: os.loadavg().map((x) => Math.round(x * 100) / 100),
    uid: process.getuid?.() ?? null,
    container: container(),
  };
}

export function versions(): Versions {
  // safe.directory on the command line: the suite also runs as an unprivileged uid in a root-owned checkout
  const git = (args: string[]) => run('git', ['-c', 'safe.directory=*', ...args], REPO_ROOT);
  const commit = git(['rev-parse', 'HEAD']);
  const status = commit === null ? null : git(['status', '--porcelain', '--untracked-files=no']);
  return {
    sandbox_executor: VERSION,
    node: process.version,
    python: run(SANDBOX_PYTHON, ['--version'])?.replace(/^Python /, '') ?? null,
    bwrap: run('bwrap', ['--version'])?.replace(/^bubblewrap /, '') ?? null,
    git_commit: commit,
    git_dirty: status === null ? null : status.length > 0,
  };
}
