// The server's own log, from `sandbox-executor serve` as a child process: JSON lines by default
// (LOG_FORMAT=text for people), LOG_LEVEL honoured, execution_id and session_id on every line of an
// execution, and never the code, the event, env values or the output. A bad setting stops the
// start with a line naming the variable.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { executionId, sessionId, sleep } from '../helpers/http.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const roots: string[] = [];

interface Child {
  log: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<number | null>;
}

function serve(env: Record<string, string>): Child {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sandbox-log-test-'));
  chmodSync(root, 0o711);
  roots.push(root);
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: os.tmpdir(),
      EXECUTOR_HOST: '127.0.0.1',
      EXECUTOR_PORT: '0',
      WORKSPACE_PATH: path.join(root, 'workspace'),
      STATE_PATH: path.join(root, 'state'),
      ISOLATION: 'native',
      SHUTDOWN_GRACE_SECONDS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (log += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (log += t));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    log: () => log,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function until<T>(what: string, child: Child, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `${what} did not happen; log:\n${child.log().slice(-3000)}`);
    await sleep(25);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(port));
    });
  });
}

async function execute(port: number, request: Record<string, unknown>): Promise<Record<string, unknown>> {
  const reply = await fetch(`http://127.0.0.1:${port}/execute?wait=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  assert.equal(reply.status, 200);
  return (await reply.json()) as Record<string, unknown>;
}

describe('logging', () => {
  after(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it('JSON lines with execution_id and session_id, and nothing of the code, event, env values or output', async () => {
    const secret = (label: string) => `${label}-${randomUUID()}`;
    const secrets = { code: secret('CODE'), event: secret('EVENT'), env: secret('ENV'), out: secret('OUT'), err: secret('ERR') };
    const child = serve({ LOG_FORMAT: 'json', LOG_LEVEL: 'debug' });
    try {
      const port = await until('listening', child, () => {
        const m = /"port":(\d+)[^\n]*"msg":"executor listening"/.exec(child.log());
        return m ? Number(m[1]) : undefined;
      });
      const ids = [executionId('log'), executionId('logfail')];
      const session = sessionId('log');
      const out = secrets.out.split('-');
      const ok = await execute(port, {
        execution_id: ids[0],
        session_id: session,
        language: 'python',
        code: `# ${secrets.code}\nimport os\ndef handler(event):\n    print("-".join(${JSON.stringify(out)}))\n    return [event["v"], os.environ["V"]]\n`,
        event: { v: secrets.event },
        env_vars: { V: secrets.env },
      });
      assert.equal(ok.status, 'success', JSON.stringify(ok).slice(0, 1000));
      const failed = await execute(port, {
        execution_id: ids[1],
        session_id: session,
        language: 'python',
        code: `def handler(event):\n    raise ValueError("-".join(${JSON.stringify(secrets.err.split('-'))}))\n`,
      });
      assert.equal(failed.status, 'failed');
      assert.equal(await child.stop(), 0, child.log().slice(-2000));

      const lines = child.log().split('\n').filter(Boolean);
      const records = lines.map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return assert.fail(`not a JSON line: ${line}`);
        }
      });
      for (const r of records) {
        assert.equal(typeof r.level, 'number');
        assert.equal(typeof r.msg, 'string');
        assert.equal(typeof r.time, 'string');
      }
      for (const id of ids) {
        const ofExecution = records.filter((r) => r.execution_id === id);
        assert.ok(ofExecution.length >= 1, `no log line carries execution_id ${id}`);
        for (const r of ofExecution) assert.equal(r.session_id, session, JSON.stringify(r));
      }
      for (const [what, value] of Object.entries(secrets)) {
        assert.ok(!child.log().includes(value), `the log shows the ${what}`);
      }
    } finally {
      await child.stop();
    }
  });

  it('LOG_FORMAT=text: lines for people, not JSON', async () => {
    const child = serve({ LOG_FORMAT: 'text', LOG_LEVEL: 'info' });
    try {
      await until('listening', child, () => (/executor listening/.test(child.log()) ? true : undefined));
      const line = child
        .log()
        .split('\n')
        .find((l) => l.includes('executor listening'))!;
      assert.throws(() => JSON.parse(line));
    } finally {
      await child.stop();
    }
  });

  it('LOG_LEVEL=error: no info lines', async () => {
    const port = await freePort();
    const child = serve({ LOG_FORMAT: 'json', LOG_LEVEL: 'error', EXECUTOR_PORT: String(port) });
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const healthy = await fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (healthy) break;
        assert.ok(Date.now() < deadline, `never healthy: ${child.log()}`);
        await sleep(50);
      }
      const r = await execute(port, { execution_id: executionId('quiet'), session_id: sessionId(), code: 'echo hi', language: 'shell' });
      assert.equal(r.status, 'success');
      assert.equal(await child.stop(), 0);
      assert.equal(child.log(), '', 'info lines at LOG_LEVEL=error');
    } finally {
      await child.stop();
    }
  });

  it('a bad setting stops the start: exit code 2 and a line naming each bad variable', async () => {
    const child = serve({ MAX_MEMORY_MB: 'lots', LOG_FORMAT: 'yaml' });
    const code = await Promise.race([child.exited, sleep(20_000).then(() => 'still running' as const)]);
    if (code === 'still running') await child.stop();
    assert.equal(code, 2, child.log());
    assert.match(child.log(), /MAX_MEMORY_MB: .*lots/);
    assert.match(child.log(), /LOG_FORMAT: /);
  });
});
