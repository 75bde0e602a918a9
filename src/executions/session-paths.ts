// Where a session's files live on the host. A session_id may be any string (the control plane
// sends what its users chose); it never becomes a path as it is unless it is one plain, safe path
// component. Anything else is stored under a name derived from its hash, so no id can climb out
// of the workspace root and no two ids share a directory.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { WorkspaceLayout } from '../config.js';

/** A name used as it is: letters, digits, "_", "-", "." and not starting with "." (so never "." or ".."). */
const PLAIN_COMPONENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Hashed names start with a character no plain name has: the two forms never collide. */
const HASHED_PREFIX = '@';

/** The directory name of a session: the id itself when plain, else "@" + base64url(sha256(id)). */
export function sessionDirectoryName(sessionId: string): string {
  if (PLAIN_COMPONENT.test(sessionId)) return sessionId;
  return HASHED_PREFIX + createHash('sha256').update(sessionId, 'utf8').digest('base64url');
}

/** A name sessionDirectoryName can return: anything else under the workspace root is not a session's. */
export function isSessionDirectoryName(name: string): boolean {
  return PLAIN_COMPONENT.test(name) || /^@[A-Za-z0-9_-]{43}$/.test(name);
}

export interface SessionPaths {
  /** bound read-write at /workspace: the session's files, persistent */
  workspace: string;
  /** bound read-write at /tmp: persistent for the session, private to it */
  tmp: string;
}

/**
 * per-session: the session's files are <workspaceRoot>/<name> (a shared executor).
 * flat: the workspace root IS the session's storage (one executor per session, as the control
 * plane deploys it): files at <root>/input/x are /workspace/input/x in the sandbox.
 */
export function sessionPaths(workspaceRoot: string, stateDir: string, sessionId: string, layout: WorkspaceLayout = 'per-session'): SessionPaths {
  const name = sessionDirectoryName(sessionId);
  const workspace = layout === 'flat' ? workspaceRoot : path.join(workspaceRoot, name);
  const tmp = path.join(stateDir, 'sessions', name, 'tmp');
  // belt and braces: the joined paths must stay inside their roots
  for (const [root, dir] of [
    [workspaceRoot, workspace],
    [stateDir, tmp],
  ] as const) {
    const relative = path.relative(root, dir);
    if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`session directory ${dir} is outside ${root}`);
  }
  return { workspace, tmp };
}
