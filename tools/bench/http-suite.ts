// End-to-end latency through POST /execute: every workload at every concurrency level, against a
// server we start ourselves (a child process) or any executor speaking the same contract
// (--target), in ?wait=true mode or in callback mode with our own receiver.
import { randomBytes } from 'node:crypto';
import { type AckResult, ackLevels, measureAcks } from './ack-latency.js';
import { CallbackReceiver } from './callback-receiver.js';
import { HttpClient } from './http-client.js';
import { interpreterStartup, type StartupReference } from './interpreter-startup.js';
import { runCell, WARMUP_EXECUTIONS, type CellResult, type Target } from './load.js';
import { startServerChild, type ServerChild } from './server-child.js';
import type { Workload } from './workloads.js';

export interface HttpSuiteOptions {
  /** an executor's base URL; undefined: start one */
  target?: string;
  mode: 'wait' | 'callback';
  /** sent as Authorization: Bearer to --target */
  token?: string;
  /** where our callback receiver listens (a remote target must be able to reach it) */
  receiverHost: string;
  receiverPort: number;
  /** measured requests per workload and concurrency level */
  iterations: number;
  concurrency: number[];
  workloads: Workload[];
  timeoutSeconds: number;
  /** each worker's pause between a result and its next request (absent or 0: back to back) */
  thinkMs?: number;
  progress: (line: string) => void;
}

export interface TargetInfo {
  version: string | null;
  backend: string | null;
  max_concurrent_executions: number | null;
  mode: string | null;
}

export interface HttpSuiteResult {
  target: string;
  mode: 'wait' | 'callback';
  iterations_per_cell: number;
  warmup_per_cell: string;
  concurrency: number[];
  /** each worker's pause between a result and its next request (absent in older runs: 0) */
  think_ms?: number;
  server: TargetInfo | null;
  /** the environment of the executor we started (null for --target) */
  server_env: Record<string, string> | null;
  callback_duplicates: number | null;
  /** interpreter start-up outside any sandbox, on this machine (null for --target) */
  startup_reference: StartupReference | null;
  cells: CellResult[];
  /** the PENDING acknowledgement under load, at each of `ackLevels(concurrency)` (empty: only level 1) */
  ack_under_load: AckResult[];
}

/** The acknowledgement is measured under this workload when the run has it (the issue's figure), else the first. */
const ACK_WORKLOAD = 'python-return-1';

export const runIdentifier = () => `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** An executor to send executions to: ours (started and stopped here) or the given URL. */
export interface Session {
  target: Target;
  child: ServerChild | null;
  receiver: CallbackReceiver | null;
  info: TargetInfo | null;
  close(): Promise<void>;
}

export async function openSession(options: {
  target?: string;
  mode: 'wait' | 'callback';
  token?: string;
  receiverHost: string;
  receiverPort: number;
  maxConcurrent: number;
  timeoutSeconds: number;
  /** set on our own executor child, on top of what it gets by default */
  serverEnv?: Record<string, string>;
}): Promise<Session> {
  const receiver = options.mode === 'callback' ? await CallbackReceiver.listen(options.receiverHost, options.receiverPort) : null;
  let child: ServerChild | null = null;
  try {
    if (!options.target) {
      const callbackHost = options.receiverHost === '0.0.0.0' ? '127.0.0.1' : options.receiverHost;
      child = await startServerChild({
        maxConcurrent: options.maxConcurrent,
        controlPlaneUrl: receiver ? `http://${callbackHost}:${receiver.port}` : undefined,
        env: options.serverEnv,
      });
    }
    const url = new URL(options.target ?? child!.url);
    const client = new HttpClient(url, options.token ? { authorization: `Bearer ${options.token}` } : {});
    const info = await targetInfo(client);
    return {
      target: { client, mode: options.mode, receiver: receiver ?? undefined, serverPid: child?.pid, runId: runIdentifier(), timeoutSeconds: options.timeoutSeconds },
      child,
      receiver,
      info,
      async close() {
        client.close();
        await child?.stop();
        await receiver?.close();
      },
    };
  } catch (error) {
    await child?.stop();
    await receiver?.close();
    throw error;
  }
}

/** GET /info when the executor has it (ours does; another implementation may not). */
async function targetInfo(client: HttpClient): Promise<TargetInfo | null> {
  try {
    const info = (await client.getJson('/info')) as {
      version?: string;
      isolation?: { backend?: string };
      limits?: { max_concurrent_executions?: number };
      mode?: string;
    };
    return {
      version: info.version ?? null,
      backend: info.isolation?.backend ?? null,
      max_concurrent_executions: info.limits?.max_concurrent_executions ?? null,
      mode: info.mode ?? null,
    };
  } catch {
    return null;
  }
}

export async function benchHttp(options: HttpSuiteOptions): Promise<HttpSuiteResult> {
  const maxLevel = Math.max(...options.concurrency);
  const thinkMs = options.thinkMs ?? 0;
  options.progress(`http: ${options.target ? `target ${options.target}` : 'starting an executor'} (${options.mode} mode)`);
  const session = await openSession({ ...options, maxConcurrent: Math.max(64, maxLevel) });
  const cells: CellResult[] = [];
  const acks: AckResult[] = [];
  let reference: StartupReference | null = null;
  try {
    if (!options.target) {
      options.progress('http: interpreter start-up outside the sandbox (reference)');
      reference = await interpreterStartup(Math.min(20, Math.max(3, options.iterations)));
    }
    if (session.info?.max_concurrent_executions && session.info.max_concurrent_executions < maxLevel) {
      options.progress(`http: warning: the target admits ${session.info.max_concurrent_executions} executions at once, expect 503s at concurrency ${maxLevel}`);
    }
    for (const workload of options.workloads) {
      for (const level of options.concurrency) {
        cells.push(await runCell(session.target, workload, level, Math.max(options.iterations, level), options.progress, thinkMs));
      }
    }
    const ackWorkload = options.workloads.find((w) => w.name === ACK_WORKLOAD) ?? options.workloads[0];
    if (ackWorkload) {
      for (const level of ackLevels(options.concurrency)) acks.push(await measureAcks(session.target, ackWorkload, level, options.iterations, options.progress));
    }
  } finally {
    await session.close();
  }
  return {
    target: options.target ?? 'self',
    mode: options.mode,
    iterations_per_cell: options.iterations,
    warmup_per_cell: `at least ${WARMUP_EXECUTIONS} executions, in whole rounds of every worker`,
    concurrency: options.concurrency,
    think_ms: thinkMs,
    server: session.info,
    server_env: session.child?.env ?? null,
    callback_duplicates: session.receiver?.duplicates ?? null,
    startup_reference: reference,
    cells,
    ack_under_load: acks,
  };
}
