// Request schemas: validation and the OpenAPI document come from these same definitions.
import { z } from 'zod';
import { indexUrlProblem } from '../dependencies/index-url.js';
import { MAX_DEPENDENCIES, requirementSpecProblem, withoutOperatorSpaces } from '../dependencies/requirement-spec.js';
import { LANGUAGES } from '../runtimes/runtime.js';

export const MAX_CODE_CHARACTERS = 1_048_576;
/**
 * Variables the runtimes set for themselves and read back (the shell bootstrap's event): a
 * request setting one would be silently overwritten or break the handler's input, so it is
 * refused. Everything else an execve environment can carry is accepted (the original executor
 * accepted any name; PATH, HOME, PYTHONPATH and the like are the handler's own business).
 */
export const RESERVED_ENV_NAMES = ['EVENT_JSON', 'EVENT_FILE'];
const MAX_ENV_NAME_CHARACTERS = 1024;
/** The kernel's MAX_ARG_STRLEN: one NAME=value entry longer than this fails the sandbox's execve (E2BIG). */
const MAX_ENV_ENTRY_BYTES = 131_072;
/** All entries together, well inside execve's room (a quarter of the sandbox's 8 MiB stack) beside the runtime's own. */
const MAX_ENV_TOTAL_BYTES = 1_048_576;

/** Why env_vars would not fit an execve, or undefined. */
function envSizeProblem(env: Record<string, string>): string | undefined {
  let total = 0;
  for (const [name, value] of Object.entries(env)) {
    const entry = Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 1; // NAME=value and its NUL
    if (entry > MAX_ENV_ENTRY_BYTES) {
      return `${name}=... is ${entry} bytes: one variable may be at most ${MAX_ENV_ENTRY_BYTES} (the kernel's limit for one environment entry); pass large data in event instead`;
    }
    total += entry;
  }
  if (total > MAX_ENV_TOTAL_BYTES) return `the variables are ${total} bytes together: at most ${MAX_ENV_TOTAL_BYTES} are accepted; pass large data in event instead`;
  return undefined;
}

/** C0 controls and DEL: never part of an id that shows up in paths, logs and URLs. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
/**
 * A UTF-16 surrogate without its pair has no UTF-8 form: written to SQLite, a file name, a header
 * or an environment it becomes U+FFFD, so two ids would become one ("a\ud800" and "a\ufffd"
 * would share a workspace) and an id read back would not find its own row.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const WELL_FORMED_MESSAGE = 'must be well-formed Unicode: a lone UTF-16 surrogate (such as \\ud800 without its pair) has no UTF-8 form';
const wellFormed = (text: string) => !LONE_SURROGATE.test(text);

const envName = z
  .string()
  .min(1, 'names must not be empty')
  .max(MAX_ENV_NAME_CHARACTERS, `names must be at most ${MAX_ENV_NAME_CHARACTERS} characters`)
  .refine((name) => !name.includes('=') && !name.includes('\0'), 'names must not contain "=" or NUL (an environment entry is NAME=value)')
  .refine((name) => !RESERVED_ENV_NAMES.includes(name), `names ${RESERVED_ENV_NAMES.join(', ')} are set by the executor for the handler: use another name`)
  .refine(wellFormed, `names ${WELL_FORMED_MESSAGE}`);

const jsonObject = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
  message: 'must be a JSON object',
});

/**
 * How deep an event may nest: every runtime must read it (python's json reads about a thousand
 * levels, the bootstrap raises that for the event), and the server writes it with JSON.stringify,
 * whose recursion ends a few thousand levels down.
 */
export const MAX_EVENT_DEPTH = 1000;

export const ExecuteRequestSchema = z
  .looseObject({
    execution_id: z
      .string()
      .min(1, 'must not be empty')
      .max(256, 'must be at most 256 characters')
      .refine((id) => id !== '.' && id !== '..', 'must not be "." or ".."')
      .refine((id) => !CONTROL_CHARACTER.test(id), 'must not contain control characters')
      .refine(wellFormed, WELL_FORMED_MESSAGE),
    // any well-formed string: its directory name is derived safely (src/executions/session-paths.ts)
    session_id: z.string().min(1, 'must not be empty').max(512, 'must be at most 512 characters').refine(wellFormed, WELL_FORMED_MESSAGE),
    // the length limit is checked separately: the contract answers 400, not 422, for it
    code: z.string(),
    language: z.enum(LANGUAGES as [string, ...string[]], { message: `must be one of ${LANGUAGES.join(', ')}` }),
    // its depth (MAX_EVENT_DEPTH) is checked on the body's text, before JSON.parse (routes/execute.ts)
    event: jsonObject.optional().default({}),
    timeout: z.number().int('must be a whole number of seconds').min(1).max(3600).optional(),
    env_vars: z
      .record(
        envName,
        z
          .string({ message: 'values must be strings' })
          .refine((v) => !v.includes('\0'), 'values must not contain NUL')
          .refine(wellFormed, `values ${WELL_FORMED_MESSAGE}`),
      )
      .superRefine((env, ctx) => {
        const message = envSizeProblem(env);
        if (message) ctx.addIssue({ code: 'custom', message });
      })
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

/** A rule written as a function that says why a value is refused (src/dependencies/ owns them). */
const withProblem = (problem: (value: string) => string | undefined) => (value: string, ctx: z.RefinementCtx) => {
  const message = problem(value);
  if (message) ctx.addIssue({ code: 'custom', message });
};

export const SessionConfigSyncRequestSchema = z
  .looseObject({
    session_id: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters').refine(wellFormed, WELL_FORMED_MESSAGE),
    language_runtime: z
      .string()
      .refine((v) => v.startsWith('python'), 'must start with "python" (e.g. "python3.11"): only Python dependencies are installed')
      .describe('starts with "python"'),
    python_package_index_url: z.string().superRefine(withProblem(indexUrlProblem)).describe('an http(s) PEP 503 simple index, e.g. https://<your-index>/simple'),
    dependencies: z
      .array(
        z
          .string()
          .transform(withoutOperatorSpaces)
          .superRefine(withProblem(requirementSpecProblem))
          .describe('a name-based requirement spec, e.g. "pandas>=2,<3" (spaces around its operators are dropped); not an option, URL or path'),
      )
      .max(MAX_DEPENDENCIES, `at most ${MAX_DEPENDENCIES} dependencies are accepted`)
      .optional()
      .default([]),
    sync_mode: z.enum(['replace', 'merge'], { message: 'must be "replace" or "merge"' }).optional().default('replace').describe('both install the list as sent: it is the complete final list'),
  })
  .meta({
    id: 'SessionConfigSyncRequest',
    description:
      "Install the session's Python packages (CONTRACT.md section 2). The list is the complete final set in both sync modes; it is installed into a fresh directory and swapped in atomically.",
  });

export type SessionConfigSyncRequestBody = z.infer<typeof SessionConfigSyncRequestSchema>;
