// One server per state directory. A second server on the same STATE_PATH would take the first
// one's running executions for ones an unclean stop left behind (the journal's recovery records
// them crashed), deliver the same outbox twice and rewrite the files its sandboxes read.
//
// The lock is a flock on the directory itself (sandbox/directory-lock.ts): no file in it can be
// deleted to get around it, and the kernel drops it with the process however it ends, so there
// is never a stale lock to clean up. Who holds it is written beside it, for a refusal's message.
import { readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { type DirectoryLock, lockDirectory, prepareStateDir, replaceFile } from './sandbox/index.js';

const OWNER_FILE = 'executor.owner.json';

/** Another live process (or another server in this one) holds the state directory. */
export class StateDirectoryInUseError extends Error {
  readonly code = 'ESTATEINUSE';
}

/**
 * How long a start waits for the lock before it refuses. A server SIGKILLed a moment ago holds it
 * until the last of its sandbox children still being set up (each keeps a copy of the server's
 * fds until it execs) has died of its parent's death: milliseconds, longer on a loaded machine.
 */
const WAIT_FOR_PREVIOUS_HOLDER_MS = 5_000;
const RETRY_EVERY_MS = 50;

export async function lockStateDirectory(stateDir: string, waitMs = WAIT_FOR_PREVIOUS_HOLDER_MS): Promise<DirectoryLock> {
  // its mode before the lock: a user who may list the directory may open it, and so hold its flock
  prepareStateDir(stateDir);
  const deadline = Date.now() + waitMs;
  let lock = lockDirectory(stateDir);
  while (!lock && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS));
    lock = lockDirectory(stateDir);
  }
  if (!lock) {
    throw new StateDirectoryInUseError(
      `STATE_PATH ${stateDir} is in use by another sandbox-executor (${describeOwner(stateDir)}). ` +
        'One state directory serves one server: its journal would record the other one’s running executions as crashed. ' +
        'Stop the other server, or give this one a STATE_PATH of its own.',
    );
  }
  let ownerFile = writeOwner(stateDir);
  return {
    release() {
      // gone before the lock is (once): the next holder writes its own
      if (ownerFile) rmSync(ownerFile, { force: true });
      ownerFile = undefined;
      lock.release();
    },
  };
}

/** Replaced, never written in place: a symlink planted under the name is not followed. */
function writeOwner(stateDir: string): string | undefined {
  const target = path.join(stateDir, OWNER_FILE);
  try {
    replaceFile(target, `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`, 0o600);
    return target;
  } catch {
    // the owner's description is for a refusal's message; the lock itself is held
    return undefined;
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
