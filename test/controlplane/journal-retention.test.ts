// The journal stays bounded: finished executions whose result is settled are pruned once older
// than RESULT_RETENTION_HOURS, at start-up and periodically; a result still waiting for the
// control plane is kept however old; unfinished rows are never pruned.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { startJournalRetention } from '../../src/controlplane/journal-retention.js';
import { Journal, type DeliveryState, type ExecutionState } from '../../src/executions/journal.js';
import { startServer } from '../../src/server.js';
import { executorDirs, executorEnv, getJson } from '../helpers/executor-fixture.js';

const HOUR_MS = 3_600_000;
const silent = pino({ level: 'silent' });

/** Adds a row in `state` with `delivery`, last touched `ageHours` ago. */
function addRow(journal: Journal, id: string, state: ExecutionState, delivery: DeliveryState, ageHours: number): void {
  journal.insertPending({ execution_id: id, session_id: 's', language: 'shell', timeout_seconds: 10, created_at: new Date().toISOString() });
  if (state !== 'pending') {
    journal.finish({ execution_id: id, state, started_at: null, finished_at: new Date().toISOString(), stored: { result: '{}', return_value: null }, delivery_state: delivery });
  }
  journal.db.prepare('UPDATE executions SET updated_at = ? WHERE execution_id = ?').run(Date.now() - ageHours * HOUR_MS, id);
}

function fill(journal: Journal): void {
  addRow(journal, 'old-delivered', 'success', 'delivered', 30);
  addRow(journal, 'old-undeliverable', 'failed', 'undeliverable', 30);
  addRow(journal, 'old-standalone', 'timeout', 'none', 30);
  addRow(journal, 'old-waiting', 'crashed', 'pending', 30);
  addRow(journal, 'recent-delivered', 'success', 'delivered', 1);
}

const ids = (journal: Journal) => (journal.db.prepare('SELECT execution_id FROM executions ORDER BY execution_id').all() as { execution_id: string }[]).map((r) => r.execution_id);

describe('journal retention', () => {
  const dirs = executorDirs('retention');
  after(() => dirs.remove());

  it('prunes settled rows older than the retention, never a result still waiting, and keeps doing it', async () => {
    const journal = new Journal(dirs.state, { fileName: 'retention-unit.sqlite3' });
    try {
      fill(journal);
      const retention = startJournalRetention(journal, { retentionHours: 24, maxBytes: 1024 * 1024 * 1024 }, silent, 50);
      try {
        assert.deepEqual(ids(journal), ['old-waiting', 'recent-delivered']);
        addRow(journal, 'later-delivered', 'success', 'delivered', 25);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.deepEqual(ids(journal), ['old-waiting', 'recent-delivered'], 'pruned again by the periodic pass');
      } finally {
        retention.stop();
      }
    } finally {
      await journal.close();
    }
  });

  it('gives a journal from before the pruning index that index, drops the one it replaces, replaces another definition of a named index, and prunes it the same', async () => {
    const journal = new Journal(dirs.state, { fileName: 'retention-upgrade.sqlite3' });
    fill(journal);
    // as before the pruning index, and with another version's definition of the outbox's
    journal.db.exec(
      "DROP INDEX executions_prunable; CREATE INDEX executions_updated ON executions(updated_at); DROP INDEX executions_waiting; CREATE INDEX executions_waiting ON executions(finished_at) WHERE delivery_state = 'none'",
    );
    await journal.close();
    const upgraded = new Journal(dirs.state, { fileName: 'retention-upgrade.sqlite3' });
    try {
      const indexes = upgraded.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'executions_%' ORDER BY name").pluck().all();
      assert.deepEqual(indexes, ['executions_outbox', 'executions_prunable', 'executions_state', 'executions_waiting']);
      assert.equal(upgraded.outboxStats().depth, 1, 'old-waiting, counted through the current definition');
      assert.equal(upgraded.prune(24 * HOUR_MS), 3);
      assert.deepEqual(ids(upgraded), ['old-waiting', 'recent-delivered']);
    } finally {
      await upgraded.close();
    }
  });

  it('prunes at start-up, before anything else', async () => {
    const journal = new Journal(dirs.state);
    fill(journal);
    await journal.close();
    const server = await startServer(loadConfig(executorEnv(dirs, { RESULT_RETENTION_HOURS: '24' })));
    try {
      assert.deepEqual(ids(server.journal), ['old-waiting', 'recent-delivered']);
      const { body } = await getJson(`http://127.0.0.1:${server.port}/executions/old-delivered`);
      assert.equal(body.error_code ?? body.detail?.error_code, 'Executor.ExecutionNotFound');
    } finally {
      await server.shutdown('normal');
    }
  });
});
