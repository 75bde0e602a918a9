// GET /executions/{execution_id}: state, and the full result once finished.
import { Hono } from 'hono';
import type { ExecutionService } from '../../executions/execution-service.js';
import { FINISHED_STATES, storedResultOf } from '../../executions/journal.js';
import { stringifyWithRaw } from '../../executions/raw-json.js';
import { resultDocument } from '../../executions/stored-result.js';
import { problem } from '../problem.js';

export function executionRoutes(service: ExecutionService): Hono {
  const app = new Hono();
  app.get('/executions/:id', (c) => {
    const id = c.req.param('id');
    const row = service.state(id);
    if (!row) return problem(c, 404, 'Executor.ExecutionNotFound', `no execution '${id}' is known here (results are kept for RESULT_RETENTION_HOURS)`);
    const stored = FINISHED_STATES.includes(row.state) ? storedResultOf(row) : null;
    const body = stringifyWithRaw({
      execution_id: row.execution_id,
      session_id: row.session_id,
      language: row.language,
      state: row.state,
      created_at: row.created_at,
      started_at: row.started_at,
      finished_at: row.finished_at,
      delivery: { state: row.delivery_state, attempts: row.delivery_attempts, last_error: row.last_delivery_error },
      // written as it is: return values keep every digit
      result: stored ? resultDocument(stored) : null,
    });
    return c.body(body, 200, { 'content-type': 'application/json' });
  });
  return app;
}
