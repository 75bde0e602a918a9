// One server per state directory. A second server on the same STATE_PATH would take the first
// one's running executions for ones an unclean stop left behind (the journal's recovery records
// them crashed), deliver the same outbox twice and rewrite the files its sandboxes read.
//
// The lock is an exclusive SQLite lock on a file of its own, held by a connection that stays open
// for the server's life. Node has no flock; SQLite's POSIX locks hold across processes (also in
// other containers sharing the directory on one kernel) and across connections of one process,
// and the kernel drops them when the process ends however it ends (SIGKILL, OOM): no stale lock
// is ever left to clean up. Who holds it is written beside it, for the refusal's message only.
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

const LOCK_FILE = 'executor.lock';
const OWNER_FILE = 'executor.lock.owner';

/** Another live process (or another server in this one) holds the state directory. */
export class StateDirectoryInUseError extends Error {
  readonly code = 'ESTATEINUSE';
}

export interface StateDirectoryLock {
  /** Idempotent; the process ending releases it too. */
  release(): void;
}

export function lockStateDirectory(stateDir: string): StateDirectoryLock {
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, LOCK_FILE);
  // timeout 0: a held lock is refused at once, never waited for
  const db = new Database(file, { timeout: 0 });
  try {
    chmodSync(file, 0o600);
    // EXCLUSIVE locking mode keeps the lock an exclusive transaction took after it commits;
    // nothing is written, so no rollback journal file is kept beside it
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    throw new StateDirectoryInUseError(
      `STATE_PATH ${stateDir} is in use by another sandbox-executor (${describeOwner(stateDir)}). ` +
        'One state directory serves one server: its journal would record the other one’s running executions as crashed. ' +
        'Stop the other server, or give this one a STATE_PATH of its own.',
    );
  }
  writeOwner(stateDir);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}

function writeOwner(stateDir: string): void {
  try {
    writeFileSync(path.join(stateDir, OWNER_FILE), `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`, { mode: 0o600 });
  } catch {
    // the owner's description is for a refusal's message; the lock itself is held
  }
}

function describeOwner(stateDir: string): string {
  try {
    const owner = JSON.parse(readFileSync(path.join(stateDir, OWNER_FILE), 'utf8')) as { pid?: unknown; host?: unknown; since?: unknown };
    return `pid ${owner.pid} on host ${owner.host}, since ${owner.since}`;
  } catch {
    return 'owner unknown';
  }
}
