// Optional inbound auth (EXECUTOR_API_TOKEN): every route but /health needs the bearer token.
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
