// POST /internal/session-config/sync (CONTRACT.md section 2): the control plane installs the
// session's Python packages. Errors use the contract's shape exactly:
// {"detail": {"error_code", "description", "error_detail"}}.
//
// Validation statuses: a field of the wrong JSON type, and sync_mode outside replace|merge, are
// 422 (a schema error, as the FastAPI executor answered); a value of the right type that breaks a
// rule (an empty session_id, a runtime not starting with "python", an empty or non-http(s) index
// URL, a spec starting with "-" or containing whitespace) is 400. A missing session_id,
// language_runtime or python_package_index_url counts as empty: 400.
import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import type { DependencySync } from '../../dependencies/dependency-sync.js';
import { SyncError } from '../../dependencies/sync-error.js';
import type { Metrics } from '../../metrics.js';
import { SessionConfigSyncRequestSchema } from '../schemas.js';
import { nestsDeeperThan } from '../../executions/json-text.js';
import { BodyRefusedError, readBodyText } from '../body.js';
import { syncErrorStatus } from '../domain-errors.js';

export interface SessionConfigDeps {
  dependencySync: DependencySync;
  metrics: Metrics;
}

const MISSING_MEANS_EMPTY = new Set(['session_id', 'language_runtime', 'python_package_index_url']);

/** Deeper than any sync request needs (an object holding a list of strings): checked before JSON.parse builds it. */
const MAX_SYNC_BODY_DEPTH = 16;

export function sessionConfigRoutes(deps: SessionConfigDeps): Hono {
  const { dependencySync, metrics } = deps;
  const app = new Hono();

  app.post('/internal/session-config/sync', async (c) => {
    let body: unknown;
    try {
      const text = await readBodyText(c);
      if (nestsDeeperThan(text, MAX_SYNC_BODY_DEPTH)) {
        metrics.dependencySyncs.inc({ outcome: 'invalid_request' });
        const message = `the request body nests objects and arrays more than ${MAX_SYNC_BODY_DEPTH} levels deep; this request's fields are flat: send {session_id, language_runtime, python_package_index_url, dependencies, sync_mode}`;
        return syncErrorResponse(c, new SyncError('Executor.ValidationError', message, '', 'invalid_request'));
      }
      body = JSON.parse(text);
    } catch (error) {
      if (error instanceof BodyRefusedError) throw error;
      metrics.dependencySyncs.inc({ outcome: 'invalid_request' });
      return syncErrorResponse(c, new SyncError('Executor.ValidationError', 'the request body is not valid JSON: send a JSON object with Content-Type: application/json', '', 'invalid_request'));
    }
    const parsed = SessionConfigSyncRequestSchema.safeParse(body);
    if (!parsed.success) {
      metrics.dependencySyncs.inc({ outcome: 'invalid_request' });
      const invalid = validationError(parsed.error.issues, body);
      return syncErrorResponse(c, invalid.error, invalid.status);
    }
    const input = parsed.data;
    try {
      const report = await dependencySync.sync({
        sessionId: input.session_id,
        languageRuntime: input.language_runtime,
        indexUrl: input.python_package_index_url,
        dependencies: input.dependencies,
        mode: input.sync_mode,
      });
      return c.json(report, 200);
    } catch (error) {
      if (error instanceof SyncError) return syncErrorResponse(c, error);
      throw error;
    }
  });

  return app;
}

function syncErrorResponse(c: Context, error: SyncError, status = syncErrorStatus(error)) {
  return c.json({ detail: { error_code: error.code, description: error.description, error_detail: error.detail } }, status);
}

/** 422 when a field has the wrong JSON type (a schema error), else 400 (see the top). */
function validationError(issues: z.core.$ZodIssue[], body: unknown): { status: 400 | 422; error: SyncError } {
  const described = issues.map((issue) => ({ status: issueStatus(issue, body), text: describeIssue(issue, body) }));
  const status = described.some((d) => d.status === 422) ? 422 : 400;
  const first = described.find((d) => d.status === status)!;
  return { status, error: new SyncError('Executor.ValidationError', first.text, described.map((d) => d.text).join('; '), 'invalid_request') };
}

function issueStatus(issue: z.core.$ZodIssue, body: unknown): 400 | 422 {
  if (issue.code === 'invalid_type') return isMissingRequiredText(issue, body) ? 400 : 422;
  if (issue.code === 'invalid_value') return 422; // sync_mode
  return 400;
}

function isMissingRequiredText(issue: z.core.$ZodIssue, body: unknown): boolean {
  const field = issue.path[0];
  return issue.path.length === 1 && typeof field === 'string' && MISSING_MEANS_EMPTY.has(field) && valueAt(body, issue.path) === undefined;
}

function describeIssue(issue: z.core.$ZodIssue, body: unknown): string {
  const label = issue.path.length === 0 ? 'the request body' : issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
  if (isMissingRequiredText(issue, body)) return `${label} is missing`;
  const value = valueAt(body, issue.path);
  // the refused spec itself, so the caller sees which one (bounded: it may be anything)
  const shown = issue.path[0] === 'dependencies' && issue.path.length === 2 && typeof value === 'string' ? ` (${JSON.stringify(value.slice(0, 100))})` : '';
  // zod's own type messages are sentences of their own ("Invalid input: expected string, ...")
  return `${label}${shown}${issue.code === 'invalid_type' ? ': ' : ' '}${issue.message}`;
}

function valueAt(body: unknown, at: PropertyKey[]): unknown {
  let value = body;
  for (const key of at) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
