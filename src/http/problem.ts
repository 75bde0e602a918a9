// Error bodies: a machine-readable error_code, a message that says how to fix it, and the shape
// the control plane already parses ({"detail": ...}, FastAPI-style).
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

export function problem(c: Context, status: ContentfulStatusCode, errorCode: string, message: string, extra: Record<string, unknown> = {}) {
  return c.json({ detail: { error_code: errorCode, description: message, ...extra }, error_code: errorCode, message }, status);
}

/** 422 naming each field (detail is a list of {loc, msg, type}, as FastAPI answers). */
export function validationProblem(c: Context, allIssues: z.core.$ZodIssue[], where: 'body' | 'query' = 'body') {
  const issues = allIssues.flatMap(withInnerReasons);
  const detail = issues.map((issue) => ({ loc: [where, ...issue.path.map(String)], msg: issue.message, type: issue.code }));
  const message = issues.map((issue) => `${issue.path.join('.') || where}: ${issue.message}`).join('; ');
  return c.json({ detail, error_code: 'Executor.ValidationError', message }, 422);
}

/** A record's refused key is one issue ("Invalid key in record") holding the key rule's own reasons: those say what to fix. */
function withInnerReasons(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_key' || issue.issues.length === 0) return [issue];
  return issue.issues.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as z.core.$ZodIssue);
}
