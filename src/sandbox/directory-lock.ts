// An exclusive lock on a directory, for as long as this process holds it: flock(2) through the
// addon (Node has none). On the directory itself, so deleting or replacing a file in it does not
// get around it; released with release() or by the process ending however it ends (SIGKILL,
// OOM), so a stale lock is never left behind. Holds across processes and containers on one
// kernel, and between two holders in one process.
import { loadNative } from './native-addon.js';

export interface DirectoryLock {
  /** Idempotent. */
  release(): void;
}

/** The lock, or null when another holder has it (never waits). */
export function lockDirectory(dir: string): DirectoryLock | null {
  const { addon } = loadNative();
  const fd = addon.lockDirectory(dir);
  if (fd === null) return null;
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      addon.unlockDirectory(fd);
    },
  };
}
