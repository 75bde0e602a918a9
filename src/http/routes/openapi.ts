// GET /openapi.json, generated from the same zod schemas that validate the requests.
import { Hono } from 'hono';
import { z } from 'zod';
import { ExecuteRequestSchema } from '../schemas.js';

export function openApiDocument(version: string, extraSchemas: Record<string, z.ZodType> = {}) {
  const json = (description: string, ref?: string) => ({
    description,
    content: { 'application/json': { schema: ref ? { $ref: `#/components/schemas/${ref}` } : { type: 'object' } } },
  });
  const errors = {
    '400': json('malformed JSON, code too large'),
    '401': json('missing or wrong bearer token (EXECUTOR_API_TOKEN)'),
    '422': json('a field is invalid: detail names it'),
    '503': json('at the concurrency limit, or shutting down'),
  };
  return {
    openapi: '3.0.3',
    info: { title: 'sandbox-executor', version, description: 'Runs untrusted Python, JavaScript and shell code in Linux namespaces.' },
    paths: {
      '/execute': {
        post: {
          summary:
            'Submit code. 200 PENDING at once; ?wait=true answers with the result; ?stream=true streams output as server-sent events (accepted, stdout, stderr, gap where a slow reader missed output, result)',
          parameters: [
            { name: 'wait', in: 'query', schema: { type: 'string', enum: ['true', 'false'] } },
            { name: 'stream', in: 'query', schema: { type: 'string', enum: ['true', 'false'] } },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ExecuteRequest' } } } },
          responses: { '200': json('acknowledged (or the result with ?wait=true)'), ...errors },
        },
      },
      '/executions/{execution_id}': {
        get: {
          summary: 'State of an execution and, once finished, its result',
          parameters: [{ name: 'execution_id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': json('state and result'), '404': json('unknown execution') },
        },
      },
      '/internal/session-config/sync': {
        post: {
          summary: "Install the session's Python packages into a fresh dependency set and swap it in atomically (one sync at a time: a second one waits)",
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/SessionConfigSyncRequest' } } } },
          responses: {
            '200': json('completed: {status, installed_dependencies, error, started_at, completed_at}'),
            '400': json(
              'a rule broken (empty session_id, runtime not python*, index URL empty or not http(s), a spec starting with "-" or containing whitespace): detail.error_code Executor.ValidationError',
            ),
            '409': json('too many syncs already running or waiting'),
            '422': json(
              'a field of the wrong type or sync_mode not replace|merge (Executor.ValidationError), or pip could not install the list (Executor.DependencyInstallError); the previous set stays',
            ),
            '500': json('the executor could not run pip or swap the set (Executor.SessionConfigSyncError); the previous set stays'),
          },
        },
      },
      '/health': { get: { summary: 'Liveness and readiness', responses: { '200': json('healthy'), '503': json('unhealthy, with the reason') } } },
      '/info': { get: { summary: 'Version, platform, isolation backend and enforced protections, limits', responses: { '200': json('information') } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
    },
    components: {
      schemas: componentSchemas({ ExecuteRequest: ExecuteRequestSchema, ...extraSchemas }),
    },
  };
}

/**
 * The named schemas as OpenAPI components. Converted together through one registry so that every
 * $ref points at #/components/schemas/<name>: one by one, zod answers {"$ref":"#/definitions/..."},
 * a reference that resolves nowhere in an OpenAPI document.
 */
function componentSchemas(named: Record<string, z.ZodType>): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, s] of Object.entries(named)) registry.add(s, { id });
  const { schemas } = z.toJSONSchema(registry, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  // $id is not an OpenAPI 3.0 schema keyword
  return Object.fromEntries(Object.entries(schemas).map(([id, { $id: _id, ...schema }]) => [id, schema]));
}

export function openApiRoutes(document: () => unknown): Hono {
  const app = new Hono();
  app.get('/openapi.json', (c) => c.json(document()));
  return app;
}
