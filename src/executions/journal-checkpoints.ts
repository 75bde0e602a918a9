// The journal's WAL checkpoints, off the event loop. SQLite checkpoints inside the commit that
// takes the WAL past 1000 pages: every 80 or so executions, one commit (an acknowledgement's
// insert or a result's) copied the WAL into the database and fsynced it on the event loop: 10 ms
// on a quiet disk, around 100 while sandboxes kept it busy (docs/benchmarks.md, "Journal
// checkpoints off the event loop"). Here the journal's connection does not checkpoint: a commit only appends to the
// WAL, and a worker thread with a connection of its own checkpoints (PASSIVE: it never waits for
// a writer, and no writer waits for it) once the commits since its last one wrote about as much.
//
// A WAL starts over only at a write that begins with every frame of it checkpointed. The thread
// catches up with the commits made during its checkpoint a few times (journal-checkpoint-worker.ts),
// which between executions gets there; under load a commit lands during each of them, so that
// moment may never come and the WAL would grow for ever. When a checkpoint finds
// RESTART_AFTER_FRAMES frames (64 MiB of 4 KiB pages), the journal's own connection checkpoints
// what it left, on the event loop: one stall per 64 MiB written instead of one per 4.
//
// The thread starts when first needed and ends after a quiet minute: an idle executor keeps none.
import type Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import type { CheckpointReport } from './journal-checkpoint-worker.js';

/** SQLite's own threshold for an automatic checkpoint. */
export const CHECKPOINT_AFTER_PAGES = 1000;

/** The WAL length (frames) at which the journal's own connection checkpoints, so that it starts over. */
export const RESTART_AFTER_FRAMES = 16_384;

/**
 * The thread checkpoints again while the last one ended with newer commits in the WAL, at most
 * this many times: each catch-up copies only what came in meanwhile, so between two executions it
 * usually ends with none, and the next write starts the WAL over.
 */
export const CATCH_UPS = 4;

/** Failed checkpoints in a row after which the thread is given up. */
const FAILURES_TO_GIVE_UP = 3;

/** The thread ends after this long without a checkpoint. */
const THREAD_IDLE_MS = 60_000;

export interface CheckpointOptions {
  /** the journal's connection (it checkpoints for the WAL to start over, or when the thread fails) */
  db: Database.Database;
  file: string;
  log?: Pick<Logger, 'warn' | 'debug'>;
  restartAfterFrames?: number;
  /** checkpoints again while commits came in during the last one, at most this many times (default CATCH_UPS) */
  catchUps?: number;
  /** the WAL holds frames already (the executor stopped without closing it): checkpoint at the first write */
  dueNow?: boolean;
}

export class JournalCheckpoints {
  private thread: Worker | null = null;
  /** a thread being ended (idle), which stop() waits for */
  private ending: Promise<number> | null = null;
  private inFlight = false;
  private pagesSinceCheckpoint: number;
  private failuresInARow = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** stop() was called: the journal is closing */
  private stopped = false;
  /** the thread was given up: the journal's connection checkpoints in its commits */
  private failed = false;
  private readonly restartAfterFrames: number;

  constructor(private readonly options: CheckpointOptions) {
    this.restartAfterFrames = options.restartAfterFrames ?? RESTART_AFTER_FRAMES;
    this.pagesSinceCheckpoint = options.dueNow ? CHECKPOINT_AFTER_PAGES : 0;
    options.db.pragma('wal_autocheckpoint = 0');
  }

  /** After a commit that wrote about `pages` pages to the WAL. */
  wrote(pages: number): void {
    this.pagesSinceCheckpoint += pages;
    if (this.pagesSinceCheckpoint < CHECKPOINT_AFTER_PAGES || this.inFlight || this.stopped || this.failed) return;
    this.pagesSinceCheckpoint = 0;
    this.inFlight = true;
    clearTimeout(this.idleTimer);
    this.ensureThread()?.postMessage('checkpoint');
  }

  /** Ends the thread (a checkpoint under way completes first: SQLite's call is not interrupted). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.idleTimer);
    const thread = this.thread;
    this.thread = null;
    await Promise.all([thread?.terminate(), this.ending]);
  }

  private ensureThread(): Worker | null {
    if (this.thread) return this.thread;
    let thread: Worker;
    try {
      thread = new Worker(new URL('./journal-checkpoint-worker.js', import.meta.url), { workerData: { file: this.options.file, catchUps: this.options.catchUps ?? CATCH_UPS } });
    } catch (error) {
      this.giveUp((error as Error).message);
      return null;
    }
    thread.unref(); // it never keeps the process alive
    thread.on('message', (report: CheckpointReport) => this.reported(thread, report));
    // a thread no longer named by this.thread was ended by us: what it says does not matter
    thread.on('error', (error) => {
      if (this.thread === thread) this.giveUp(error.message);
    });
    thread.on('exit', (code) => {
      if (this.thread === thread) this.giveUp(`the checkpoint thread exited (code ${code})`);
    });
    this.thread = thread;
    return thread;
  }

  private reported(thread: Worker, report: CheckpointReport): void {
    if (this.stopped || this.thread !== thread) return;
    this.inFlight = false;
    const log = this.options.log;
    if (!report.ok) {
      log?.warn({ error: report.error }, 'journal checkpoint failed; the next one retries');
      if (++this.failuresInARow >= FAILURES_TO_GIVE_UP) this.giveUp(`${FAILURES_TO_GIVE_UP} checkpoints failed in a row`);
      return;
    }
    this.failuresInARow = 0;
    log?.debug({ frames: report.frames, checkpointed: report.checkpointed, ms: Math.round(report.ms) }, 'journal checkpoint');
    if (report.frames >= this.restartAfterFrames) this.checkpointHere();
    this.idleTimer = setTimeout(() => this.endIdle(thread), THREAD_IDLE_MS).unref();
  }

  /** On the journal's connection, between two commits: afterwards the next write starts the WAL over. */
  private checkpointHere(): void {
    const started = performance.now();
    try {
      const [row] = this.options.db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      this.options.log?.debug({ frames: row?.log, checkpointed: row?.checkpointed, ms: Math.round(performance.now() - started) }, 'journal checkpoint on the event loop, for the WAL to start over');
    } catch (error) {
      this.options.log?.warn({ error: (error as Error).message }, 'journal checkpoint failed; the next one retries');
    }
  }

  private endIdle(thread: Worker): void {
    if (this.thread !== thread || this.inFlight) return;
    this.thread = null;
    this.ending = thread.terminate().finally(() => (this.ending = null));
  }

  /** The journal's connection checkpoints in its commits from now on, as SQLite does by default. */
  private giveUp(reason: string): void {
    if (this.stopped || this.failed) return; // closing: the journal's connection may be closed
    this.failed = true;
    this.inFlight = false;
    const thread = this.thread;
    this.thread = null;
    void thread?.terminate();
    this.options.log?.warn({ reason }, "journal checkpoints: their thread is given up, the journal's commits checkpoint from now on");
    this.options.db.pragma(`wal_autocheckpoint = ${CHECKPOINT_AFTER_PAGES}`);
  }
}
