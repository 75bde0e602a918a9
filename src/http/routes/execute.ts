// POST /execute: the control plane's contract (200 PENDING at once, the result by callback), plus
// ?wait=true (answer with the full result) and ?stream=true (server-sent events while it runs).
import { type Context, Hono } from 'hono';
import { AdmissionError } from '../../executions/admission-error.js';
import type { ExecutionService } from '../../executions/execution-service.js';
import type { ExecutionRequest } from '../../executions/execution-types.js';
import type { Language } from '../../runtimes/runtime.js';
import { BodyRefusedError, readBodyText } from '../body.js';
import { nestsDeeperThan } from '../../executions/json-text.js';
import { exactEventText } from '../event-text.js';
import { OutputRelay } from '../output-relay.js';
import { admissionStatus } from '../domain-errors.js';
import { problem, validationProblem } from '../problem.js';
import { EventTimeoutSchema, ExecuteRequestSchema, MAX_CODE_CHARACTERS, MAX_EVENT_DEPTH } from '../schemas.js';
import { streamExecution } from '../stream-execution.js';

const yes = (value: string | undefined) => value === 'true' || value === '1';

/** The body's own object around an event nested MAX_EVENT_DEPTH levels. */
const MAX_BODY_DEPTH = MAX_EVENT_DEPTH + 1;

function tooDeep(c: Context) {
  const message = `must nest at most ${MAX_EVENT_DEPTH} levels of objects and arrays (the body nests more than ${MAX_BODY_DEPTH}): flatten it, or pass it as a JSON string`;
  return validationProblem(c, [{ code: 'custom', path: ['event'], message, input: undefined }]);
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export function executeRoutes(service: ExecutionService, defaultTimeoutSeconds: number, streamStallMs: number): Hono {
  const app = new Hono();

  app.post('/execute', async (c) => {
    let body: unknown;
    let bodyText: string;
    try {
      bodyText = await readBodyText(c);
      if (nestsDeeperThan(bodyText, MAX_BODY_DEPTH)) return tooDeep(c);
      body = JSON.parse(bodyText);
    } catch (error) {
      if (error instanceof BodyRefusedError) throw error;
      return problem(c, 400, 'Executor.MalformedJSON', 'the request body is not valid JSON: send a JSON object with Content-Type: application/json');
    }
    if (typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string') {
      const code = (body as { code: string }).code;
      // characters as the control plane (Python) counts them: code points, not UTF-16 units
      const length = code.length > MAX_CODE_CHARACTERS ? codePoints(code) : code.length;
      if (length > MAX_CODE_CHARACTERS) {
        return problem(c, 400, 'Executor.CodeTooLarge', `code has ${length} characters; at most ${MAX_CODE_CHARACTERS} are accepted: move data into files or the event`);
      }
    }
    const parsed = ExecuteRequestSchema.safeParse(body);
    if (!parsed.success) return validationProblem(c, parsed.error.issues);
    const input = parsed.data;
    let timeout = input.timeout ?? defaultTimeoutSeconds;
    if ('__timeout' in input.event) {
      const override = EventTimeoutSchema.safeParse(input.event.__timeout);
      if (!override.success)
        return validationProblem(
          c,
          override.error.issues.map((i) => ({ ...i, path: ['event', '__timeout', ...i.path] })),
        );
      timeout = override.data;
    }
    const request: ExecutionRequest = {
      execution_id: input.execution_id,
      session_id: input.session_id,
      code: input.code,
      language: input.language as Language,
      event: input.event,
      eventText: exactEventText(bodyText),
      timeout,
      env_vars: input.env_vars,
    };

    const stream = yes(c.req.query('stream'));
    try {
      service.submit(request);
    } catch (error) {
      if (error instanceof AdmissionError) return problem(c, admissionStatus(error), error.code, error.message);
      throw error;
    }
    if (stream) {
      // only once admitted (a request reusing another's execution_id is refused before it can
      // listen); still before any output: the run starts on a later turn of the event loop
      const relay = new OutputRelay((listener) => service.output.subscribe(request.execution_id, listener));
      return streamExecution(c, request.execution_id, relay, service.waitForResult(request.execution_id), streamStallMs);
    }
    if (yes(c.req.query('wait'))) {
      const result = await service.waitForResult(request.execution_id);
      return c.body(result ?? 'null', 200, { 'content-type': 'application/json' });
    }
    return c.json({ execution_id: request.execution_id, status: 'PENDING', message: 'Execution submitted' }, 200);
  });

  return app;
}
