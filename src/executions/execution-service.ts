// The lifecycle of executions: admit (idempotent per execution_id, bounded concurrency), hand
// each to the execute pipeline (execute-pipeline.ts), and commit its result to the journal
// (before anybody is told about it). State machine: pending -> running -> success|failed|timeout|crashed.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Language, Runtime } from '../runtimes/runtime.js';
import type { SandboxHost, SandboxRun } from '../sandbox/index.js';
import { AdmissionError } from './admission-error.js';
import { ExecutePipeline } from './execute-pipeline.js';
import type { ExecutionRequest, ExecutionResult } from './execution-types.js';
import { storedResultOf, type Journal, type JournalRow } from './journal.js';
import { OutputSubscriptions } from './output-subscriptions.js';
import { stringifyWithRaw } from './raw-json.js';
import { crashedResult, INTERRUPTED_REASON, ms } from './result-builder.js';
import { SessionSandboxes } from './session-sandboxes.js';
import { resultJson, toStored, withinStorageCap } from './stored-result.js';
import { UnjournaledResults } from './unjournaled-results.js';

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

interface Active {
  request: ExecutionRequest;
  run?: SandboxRun;
  done: Promise<string>;
  /** set when it starts running: the journal learns it with the result (one write less per execution) */
  startedAt?: string;
}

const iso = () => new Date().toISOString();

export class ExecutionService {
  /** 'started' and 'finished' (both ExecutionEvent) */
  readonly events = new EventEmitter();
  /** each execution's output as it comes (?stream=true) */
  readonly output = new OutputSubscriptions();
  private readonly active = new Map<string, Active>();
  private accepting = true;
  /** set by killAll: an execution still preparing its sandbox is killed as soon as it has one */
  private killReason: 'shutdown' | null = null;

  private readonly sandboxes: SessionSandboxes;
  private readonly pipeline: ExecutePipeline;
  /** results the journal could not store yet (its disk full) */
  private readonly unjournaled: UnjournaledResults;

  constructor(private readonly deps: ExecutionServiceDeps) {
    this.events.setMaxListeners(0);
    // once in the journal, a result kept in memory is announced again: the outbox sends it now
    this.unjournaled = new UnjournaledResults(deps.journal, deps.logger, (executionId) => {
      const row = deps.journal.get(executionId);
      if (row) this.events.emit('finished', { execution_id: executionId, session_id: row.session_id } satisfies ExecutionEvent);
    });
    this.sandboxes = new SessionSandboxes(deps);
    this.pipeline = new ExecutePipeline({ ...deps, sandboxes: this.sandboxes, output: this.output });
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
      throw new AdmissionError('Executor.WrongSession', `this executor serves session '${config.sessionId}' only (SESSION_ID): send executions of another session to that session's executor`);
    }
    const known = journal.get(request.execution_id);
    if (known) {
      this.assertSameExecution(request, known);
      return { duplicate: true };
    }
    if (!this.accepting) {
      metrics.rejected.inc({ reason: 'shutting_down' });
      throw new AdmissionError('Executor.ShuttingDown', 'the executor is shutting down and takes no new executions: submit to another executor');
    }
    if (this.active.size >= config.maxConcurrentExecutions) {
      metrics.rejected.inc({ reason: 'concurrency_limit' });
      throw new AdmissionError('Executor.TooManyExecutions', `${this.active.size} executions are running, the limit is MAX_CONCURRENT_EXECUTIONS=${config.maxConcurrentExecutions}: retry later`);
    }
    const accepted = this.insertPending(request);
    if (!accepted) return { duplicate: true };
    const acceptedAt = performance.now();
    let settle: (result: string) => void = () => {};
    const done = new Promise<string>((resolve) => (settle = resolve));
    this.active.set(request.execution_id, { request, done });
    metrics.setActive(this.active.size);
    // after the acknowledgement has been written: the spawn must not delay it
    setImmediate(() => {
      this.execute(request, acceptedAt)
        .catch((error) => this.crashed(request, `internal error: ${(error as Error).message}`, acceptedAt))
        .then(settle);
    });
    return { duplicate: false };
  }

  /** The acknowledgement's journal row; a journal that cannot write refuses the execution (503). */
  private insertPending(request: ExecutionRequest): boolean {
    try {
      return this.deps.journal.insertPending({
        execution_id: request.execution_id,
        session_id: request.session_id,
        language: request.language,
        timeout_seconds: request.timeout,
        created_at: iso(),
      });
    } catch (error) {
      this.deps.metrics.rejected.inc({ reason: 'journal_unavailable' });
      this.deps.logger.error({ execution_id: request.execution_id, error: (error as Error).message }, 'the journal could not record an execution: refused');
      throw new AdmissionError('Executor.JournalUnavailable', `the executor cannot record executions now (its journal: ${(error as Error).message}): retry later`);
    }
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
    throw new AdmissionError('Executor.ExecutionIdConflict', `execution_id '${request.execution_id}' is already taken by another execution (a different session_id or code): use a new execution_id`);
  }

  /** The finished result's JSON text, waiting for it when the execution is still running. */
  async waitForResult(executionId: string): Promise<string | undefined> {
    const active = this.active.get(executionId);
    if (active) return active.done;
    const kept = this.unjournaled.get(executionId);
    if (kept) return resultJson({ ...kept.stored, callback: null });
    const row = this.deps.journal.get(executionId);
    const stored = row && storedResultOf(row);
    return stored ? resultJson(stored) : undefined;
  }

  state(executionId: string): JournalRow | undefined {
    const row = this.deps.journal.get(executionId);
    const kept = this.unjournaled.get(executionId);
    if (row && kept) {
      const { stored, execution_id: _id, ...fields } = kept;
      return { ...row, ...fields, ...stored, callback: null };
    }
    const startedAt = this.active.get(executionId)?.startedAt;
    // running is not written to the journal: after a crash, pending and running both end as crashed
    return row && row.state === 'pending' && startedAt ? { ...row, state: 'running', started_at: startedAt } : row;
  }

  /** Stop admitting (graceful shutdown); running executions go on. */
  stopAccepting(): void {
    this.accepting = false;
    this.sandboxes.close();
  }

  /** Before the journal closes: a last try at writing the results it could not store. */
  writeKeptResults(): void {
    this.unjournaled.close();
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
    const startedAt = iso();
    const started = performance.now();
    this.active.get(request.execution_id)!.startedAt = startedAt;
    this.events.emit('started', { execution_id: request.execution_id, session_id: request.session_id } satisfies ExecutionEvent);
    this.deps.logger.info(
      { execution_id: request.execution_id, session_id: request.session_id, language: request.language, code_bytes: Buffer.byteLength(request.code), timeout_s: request.timeout },
      'execution started',
    );
    const result = await this.pipeline.run(request, { acceptedAt, started, startedAt }, (run) => {
      this.active.get(request.execution_id)!.run = run;
      if (this.killReason) run.kill(this.killReason);
    });
    return this.commit(request, result);
  }

  /** The sessions with an execution admitted and not finished (queued or running). */
  busySessions(): Set<string> {
    return new Set([...this.active.values()].map((a) => a.request.session_id));
  }

  /** Sandboxes built ahead and waiting (sandbox_warm_sandboxes). */
  warmSandboxes(): number {
    return this.sandboxes.warmCount();
  }

  /** Warm sandboxes hold the dependency set they were built with: drop them when it changes. */
  invalidateWarmSandboxes(): void {
    this.sandboxes.invalidateWarm();
  }

  /** Drops what the executor holds for a session beyond its files: warm sandboxes, network. */
  releaseSession(sessionId: string): void {
    this.sandboxes.releaseSession(sessionId);
  }

  /** An execution that never ran to an end of its own (internal error). */
  private crashed(request: ExecutionRequest, reason: string, acceptedAt: number): string {
    return this.commit(request, crashedResult(request, reason, null, ms(performance.now() - acceptedAt)));
  }

  /**
   * Journal first, then everybody else. A result the journal cannot store now (its disk full) is
   * kept in memory and announced all the same: its waiters and GET read it from there.
   */
  private commit(request: Pick<ExecutionRequest, 'execution_id' | 'session_id' | 'language'>, built: ExecutionResult): string {
    const { metrics } = this.deps;
    const result = withinStorageCap(built);
    this.unjournaled.store({
      execution_id: request.execution_id,
      state: result.status,
      started_at: result.started_at,
      finished_at: result.finished_at,
      stored: toStored(result),
      delivery_state: this.deps.deliverResults ? 'pending' : 'none',
    });
    metrics.executions.inc({ language: request.language, status: result.status });
    // a crashed result never ran in a sandbox (its phases say cold whatever was taken)
    if (result.status !== 'crashed') metrics.starts.inc({ language: request.language, start: result.phases.start });
    metrics.duration.observe({ language: request.language }, result.metrics.duration_ms / 1000);
    this.active.delete(request.execution_id);
    metrics.setActive(this.active.size);
    // the journal holds the rest: listeners read it when they need it, not every execution
    this.events.emit('finished', { execution_id: request.execution_id, session_id: request.session_id } satisfies ExecutionEvent);
    return stringifyWithRaw(result);
  }
}
