// The executor under test, started as its own process (`sandbox-executor serve`) so the load
// generator never shares its event loop or its CPU accounting. Workspace and state live in a
// temporary directory removed on stop; the log goes to a file there (no pipe for us to drain).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
const SERVER_MEMORY_ENV = new URL('../../../scripts/server-memory.env', import.meta.url).pathname;

/** scripts/server-memory.env's NAME=value lines, each unless `env` (this process's) sets it. */
export function serverMemorySettings(file = SERVER_MEMORY_ENV, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match) settings[match[1]!] = env[match[1]!] ?? match[2]!;
  }
  return settings;
}

export interface ServerChild {
  url: string;
  pid: number;
  /** the environment we set (reported in the run's config) */
  env: Record<string, string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startServerChild(options: { maxConcurrent: number; controlPlaneUrl?: string; env?: Record<string, string> }): Promise<ServerChild> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-executor-bench-'));
  chmodSync(dir, 0o711); // sandboxes run as another uid when we are root: they traverse into state/ and workspace/
  const port = await freePort();
  const env: Record<string, string> = {
    EXECUTOR_HOST: '127.0.0.1',
    EXECUTOR_PORT: String(port),
    WORKSPACE_PATH: path.join(dir, 'workspace'),
    STATE_PATH: path.join(dir, 'state'),
    MAX_CONCURRENT_EXECUTIONS: String(options.maxConcurrent),
    CONTROL_PLANE_URL: options.controlPlaneUrl ?? '',
    EXECUTOR_API_TOKEN: '',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', // as deployed: the per-execution log lines are part of the cost
    LOG_FORMAT: 'json',
    // the server's memory settings as deployed; the bench's own environment wins (A/B runs)
    ...serverMemorySettings(),
    ...options.env,
  };
  const logPath = path.join(dir, 'server.log');
  const log = openSync(logPath, 'w');
  // ISOLATION, DISABLE_BWRAP and limits set by the caller pass through: they choose what is measured
  const child: ChildProcess = spawn(process.execPath, [MAIN, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
  closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));

  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const logTail = () => {
    try {
      return readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gone) {
      const tail = logTail();
      cleanup();
      throw new Error(`the executor exited during start-up:\n${tail}`);
    }
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      const tail = logTail();
      cleanup();
      throw new Error(`the executor did not become healthy within 30 s:\n${tail}`);
    }
    await sleep(50);
  }

  return {
    url,
    pid: child.pid!,
    env,
    async stop() {
      if (!gone) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
    },
  };
}
