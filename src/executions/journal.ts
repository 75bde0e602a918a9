// The execution journal: one SQLite row per execution (request metadata, never the code), its
// state, its result and the delivery of that result. It backs idempotency, GET /executions/{id}
// and the control-plane outbox. WAL + synchronous=NORMAL: a commit survives the process being
// killed (the failure that matters here), at the cost of one fsync per checkpoint, not per write;
// the checkpoints run on a thread of their own (journal-checkpoints.ts).
// A result is stored once (see stored-result.ts); the callback body is derived when it is sent.
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { OutboxStats } from '../metrics.js';
import { JournalCheckpoints } from './journal-checkpoints.js';
import { callbackJson, type StoredResult } from './stored-result.js';

export type ExecutionState = 'pending' | 'running' | 'success' | 'failed' | 'timeout' | 'crashed';
export type DeliveryState = 'none' | 'pending' | 'delivered' | 'undeliverable';
export const FINISHED_STATES: readonly ExecutionState[] = ['success', 'failed', 'timeout', 'crashed'];
/** a result in these is never sent again: pruning may drop it */
const SETTLED_DELIVERIES: readonly DeliveryState[] = ['none', 'delivered', 'undeliverable'];

/** SQL string literals of known constants (no user text ever goes through here). */
function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(', ');
}

export interface JournalRow {
  execution_id: string;
  session_id: string;
  language: string;
  state: ExecutionState;
  timeout_seconds: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** the result's own fields as JSON text, return_value null (see stored-result.ts) */
  result: string | null;
  /** the return value's JSON text, verbatim */
  return_value: string | null;
  /** only in rows written before results were stored once: the whole callback body */
  callback: string | null;
  delivery_state: DeliveryState;
  delivery_attempts: number;
  next_attempt_at: number | null;
  last_delivery_error: string | null;
  updated_at: number;
}

/** The stored result of a finished row (null before it finished). */
export function storedResultOf(row: JournalRow): StoredResult | null {
  return row.result === null ? null : { result: row.result, return_value: row.return_value, callback: row.callback };
}

/** A result waiting in the outbox: what one delivery attempt needs, nothing more. */
export interface OutboxEntry {
  execution_id: string;
  /** the callback body, sent verbatim */
  callback: string;
  delivery_attempts: number;
  /** ISO-8601: when the result was committed (its delivery's age counts from there) */
  finished_at: string;
}

export interface JournalOptions {
  /** the database's file name in the state directory */
  fileName?: string;
  /** where the checkpoints' failures (and, at debug, their outcomes) go */
  log?: Pick<Logger, 'warn' | 'debug'>;
  /** see journal-checkpoints.ts (tests make them small) */
  restartAfterFrames?: number;
  catchUps?: number;
}

export interface NewExecution {
  execution_id: string;
  session_id: string;
  language: string;
  timeout_seconds: number;
  created_at: string;
}

/** A checkpointed WAL is truncated back to this (without it, it keeps its largest size). */
const WAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * Rows pruning may drop: finished, and their result settled (delivered, refused, or never to be
 * sent). Written once, here, because the pruning queries find the oldest of them through a
 * partial index on exactly these terms (SQLite uses a partial index only for a WHERE that repeats
 * its terms). Without it they read every row up to its last column, `updated_at`, behind the
 * result's overflow pages: with 1 MB results at the cap, 60 ms per pruned row on the event loop.
 */
const SETTLED = `state IN (${sqlList(FINISHED_STATES)}) AND delivery_state IN (${sqlList(SETTLED_DELIVERIES)})`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS executions (
  execution_id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  language TEXT NOT NULL,
  state TEXT NOT NULL,
  timeout_seconds INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  result TEXT,
  callback TEXT,
  return_value TEXT,
  delivery_state TEXT NOT NULL DEFAULT 'none',
  delivery_attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_delivery_error TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_outbox ON executions(delivery_state, next_attempt_at);
CREATE INDEX IF NOT EXISTS executions_state ON executions(state);
DROP INDEX IF EXISTS executions_updated;
`;

/**
 * Indexes that queries name (INDEXED BY), with the exact text SQLite keeps for them: a file that
 * holds another definition under the name (an older or newer version's) gets this one, where
 * `CREATE INDEX IF NOT EXISTS` would keep the other and the queries would then fail to prepare.
 */
const NAMED_INDEXES: Record<string, string> = {
  executions_prunable: `CREATE INDEX executions_prunable ON executions(updated_at) WHERE ${SETTLED}`,
  executions_waiting: "CREATE INDEX executions_waiting ON executions(finished_at) WHERE delivery_state = 'pending'",
};

/** Pages one execution's writes besides its result text may add (see Journal.usedBytesBound). */
const ROW_WRITES_PAGES = 16;

/** deliverAllNow's batch: a few milliseconds of rewriting rows per turn of the event loop. */
const DUE_NOW_ROWS_PER_COMMIT = 100;

/** Pages a commit of one row appends to the WAL besides its text: the row's and each index's leaf. */
const COMMIT_PAGES = 5;

export class Journal {
  readonly db: Database.Database;
  private readonly statements;
  /** fixed once the database exists */
  private readonly pageSize: number;
  /**
   * At least what the pages hold now: usedBytes() when last measured plus what each result
   * finished since could have added. Measuring costs a query (~0.1 ms), so the size cap, checked
   * after every result, measures only when this bound says the cap may be crossed.
   */
  private usedBytesBound = Infinity;
  private readonly checkpoints: JournalCheckpoints;

  constructor(stateDir: string, options: JournalOptions = {}) {
    const { fileName = 'journal.sqlite3', log, restartAfterFrames, catchUps } = options;
    mkdirSync(stateDir, { recursive: true });
    const file = path.join(stateDir, fileName);
    const walLeftBehind = fileSize(`${file}-wal`) > 0;
    this.db = new Database(file);
    chmodSync(file, 0o600);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    this.checkpoints = new JournalCheckpoints({ db: this.db, file, log, restartAfterFrames, catchUps, dueNow: walLeftBehind });
    this.db.exec(SCHEMA);
    const indexSql = this.db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?").pluck();
    for (const [name, sql] of Object.entries(NAMED_INDEXES)) {
      if (indexSql.get(name) !== sql) this.db.transaction(() => this.db.exec(`DROP INDEX IF EXISTS ${name}; ${sql}`))();
    }
    // journals written before results were stored once: their rows keep the callback body whole
    const columns = this.db.pragma('table_info(executions)') as { name: string }[];
    if (!columns.some((c) => c.name === 'return_value')) this.db.exec('ALTER TABLE executions ADD COLUMN return_value TEXT');
    this.pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const db = this.db;
    this.statements = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO executions (execution_id, session_id, language, state, timeout_seconds, created_at, updated_at)
         VALUES (@execution_id, @session_id, @language, 'pending', @timeout_seconds, @created_at, @updated_at)`,
      ),
      get: db.prepare('SELECT * FROM executions WHERE execution_id = ?'),
      finish: db.prepare(
        `UPDATE executions SET state = @state, started_at = COALESCE(@started_at, started_at), finished_at = @finished_at, result = @result, return_value = @return_value, callback = NULL,
           delivery_state = @delivery_state, next_attempt_at = @next_attempt_at, updated_at = @updated_at
         WHERE execution_id = @execution_id`,
      ),
      unfinished: db.prepare("SELECT * FROM executions WHERE state IN ('pending', 'running')"),
      // INDEXED BY: without statistics the planner prefers the outbox index; with it, a query the
      // partial index cannot serve fails to prepare instead of reading every row
      prune: db.prepare(`DELETE FROM executions INDEXED BY executions_prunable WHERE updated_at < ? AND ${SETTLED}`),
      pruneOldest: db.prepare(`DELETE FROM executions WHERE execution_id IN (SELECT execution_id FROM executions INDEXED BY executions_prunable WHERE ${SETTLED} ORDER BY updated_at LIMIT 1)`),
      countByState: db.prepare('SELECT state, COUNT(*) AS n FROM executions GROUP BY state'),
      // prepared once: the size is read after every result (db.pragma() would compile each time)
      usedPages: db.prepare('SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count())').pluck(),
      // ids already being delivered come as a JSON array: they are never handed out twice
      dueDeliveries: db.prepare(
        `SELECT execution_id, result, return_value, callback, delivery_attempts, finished_at FROM executions
         WHERE delivery_state = 'pending' AND next_attempt_at <= ? AND execution_id NOT IN (SELECT value FROM json_each(?))
         ORDER BY next_attempt_at LIMIT ?`,
      ),
      nextDeliveryAt: db.prepare(
        `SELECT next_attempt_at AS at FROM executions
         WHERE delivery_state = 'pending' AND execution_id NOT IN (SELECT value FROM json_each(?))
         ORDER BY next_attempt_at LIMIT 1`,
      ),
      settleDelivery: db.prepare(
        `UPDATE executions SET delivery_state = @delivery_state, delivery_attempts = delivery_attempts + 1,
           next_attempt_at = NULL, last_delivery_error = COALESCE(@error, last_delivery_error), updated_at = @now
         WHERE execution_id = @execution_id AND delivery_state = 'pending'`,
      ),
      rescheduleDelivery: db.prepare(
        `UPDATE executions SET delivery_attempts = delivery_attempts + 1, next_attempt_at = @next_attempt_at,
           last_delivery_error = @error, updated_at = @now
         WHERE execution_id = @execution_id AND delivery_state = 'pending'`,
      ),
      // updated_at <= @now: a result whose attempt failed while the batches go keeps its new backoff
      deliverSomeNow: db.prepare(
        `UPDATE executions SET next_attempt_at = @now WHERE execution_id IN (SELECT execution_id FROM executions
           WHERE delivery_state = 'pending' AND next_attempt_at > @now AND updated_at <= @now LIMIT @limit)`,
      ),
      // read at every /metrics scrape and /info, and polled while a shutdown flushes: from the
      // waiting results' own index, never their rows (0.4 s for 100,000 of them waiting)
      outboxStats: db.prepare("SELECT COUNT(*) AS depth, MIN(finished_at) AS oldest FROM executions INDEXED BY executions_waiting WHERE delivery_state = 'pending'"),
    };
  }

  /** false when the id is already known (idempotent submit). */
  insertPending(execution: NewExecution): boolean {
    const inserted = this.statements.insert.run({ ...execution, updated_at: Date.now() }).changes === 1;
    this.wrote(inserted ? 1 : 0);
    return inserted;
  }

  get(executionId: string): JournalRow | undefined {
    return this.statements.get.get(executionId) as JournalRow | undefined;
  }

  finish(row: { execution_id: string; state: ExecutionState; started_at: string | null; finished_at: string; stored: Omit<StoredResult, 'callback'>; delivery_state: DeliveryState }): void {
    const { stored, ...fields } = row;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; the pages allow for the row's other writes
    // (insert, start, delivery) and the B-tree pages they may split
    const textUnits = stored.result.length + (stored.return_value?.length ?? 0);
    this.statements.finish.run({ ...fields, ...stored, next_attempt_at: row.delivery_state === 'pending' ? Date.now() : null, updated_at: Date.now() });
    this.usedBytesBound += 3 * textUnits + ROW_WRITES_PAGES * this.pageSize;
    // the WAL estimate takes one byte a unit (no scan of megabytes per result): non-ASCII text
    // checkpoints later, and the 64 MiB check counts the frames SQLite wrote
    this.wrote(1, textUnits);
  }

  /** Executions the journal shows as not finished: after an unclean stop, these were lost. */
  unfinished(): JournalRow[] {
    return this.statements.unfinished.all() as JournalRow[];
  }

  /** Drops finished, settled rows last touched before `olderThanMs` ago; returns how many. */
  prune(olderThanMs: number): number {
    const removed = this.statements.prune.run(Date.now() - olderThanMs).changes;
    this.wrote(removed);
    return removed;
  }

  /**
   * Drops finished, settled rows (delivered, undeliverable, standalone), the least recently
   * touched first, until the journal's pages hold at most `maxBytes`; a result waiting for the
   * control plane is never dropped. Returns how many were dropped; the freed pages are reused.
   */
  pruneToSize(maxBytes: number): number {
    if (!this.mayHoldMoreThan(maxBytes)) return 0;
    // one row at a time (rows range from bytes to megabytes), in one transaction
    const removed = this.db.transaction(() => {
      let removed = 0;
      while (this.usedBytes() > maxBytes && this.statements.pruneOldest.run().changes > 0) removed++;
      return removed;
    })();
    this.wrote(removed);
    return removed;
  }

  /** Bytes in the database's pages, free pages (which new rows reuse) excluded. */
  usedBytes(): number {
    const used = (this.statements.usedPages.get() as number) * this.pageSize;
    this.usedBytesBound = used;
    return used;
  }

  /** usedBytes() > maxBytes, measured only when the results written since the last measurement could make it so. */
  mayHoldMoreThan(maxBytes: number): boolean {
    return this.usedBytesBound > maxBytes && this.usedBytes() > maxBytes;
  }

  /** Up to `limit` results whose next delivery attempt is due, the longest-waiting first. */
  dueDeliveries(limit: number, excluding: Iterable<string>): OutboxEntry[] {
    const rows = this.statements.dueDeliveries.all(Date.now(), JSON.stringify([...excluding]), limit) as (StoredResult & { execution_id: string; delivery_attempts: number; finished_at: string })[];
    return rows.map((row) => ({ execution_id: row.execution_id, callback: callbackJson(row), delivery_attempts: row.delivery_attempts, finished_at: row.finished_at }));
  }

  /** When the next delivery attempt is due (epoch ms), or null when nothing waits. */
  nextDeliveryAt(excluding: Iterable<string>): number | null {
    const row = this.statements.nextDeliveryAt.get(JSON.stringify([...excluding])) as { at: number } | undefined;
    return row?.at ?? null;
  }

  markDelivered(executionId: string): void {
    this.wrote(this.statements.settleDelivery.run({ execution_id: executionId, delivery_state: 'delivered', error: null, now: Date.now() }).changes);
  }

  /** The control plane refused the result for good: kept, never sent again. */
  markUndeliverable(executionId: string, error: string): void {
    this.wrote(this.statements.settleDelivery.run({ execution_id: executionId, delivery_state: 'undeliverable', error, now: Date.now() }).changes);
  }

  rescheduleDelivery(executionId: string, nextAttemptAt: number, error: string): void {
    this.wrote(this.statements.rescheduleDelivery.run({ execution_id: executionId, next_attempt_at: nextAttemptAt, error, now: Date.now() }).changes);
  }

  /**
   * Makes every result waiting out a backoff when called due now (the control plane is back, or
   * the executor is stopping); resolves with how many. Each is a row rewritten, so a backlog goes
   * DUE_NOW_ROWS_PER_COMMIT at a time with the event loop free between: in one commit, 100,000
   * waiting results held it 1.3 s. Stops early at `until` (epoch ms) or when the journal closes.
   */
  async deliverAllNow(until = Infinity): Promise<number> {
    const now = Date.now();
    let changed = 0;
    while (this.db.open && Date.now() < until) {
      const rows = this.statements.deliverSomeNow.run({ now, limit: DUE_NOW_ROWS_PER_COMMIT }).changes;
      this.wrote(rows);
      changed += rows;
      if (rows < DUE_NOW_ROWS_PER_COMMIT) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return changed;
  }

  outboxStats(): OutboxStats {
    const row = this.statements.outboxStats.get() as { depth: number; oldest: string | null };
    const oldestAgeSeconds = row.oldest ? Math.max(0, (Date.now() - Date.parse(row.oldest)) / 1000) : 0;
    return { depth: row.depth, oldestAgeSeconds };
  }

  countByState(): Record<string, number> {
    const rows = this.statements.countByState.all() as { state: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  /** Ends the checkpoints' thread, then closes the database. */
  async close(): Promise<void> {
    await this.checkpoints.stop();
    this.db.close();
  }

  /** A commit changed `rows` rows carrying about `textBytes` of text: the WAL grew by about this much. */
  private wrote(rows: number, textBytes = 0): void {
    if (rows > 0) this.checkpoints.wrote(rows * COMMIT_PAGES + Math.ceil(textBytes / this.pageSize));
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
