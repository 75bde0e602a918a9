// A session's state removed: by DELETE /sessions/{id} (token required; 409 while it has an
// execution queued or running; 404 when nothing of it is here) and by WORKSPACE_RETENTION_HOURS
// (idle sessions only: a busy one and a recently used one are kept). What a hostile sandbox left
// in its workspace (a symbolic link to a directory outside, a FIFO, a directory it made
// unreadable, a tree deeper than PATH_MAX) is removed without following, opening or failing.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { assertProblem, assertSuccess, executionId, sessionId, sleep, TestServer } from '../helpers/http.js';

const TOKEN = 'internal-token-for-tests';
const servers: TestServer[] = [];

async function start(env: Record<string, string>): Promise<TestServer> {
  const server = await TestServer.start({ SHUTDOWN_GRACE_SECONDS: '0', ...env });
  servers.push(server);
  return server;
}

function deleteSession(server: TestServer, session: string, token: string | null = TOKEN) {
  return server.request('DELETE', `/sessions/${encodeURIComponent(session)}`, { auth: false, headers: token ? { authorization: `Bearer ${token}` } : {} });
}

function tmpOf(server: TestServer, session: string): string {
  return path.join(server.server.config.stateDir, 'sessions', session);
}

/** Starts `sleep` in the session (acknowledged, not waited for): the session is busy until it ends. */
async function startSleeping(server: TestServer, session: string, seconds: number): Promise<string> {
  const id = executionId('busy');
  const ack = await server.submit({ execution_id: id, session_id: session, language: 'shell', code: `sleep ${seconds}`, timeout: 120 });
  assert.equal(ack.status, 200, ack.text);
  return id;
}

async function metric(server: TestServer, line: string): Promise<number> {
  const text = (await server.request('GET', '/metrics', { auth: false })).text;
  const found = text.split('\n').find((l) => l.startsWith(line));
  return found ? Number(found.slice(line.length).trim()) : 0;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe('session removal', () => {
  after(async () => {
    for (const s of servers) await s.stop();
  });

  it('DELETE /sessions/{id}: token required, busy 409, unknown 404, hostile leftovers removed without following them', async () => {
    const server = await start({ INTERNAL_API_TOKEN: TOKEN });
    const outside = path.join(path.dirname(server.workspaceRoot), 'outside');
    mkdirSync(outside, { mode: 0o755 });
    writeFileSync(path.join(outside, 'canary'), 'keep me');
    const session = sessionId('del');
    assertSuccess(
      await server.run({
        session_id: session,
        language: 'python',
        code: [
          'import os',
          'def handler(event):',
          '    os.symlink(event["outside"], "/workspace/link-out")',
          '    os.symlink(event["outside"], "/tmp/link-out")',
          '    os.mkfifo("/workspace/fifo")',
          '    os.makedirs("/workspace/locked/inner")',
          '    open("/workspace/locked/inner/f", "w").write("x")',
          '    os.chmod("/workspace/locked/inner", 0)',
          '    os.chmod("/workspace/locked", 0o500)',
          '    os.chdir("/workspace")',
          // deeper than PATH_MAX (4096) from the host's side
          '    for _ in range(1500):',
          '        os.mkdir("dd")',
          '        os.chdir("dd")',
          '    open("bottom", "w").write("x")',
          '    return "ok"',
        ].join('\n'),
        event: { outside },
      }),
    );
    const workspace = server.workspaceOf(session);
    assert.ok(existsSync(path.join(workspace, 'fifo')));

    assertProblem(await deleteSession(server, session, null), 401, 'Executor.Unauthorized');
    assertProblem(await deleteSession(server, session, 'wrong'), 401, 'Executor.Unauthorized');
    assert.ok(existsSync(workspace), 'removed without the token');

    const busy = sessionId('busy');
    const sleeping = await startSleeping(server, busy, 3);
    await until('the busy execution running', async () => (await server.state(sleeping)).json.state === 'running');
    assertProblem(await deleteSession(server, busy), 409, 'Executor.SessionBusy');
    assert.ok(existsSync(server.workspaceOf(busy)), 'a busy session lost its workspace');
    assert.equal((await server.finished(sleeping)).state, 'success');
    assert.equal((await deleteSession(server, busy)).status, 200);

    const removed = await deleteSession(server, session);
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual(removed.json, { session_id: session, status: 'removed' });
    assert.ok(!existsSync(workspace), 'the workspace is still there');
    assert.ok(!existsSync(tmpOf(server, session)), 'the session /tmp is still there');
    assert.equal(readFileSync(path.join(outside, 'canary'), 'utf8'), 'keep me', 'removal followed a symbolic link out of the workspace');
    assert.deepEqual(readdirSync(path.join(server.workspaceRoot, '.removing')), [], 'left in the trash');

    assertProblem(await deleteSession(server, session), 404, 'Executor.SessionNotFound');
    assertProblem(await deleteSession(server, sessionId('never')), 404, 'Executor.SessionNotFound');
    assert.equal(await metric(server, 'sandbox_session_removals_total{trigger="request",outcome="removed"}'), 2);
    assert.equal(await metric(server, 'sandbox_rejected_requests_total{reason="session_busy"}'), 1);

    // the session starts afresh
    const again = await server.run({ session_id: session, language: 'shell', code: 'ls -A /workspace | wc -l' });
    assertSuccess(again);
    assert.equal(again.stdout.trim(), '0');
  });

  it('DELETE /sessions/{id} with no token configured is refused: 403', async () => {
    const server = await start({});
    const session = sessionId('notoken');
    assertSuccess(await server.run({ session_id: session, language: 'shell', code: 'echo x > /workspace/f' }));
    assertProblem(await deleteSession(server, session), 403, 'Executor.TokenNotConfigured');
    assert.ok(existsSync(path.join(server.workspaceOf(session), 'f')));
  });

  it('settings that cannot work stop the start, naming the variable', () => {
    const refused = (env: Record<string, string>, variable: string) =>
      assert.throws(
        () => loadConfig({ WORKSPACE_PATH: '/tmp/x', ...env }),
        (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.startsWith(`${variable}:`)),
      );
    refused({ WORKSPACE_RETENTION_HOURS: '24', SESSION_ID: 's' }, 'WORKSPACE_RETENTION_HOURS');
    refused({ WORKSPACE_RETENTION_HOURS: '-1' }, 'WORKSPACE_RETENTION_HOURS');
    refused({ LOG_STDERR: 'false' }, 'LOG_STDERR');
    refused({ LOG_FILE_ROTATE: 'weekly', LOG_FILE: '/tmp/x.log' }, 'LOG_FILE_ROTATE');
    assert.equal(loadConfig({ WORKSPACE_PATH: '/tmp/x' }).workspaceRetentionHours, 0);
  });

  it('WORKSPACE_RETENTION_HOURS removes an idle session and keeps a busy and a recently used one', async () => {
    // 3 s (swept every second): fractions of an hour are for tests
    const server = await start({ WORKSPACE_RETENTION_HOURS: String(3 / 3600) });
    const [idle, busy, recent] = [sessionId('idle'), sessionId('busy'), sessionId('recent')];
    for (const s of [idle, busy, recent]) assertSuccess(await server.run({ session_id: s, language: 'shell', code: 'echo x > /workspace/f; echo y > /tmp/t' }));
    const sleeping = await startSleeping(server, busy, 8);
    for (let i = 0; i < 200 && existsSync(server.workspaceOf(idle)); i++) {
      // used again every half second: never idle for 3 s
      assertSuccess(await server.run({ session_id: recent, language: 'shell', code: 'true' }));
      await sleep(500);
    }
    assert.ok(!existsSync(server.workspaceOf(idle)), 'the idle session was never removed');
    assert.ok(!existsSync(tmpOf(server, idle)), "the idle session's /tmp is still there");
    assert.ok(existsSync(path.join(server.workspaceOf(busy), 'f')), 'a session with an execution running was removed');
    assert.ok(existsSync(path.join(server.workspaceOf(recent), 'f')), 'a recently used session was removed');
    assert.ok((await metric(server, 'sandbox_session_removals_total{trigger="retention",outcome="removed"}')) >= 1);

    // once its execution has finished, the busy one goes the same way
    assert.equal((await server.finished(sleeping, 60_000)).state, 'success');
    await until('the formerly busy session removed', () => !existsSync(server.workspaceOf(busy)));
  });
});
