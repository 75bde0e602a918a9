// Input directories: one per sandbox, bound read-only at /run/execution, where an execution's
// code and event are written. They are emptied and reused rather than removed: removing a
// directory that is still the source of a bind mount (in a sandbox whose namespaces are being
// torn down) waits on the kernel, and Node's recursive removal costs the event loop a callback
// per entry (together about 1 ms per execution here). The sandbox cannot write into its input
// directory (the bind is read-only), but it can keep a descriptor of it: an execution that hands
// one to another of its session's sandboxes (a unix socket in the session's /tmp, SCM_RIGHTS)
// reads whatever is written there next. So a directory is reused only by the session that had
// it, whose executions share a workspace anyway; another session always gets a new one.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rm, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Emptied directories kept for reuse at most, over all sessions; beyond, they are removed. */
const MAX_KEPT = 64;

export class InputDirectories {
  /** emptied directories by session, the session that gave one back last at the end */
  private readonly kept = new Map<string, string[]>();
  private readonly sessionOf = new Map<string, string>();
  private readonly written = new Map<string, string[]>();

  /** root: a directory of the server's own (its realpath: the binds take these paths as they are) */
  constructor(private readonly root: string) {}

  /** An empty directory for one sandbox of `sessionId`: one this session had before, or a new one. */
  take(sessionId: string): string {
    const reused = this.kept.get(sessionId)?.pop();
    if (reused) {
      if (this.kept.get(sessionId)!.length === 0) this.kept.delete(sessionId);
      return reused;
    }
    const dir = path.join(this.root, randomUUID());
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    this.sessionOf.set(dir, sessionId);
    return dir;
  }

  write(dir: string, files: Record<string, string>): void {
    const names = this.written.get(dir) ?? [];
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(path.join(dir, name), text, { mode: 0o644 });
      if (!names.includes(name)) names.push(name);
    }
    this.written.set(dir, names);
  }

  /** Empties a directory taken here and keeps it for its session's next sandbox. */
  giveBack(dir: string): void {
    let empty = true;
    for (const name of this.written.get(dir) ?? []) {
      try {
        unlinkSync(path.join(dir, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') empty = false;
      }
    }
    this.written.delete(dir);
    const sessionId = this.sessionOf.get(dir);
    if (!empty || sessionId === undefined) {
      this.remove(dir);
      return;
    }
    if (this.keptCount() >= MAX_KEPT) this.removeOldestKept();
    const dirs = this.kept.get(sessionId) ?? [];
    dirs.push(dir);
    this.kept.delete(sessionId); // to the end: the most recent session is evicted last
    this.kept.set(sessionId, dirs);
  }

  /** Removes the directories a session gave back (it is gone: nothing of it will run again). */
  forget(sessionId: string): void {
    const dirs = this.kept.get(sessionId) ?? [];
    this.kept.delete(sessionId);
    for (const dir of dirs) this.remove(dir);
  }

  /** Over all sessions (at most MAX_KEPT: summed, never counted alongside). */
  private keptCount(): number {
    let count = 0;
    for (const dirs of this.kept.values()) count += dirs.length;
    return count;
  }

  private removeOldestKept(): void {
    const [sessionId, dirs] = this.kept.entries().next().value!;
    this.remove(dirs.shift()!);
    if (dirs.length === 0) this.kept.delete(sessionId);
  }

  private remove(dir: string): void {
    this.sessionOf.delete(dir);
    rm(dir, { recursive: true, force: true }, () => {});
  }
}
