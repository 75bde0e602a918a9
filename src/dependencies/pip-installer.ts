// One `pip install --target`, run by the server itself (a trusted action, not user code) and
// still kept on a short leash: the interpreter the sandboxes run, argv without a shell, an
// environment that carries none of the server's variables, no pip configuration files, wheels
// only (an sdist would run its build code as the server's uid), and a wall-clock bound that
// kills pip's whole process group.
import { spawn } from 'node:child_process';
import { SANDBOX_PYTHON } from '../runtimes/runtime.js';
import { pipIndexArguments } from './index-url.js';
import { OutputTail } from './output-tail.js';

/** Output kept in memory while pip runs; what reaches the control plane is cut further. */
const OUTPUT_CAPACITY_BYTES = 64 * 1024;

/** Server variables pip may need to reach an index (proxies, a private CA); nothing else passes. */
const NETWORK_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE'];

export interface PipInstallRequest {
  specs: string[];
  indexUrl: string;
  /** a fresh, empty directory: the `--target` */
  targetDir: string;
  /** HOME and TMPDIR of pip (a private scratch directory) */
  scratchDir: string;
  cacheDir: string;
  timeoutMs: number;
  interpreter?: string;
}

export type PipOutcome =
  | { kind: 'installed'; output: OutputTail }
  | { kind: 'failed'; exitCode: number | null; signal: NodeJS.Signals | null; output: OutputTail }
  | { kind: 'timed-out'; output: OutputTail }
  | { kind: 'not-started'; error: Error; output: OutputTail };

export function pipArguments(request: PipInstallRequest): string[] {
  return [
    '-I', // isolated interpreter: no PYTHON* variables, no user site, no current directory on sys.path
    '-m',
    'pip',
    'install',
    '--isolated', // no PIP_* variables, no user configuration
    '--target',
    request.targetDir,
    '--only-binary=:all:',
    '--no-input',
    '--disable-pip-version-check',
    '--no-warn-script-location',
    '--root-user-action=ignore',
    '--progress-bar',
    'off',
    '--cache-dir',
    request.cacheDir,
    // a dead index fails in seconds; a slow one is bounded by the overall timeout
    '--retries',
    '2',
    '--timeout',
    '30',
    ...pipIndexArguments(request.indexUrl),
    '--',
    ...request.specs,
  ];
}

/** pip's whole environment, built from scratch: `serverEnv` only lends its network settings. */
export function pipEnvironment(serverEnv: NodeJS.ProcessEnv, scratchDir: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: scratchDir,
    TMPDIR: scratchDir,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    // read even in --isolated mode: /dev/null means "no pip.conf at all" (no global extra-index-url)
    PIP_CONFIG_FILE: '/dev/null',
  };
  for (const name of NETWORK_VARIABLES) {
    const value = serverEnv[name];
    if (value) env[name] = value;
  }
  return env;
}

export function runPipInstall(request: PipInstallRequest, serverEnv: NodeJS.ProcessEnv = process.env): Promise<PipOutcome> {
  const output = new OutputTail(OUTPUT_CAPACITY_BYTES);
  return new Promise((resolve) => {
    const child = spawn(request.interpreter ?? SANDBOX_PYTHON, pipArguments(request), {
      cwd: request.scratchDir,
      env: pipEnvironment(serverEnv, request.scratchDir),
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group, so that a timeout kills pip and anything it started
      detached: true,
    });
    let timedOut = false;
    let exited = false;
    const timer = setTimeout(() => {
      if (exited || child.pid === undefined) return;
      timedOut = true;
      killGroup(child.pid);
    }, request.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    child.once('exit', () => (exited = true));
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ kind: 'not-started', error, output });
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ kind: 'timed-out', output });
      else if (exitCode === 0) resolve({ kind: 'installed', output });
      else resolve({ kind: 'failed', exitCode, signal, output });
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}
