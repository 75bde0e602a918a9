// Removes a directory tree a sandbox wrote, whatever it left there: symbolic links (removed, never
// followed), FIFOs and sockets (unlinked, never opened), directories it made unreadable (made
// readable again: they are ours or we are root), trees deeper than PATH_MAX (moved up before their
// paths grow too long), any number of entries (one directory listed at a time, no list of the
// tree in memory). One file-system call at a time, each asynchronous: the event loop and the
// thread pool stay free for the executions running meanwhile.
import { randomUUID } from 'node:crypto';
import { chmod, lstat, opendir, rename, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';

/** Directories whose path gets longer than this are moved up to the top first (PATH_MAX is 4096). */
const MAX_PATH_LENGTH = 2048;

/** Removes `top` (a directory, or anything else) and everything under it; the number of entries removed. */
export async function removeTree(top: string): Promise<number> {
  const kind = await lstat(top).catch(ignoreMissing);
  if (!kind) return 0;
  if (!kind.isDirectory()) {
    await unlink(top);
    return 1;
  }
  let removed = 0;
  // the directories from the top down to the one being emptied: never more than the tree's depth
  const stack = [top];
  while (stack.length > 0) {
    const dir = stack[stack.length - 1]!;
    const result = await emptyUntilSubdirectory(dir);
    removed += result.removed;
    if (result.subdirectory === undefined) {
      if (dir === top) await rmdir(dir).catch(ignoreMissing);
      else await removeIn(path.dirname(dir), path.basename(dir), rmdir);
      removed += 1;
      stack.pop();
      continue;
    }
    let child = path.join(dir, result.subdirectory);
    if (child.length > MAX_PATH_LENGTH) {
      const shorter = path.join(top, `.deep-${randomUUID()}`);
      await rename(child, shorter);
      // removed from the top's listing as the top is emptied last
      child = shorter;
    }
    stack.push(child);
  }
  return removed;
}

/**
 * Unlinks the entries of `dir` that are not directories until it meets a subdirectory, whose name
 * it returns (undefined: `dir` is empty now). Listed again after each subdirectory is removed.
 */
async function emptyUntilSubdirectory(dir: string): Promise<{ removed: number; subdirectory?: string }> {
  let removed = 0;
  const handle = await openListing(dir);
  try {
    for await (const entry of handle) {
      // Dirent types come from the directory itself (lstat when the file system does not say): a
      // symbolic link to a directory is a link here
      if (entry.isDirectory()) return { removed, subdirectory: entry.name };
      await removeIn(dir, entry.name, unlink);
      removed += 1;
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
  return { removed };
}

async function openListing(dir: string) {
  try {
    return await opendir(dir, { bufferSize: 128 });
  } catch (error) {
    if (!isPermissionError(error)) throw error;
    await chmod(dir, 0o700); // a directory the sandbox made unreadable
    return opendir(dir, { bufferSize: 128 });
  }
}

async function removeIn(dir: string, name: string, remove: (file: string) => Promise<void>): Promise<void> {
  const file = path.join(dir, name);
  try {
    await remove(file);
  } catch (error) {
    if (isMissing(error)) return;
    if (!isPermissionError(error)) throw error;
    await chmod(dir, 0o700); // a directory the sandbox made read-only
    await remove(file);
  }
}

function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM';
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function ignoreMissing(error: unknown): undefined {
  if (isMissing(error)) return undefined;
  throw error;
}
