// Input directories: one per sandbox, bound read-only at /run/execution, where an execution's
// code and event are written. They are emptied and reused rather than removed: removing a
// directory that is still the source of a bind mount (in a sandbox whose namespaces are being
// torn down) waits on the kernel, and Node's recursive removal costs the event loop a callback
// per entry (together about 1 ms per execution here). The sandbox cannot write into its input
// directory (the bind is read-only), so once the files we wrote are unlinked it is clean for the
// next sandbox, whatever session that serves.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rm, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Emptied directories kept for reuse at most; beyond, they are removed. */
const MAX_KEPT = 64;

export class InputDirectories {
  private readonly kept: string[] = [];
  private readonly written = new Map<string, string[]>();

  /** root: a directory of the server's own (its realpath: the binds take these paths as they are) */
  constructor(private readonly root: string) {}

  /** An empty directory for one sandbox. */
  take(): string {
    const reused = this.kept.pop();
    if (reused) return reused;
    const dir = path.join(this.root, randomUUID());
    mkdirSync(dir, { recursive: true, mode: 0o755 });
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

  /** Empties a directory taken here and keeps it for the next sandbox. */
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
    if (empty && this.kept.length < MAX_KEPT) this.kept.push(dir);
    else rm(dir, { recursive: true, force: true }, () => {});
  }
}
