// Artifacts: regular files this execution created or modified in the workspace, found by
// comparing snapshots before and after (hidden names are skipped). The workspace is hostile
// ground: the sandbox (or another execution of the session) may rename, swap and replace its
// entries while the server reads them. So the addon walks and opens it by file descriptor only,
// never following a symlink and never opening anything but a regular file (workspace_scan.h),
// and every cost is bounded: entries walked and scan time (in the walk, off the event loop
// past the first few entries), artifacts listed, bytes hashed per execution (one file at a
// time, read through one small buffer on the thread pool).
import { createHash } from 'node:crypto';
import { closeSync, read } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { openArtifact, scanWorkspace, type WorkspaceSnapshot } from '../sandbox/index.js';

/** Why an artifact list may miss files: a scan budget ran out, or MAX_ARTIFACTS was reached. */
export type ArtifactsIncompleteReason = 'entry_budget' | 'time_budget' | 'depth_limit' | 'max_artifacts' | 'name_not_utf8';

export interface Snapshot {
  scan: WorkspaceSnapshot; // held by the addon: the event loop never walks the tree's size
  incomplete: ArtifactsIncompleteReason | null;
}

export interface ArtifactDetail {
  path: string;
  size: number;
  mime_type: string;
  sha256: string | null;
  /** only when sha256 is null: the hash budget or scan time ran out, or it is no regular file by now */
  sha256_skipped?: 'hash_budget' | 'time_budget' | 'not_a_regular_file';
}

export interface ScanLimits {
  maxEntries: number;
  maxMillis: number;
  /** bytes read for hashing per execution; files past it get sha256 null */
  hashBytes: number;
}

/**
 * Workspaces are mostly small: their first entries are walked on the event loop, which is
 * cheaper than a thread-pool round trip; a workspace with more is walked on a pool thread.
 */
const SYNCHRONOUS_ENTRIES = 256;
/** What one read for hashing takes: memory stays flat however big or sparse the files are. */
const HASH_CHUNK_BYTES = 256 * 1024;

export async function snapshot(root: string, limits: ScanLimits): Promise<Snapshot> {
  const scan = await scanWorkspace(root, { ...limits, synchronousEntries: SYNCHRONOUS_ENTRIES });
  return { scan: scan.snapshot, incomplete: scan.incomplete };
}

export interface ChangedFiles {
  /** workspace-relative, sorted, at most MAX_ARTIFACTS */
  paths: string[];
  /** why the list may miss files: the before or after scan was cut short, or more changed */
  incomplete: ArtifactsIncompleteReason | null;
}

/** Scans again and compares with `before`: the regular files new or changed since. */
export async function changedSince(root: string, before: Snapshot, limits: ScanLimits, maxArtifacts: number): Promise<ChangedFiles> {
  const after = await scanWorkspace(root, { ...limits, synchronousEntries: SYNCHRONOUS_ENTRIES }, { snapshot: before.scan, maxChanged: maxArtifacts });
  const cut = after.incomplete ?? before.incomplete ?? (after.changedTruncated ? 'max_artifacts' : null);
  // a file whose name is not UTF-8 is not listed: no JSON string names it (nor opens it) faithfully
  return { paths: after.changed, incomplete: cut ?? (after.changedNotUtf8 > 0 ? 'name_not_utf8' : null) };
}

const MIME: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.html': 'text/html',
  '.xml': 'application/xml',
  '.py': 'text/x-python',
  '.js': 'text/javascript',
  '.sh': 'text/x-shellscript',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.parquet': 'application/vnd.apache.parquet',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.log': 'text/plain',
};

export function mimeTypeOf(file: string): string {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

const readChunk = promisify(read);

/**
 * Size, mime type and sha256 of each file, in order. Each is opened by fd from the workspace
 * (the sandbox may have swapped it since the scan) and hashed, as far as its size when opened,
 * only while the execution's hash budget and scan time last.
 */
export async function describe(root: string, files: string[], limits: ScanLimits): Promise<ArtifactDetail[]> {
  const deadline = Date.now() + limits.maxMillis;
  // allocated for the first file to hash, as large as it needs: most executions hash nothing, and
  // a 256 KiB buffer each kept the garbage collector busy
  let buffer = Buffer.alloc(0);
  let hashBytesLeft = limits.hashBytes;
  const details: ArtifactDetail[] = [];
  for (const file of files) {
    const mime_type = mimeTypeOf(file);
    const opened = openArtifact(root, file);
    if (!opened) {
      details.push({ path: file, size: 0, mime_type, sha256: null, sha256_skipped: 'not_a_regular_file' });
      continue;
    }
    const { fd, size } = opened;
    try {
      if (size > hashBytesLeft) {
        details.push({ path: file, size, mime_type, sha256: null, sha256_skipped: 'hash_budget' });
        continue;
      }
      hashBytesLeft -= size;
      const chunk = Math.min(size, HASH_CHUNK_BYTES);
      if (buffer.length < chunk) buffer = Buffer.allocUnsafe(chunk);
      const sha256 = await hashOpened(fd, size, buffer, deadline);
      details.push(sha256 === null ? { path: file, size, mime_type, sha256, sha256_skipped: 'time_budget' } : { path: file, size, mime_type, sha256 });
    } finally {
      closeSync(fd);
    }
  }
  return details;
}

/** sha256 of fd's first `size` bytes, read through `buffer`; null once past the deadline. */
async function hashOpened(fd: number, size: number, buffer: Buffer, deadline: number): Promise<string | null> {
  const hash = createHash('sha256');
  for (let position = 0; position < size; ) {
    if (Date.now() > deadline) return null;
    const { bytesRead } = await readChunk(fd, buffer, 0, Math.min(buffer.length, size - position), position);
    if (bytesRead === 0) break; // truncated meanwhile
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}
