// Artifacts: regular files this execution created or modified in the workspace. Found by
// comparing lstat snapshots before and after (symlinks are never followed nor reported, hidden
// names are skipped), bounded in entries and time, and scanned after the process has ended.
import { createHash } from 'node:crypto';
import { constants, lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface Snapshot {
  files: Map<string, string>; // relative path -> identity (inode, size, mtime, ctime)
  complete: boolean;
}

export interface ArtifactDetail {
  path: string;
  size: number;
  mime_type: string;
  sha256: string | null;
}

export interface ScanLimits {
  maxEntries: number;
  maxMillis: number;
}

/**
 * Workspaces are mostly small: their first entries are read synchronously, which is cheaper
 * than a thread-pool round trip (each wakes a pool thread: tens of microseconds of the loop's
 * time on a VM); past this many, the rest goes through the pool so a big tree never blocks.
 */
const SYNCHRONOUS_ENTRIES = 256;

export async function snapshot(root: string, limits: ScanLimits): Promise<Snapshot> {
  const files = new Map<string, string>();
  const deadline = Date.now() + limits.maxMillis;
  let entries = 0;
  const pending = [''];
  while (pending.length > 0) {
    const relativeDir = pending.pop()!;
    const synchronous = entries < SYNCHRONOUS_ENTRIES;
    let names: string[];
    try {
      const dir = path.join(root, relativeDir);
      names = (synchronous ? readdirSync(dir) : await readdir(dir)).filter((name) => !name.startsWith('.'));
    } catch {
      continue; // removed meanwhile, or unreadable
    }
    entries += names.length;
    if (entries > limits.maxEntries || Date.now() > deadline) return { files, complete: false };
    const stats = synchronous && names.length <= SYNCHRONOUS_ENTRIES ? names.map((name) => lstatOrNull(path.join(root, relativeDir, name))) : await lstatAll(root, relativeDir, names);
    names.forEach((name, i) => {
      const st = stats[i];
      const relative = relativeDir ? `${relativeDir}/${name}` : name;
      if (!st) return;
      if (st.isDirectory()) pending.push(relative);
      else if (st.isFile()) files.set(relative, `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`);
      // symlinks, sockets, fifos, devices: never artifacts
    });
  }
  return { files, complete: true };
}

function lstatOrNull(file: string): BigIntStats | null {
  try {
    return lstatSync(file, { bigint: true });
  } catch {
    return null;
  }
}

/** One directory's entries at once: a thread-pool round trip per directory, not per file. */
function lstatAll(root: string, relativeDir: string, names: string[]): Promise<(BigIntStats | null)[]> {
  return Promise.all(names.map((name) => lstat(path.join(root, relativeDir, name), { bigint: true }).catch(() => null)));
}

/** Paths present after and new or changed since before, sorted; at most `max`. */
export function changedFiles(before: Snapshot, after: Snapshot, max: number): string[] {
  const changed: string[] = [];
  for (const [file, identity] of after.files) {
    if (before.files.get(file) !== identity) changed.push(file);
  }
  return changed.sort().slice(0, max);
}

const MIME: Record<string, string> = {
  '.txt': 'text/plain', '.md': 'text/markdown', '.csv': 'text/csv', '.json': 'application/json', '.html': 'text/html',
  '.xml': 'application/xml', '.py': 'text/x-python', '.js': 'text/javascript', '.sh': 'text/x-shellscript',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf', '.zip': 'application/zip', '.gz': 'application/gzip', '.tar': 'application/x-tar',
  '.parquet': 'application/vnd.apache.parquet', '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.yaml': 'application/yaml', '.yml': 'application/yaml', '.log': 'text/plain',
};

export function mimeTypeOf(file: string): string {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

const HASH_LIMIT_BYTES = 256 * 1024 * 1024;

export async function describe(root: string, files: string[]): Promise<ArtifactDetail[]> {
  return Promise.all(
    files.map(async (file) => {
      const full = path.join(root, file);
      const st = await lstat(full).catch(() => null);
      if (!st || !st.isFile()) return { path: file, size: 0, mime_type: mimeTypeOf(file), sha256: null };
      const sha256 = st.size <= HASH_LIMIT_BYTES ? await hashFile(full).catch(() => null) : null;
      return { path: file, size: st.size, mime_type: mimeTypeOf(file), sha256 };
    }),
  );
}

async function hashFile(file: string): Promise<string> {
  // O_NOFOLLOW: a file swapped for a symlink after the scan (by a concurrent execution of the
  // same session) is not followed out of the workspace.
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20, autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}
