// One server per STATE_PATH. A second `serve` on a state directory in use is refused (after
// waiting 5 s for the holder to let go) before it reads the journal: before the lock, its crash
// recovery recorded the live server's running execution as crashed. And a server that cannot
// listen exits at once, naming the setting, instead of staying up (its timers and warm sandboxes
// kept it alive for minutes).
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { eventually, executorDirs, executorEnv, finished, getJson, submit } from '../helpers/executor-fixture.js';
import { ExecutorProcess } from '../helpers/executor-process.js';

/** The state a server's journal holds for `executionId`, read beside the server. */
function journalState(stateDir: string, executionId: string): string | undefined {
  const db = new Database(path.join(stateDir, 'journal.sqlite3'), { readonly: true });
  try {
    return (db.prepare('SELECT state FROM executions WHERE execution_id = ?').pluck().get(executionId) as string | undefined) ?? undefined;
  } finally {
    db.close();
  }
}

describe('one server per state directory', () => {
  const dirs = executorDirs('state-lock');
  const holderDirs = executorDirs('state-lock-port');
  const otherDirs = executorDirs('state-lock-other');
  const executors: ExecutorProcess[] = [];

  after(async () => {
    for (const executor of executors) await executor.kill();
    for (const d of [dirs, holderDirs, otherDirs]) d.remove();
  });

  it('refuses a second server on a STATE_PATH in use, naming the holder, and leaves its running execution alone', async () => {
    const first = await ExecutorProcess.start(executorEnv(dirs));
    executors.push(first);
    assert.equal((await submit(first.url, { execution_id: 'exec_running_meanwhile', code: 'sleep 15; echo still-mine' })).status, 200);
    await eventually('the execution to run', async () => ((await getJson(`${first.url}/executions/exec_running_meanwhile`)).body.state === 'running' ? true : undefined), 10_000);
    // the journal writes an execution twice: accepted (pending) and finished
    assert.equal(journalState(dirs.state, 'exec_running_meanwhile'), 'pending');

    const second = await ExecutorProcess.startRefused(executorEnv(dirs));
    assert.ok(second.exit, `the second server was still running:\n${second.output}`);
    assert.equal(second.exit.code, 1, second.output);
    assert.match(second.output, new RegExp(`STATE_PATH ${dirs.state} is in use by another sandbox-executor \\(pid ${first.pid} on host `));
    assert.doesNotMatch(second.output, /executor listening|recorded as crashed/);

    // no file in the directory is the lock: removing what looks like one lets nobody in
    for (const name of readdirSync(dirs.state)) if (!name.startsWith('journal.sqlite3')) rmSync(path.join(dirs.state, name), { recursive: true, force: true });
    const third = await ExecutorProcess.startRefused(executorEnv(dirs));
    assert.equal(third.exit?.code, 1, third.output);
    assert.match(third.output, /is in use by another sandbox-executor \(owner unknown\)/);

    assert.equal(journalState(dirs.state, 'exec_running_meanwhile'), 'pending', 'the refused server recorded nothing');
    const done = await finished(first.url, 'exec_running_meanwhile');
    assert.equal(done.state, 'success');
    assert.equal(done.result.stdout, 'still-mine\n');

    first.signal('SIGTERM');
    assert.equal((await first.exited).code, 0, first.output);
    // the kernel dropped the lock with the process: the next server starts
    const next = await ExecutorProcess.start(executorEnv(dirs));
    executors.push(next);
    assert.equal((await getJson(`${next.url}/executions/exec_running_meanwhile`)).body.state, 'success');
    next.signal('SIGKILL');
    await next.exited;
    // SIGKILL too: no stale lock to clean up
    const afterKill = await ExecutorProcess.start(executorEnv(dirs));
    executors.push(afterKill);
    afterKill.signal('SIGTERM');
    assert.equal((await afterKill.exited).code, 0, afterKill.output);
  });

  it('exits at once when its port is taken, naming EXECUTOR_PORT, and leaves its state directory free', async () => {
    const holder = await ExecutorProcess.start(executorEnv(holderDirs));
    executors.push(holder);
    const port = new URL(holder.url).port;

    const refused = await ExecutorProcess.startRefused(executorEnv(otherDirs, { EXECUTOR_PORT: port }));
    assert.ok(refused.exit, `a server that could not listen was still running 15 s later:\n${refused.output}`);
    assert.equal(refused.exit.code, 1, refused.output);
    assert.match(refused.output, new RegExp(`127\\.0\\.0\\.1:${port} is in use by another process: stop it, or set EXECUTOR_PORT`));

    const next = await ExecutorProcess.start(executorEnv(otherDirs));
    executors.push(next);
    for (const executor of [holder, next]) {
      executor.signal('SIGTERM');
      assert.equal((await executor.exited).code, 0, executor.output);
    }
  });
});
