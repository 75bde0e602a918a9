// Every setting, from the environment, validated once at start-up (CONTRACT.md section 6 plus
// ours). A bad value stops the start with one line per problem naming the variable and the fix.
import { realpathSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/** SERVER_AUTOGROUP_NICE's default, the most the kernel allows: a group at -20 weighs as much as ~87 at 0 (src/sandbox/cpu-priority.ts) */
export const DEFAULT_SERVER_AUTOGROUP_NICE = -20;

const truthy = new Set(['1', 'true', 'yes', 'on']);
const falsy = new Set(['0', 'false', 'no', 'off', '']);

const flag = (defaultValue: boolean) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return defaultValue;
      const v = value.trim().toLowerCase();
      if (truthy.has(v)) return true;
      if (falsy.has(v)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got '${value}'` });
      return z.NEVER;
    });

const integer = (defaultValue: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return defaultValue;
      const n = Number(value);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}, got '${value}'` });
        return z.NEVER;
      }
      return n;
    });

/** A number with decimals allowed (fractions of an hour or a MiB are for tests mostly). */
const decimal = (defaultValue: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return defaultValue;
      const n = Number(value);
      if (!Number.isFinite(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a number from ${min} to ${max} (decimals allowed), got '${value}'` });
        return z.NEVER;
      }
      return n;
    });

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** What a control plane writes for a URL it does not have: Python's str(None) (the reference
 * control plane's Docker scheduler formats its unset setting so), or JSON's null. */
export const UNSET_URL_WORDS = /^(none|null)$/i;

const httpUrl = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === '' || UNSET_URL_WORDS.test(value.trim())) return undefined;
    try {
      const url = new URL(value.trim());
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
      return url.toString().replace(/\/+$/, '');
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected an http(s) URL such as http://control-plane:8000, got '${value}'` });
      return z.NEVER;
    }
  });

const EnvSchema = z.object({
  EXECUTOR_PORT: integer(8080, 0, 65535),
  EXECUTOR_HOST: z.string().optional().default('0.0.0.0'),
  WORKSPACE_PATH: z.string().optional().default('/workspace'),
  SESSION_ID: optionalText,
  WORKSPACE_LAYOUT: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim().toLowerCase()))
    .pipe(z.enum(['per-session', 'flat']).optional()),
  STATE_PATH: optionalText,
  DEPENDENCY_PATH: z.string().optional().default('/opt/sandbox-venv'),
  CONTROL_PLANE_URL: httpUrl,
  INTERNAL_API_TOKEN: optionalText,
  EXECUTOR_API_TOKEN: optionalText,
  CONTAINER_ID: optionalText,
  POD_NAME: optionalText,
  HOSTNAME: optionalText,
  LOG_LEVEL: z
    .string()
    .optional()
    .default('info')
    .transform((v) => v.trim().toLowerCase())
    .pipe(z.enum(['trace', 'debug', 'info', 'warn', 'warning', 'error', 'fatal', 'silent']))
    .transform((v) => (v === 'warning' ? 'warn' : v)),
  LOG_FORMAT: z
    .string()
    .optional()
    .default('json')
    .transform((v) => v.trim().toLowerCase())
    .pipe(z.enum(['json', 'text'])),
  LOG_FILE: optionalText,
  LOG_FILE_MAX_MB: decimal(100, 0.001, 1048576),
  LOG_FILE_ROTATE: z
    .string()
    .optional()
    .default('daily')
    .transform((v) => v.trim().toLowerCase())
    .pipe(z.enum(['daily', 'hourly', 'size'])),
  LOG_FILE_KEEP: integer(7, 1, 10000),
  LOG_STDERR: flag(true),
  MAX_MEMORY_MB: integer(512, 16, 1048576),
  MAX_EXECUTION_TIME: integer(300, 1, 3600),
  MAX_CPU_SECONDS: integer(0, 0, 86400),
  MAX_CONCURRENT_EXECUTIONS: integer(100, 1, 10000),
  MAX_PROCESSES: integer(512, 301, 65536),
  MAX_OPEN_FILES: integer(128, 16, 1048576),
  MAX_FILE_SIZE_MB: integer(1024, 1, 1048576),
  MAX_OUTPUT_BYTES: integer(61440, 1024, 61440),
  MAX_OUTPUT_TOTAL_MB: integer(64, 1, 4096),
  MAX_ARTIFACTS: integer(1000, 0, 100000),
  // a session's /workspace and /tmp together (README: "Limits")
  WORKSPACE_MAX_MB: integer(1024, 1, 1048576),
  WORKSPACE_MAX_FILES: integer(100000, 10, 100000000),
  ISOLATION: z
    .string()
    .optional()
    .default('auto')
    .transform((v) => v.trim().toLowerCase())
    .pipe(z.enum(['auto', 'native', 'bwrap', 'none'])),
  DISABLE_BWRAP: flag(false),
  SANDBOX_NETWORK: flag(false),
  // docs/benchmarks.md "CPU priority": sandboxes run below the server, so acks wait less behind them
  SANDBOX_NICE: integer(10, 0, 19),
  // where the kernel groups tasks by session: the nice value a root server gives its own group (0: untouched)
  SERVER_AUTOGROUP_NICE: integer(DEFAULT_SERVER_AUTOGROUP_NICE, -20, 0),
  SANDBOX_HOST_UID: integer(1000000, 1, 4294967294),
  SANDBOX_HOST_GID: integer(1000000, 1, 4294967294),
  SHUTDOWN_GRACE_SECONDS: integer(5, 0, 3600),
  RESULT_RETENTION_HOURS: integer(24, 1, 24 * 365),
  WORKSPACE_RETENTION_HOURS: decimal(0, 0, 24 * 365 * 10),
  JOURNAL_MAX_MB: integer(1024, 8, 1048576),
  RESULT_DELIVERY_MAX_AGE_HOURS: integer(24, 1, 24 * 365),
  RESULT_DELIVERY_MAX_ATTEMPTS: integer(0, 0, 1_000_000),
  DEPENDENCY_INSTALL_TIMEOUT: integer(300, 1, 7200),
  WARM_SANDBOXES_PER_SESSION: integer(2, 0, 64),
  WARM_SESSIONS: integer(32, 1, 4096),
  WARM_IDLE_SECONDS: integer(30, 1, 86400),
  MAX_CONNECTIONS: integer(4096, 1, 1048576),
  HTTP_HEADERS_TIMEOUT_SECONDS: integer(10, 1, 3600),
  HTTP_REQUEST_TIMEOUT_SECONDS: integer(60, 1, 3600),
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: integer(5, 1, 3600),
  HTTP_STREAM_STALL_SECONDS: integer(60, 1, 3600),
});

/** every environment variable read (test/unit/config.test.ts gives each a bad value) */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

export type Isolation = 'auto' | 'native' | 'bwrap' | 'none';

/** Where a session's files live under WORKSPACE_ROOT (executions/session-paths.ts). */
export type WorkspaceLayout = 'per-session' | 'flat';

export interface Config {
  port: number;
  host: string;
  /** resolved through symlinks */
  workspaceRoot: string;
  /** flat: the workspace root is the one session's storage (SESSION_ID set, or WORKSPACE_LAYOUT=flat) */
  workspaceLayout: WorkspaceLayout;
  /** SESSION_ID: this executor serves that session only (one executor per session) */
  sessionId: string | undefined;
  stateDir: string;
  dependencyDir: string;
  controlPlaneUrl: string | undefined;
  /** CONTROL_PLANE_URL held a word for "unset" (UNSET_URL_WORDS): standalone, and said at start */
  controlPlaneUrlUnsetWord: string | undefined;
  internalApiToken: string | undefined;
  apiToken: string | undefined;
  containerId: string;
  podName: string | undefined;
  logLevel: string;
  logFormat: 'json' | 'text';
  /** LOG_FILE: JSON lines also written to this file, rotated at a size and daily/hourly, the newest `keep` rotated files kept */
  logFile: { path: string; maxBytes: number; rotate: 'daily' | 'hourly' | 'size'; keep: number } | undefined;
  /** LOG_STDERR=false: the log goes to LOG_FILE only */
  logToStderr: boolean;
  limits: {
    memoryMb: number;
    defaultTimeoutSeconds: number;
    /** 0: the execution's wall timeout */
    cpuSeconds: number;
    maxProcesses: number;
    openFiles: number;
    fileSizeMb: number;
    outputBytesPerStream: number;
    outputTotalBytes: number;
    artifacts: number;
    /** a session's storage quota (/workspace and /tmp together), in MiB and in entries */
    workspaceMb: number;
    workspaceFiles: number;
    /** SANDBOX_NICE: the nice value every sandbox runs at (0: the server's own) */
    sandboxNice: number;
  };
  /** SERVER_AUTOGROUP_NICE: the nice value a root server gives its own autogroup (src/sandbox/cpu-priority.ts) */
  serverAutogroupNice: number;
  maxConcurrentExecutions: number;
  isolation: Isolation;
  disableBwrap: boolean;
  network: boolean;
  /** the unprivileged host ids sandboxes run as when the server itself is root */
  rootServerSandboxUid: number;
  rootServerSandboxGid: number;
  shutdownGraceSeconds: number;
  resultRetentionHours: number;
  /** sessions idle longer than this lose their workspace, /tmp and warm sandboxes (0: never; per-session layout only) */
  workspaceRetentionHours: number;
  /** the journal's size cap in bytes (settled results are pruned, oldest first, to stay under it) */
  journalMaxBytes: number;
  /** a result not delivered after this long, or this many attempts (0: no attempt bound), is given up: undeliverable */
  resultDelivery: { maxAgeHours: number; maxAttempts: number };
  dependencyInstallTimeoutSeconds: number;
  /** sandboxes kept built and waiting per recently active session (0: create each on demand) */
  warmSandboxesPerSession: number;
  /** sessions that keep warm sandboxes at once; the least recently active lose theirs */
  warmSessions: number;
  /** a session idle this long gives its warm sandboxes back */
  warmIdleSeconds: number;
  http: {
    maxConnections: number;
    /** to receive a request's head */
    headersTimeoutSeconds: number;
    /** to receive a whole request (head and body); the answer may take as long as it takes */
    requestTimeoutSeconds: number;
    /** an idle connection between two requests */
    keepAliveTimeoutSeconds: number;
    /** a ?stream=true connection whose next message waits this long for its reader is closed */
    streamStallSeconds: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function resolveWorkspace(value: string): string {
  // The control plane may pass its storage URL; the session's storage is mounted at /workspace.
  const raw = value.startsWith('s3://') ? '/workspace' : value;
  const absolute = path.resolve(raw);
  try {
    return realpathSync(absolute);
  } catch {
    return absolute; // created at start-up; resolved again then
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  if (e.HTTP_HEADERS_TIMEOUT_SECONDS > e.HTTP_REQUEST_TIMEOUT_SECONDS) {
    throw new ConfigError([
      `HTTP_HEADERS_TIMEOUT_SECONDS: ${e.HTTP_HEADERS_TIMEOUT_SECONDS} is more than HTTP_REQUEST_TIMEOUT_SECONDS=${e.HTTP_REQUEST_TIMEOUT_SECONDS}: the head is part of the request, set it lower`,
    ]);
  }
  if (!e.LOG_STDERR && !e.LOG_FILE) {
    throw new ConfigError(['LOG_STDERR: false without LOG_FILE would leave the log nowhere: set LOG_FILE, or LOG_LEVEL=silent for no log']);
  }
  const workspaceLayout = e.WORKSPACE_LAYOUT ?? (e.SESSION_ID ? 'flat' : 'per-session');
  if (e.WORKSPACE_RETENTION_HOURS > 0 && workspaceLayout === 'flat') {
    throw new ConfigError([
      "WORKSPACE_RETENTION_HOURS: the workspace root is the one session's storage here (SESSION_ID or WORKSPACE_LAYOUT=flat), which ends with its executor: unset it, or use the per-session layout",
    ]);
  }
  const workspaceRoot = resolveWorkspace(e.WORKSPACE_PATH);
  const stateDir = path.resolve(e.STATE_PATH ?? defaultStateDir(workspaceRoot));
  return {
    port: e.EXECUTOR_PORT,
    host: e.EXECUTOR_HOST,
    workspaceRoot,
    workspaceLayout,
    sessionId: e.SESSION_ID,
    stateDir,
    dependencyDir: path.resolve(e.DEPENDENCY_PATH),
    controlPlaneUrl: e.CONTROL_PLANE_URL,
    controlPlaneUrlUnsetWord: UNSET_URL_WORDS.test(env.CONTROL_PLANE_URL?.trim() ?? '') ? env.CONTROL_PLANE_URL?.trim() : undefined,
    internalApiToken: e.INTERNAL_API_TOKEN,
    apiToken: e.EXECUTOR_API_TOKEN,
    containerId: e.CONTAINER_ID ?? e.HOSTNAME ?? os.hostname(),
    podName: e.POD_NAME,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    logFile: e.LOG_FILE ? { path: path.resolve(e.LOG_FILE), maxBytes: Math.round(e.LOG_FILE_MAX_MB * 1024 * 1024), rotate: e.LOG_FILE_ROTATE, keep: e.LOG_FILE_KEEP } : undefined,
    logToStderr: e.LOG_STDERR,
    limits: {
      memoryMb: e.MAX_MEMORY_MB,
      defaultTimeoutSeconds: e.MAX_EXECUTION_TIME,
      cpuSeconds: e.MAX_CPU_SECONDS,
      maxProcesses: e.MAX_PROCESSES,
      openFiles: e.MAX_OPEN_FILES,
      fileSizeMb: e.MAX_FILE_SIZE_MB,
      outputBytesPerStream: e.MAX_OUTPUT_BYTES,
      outputTotalBytes: e.MAX_OUTPUT_TOTAL_MB * 1024 * 1024,
      artifacts: e.MAX_ARTIFACTS,
      workspaceMb: e.WORKSPACE_MAX_MB,
      workspaceFiles: e.WORKSPACE_MAX_FILES,
      sandboxNice: e.SANDBOX_NICE,
    },
    serverAutogroupNice: e.SERVER_AUTOGROUP_NICE,
    maxConcurrentExecutions: e.MAX_CONCURRENT_EXECUTIONS,
    isolation: e.ISOLATION,
    disableBwrap: e.DISABLE_BWRAP,
    network: e.SANDBOX_NETWORK,
    rootServerSandboxUid: e.SANDBOX_HOST_UID,
    rootServerSandboxGid: e.SANDBOX_HOST_GID,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    resultRetentionHours: e.RESULT_RETENTION_HOURS,
    workspaceRetentionHours: e.WORKSPACE_RETENTION_HOURS,
    journalMaxBytes: e.JOURNAL_MAX_MB * 1024 * 1024,
    resultDelivery: { maxAgeHours: e.RESULT_DELIVERY_MAX_AGE_HOURS, maxAttempts: e.RESULT_DELIVERY_MAX_ATTEMPTS },
    dependencyInstallTimeoutSeconds: e.DEPENDENCY_INSTALL_TIMEOUT,
    warmSandboxesPerSession: e.WARM_SANDBOXES_PER_SESSION,
    warmSessions: e.WARM_SESSIONS,
    warmIdleSeconds: e.WARM_IDLE_SECONDS,
    http: {
      maxConnections: e.MAX_CONNECTIONS,
      headersTimeoutSeconds: e.HTTP_HEADERS_TIMEOUT_SECONDS,
      requestTimeoutSeconds: e.HTTP_REQUEST_TIMEOUT_SECONDS,
      keepAliveTimeoutSeconds: e.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS,
      streamStallSeconds: e.HTTP_STREAM_STALL_SECONDS,
    },
  };
}

/**
 * Filesystems the journal cannot live on: SQLite's WAL needs a local filesystem (shared memory,
 * locks), and these are FUSE (s3fs: the control plane's /workspace on Docker is a link into its
 * bucket mount), NFS, CIFS/SMB, Ceph and 9p, by their statfs magic numbers.
 */
const REMOTE_FILESYSTEMS = new Set([0x65735546, 0x6969, 0xff534d42, 0xfe534d42, 0x00c36400, 0x01021997]);

/** The statfs type of `dir`, or of its nearest ancestor that exists. */
export function filesystemTypeOf(dir: string): number {
  for (let at = dir; ; at = path.dirname(at)) {
    try {
      return statfsSync(at).type;
    } catch (error) {
      if (at === path.dirname(at)) throw error;
    }
  }
}

/**
 * Beside the workspace, never inside it: no sandbox can see the journal or the generated /etc.
 * /var/lib/sandbox-executor when the workspace is at the root or on a remote filesystem.
 */
export function defaultStateDir(workspaceRoot: string, typeOf: (dir: string) => number = filesystemTypeOf): string {
  const parent = path.dirname(workspaceRoot);
  if (parent === '/' || REMOTE_FILESYSTEMS.has(typeOf(parent))) return '/var/lib/sandbox-executor';
  return path.join(parent, `.sandbox-executor-state-${path.basename(workspaceRoot)}`);
}
