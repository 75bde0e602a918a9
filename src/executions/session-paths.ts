// Where a session's files live on the host. The session_id becomes one path component, so it is
// checked to be exactly that: nothing that could climb out of the workspace root.
import path from 'node:path';

const SESSION_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export class InvalidSessionIdError extends Error {}

export function assertSafeSessionId(sessionId: string): void {
  if (!SESSION_ID.test(sessionId) || sessionId.includes('..')) {
    throw new InvalidSessionIdError(
      'session_id must be 1-128 characters of letters, digits, "_", "-" and "." (not starting with "." and without "..")',
    );
  }
}

export interface SessionPaths {
  /** bound read-write at /workspace: the session's files, persistent */
  workspace: string;
  /** bound read-write at /tmp: persistent for the session, private to it */
  tmp: string;
}

export function sessionPaths(workspaceRoot: string, stateDir: string, sessionId: string): SessionPaths {
  assertSafeSessionId(sessionId);
  const workspace = path.join(workspaceRoot, sessionId);
  const tmp = path.join(stateDir, 'sessions', sessionId, 'tmp');
  // belt and braces: the joined paths must stay inside their roots
  for (const [root, dir] of [[workspaceRoot, workspace], [stateDir, tmp]] as const) {
    if (path.relative(root, dir).startsWith('..')) throw new InvalidSessionIdError('session_id escapes the workspace root');
  }
  return { workspace, tmp };
}
