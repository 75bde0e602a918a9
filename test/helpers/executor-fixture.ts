// Shared setup for tests that run the whole executor: throw-away workspace and state dirs under
// os.tmpdir() (readable by the sandbox's host uid, whether the tests run as root or not), the
// environment that points the executor at them, and the few HTTP calls tests make to it.
//
// Note: `node --test dist/test/` treats every .js file under test/ as a test file, so this module
// must do nothing when imported on its own.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ExecutorDirs {
  root: string;
  workspace: string;
  state: string;
  remove(): void;
}

export function executorDirs(label: string): ExecutorDirs {
  const root = mkdtempSync(path.join(os.tmpdir(), `sandbox-executor-${label}-`));
  // sandboxes run as another host uid: they must traverse it to reach their workspace and input
  chmodSync(root, 0o711);
  return {
    root,
    workspace: path.join(root, 'workspace'),
    state: path.join(root, 'state'),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The environment of an executor on a free loopback port using `dirs`, plus `extra`. */
export function executorEnv(dirs: ExecutorDirs, extra: Record<string, string> = {}): Record<string, string> {
  return {
    EXECUTOR_PORT: '0',
    EXECUTOR_HOST: '127.0.0.1',
    WORKSPACE_PATH: dirs.workspace,
    STATE_PATH: dirs.state,
    LOG_LEVEL: 'silent',
    ...extra,
  };
}

export interface Submission {
  execution_id: string;
  code: string;
  /** default shell */
  language?: 'python' | 'javascript' | 'shell';
  /** default "cp-test" */
  session_id?: string;
  timeout?: number;
}

/** POST /execute; the status and the parsed answer. */
export async function submit(baseUrl: string, execution: Submission, query = ''): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}/execute${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ session_id: 'cp-test', language: 'shell', ...execution }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

/** Polls `check` until it returns something other than undefined; throws naming `what` after timeoutMs. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** GET /executions/{id} until its state is a finished one; the answer. */
export function finished(baseUrl: string, executionId: string, timeoutMs = 30_000): Promise<any> {
  return eventually(
    `${executionId} to finish`,
    async () => {
      const { status, body } = await getJson(`${baseUrl}/executions/${executionId}`);
      return status === 200 && body.result ? body : undefined;
    },
    timeoutMs,
  );
}
