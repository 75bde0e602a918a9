// DELETE /sessions/{session_id}: a control plane that ends a session removes its state here at
// once (workspace, /tmp, warm sandboxes, network), instead of waiting for WORKSPACE_RETENTION_HOURS.
// Always behind a token (requireBearer). A session with an execution queued or running is not
// touched: 409, retry once it has finished (nothing is cancelled on its behalf).
import { Hono } from 'hono';
import type { Config } from '../../config.js';
import type { SessionRemoval } from '../../executions/session-removal.js';
import type { Metrics } from '../../metrics.js';
import { requireBearer } from '../auth.js';
import { problem } from '../problem.js';

export function sessionRoutes(config: Config, removal: SessionRemoval, metrics: Metrics): Hono {
  const app = new Hono();
  app.delete('/sessions/:session_id', requireBearer([config.internalApiToken, config.apiToken]), async (c) => {
    const sessionId = c.req.param('session_id');
    if (config.workspaceLayout === 'flat') {
      return problem(
        c,
        409,
        'Executor.SessionStorageNotOwned',
        "this executor serves one session whose storage is the workspace root (SESSION_ID or WORKSPACE_LAYOUT=flat): stop the executor to end the session; its storage is the control plane's",
      );
    }
    const outcome = await removal.remove(sessionId, 'request');
    if (outcome === 'busy') {
      metrics.rejected.inc({ reason: 'session_busy' });
      return problem(c, 409, 'Executor.SessionBusy', `session '${sessionId}' has an execution queued or running: delete it again once that has finished`);
    }
    if (outcome === 'not_found') return problem(c, 404, 'Executor.SessionNotFound', `no state of session '${sessionId}' is kept here (never used, or removed already)`);
    return c.json({ session_id: sessionId, status: 'removed' }, 200);
  });
  return app;
}
