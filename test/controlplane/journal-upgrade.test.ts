// A journal written before results were stored once (no return_value column; each row holding the
// whole result and the whole callback body) is opened as it is: its undelivered results are sent
// byte for byte as they were committed, and GET answers their results, big integers intact.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { CallbackReceiver } from '../helpers/callback-receiver.js';
import { executorDirs, executorEnv, getJson } from '../helpers/executor-fixture.js';

const OLD_SCHEMA = `CREATE TABLE executions (
  execution_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, language TEXT NOT NULL, state TEXT NOT NULL,
  timeout_seconds INTEGER NOT NULL, created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
  result TEXT, callback TEXT, delivery_state TEXT NOT NULL DEFAULT 'none', delivery_attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER, last_delivery_error TEXT, updated_at INTEGER NOT NULL)`;

describe('a journal from before results were stored once', () => {
  const dirs = executorDirs('journal-upgrade');
  after(() => dirs.remove());

  it('delivers its waiting results verbatim and answers GET for them', async () => {
    mkdirSync(dirs.state, { recursive: true });
    const old = new Database(path.join(dirs.state, 'journal.sqlite3'));
    old.pragma('journal_mode = WAL');
    old.exec(OLD_SCHEMA);
    const callback =
      '{"status":"success","stdout":"old\\n","stderr":"","exit_code":0,"execution_time":0.01,"return_value":{"big":1180591620717411303424},"metrics":{"duration_ms":10,"cpu_time_ms":1,"peak_memory_mb":1,"io_read_bytes":0,"io_write_bytes":0},"artifacts":[],"sandbox":null}';
    const result = `{"execution_id":"exec_old","session_id":"s","language":"python",${callback.slice(1, -1)},"limit_exceeded":null}`;
    const now = new Date().toISOString();
    old
      .prepare(`INSERT INTO executions (execution_id, session_id, language, state, timeout_seconds, created_at, finished_at, result, callback, delivery_state, next_attempt_at, updated_at)
      VALUES ('exec_old', 's', 'python', 'success', 10, ?, ?, ?, ?, 'pending', 0, ?)`)
      .run(now, now, result, callback, Date.now());
    old.close();

    const receiver = await CallbackReceiver.start();
    const server = await startServer(loadConfig(executorEnv(dirs, { CONTROL_PLANE_URL: receiver.url, INTERNAL_API_TOKEN: 'token' })));
    try {
      await receiver.waitUntil('the old result delivered', () => receiver.acceptedResults().has('exec_old'), 20_000);
      assert.equal(receiver.acceptedResults().get('exec_old')![0]!.raw, callback, 'sent byte for byte as committed');
      const response = await fetch(`http://127.0.0.1:${server.port}/executions/exec_old`);
      const text = await response.text();
      assert.equal(response.status, 200);
      assert.match(text, /"result":\{"execution_id":"exec_old".*"big":1180591620717411303424\}/);
      assert.equal((await getJson(`http://127.0.0.1:${server.port}/executions/exec_old`)).body.result.stdout, 'old\n');
    } finally {
      await server.shutdown('normal');
      await receiver.stop();
    }
  });
});
