// Journal.deliverAllNow() with a backlog: every result waiting out a backoff is made due, a batch
// per turn of the event loop (one commit of 100,000 rows held it 1.3 s); one whose delivery failed
// again meanwhile keeps its new backoff, and nothing else changes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Journal } from '../../src/executions/journal.js';

const WAITING = 1234;

describe('Journal.deliverAllNow', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'journal-due-now-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a backlog due in batches, with the event loop turning between them, and leaves a backoff set meanwhile', async () => {
    const journal = new Journal(dir);
    try {
      const finished = new Date().toISOString();
      journal.db.transaction(() => {
        for (let i = 0; i < WAITING + 2; i++) {
          const id = `exec_${i}`;
          journal.insertPending({ execution_id: id, session_id: 's', language: 'shell', timeout_seconds: 10, created_at: finished });
          journal.finish({
            execution_id: id,
            state: 'success',
            started_at: null,
            finished_at: finished,
            stored: { result: '{}', return_value: null },
            delivery_state: i < WAITING + 1 ? 'pending' : 'none',
          });
        }
      })();
      const later = Date.now() + 3_600_000;
      journal.db.prepare("UPDATE executions SET next_attempt_at = ? WHERE delivery_state = 'pending' AND execution_id != 'exec_0'").run(later);
      const notDue = journal.db.prepare("SELECT COUNT(*) FROM executions WHERE delivery_state = 'pending' AND next_attempt_at > ?").pluck();
      assert.equal(notDue.get(Date.now()), WAITING, 'one already due, the rest waiting out a backoff');

      // between the first two batches, the last result's delivery fails again: it keeps that backoff
      const failedMeanwhile = `exec_${WAITING}`;
      let turns = 0;
      let counting = true;
      const began = Date.now();
      const count = () => {
        turns++;
        if (turns === 1) {
          while (Date.now() <= began); // its new backoff is written after the call began
          journal.rescheduleDelivery(failedMeanwhile, later, 'HTTP 503');
        }
        if (counting) setImmediate(count);
      };
      setImmediate(count);
      const changed = await journal.deliverAllNow();
      counting = false;

      assert.equal(changed, WAITING - 1);
      assert.deepEqual(journal.db.prepare('SELECT execution_id FROM executions WHERE next_attempt_at > ?').pluck().all(Date.now()), [failedMeanwhile]);
      assert.ok(turns >= 2, `the event loop turned between batches (${turns} turns)`);
      assert.equal(journal.outboxStats().depth, WAITING + 1, 'the settled one is not waiting, and none was settled');
      assert.equal(await journal.deliverAllNow(Date.now() - 1), 0, 'past its deadline: nothing made due');
      assert.equal(await journal.deliverAllNow(), 1, 'the one that failed meanwhile, at the next call');
    } finally {
      await journal.close();
    }
  });
});
