// The journal's WAL checkpoints run on a thread of their own (journal-checkpoints.ts): a commit on
// the event loop only appends to the WAL; the thread copies it into the database; under writes
// that never pause, the journal's own connection checkpoints once the WAL is long, so that it
// starts over. Real SQLite files, a real worker thread.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Journal } from '../../src/executions/journal.js';
import { eventually } from '../helpers/executor-fixture.js';
import { CHECKPOINT_AFTER_PAGES, JournalCheckpoints } from '../../src/executions/journal-checkpoints.js';

const RESULT = JSON.stringify({ status: 'success', stdout: 'x'.repeat(3000) });

function execute(journal: Journal, id: string): void {
  journal.insertPending({ execution_id: id, session_id: 's', language: 'shell', timeout_seconds: 30, created_at: new Date().toISOString() });
  const now = new Date().toISOString();
  journal.finish({ execution_id: id, state: 'success', started_at: now, finished_at: now, stored: { result: RESULT, return_value: null }, delivery_state: 'none' });
}

/** Long enough for a thread's first start and checkpoint on a loaded machine. */
const WAIT_MS = 15_000;

const walBytes = (dir: string) => statSync(path.join(dir, 'journal.sqlite3-wal')).size;

/** The journal's log lines, by message. */
function recordingLog() {
  const lines: { msg: string; fields: Record<string, unknown> }[] = [];
  const record = (fields: Record<string, unknown>, msg: string) => lines.push({ msg, fields });
  return { lines, log: { debug: record, warn: record } as never };
}

describe('journal checkpoints', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sandbox-executor-checkpoints-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const newDir = (name: string) => path.join(root, name);

  it('commits only append to the WAL; the thread copies it into the database', async () => {
    const dir = newDir('append');
    const { lines, log } = recordingLog();
    const journal = new Journal(dir, { log });
    try {
      // ~12 MiB of commits without a pause: SQLite's own checkpoint, inside the commit that took
      // the WAL past 1000 pages (4 MiB), would have let the next commit start it over
      for (let i = 0; i < 250; i++) execute(journal, `burst-${i}`);
      assert.ok(walBytes(dir) > 8 * 1024 * 1024, `the WAL holds every commit of the burst: ${walBytes(dir)} bytes`);
      await eventually('a checkpoint by the thread', () => lines.some((l) => l.msg === 'journal checkpoint' && (l.fields.checkpointed as number) > 0) || undefined, WAIT_MS);
      assert.deepEqual(
        lines.filter((l) => l.msg !== 'journal checkpoint'),
        [],
        'nothing failed, nothing checkpointed on the event loop',
      );
      assert.equal(journal.get('burst-249')?.state, 'success');
    } finally {
      await journal.close();
    }
  });

  it('under writes that never pause, the WAL still starts over', async () => {
    const dir = newDir('sustained');
    const { lines, log } = recordingLog();
    const restartAfterFrames = 2000; // 8 MiB
    // no catching up: each of the thread's checkpoints leaves newer commits, as under load
    const journal = new Journal(dir, { log, restartAfterFrames, catchUps: 0 });
    let longest = 0;
    try {
      // ~48 MiB, 2 ms between executions: the thread's checkpoints always end with newer commits
      // in the WAL, so only the journal's own can let it start over
      for (let i = 0; i < 1000; i++) {
        execute(journal, `sustained-${i}`);
        longest = Math.max(longest, walBytes(dir));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      assert.ok(longest < 3 * restartAfterFrames * 4096, `the WAL started over: at most ${longest} bytes`);
      // on a fast disk (tmpfs) the WAL may start over between two commits by itself
      const long = lines.some((l) => l.msg === 'journal checkpoint' && (l.fields.frames as number) >= restartAfterFrames);
      assert.equal(
        lines.some((l) => l.msg.startsWith('journal checkpoint on the event loop')),
        long,
        `the journal checkpoints on its own when, and only when, a checkpoint found the WAL long: ${JSON.stringify(lines.map((l) => [l.msg, l.fields.frames]))}`,
      );
      assert.equal(lines.filter((l) => l.msg.includes('failed')).length, 0);
    } finally {
      await journal.close();
    }
  });

  it('a thread that cannot run is given up: the journal checkpoints in its commits again', async () => {
    const dir = newDir('no-thread');
    mkdirSync(dir);
    const db = new Database(path.join(dir, 'journal.sqlite3'));
    const { lines, log } = recordingLog();
    // the thread opens a file that is not there
    const checkpoints = new JournalCheckpoints({ db, file: path.join(dir, 'missing', 'journal.sqlite3'), log });
    try {
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0);
      checkpoints.wrote(CHECKPOINT_AFTER_PAGES);
      await eventually('the thread given up', () => lines.some((l) => l.msg.includes('given up')) || undefined, WAIT_MS);
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), CHECKPOINT_AFTER_PAGES, "SQLite's own checkpoints again");
      checkpoints.wrote(10 * CHECKPOINT_AFTER_PAGES);
      assert.equal((checkpoints as unknown as { thread: unknown }).thread, null, 'no thread is started again');
      assert.equal(lines.filter((l) => l.msg.includes('given up')).length, 1);
    } finally {
      await checkpoints.stop();
      db.close();
    }
  });

  it('a WAL left by an executor that did not close is checkpointed at the first write', async () => {
    const dir = newDir('left-behind');
    const first = new Journal(dir); // not closed before the next opens: its WAL stays
    const { lines, log } = recordingLog();
    let second: Journal | undefined;
    try {
      for (let i = 0; i < 20; i++) execute(first, `before-${i}`);
      second = new Journal(dir, { log });
      execute(second, 'after');
      await eventually('a checkpoint after one execution', () => lines.some((l) => l.msg === 'journal checkpoint') || undefined, WAIT_MS);
    } finally {
      await second?.close();
      await first.close();
    }
  });

  it('close waits for the thread and leaves the journal whole, with no WAL beside it', async () => {
    const dir = newDir('close');
    const journal = new Journal(dir);
    for (let i = 0; i < 150; i++) execute(journal, `close-${i}`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the thread is up, maybe checkpointing
    // (the order inside close() is not what this sees: whichever connection closes last removes the WAL)
    await journal.close();
    assert.deepEqual(readdirSync(dir), ['journal.sqlite3']);
    assert.equal(existsSync(path.join(dir, 'journal.sqlite3-wal')), false);
    const reopened = new Journal(dir);
    try {
      assert.equal(reopened.get('close-149')?.state, 'success', 'every commit is in the database');
    } finally {
      await reopened.close();
    }
  });
});
