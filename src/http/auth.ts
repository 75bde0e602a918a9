// Optional inbound auth (EXECUTOR_API_TOKEN): every route but /health needs the bearer token.
// Destructive routes (DELETE /sessions/{id}) always need one: INTERNAL_API_TOKEN or EXECUTOR_API_TOKEN.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { problem } from './problem.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function bearerAuth(token: string, openPaths: string[]): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    if (openPaths.includes(c.req.path)) return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // compare digests: constant time whatever the presented token's length
    if (!match || !timingSafeEqual(digest(match[1]!.trim()), expected)) {
      return problem(c, 401, 'Executor.Unauthorized', 'missing or wrong token: send "Authorization: Bearer <EXECUTOR_API_TOKEN>"');
    }
    return next();
  };
}

/**
 * A route that must never be open (it destroys data): the bearer must be one of `tokens`; with no
 * token configured the route is refused, 403.
 */
export function requireBearer(tokens: (string | undefined)[]): MiddlewareHandler {
  const expected = tokens.filter((t): t is string => t !== undefined).map(digest);
  return async (c, next) => {
    if (expected.length === 0) {
      return problem(c, 403, 'Executor.TokenNotConfigured', 'this route needs a token and none is set: set INTERNAL_API_TOKEN (or EXECUTOR_API_TOKEN) and send it as "Authorization: Bearer <token>"');
    }
    const match = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
    const presented = match && digest(match[1]!.trim());
    if (!presented || !expected.some((e) => timingSafeEqual(presented, e))) {
      return problem(c, 401, 'Executor.Unauthorized', 'missing or wrong token: send "Authorization: Bearer <INTERNAL_API_TOKEN>"');
    }
    return next();
  };
}
