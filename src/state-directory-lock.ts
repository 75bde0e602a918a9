// One server per state directory. A second server on the same STATE_PATH would take the first
// one's running executions for ones an unclean stop left behind (the journal's recovery records
// them crashed), deliver the same outbox twice and rewrite the files its sandboxes read.
//
// The lock is a flock on the directory itself (sandbox/directory-lock.ts): no file in it can be
// deleted to get around it, and the kernel drops it with the process however it ends, so there
// is never a stale lock to clean up. Who holds it is written beside it, for a refusal's message.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { type DirectoryLock, lockDirectory, STATE_DIR_MODE } from './sandbox/index.js';

const OWNER_FILE = 'executor.owner.json';

/** Another live process (or another server in this one) holds the state directory. */
export class StateDirectoryInUseError extends Error {
  readonly code = 'ESTATEINUSE';
}

export function lockStateDirectory(stateDir: string): DirectoryLock {
  mkdirSync(stateDir, { recursive: true, mode: STATE_DIR_MODE });
  const lock = lockDirectory(stateDir);
  if (!lock) {
    throw new StateDirectoryInUseError(
      `STATE_PATH ${stateDir} is in use by another sandbox-executor (${describeOwner(stateDir)}). ` +
        'One state directory serves one server: its journal would record the other one’s running executions as crashed. ' +
        'Stop the other server, or give this one a STATE_PATH of its own.',
    );
  }
  writeOwner(stateDir);
  return lock;
}

/** Written beside and renamed into place: a symlink planted under the name is replaced, never followed. */
function writeOwner(stateDir: string): void {
  const temporary = path.join(stateDir, `.${OWNER_FILE}.${process.pid}`);
  try {
    rmSync(temporary, { force: true });
    writeFileSync(temporary, `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, path.join(stateDir, OWNER_FILE));
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
