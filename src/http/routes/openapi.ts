// GET /openapi.json, generated from the same zod schemas that validate the requests.
import { Hono } from 'hono';
import { z } from 'zod';
import { ExecuteRequestSchema } from '../schemas.js';

export function openApiDocument(version: string, extraSchemas: Record<string, z.ZodType> = {}) {
  const schema = (s: z.ZodType) => z.toJSONSchema(s, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
  const json = (description: string, ref?: string) => ({
    description,
    content: { 'application/json': { schema: ref ? { $ref: `#/components/schemas/${ref}` } : { type: 'object' } } },
  });
  const errors = { '400': json('malformed JSON, code too large'), '401': json('missing or wrong bearer token (EXECUTOR_API_TOKEN)'), '422': json('a field is invalid: detail names it'), '503': json('at the concurrency limit, or shutting down') };
  return {
    openapi: '3.0.3',
    info: { title: 'sandbox-executor', version, description: 'Runs untrusted Python, JavaScript and shell code in Linux namespaces.' },
    paths: {
      '/execute': {
        post: {
          summary: 'Submit code. 200 PENDING at once; ?wait=true answers with the result; ?stream=true streams output as server-sent events',
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
      '/health': { get: { summary: 'Liveness and readiness', responses: { '200': json('healthy'), '503': json('unhealthy, with the reason') } } },
      '/info': { get: { summary: 'Version, platform, isolation backend and enforced protections, limits', responses: { '200': json('information') } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
    },
    components: {
      schemas: {
        ExecuteRequest: schema(ExecuteRequestSchema),
        ...Object.fromEntries(Object.entries(extraSchemas).map(([name, s]) => [name, schema(s)])),
      },
    },
  };
}

export function openApiRoutes(document: () => unknown): Hono {
  const app = new Hono();
  app.get('/openapi.json', (c) => c.json(document()));
  return app;
}
