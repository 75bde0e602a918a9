// The lifecycle of executions: admit (idempotent per execution_id, bounded concurrency), prepare
// the session's workspace and the execution's input files, run in a sandbox with the wall
// timeout, capture bounded output, scan artifacts, build the result and commit it to the journal
// (before anybody is told about it). State machine: pending -> running -> success|failed|timeout|crashed.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { DEPENDENCY_DIR, INPUT_DIR, primedRuntimeCanTake, type Language, type Runtime, type RuntimeCommand } from '../runtimes/runtime.js';
import { limitsFromConfig } from '../sandbox/limits.js';
import { WarmSandbox } from '../sandbox/warm-sandbox.js';
import { watchdogNotice } from '../sandbox/watchdog-notice.js';
import type { NetworkHandle } from '../sandbox/native-addon.js';
import type { Limits, Policy } from '../sandbox/policy.js';
import { InputDirectories } from './input-directories.js';
import { WarmPool, type SessionNetworks, type WarmEntry } from './warm-pool.js';
import { bind } from '../sandbox/policy.js';
import type { SandboxHost } from '../sandbox/sandbox-host.js';
import { SandboxSpawnError, signalNumber, type RunResult, type SandboxRun } from '../sandbox/sandbox-run.js';
import { changedSince, describe, snapshot, type ArtifactsIncompleteReason } from './artifacts.js';
import { boundedUtf8 } from './bounded-text.js';
import type { ExecutionRequest, ExecutionResult, FinishedStatus, SandboxStart } from './execution-types.js';
import { storedResultOf, type Journal, type JournalRow } from './journal.js';
import { RawJson, stringifyWithRaw } from './raw-json.js';
import { sessionPaths } from './session-paths.js';
import { resultJson, toStored, withinStorageCap } from './stored-result.js';

export class AdmissionError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: 409 | 503,
  ) {
    super(message);
  }
}

export interface OutputEvent {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** An execution that started or finished (what it is now is in the journal). */
export interface ExecutionEvent {
  execution_id: string;
  session_id: string;
}

export interface ExecutionServiceDeps {
  config: Config;
  host: SandboxHost;
  runtimes: Record<Language, Runtime>;
  journal: Journal;
  logger: Logger;
  metrics: Metrics;
  /** results go to the control plane's outbox (false: standalone mode) */
  deliverResults: boolean;
}

/** Return values larger than this (serialized) are replaced by null, with a notice on stderr. */
export const MAX_RETURN_VALUE_BYTES = 1024 * 1024;
/** Each scan's bounds (entries, ms) and the bytes hashed per execution: see SECURITY.md. */
const ARTIFACT_SCAN = { maxEntries: 20_000, maxMillis: 2_000, hashBytes: 256 * 1024 * 1024 };
const MAX_TIMEOUT_SECONDS = 3600;
/** Warm sandbox policies kept for reuse (sessions x input directories). */
const MAX_WARM_POLICIES = 512;

interface Active {
  request: ExecutionRequest;
  run?: SandboxRun;
  done: Promise<string>;
  /** set when it starts running: the journal learns it with the result (one write less per execution) */
  startedAt?: string;
}

const iso = () => new Date().toISOString();

export class ExecutionService {
  /** 'output:<id>' (OutputEvent), 'started' and 'finished' (both ExecutionEvent) */
  readonly events = new EventEmitter();
  private readonly active = new Map<string, Active>();
  private accepting = true;
  /** set by killAll: an execution still preparing its sandbox is killed as soon as it has one */
  private killReason: 'shutdown' | null = null;

  private readonly pool: WarmPool;
  private readonly inputs: InputDirectories;
  private readonly warmPolicies = new Map<string, Policy>();

  constructor(private readonly deps: ExecutionServiceDeps) {
    this.events.setMaxListeners(0);
    const inputRoot = path.join(deps.config.stateDir, 'executions');
    mkdirSync(inputRoot, { recursive: true, mode: 0o755 });
    this.inputs = new InputDirectories(realpathSync.native(inputRoot));
    const { backend } = deps.host;
    const sessionNetworks = backend.takeNetwork && backend.releaseNetwork ? (backend as SessionNetworks) : undefined;
    this.pool = new WarmPool(
      deps.config.warmSandboxesPerSession,
      deps.config.warmSessions,
      (sessionId, language, network) => this.createWarm(sessionId, language, network),
      deps.logger,
      sessionNetworks,
    );
  }

  get activeCount(): number {
    return this.active.size;
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  /**
   * Admits an execution. A known execution_id is acknowledged again and never runs twice (the
   * control plane retries /execute). Throws AdmissionError when it cannot be taken now.
   */
  submit(request: ExecutionRequest): { duplicate: boolean } {
    const { journal, config, metrics } = this.deps;
    if (config.sessionId !== undefined && request.session_id !== config.sessionId) {
      metrics.rejected.inc({ reason: 'wrong_session' });
      throw new AdmissionError(
        'Executor.WrongSession',
        `this executor serves session '${config.sessionId}' only (SESSION_ID): send executions of another session to that session's executor`,
        409,
      );
    }
    const known = journal.get(request.execution_id);
    if (known) {
      this.assertSameExecution(request, known);
      return { duplicate: true };
    }
    if (!this.accepting) {
      metrics.rejected.inc({ reason: 'shutting_down' });
      throw new AdmissionError('Executor.ShuttingDown', 'the executor is shutting down and takes no new executions: submit to another executor', 503);
    }
    if (this.active.size >= config.maxConcurrentExecutions) {
      metrics.rejected.inc({ reason: 'concurrency_limit' });
      throw new AdmissionError(
        'Executor.TooManyExecutions',
        `${this.active.size} executions are running, the limit is MAX_CONCURRENT_EXECUTIONS=${config.maxConcurrentExecutions}: retry later`,
        503,
      );
    }
    const accepted = journal.insertPending({
      execution_id: request.execution_id,
      session_id: request.session_id,
      language: request.language,
      timeout_seconds: request.timeout,
      created_at: iso(),
    });
    if (!accepted) return { duplicate: true };
    const acceptedAt = performance.now();
    let settle: (result: string) => void = () => {};
    const done = new Promise<string>((resolve) => (settle = resolve));
    this.active.set(request.execution_id, { request, done });
    metrics.active.set(this.active.size);
    // after the acknowledgement has been written: the spawn must not delay it
    setImmediate(() => {
      this.execute(request, acceptedAt)
        .catch((error) => this.crashed(request, `internal error: ${(error as Error).message}`, acceptedAt))
        .then(settle);
    });
    return { duplicate: false };
  }

  /**
   * A re-submitted execution_id is the control plane retrying: it names the same session and
   * code. Anything else is another execution reusing the id (by mistake or to read the first
   * one's output): refused, it never attaches to the first. The journal keeps no code, so for
   * a finished execution the session and language are compared.
   */
  private assertSameExecution(request: ExecutionRequest, known: JournalRow): void {
    const running = this.active.get(request.execution_id)?.request;
    const same = known.session_id === request.session_id && known.language === request.language && (!running || running.code === request.code);
    if (same) return;
    this.deps.metrics.rejected.inc({ reason: 'execution_id_conflict' });
    throw new AdmissionError(
      'Executor.ExecutionIdConflict',
      `execution_id '${request.execution_id}' is already taken by another execution (a different session_id or code): use a new execution_id`,
      409,
    );
  }

  /** The finished result's JSON text, waiting for it when the execution is still running. */
  async waitForResult(executionId: string): Promise<string | undefined> {
    const active = this.active.get(executionId);
    if (active) return active.done;
    const row = this.deps.journal.get(executionId);
    const stored = row && storedResultOf(row);
    return stored ? resultJson(stored) : undefined;
  }

  state(executionId: string): JournalRow | undefined {
    const row = this.deps.journal.get(executionId);
    const startedAt = this.active.get(executionId)?.startedAt;
    // running is not written to the journal: after a crash, pending and running both end as crashed
    return row && row.state === 'pending' && startedAt ? { ...row, state: 'running', started_at: startedAt } : row;
  }

  /** Stop admitting (graceful shutdown); running executions go on. */
  stopAccepting(): void {
    this.accepting = false;
    this.pool.close();
  }

  /** Kills every running execution; each is recorded with the given reason as limit. */
  killAll(reason: 'shutdown'): void {
    this.killReason = reason;
    for (const active of this.active.values()) active.run?.kill(reason);
  }

  /**
   * At start-up, before admitting anything: executions the journal shows as pending or running
   * died with the previous process (an unclean stop: no sandbox outlives its server). Each is
   * recorded crashed and, like any result, queued for delivery. Returns their ids.
   */
  recordInterrupted(): string[] {
    const interrupted = this.deps.journal.unfinished();
    for (const row of interrupted) {
      // the journal only ever stores validated languages
      const execution = { execution_id: row.execution_id, session_id: row.session_id, language: row.language as Language };
      this.commit(execution, crashedResult(execution, INTERRUPTED_REASON, row.started_at, 0));
    }
    return interrupted.map((row) => row.execution_id);
  }

  /** Resolves when nothing runs any more. */
  async drained(): Promise<void> {
    await Promise.all([...this.active.values()].map((a) => a.done));
  }

  private async execute(request: ExecutionRequest, acceptedAt: number): Promise<string> {
    const { config, host, runtimes, journal, metrics } = this.deps;
    const log = this.deps.logger.child({ execution_id: request.execution_id, session_id: request.session_id });
    const startedAt = iso();
    const started = performance.now();
    this.active.get(request.execution_id)!.startedAt = startedAt;
    this.events.emit('started', { execution_id: request.execution_id, session_id: request.session_id } satisfies ExecutionEvent);
    log.info({ language: request.language, code_bytes: Buffer.byteLength(request.code), timeout_s: request.timeout }, 'execution started');

    const runtime = runtimes[request.language];
    const paths = sessionPaths(config.workspaceRoot, config.stateDir, request.session_id, config.workspaceLayout);
    const warm = this.pool.take(request.session_id, request.language);
    const inputDir = warm?.inputDir ?? this.prepareSession(request.session_id);
    try {
      const context = { execution_id: request.execution_id, session_id: request.session_id, language: request.language, timeout_seconds: request.timeout };
      this.inputs.write(inputDir, {
        [runtime.codeFileName]: request.code,
        'event.json': JSON.stringify(request.event),
        ...(runtime.readsContext ? { 'context.json': JSON.stringify(context) } : {}),
      });

      const before = await snapshot(paths.workspace, ARTIFACT_SCAN);
      const limits = limitsFromConfig(config, request.timeout);
      const policy = warm?.warm.policy ?? this.policyFor(request.session_id, inputDir, limits);
      const command = runtime.command(config.limits.memoryMb);
      const env = { ...runtimeEnvironment(command), ...request.env_vars };
      const prepared = performance.now();
      let result: RunResult;
      let start: SandboxStart = 'cold';
      try {
        const sandboxCommand = { argv: command.argv, env, cwd: '/workspace' };
        // one decoder per stream: a character split between two reads of the pipe is streamed whole
        const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
        const emitOutput = (stream: 'stdout' | 'stderr', text: string) => {
          if (text) this.events.emit(`output:${request.execution_id}`, { stream, text } satisfies OutputEvent);
        };
        const runOptions = {
          timeoutMs: request.timeout * 1000,
          captureBytesPerStream: config.limits.outputBytesPerStream,
          maxTotalOutputBytes: config.limits.outputTotalBytes,
          resultChannel: runtime.resultChannel,
          maxResultBytes: MAX_RETURN_VALUE_BYTES + 64,
          onOutput: (stream: 'stdout' | 'stderr', chunk: Buffer) => emitOutput(stream, decoders[stream].write(chunk)),
        };
        // a warm sandbox when one waits (its primed runtime when it is this language's and the
        // request sets nothing the runtime reads at start-up), else a sandbox created now
        const primed = warm?.language === request.language && primedRuntimeCanTake(request.env_vars);
        const warmRun = primed ? warm.warm.release(request.env_vars, runOptions, limits.cpuSeconds) : warm?.warm.run(sandboxCommand, runOptions, limits.cpuSeconds);
        start = warmRun ? (primed ? 'primed' : 'warm') : 'cold';
        const run = warmRun ?? host.run(policy, sandboxCommand, runOptions);
        // top the pool up while this command runs: the clone then overlaps the user's code instead
        // of delaying the next request
        this.pool.refill(request.session_id, request.language);
        this.active.get(request.execution_id)!.run = run;
        if (this.killReason) run.kill(this.killReason);
        if (host.backend.name === 'none') log.warn('ISOLATION=none: this execution runs WITHOUT any sandbox');
        result = await run.result;
        emitOutput('stdout', decoders.stdout.end());
        emitOutput('stderr', decoders.stderr.end());
      } catch (error) {
        if (!(error instanceof SandboxSpawnError)) throw error;
        log.error({ step: error.step, errno: error.errno }, 'sandbox could not be created');
        return this.crashed(request, `the sandbox could not be created: ${error.message}`, acceptedAt);
      }
      metrics.spawnLatency.observe({ backend: result.backend }, result.spawnMs / 1000);

      const scanStarted = performance.now();
      const changed = await changedSince(paths.workspace, before, ARTIFACT_SCAN, config.limits.artifacts);
      const artifacts = changed.paths;
      const artifactDetails = await describe(paths.workspace, artifacts, ARTIFACT_SCAN);
      const built = performance.now();
      const phases = {
        queue_ms: ms(started - acceptedAt),
        prepare_ms: ms(prepared - started),
        spawn_ms: ms(result.spawnMs),
        run_ms: ms(result.wallMs),
        artifact_scan_ms: ms(built - scanStarted),
        result_build_ms: 0,
        start,
      };
      const full = this.buildResult(request, result, limits, artifacts, artifactDetails, changed.incomplete, startedAt, phases);
      full.phases.result_build_ms = ms(performance.now() - built);
      log.info(
        { status: full.status, exit_code: full.exit_code, duration_ms: full.metrics.duration_ms, stdout_bytes: result.stdout.totalBytes, stderr_bytes: result.stderr.totalBytes, artifacts: artifacts.length, limit: full.limit_exceeded },
        'execution finished',
      );
      return this.commit(request, full);
    } finally {
      // after the result has gone out: emptying the input directory is not on the request's path
      setImmediate(() => {
        warm?.warm.discard(); // when it could not take the command after all
        if (warm) warm.release();
        else this.inputs.giveBack(inputDir);
      });
      this.pool.refill(request.session_id, request.language);
    }
  }

  /** The session's workspace and /tmp exist, and a fresh input directory; returns the latter. */
  private prepareSession(sessionId: string): string {
    const { config, host } = this.deps;
    const paths = sessionPaths(config.workspaceRoot, config.stateDir, sessionId, config.workspaceLayout);
    host.prepareWritableDir(paths.workspace);
    host.prepareWritableDir(paths.tmp);
    return this.inputs.take();
  }

  /** One view for every execution of a session, cold or warm: every runtime's files are bound. */
  private policyFor(sessionId: string, inputDir: string, limits: Limits, dependencies = resolvedDependencyDir(this.deps.config.dependencyDir)) {
    const { config, host, runtimes } = this.deps;
    const paths = sessionPaths(config.workspaceRoot, config.stateDir, sessionId, config.workspaceLayout);
    return host.policy(
      [
        bind(paths.workspace, '/workspace', { writable: true })!,
        bind(paths.tmp, '/tmp', { writable: true })!,
        bind(inputDir, INPUT_DIR)!,
        ...Object.values(runtimes).flatMap((r) => r.binds),
        // resolved once per sandbox: a sync swapping the set (a symlink rename) never shows half of it
        ...(dependencies ? [bind(dependencies, DEPENDENCY_DIR)!] : []),
      ],
      limits,
    );
  }

  /**
   * A warm sandbox's policy: the same object for the same session, input directory (they are
   * reused) and dependency set, so that its mount plan is rendered and converted once.
   */
  private warmPolicyFor(sessionId: string, inputDir: string) {
    const { config } = this.deps;
    const dependencies = resolvedDependencyDir(config.dependencyDir);
    const key = `${sessionId}\n${inputDir}\n${dependencies ?? ''}`;
    let policy = this.warmPolicies.get(key);
    if (!policy) {
      // the longest a request may ask for: each command lowers it to its own timeout
      policy = this.policyFor(sessionId, inputDir, limitsFromConfig(config, MAX_TIMEOUT_SECONDS), dependencies);
      if (this.warmPolicies.size >= MAX_WARM_POLICIES) this.warmPolicies.delete(this.warmPolicies.keys().next().value!);
      this.warmPolicies.set(key, policy);
    }
    return policy;
  }

  private createWarm(sessionId: string, language: Language, network: NetworkHandle | undefined): WarmEntry {
    const { config, host, runtimes } = this.deps;
    const inputDir = this.prepareSession(sessionId);
    const release = () => this.inputs.giveBack(inputDir);
    try {
      const policy = this.warmPolicyFor(sessionId, inputDir);
      const command = runtimes[language].command(config.limits.memoryMb, true);
      const primed = { argv: command.argv, env: runtimeEnvironment(command), cwd: '/workspace' };
      return { warm: WarmSandbox.create(host.backend, policy, primed, network), language, inputDir, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** The sessions with an execution admitted and not finished (queued or running). */
  busySessions(): Set<string> {
    return new Set([...this.active.values()].map((a) => a.request.session_id));
  }

  /** Drops what is kept in memory for the session (warm sandboxes, network, policies): its files are being removed. */
  forgetSession(sessionId: string): void {
    this.pool.forget(sessionId);
    for (const key of this.warmPolicies.keys()) if (key.startsWith(`${sessionId}\n`)) this.warmPolicies.delete(key);
  }

  /** Warm sandboxes hold the dependency set they were built with: drop them when it changes. */
  invalidateWarmSandboxes(): void {
    this.pool.clear();
  }

  private buildResult(
    request: ExecutionRequest,
    run: RunResult,
    limits: Limits,
    artifacts: string[],
    artifactDetails: ExecutionResult['artifact_details'],
    artifactsIncomplete: ArtifactsIncompleteReason | null,
    startedAt: string,
    phases: ExecutionResult['phases'],
  ): ExecutionResult {
    const { config, metrics } = this.deps;
    const notices: string[] = [];
    const channel = readChannel(run);
    let status: FinishedStatus;
    let exitCode: number;
    let returnValue: RawJson | null = null;
    let returnValueTruncated = false;

    if (run.killedBy === 'timeout') {
      status = 'timeout';
      exitCode = -1;
      notices.push(`execution timed out after ${request.timeout} s: every process of the sandbox was killed`);
    } else if (run.killedBy === 'shutdown') {
      status = 'crashed';
      exitCode = -1;
      notices.push('the executor shut down before this execution finished: every process of the sandbox was killed');
    } else {
      exitCode = run.exitCode ?? (run.signal ? 128 + signalNumber(run.signal) : -1);
      const runtimeOk = !this.deps.runtimes[request.language].resultChannel || channel.kind === 'return';
      status = run.exitCode === 0 && runtimeOk && !run.killedBy ? 'success' : 'failed';
      if (run.execError) notices.push(`could not start the interpreter: ${run.execError}`);
      if (run.killedBy === 'cpu') notices.push('killed: the CPU time limit was reached');
      if (run.killedBy === 'file_size') notices.push(`killed: a file grew beyond the limit of ${config.limits.fileSizeMb} MiB`);
      if (run.killedBy === 'output') notices.push(`killed: the output exceeded ${config.limits.outputTotalBytes} bytes`);
      const limitNotice = run.killedBy && run.report ? watchdogNotice(run.killedBy, run.report, limits) : null;
      if (limitNotice) notices.push(limitNotice);
      if (run.signal && !run.killedBy) notices.push(`the process was killed by ${run.signal}`);
      if (status === 'failed' && run.exitCode === 0 && channel.kind === 'none') {
        notices.push('the process exited before the handler returned a value');
        exitCode = 1;
      }
    }
    if (channel.kind === 'return') {
      if (channel.tooLarge) {
        returnValueTruncated = true;
        notices.push(`the return value was larger than ${MAX_RETURN_VALUE_BYTES} bytes serialized and was replaced by null`);
      } else {
        returnValue = channel.value;
      }
    }
    const limit = config.limits.outputBytesPerStream;
    const stdout = boundedUtf8(run.stdout.head, run.stdout.totalBytes, limit);
    const stderrHead = notices.length > 0 ? Buffer.concat([run.stderr.head, Buffer.from(`${run.stderr.head.length > 0 && !run.stderr.head.toString().endsWith('\n') ? '\n' : ''}${notices.map((n) => `[sandbox-executor] ${n}`).join('\n')}\n`)]) : run.stderr.head;
    const stderr = boundedUtf8(stderrHead, run.stderr.totalBytes + (stderrHead.length - run.stderr.head.length), limit);
    if (stdout.truncated) metrics.truncations.inc({ stream: 'stdout' });
    if (stderr.truncated) metrics.truncations.inc({ stream: 'stderr' });
    return {
      execution_id: request.execution_id,
      session_id: request.session_id,
      language: request.language,
      status,
      stdout: stdout.text,
      stderr: stderr.text,
      exit_code: exitCode,
      execution_time: Math.round(run.wallMs) / 1000,
      return_value: returnValue,
      metrics: {
        duration_ms: ms(run.wallMs),
        cpu_time_ms: ms(run.userCpuMs + run.systemCpuMs),
        peak_memory_mb: run.peakMemoryKb === null ? null : Math.round((run.peakMemoryKb / 1024) * 100) / 100,
        io_read_bytes: run.ioReadBytes,
        io_write_bytes: run.ioWriteBytes,
      },
      artifacts,
      sandbox: this.deps.host.attestation(run, limits),
      limit_exceeded: run.killedBy,
      stdout_truncated: stdout.truncated,
      stderr_truncated: stderr.truncated,
      return_value_truncated: returnValueTruncated,
      artifact_details: artifactDetails,
      artifacts_complete: artifactsIncomplete === null,
      artifacts_incomplete_reason: artifactsIncomplete,
      started_at: startedAt,
      finished_at: iso(),
      phases,
    };
  }

  /** An execution that never ran to an end of its own (sandbox creation failed, internal error). */
  private crashed(request: ExecutionRequest, reason: string, acceptedAt: number): string {
    return this.commit(request, crashedResult(request, reason, null, ms(performance.now() - acceptedAt)));
  }

  /** Journal first, then everybody else: a result nobody committed is never announced. */
  private commit(request: Pick<ExecutionRequest, 'execution_id' | 'session_id' | 'language'>, built: ExecutionResult): string {
    const { journal, metrics } = this.deps;
    const result = withinStorageCap(built);
    journal.finish({
      execution_id: request.execution_id,
      state: result.status,
      started_at: result.started_at,
      finished_at: result.finished_at,
      stored: toStored(result),
      delivery_state: this.deps.deliverResults ? 'pending' : 'none',
    });
    metrics.executions.inc({ language: request.language, status: result.status });
    metrics.duration.observe({ language: request.language }, result.metrics.duration_ms / 1000);
    this.active.delete(request.execution_id);
    metrics.active.set(this.active.size);
    // the journal holds the rest: listeners read it when they need it, not every execution
    this.events.emit('finished', { execution_id: request.execution_id, session_id: request.session_id } satisfies ExecutionEvent);
    return stringifyWithRaw(result);
  }
}

const INTERRUPTED_REASON = 'the executor restarted while this execution was running (unclean stop: SIGKILL, OOM or crash)';

/** The result of an execution that never ran to an end of its own: only the reason, on stderr. */
function crashedResult(
  execution: Pick<ExecutionRequest, 'execution_id' | 'session_id' | 'language'>,
  reason: string,
  startedAt: string | null,
  queueMs: number,
): ExecutionResult {
  return {
    execution_id: execution.execution_id,
    session_id: execution.session_id,
    language: execution.language,
    status: 'crashed',
    stdout: '',
    stderr: `[sandbox-executor] ${reason}\n`,
    exit_code: -1,
    execution_time: 0,
    return_value: null,
    metrics: { duration_ms: 0, cpu_time_ms: null, peak_memory_mb: null, io_read_bytes: null, io_write_bytes: null },
    artifacts: [],
    sandbox: null,
    limit_exceeded: null,
    stdout_truncated: false,
    stderr_truncated: false,
    return_value_truncated: false,
    artifact_details: [],
    artifacts_complete: true,
    artifacts_incomplete_reason: null,
    started_at: startedAt,
    finished_at: iso(),
    phases: { queue_ms: queueMs, prepare_ms: 0, spawn_ms: 0, run_ms: 0, artifact_scan_ms: 0, result_build_ms: 0, start: 'cold' },
  };
}

type Channel = { kind: 'none' } | { kind: 'error'; message: string } | { kind: 'return'; value: RawJson | null; tooLarge: boolean };

/** The runtime's private result channel: "return\n<json>" or "error\n<message>". */
function readChannel(run: RunResult): Channel {
  if (!run.result || run.result.totalBytes === 0) return { kind: 'none' };
  const text = run.result.head.toString('utf8');
  const newline = text.indexOf('\n');
  const kind = newline < 0 ? text : text.slice(0, newline);
  const payload = newline < 0 ? '' : text.slice(newline + 1);
  if (kind === 'error') return { kind: 'error', message: payload };
  if (kind !== 'return') return { kind: 'none' };
  if (run.result.truncated || Buffer.byteLength(payload) > MAX_RETURN_VALUE_BYTES) return { kind: 'return', value: null, tooLarge: true };
  try {
    return { kind: 'return', value: RawJson.from(payload), tooLarge: false };
  } catch {
    return { kind: 'none' }; // not what our bootstrap writes: the code wrote to the channel itself
  }
}

/** What every execution's environment starts from; the request's env_vars go on top. */
function runtimeEnvironment(command: RuntimeCommand): Record<string, string> {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/workspace', TMPDIR: '/tmp', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', ...command.env };
}

/** The dependency set's directory as it is now (the configured path is a symlink), if there is one. */
function resolvedDependencyDir(dependencyDir: string): string | undefined {
  return existsSync(dependencyDir) ? realpathSync.native(dependencyDir) : undefined;
}

function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}
