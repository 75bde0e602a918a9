// Shared setup for the end-to-end HTTP tests: a real server (startServer, real sandboxes on the
// native backend) on a free loopback port, its workspace and state under a throw-away temp dir,
// and small clients for POST /execute (ack, ?wait=true, ?stream=true) and the other routes.
//
// Note: `node --test dist/test/` treats every .js file under test/ as a test file, so this module
// must do nothing when imported on its own.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { storedResultOf } from '../../src/executions/journal.js';
import { callbackJson } from '../../src/executions/stored-result.js';
import { startServer, type Server } from '../../src/server.js';
import { pollFor, processesWithMarker, sleep } from './processes.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;
/** The contract's per-stream bound (MAX_OUTPUT_BYTES default): 60 KiB of UTF-8. */
export const OUTPUT_LIMIT_BYTES = 60 * KiB;

export type Language = 'python' | 'javascript' | 'shell';

export interface ExecuteBody {
  execution_id: string;
  session_id: string;
  code: string;
  language: Language | string;
  event?: unknown;
  timeout?: unknown;
  env_vars?: unknown;
  [extra: string]: unknown;
}

/** The callback body of CONTRACT.md section 3 (every key present). */
export interface CallbackBody {
  status: 'success' | 'failed' | 'timeout' | 'crashed';
  stdout: string;
  stderr: string;
  exit_code: number;
  execution_time: number;
  return_value: unknown;
  metrics: {
    duration_ms: number;
    cpu_time_ms: number | null;
    peak_memory_mb: number | null;
    io_read_bytes: number | null;
    io_write_bytes: number | null;
  } | null;
  artifacts: string[];
  sandbox: Attestation | null;
}

export interface Attestation {
  backend: string;
  namespaces: Record<string, boolean>;
  uid: number;
  gid: number;
  capabilities_dropped: boolean;
  no_new_privs: boolean;
  seccomp: boolean;
  rlimits: Record<string, number | null>;
  process_limit: { mechanism: string; max: number | null };
  bounds: { resource: string; limit: number | null; unit: string; mechanism: string }[];
}

/** What ?wait=true and GET /executions/{id} return once finished. */
export interface Result extends CallbackBody {
  execution_id: string;
  session_id: string;
  language: string;
  limit_exceeded: string | null;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  return_value_truncated: boolean;
  artifact_details: { path: string; size: number; mime_type: string; sha256: string | null; sha256_skipped?: string }[];
  artifacts_complete: boolean;
  artifacts_incomplete_reason: string | null;
  started_at: string | null;
  finished_at: string;
  phases: Record<string, number> & { start: 'primed' | 'warm' | 'cold' };
  /** the response body as received (big integers keep every digit here) */
  raw: string;
}

export interface ExecutionState {
  execution_id: string;
  session_id: string;
  language: string;
  state: 'pending' | 'running' | 'success' | 'failed' | 'timeout' | 'crashed';
  result: Omit<Result, 'raw'> | null;
  [key: string]: unknown;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** the body parsed as JSON, undefined when it is not JSON */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface SseEvent {
  event: string;
  data: string;
  /** ms since the request was sent, when this event was parsed */
  at: number;
}

let counter = 0;
/** An id like the control plane's (exec_20260312170038_1a2b3c4d), unique per call. */
export function executionId(label = 'x'): string {
  return `exec_${label}_${Date.now()}_${++counter}_${randomUUID().slice(0, 8)}`;
}
export function sessionId(label = 's'): string {
  return `sess_${label}_${randomUUID().slice(0, 12)}`;
}

/** Fields filled in when a test does not care: a fresh execution_id and session_id. */
export function body(fields: Partial<ExecuteBody> & { code: string; language: ExecuteBody['language'] }): ExecuteBody {
  return { execution_id: executionId(), session_id: sessionId(), ...fields };
}

export const FINISHED = ['success', 'failed', 'timeout', 'crashed'] as const;

export class TestServer {
  private constructor(
    readonly server: Server,
    /** 0711 temp dir holding the workspace root and the state dir */
    readonly root: string,
    readonly headers: Record<string, string>,
  ) {}

  /**
   * Starts a server with test defaults (free loopback port, native backend, quiet logs) and the
   * given environment on top. SBX_TEST_LOG_LEVEL=info shows the server's logs.
   */
  static async start(env: Record<string, string> = {}, options: { token?: string } = {}): Promise<TestServer> {
    const root = mkdtempSync(path.join(os.tmpdir(), 'sandbox-http-test-'));
    // sandboxes run as another host uid: it must traverse the root to reach its workspace
    chmodSync(root, 0o711);
    try {
      const config = loadConfig({
        EXECUTOR_PORT: '0',
        EXECUTOR_HOST: '127.0.0.1',
        WORKSPACE_PATH: path.join(root, 'workspace'),
        STATE_PATH: path.join(root, 'state'),
        LOG_LEVEL: process.env.SBX_TEST_LOG_LEVEL ?? 'silent',
        ISOLATION: 'native',
        ...env,
      });
      const server = await startServer(config);
      const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
      return new TestServer(server, root, headers);
    } catch (error) {
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  get workspaceRoot(): string {
    return this.server.config.workspaceRoot;
  }

  /** Host path of a session's /workspace. */
  workspaceOf(session: string): string {
    return path.join(this.workspaceRoot, session);
  }

  async request(method: string, route: string, init: { json?: unknown; body?: BodyInit; headers?: Record<string, string>; auth?: boolean } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...(init.auth === false ? {} : this.headers), ...init.headers };
    let payload = init.body;
    if (init.json !== undefined) {
      payload = JSON.stringify(init.json);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(this.url + route, {
      method,
      headers,
      body: payload,
      ...(payload instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  /** POST /execute as the control plane sends it (no query): the acknowledgement. */
  submit(request: ExecuteBody, headers?: Record<string, string>): Promise<Reply> {
    return this.request('POST', '/execute', { json: request, headers });
  }

  /** POST /execute?wait=true: the full result (asserts 200). */
  async run(fields: Partial<ExecuteBody> & { code: string; language: ExecuteBody['language'] }): Promise<Result> {
    const request = body(fields);
    const reply = await this.request('POST', '/execute?wait=true', { json: request });
    assert.equal(reply.status, 200, `POST /execute?wait=true answered ${reply.status}: ${reply.text.slice(0, 2000)}`);
    assert.ok(reply.json && typeof reply.json === 'object', `not a JSON object: ${reply.text.slice(0, 2000)}`);
    return { ...reply.json, raw: reply.text } as Result;
  }

  /** GET /executions/{id} */
  async state(id: string): Promise<Reply & { json: ExecutionState }> {
    return this.request('GET', `/executions/${encodeURIComponent(id)}`) as Promise<Reply & { json: ExecutionState }>;
  }

  /** Polls GET /executions/{id} until the execution has finished; its state document. */
  async finished(id: string, timeoutMs = 30_000): Promise<ExecutionState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = await this.state(id);
      assert.equal(reply.status, 200, `GET /executions/${id}: ${reply.status} ${reply.text}`);
      if ((FINISHED as readonly string[]).includes(reply.json.state)) return reply.json;
      assert.ok(Date.now() < deadline, `execution ${id} still ${reply.json.state} after ${timeoutMs} ms`);
      await sleep(25);
    }
  }

  /** POST /execute?stream=true: every server-sent event, with when it arrived. */
  async stream(request: ExecuteBody): Promise<{ status: number; headers: Headers; events: SseEvent[] }> {
    const began = Date.now();
    const response = await fetch(`${this.url}/execute?stream=true`, {
      method: 'POST',
      headers: { ...this.headers, 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    const events: SseEvent[] = [];
    if (!response.body) return { status: response.status, headers: response.headers, events };
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        events.push({ ...parseSseBlock(block), at: Date.now() - began });
      }
    }
    return { status: response.status, headers: response.headers, events };
  }

  /** The callback body the control plane receives for this execution (derived from the journal's row). */
  callbackOf(id: string): CallbackBody {
    return JSON.parse(this.callbackTextOf(id)) as CallbackBody;
  }

  /** The callback body's text, as the outbox sends it. */
  callbackTextOf(id: string): string {
    const row = this.server.journal.get(id);
    const stored = row && storedResultOf(row);
    assert.ok(stored, `no result recorded for ${id}`);
    return callbackJson(stored);
  }

  /** Kills what still runs, closes the server and removes every file it made. */
  async stop(): Promise<void> {
    const { service } = this.server;
    service.stopAccepting(); // also discards sandboxes kept warm for later executions
    service.killAll('shutdown');
    await service.drained();
    await this.server.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}

function parseSseBlock(block: string): { event: string; data: string } {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return { event, data: data.join('\n') };
}

/** A readable summary of a result for assertion messages. */
export function describeResult(r: Partial<Result>): string {
  const cut = (s: string | undefined) => (s ?? '').slice(0, 1500);
  return `status=${r.status} exit_code=${r.exit_code} limit=${r.limit_exceeded} return_value=${JSON.stringify(r.return_value)}\n--- stdout\n${cut(r.stdout)}\n--- stderr\n${cut(r.stderr)}`;
}

/** Asserts a successful run, showing its output otherwise. */
export function assertSuccess(r: Result): void {
  assert.equal(r.status, 'success', describeResult(r));
  assert.equal(r.exit_code, 0, describeResult(r));
}

/**
 * Shell code that starts a process carrying `marker` in its argv and leaves it behind in the
 * background (its own session, stdio detached), as a runaway would.
 */
export function leaveBehind(marker: string, seconds = 120): string {
  return `setsid /bin/bash -c 'sleep ${seconds}; : ${marker}' </dev/null >/dev/null 2>&1 &`;
}

/** Asserts that no host process carries marker now (and waits a little for one to vanish). */
export async function assertNothingRunning(marker: string, withinMs = 5_000): Promise<void> {
  const gone = await pollFor(() => (processesWithMarker(marker).length === 0 ? true : undefined), withinMs);
  assert.ok(gone, `still running: ${JSON.stringify(processesWithMarker(marker))}`);
}

/** Asserts a 4xx error body as the API defines it: {detail, error_code, message}. */
export function assertProblem(reply: Reply, status: number, errorCode?: string): void {
  assert.equal(reply.status, status, `expected ${status}, got ${reply.status}: ${reply.text.slice(0, 1000)}`);
  assert.match(reply.headers.get('content-type') ?? '', /application\/json/);
  assert.ok(reply.json && typeof reply.json === 'object', `error body is not JSON: ${reply.text.slice(0, 500)}`);
  assert.ok('detail' in reply.json, `no detail: ${reply.text}`);
  assert.equal(typeof reply.json.error_code, 'string', reply.text);
  assert.equal(typeof reply.json.message, 'string', reply.text);
  assert.ok(reply.json.message.length > 10, `message too terse to help: ${reply.text}`);
  if (errorCode) assert.equal(reply.json.error_code, errorCode, reply.text);
}

/** The fields a 422 names: detail is [{loc: ['body', field, ...], msg, type}]. */
export function fieldsNamed(reply: Reply): string[] {
  assert.ok(Array.isArray(reply.json?.detail), `422 detail is not a list: ${reply.text}`);
  return (reply.json.detail as { loc: unknown[] }[]).map((d) => d.loc.slice(1).join('.'));
}

export { sleep };
