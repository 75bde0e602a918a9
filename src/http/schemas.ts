// Request schemas: validation and the OpenAPI document come from these same definitions.
import { z } from 'zod';
import { LANGUAGES } from '../runtimes/runtime.js';

export const MAX_CODE_CHARACTERS = 1_048_576;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SESSION_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

const jsonObject = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
  message: 'must be a JSON object',
});

export const ExecuteRequestSchema = z
  .looseObject({
    execution_id: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters'),
    session_id: z
      .string()
      .regex(SESSION_ID, 'must be 1-128 characters of letters, digits, "_", "-" and "." and not start with "."')
      .refine((s) => !s.includes('..'), 'must not contain ".."'),
    // the length limit is checked separately: the contract answers 400, not 422, for it
    code: z.string(),
    language: z.enum(LANGUAGES as [string, ...string[]], { message: `must be one of ${LANGUAGES.join(', ')}` }),
    event: jsonObject.optional().default({}),
    timeout: z.number().int('must be a whole number of seconds').min(1).max(3600).optional(),
    env_vars: z
      .record(z.string().regex(ENV_NAME, 'names must be letters, digits and "_", not starting with a digit'), z.string({ message: 'values must be strings' }).refine((v) => !v.includes('\0'), 'values must not contain NUL'))
      .optional()
      .default({}),
  })
  .meta({ id: 'ExecuteRequest', description: 'Submit code to run in a sandbox (CONTRACT.md section 2).' });

export type ExecuteRequestBody = z.infer<typeof ExecuteRequestSchema>;

export const EventTimeoutSchema = z.number().int().min(1).max(3600);

export const ExecuteQuerySchema = z.object({
  wait: z.enum(['true', 'false', '1', '0']).optional(),
  stream: z.enum(['true', 'false', '1', '0']).optional(),
});
