// The journal's checkpointer thread (see journal-checkpoints.ts): its own connection to the
// journal, PASSIVE checkpoints at each message. PASSIVE copies what the WAL holds into the database
// without waiting for the event loop's connection, and the event loop's commits never wait for it.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

export interface CheckpointReport {
  ok: boolean;
  /** frames in the WAL, and how many of them are now in the database */
  frames: number;
  checkpointed: number;
  ms: number;
  error?: string;
}

const port = parentPort;
if (!port) throw new Error('journal-checkpoint-worker runs as a worker thread');
// catchUps: see CATCH_UPS in journal-checkpoints.ts
const { file, catchUps } = workerData as { file: string; catchUps: number };
const db = new Database(file, { fileMustExist: true });
// a checkpoint reads each frame once: a page cache would only hold memory
db.pragma('cache_size = -256');

port.on('message', () => {
  const started = performance.now();
  let report: CheckpointReport;
  try {
    let row = checkpoint();
    for (let i = 0; i < catchUps; i++) {
      const again = checkpoint();
      if (again.log === row.log) break; // nothing committed since: the next write starts the WAL over
      row = again;
    }
    report = { ok: true, frames: row.log, checkpointed: row.checkpointed, ms: performance.now() - started };
  } catch (error) {
    report = { ok: false, frames: 0, checkpointed: 0, ms: performance.now() - started, error: (error as Error).message };
  }
  port.postMessage(report);
});

function checkpoint(): { log: number; checkpointed: number } {
  const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
  return { log: row?.log ?? 0, checkpointed: row?.checkpointed ?? 0 };
}
