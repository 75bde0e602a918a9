// The Hono application: middleware (body limit, auth, errors) and one route module per resource.
import { Hono } from 'hono';
import type { Logger } from '../logger.js';
import { bearerAuth } from './auth.js';
import { BodyBuffersFullError, BodyTooLargeError, bodySizeLimit } from './body.js';
import { problem } from './problem.js';

export { MAX_BODY_BYTES } from './body.js';

export interface AppOptions {
  apiToken: string | undefined;
  logger: Logger;
  routes: Hono[];
}

export function createApp(options: AppOptions): Hono {
  const app = new Hono();
  app.use('*', bodySizeLimit());
  if (options.apiToken) app.use('*', bearerAuth(options.apiToken, ['/health']));
  for (const routes of options.routes) app.route('/', routes);
  app.notFound((c) => problem(c, 404, 'Executor.NotFound', `no route ${c.req.method} ${c.req.path}: see GET /openapi.json`));
  app.onError((error, c) => {
    if (error instanceof BodyTooLargeError) {
      // the rest of the body is never read: this connection cannot carry another request
      c.header('Connection', 'close');
      return problem(c, 413, 'Executor.BodyTooLarge', error.message);
    }
    if (error instanceof BodyBuffersFullError) {
      c.header('Connection', 'close');
      return problem(c, 503, 'Executor.BodyBuffersFull', error.message);
    }
    options.logger.error({ err: { message: error.message, name: error.name }, path: c.req.path }, 'request failed');
    return problem(c, 500, 'Executor.InternalError', 'the executor failed to handle this request; it has been logged');
  });
  return app;
}
