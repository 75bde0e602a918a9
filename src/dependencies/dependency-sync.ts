// POST /internal/session-config/sync, below HTTP: one sync at a time, each building a complete
// new dependency set (pip into a fresh directory, then the template's packages), verifying it
// from its metadata, and swapping it in atomically. A failure at any step leaves the previous
// set in place, untouched and importable.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { DEPENDENCY_DIR } from '../runtimes/runtime.js';
import { DependencyStore, DependencyStoreError, type StoreLayout, type StagedSet } from './dependency-store.js';
import { redactIndexUrl } from './index-url.js';
import { readInstalledDistributions, type InstalledDistribution } from './installed-distributions.js';
import { pipFailure } from './pip-failure.js';
import { runPipInstall } from './pip-installer.js';
import { requestedProject } from './requirement-spec.js';
import { QueueFullError, SerialQueue } from './serial-queue.js';
import { SyncError, type SyncOutcome } from './sync-error.js';
import { overlayTemplate } from './template-overlay.js';

/** One running and this many waiting: the control plane sends a sync per configuration change, not a stream. */
const MAX_SYNCS_RUNNING_OR_WAITING = 5;

export interface SyncRequest {
  sessionId: string;
  languageRuntime: string;
  indexUrl: string;
  /** requirement specs, already validated (requirement-spec.ts) */
  dependencies: string[];
  /** both modes install the list as sent: the control plane always sends the complete list */
  mode: 'replace' | 'merge';
}

export interface InstalledDependency {
  name: string;
  version: string;
  install_location: string;
  install_time: string;
  is_from_template: boolean;
}

/** The 200 body (CONTRACT.md section 2). */
export interface SyncReport {
  status: 'completed';
  installed_dependencies: InstalledDependency[];
  error: '';
  started_at: string;
  completed_at: string;
}

export interface DependencySyncDeps {
  dependencyPath: string;
  stateDir: string;
  installTimeoutSeconds: number;
  logger: Logger;
  metrics: Metrics;
  /** executions running now: retired sets are deleted only when none is (one may have a set bound) */
  runningExecutions: () => number;
  /** calls `listener` whenever an execution finishes */
  onExecutionFinished: (listener: () => void) => void;
  /** a new set is live: sandboxes built with the old one (warm ones) must not be used any more */
  onPublished?: () => void;
  /** where pip's proxy and CA settings come from (default process.env) */
  serverEnv?: NodeJS.ProcessEnv;
}

export class DependencySync {
  private readonly store: DependencyStore;
  private readonly queue = new SerialQueue(MAX_SYNCS_RUNNING_OR_WAITING);
  private retiredSetsLeft = false;

  constructor(private readonly deps: DependencySyncDeps) {
    this.store = new DependencyStore(deps.dependencyPath);
    deps.onExecutionFinished(() => this.collectRetiredWhenIdle());
  }

  /** Installs `request.dependencies` as the new set, or throws a SyncError (the old set stays). */
  async sync(request: SyncRequest): Promise<SyncReport> {
    try {
      return await this.queue.run(() => this.runSync(request));
    } catch (error) {
      if (!(error instanceof QueueFullError)) throw error;
      this.deps.metrics.dependencySyncs.inc({ outcome: 'busy' });
      throw new SyncError('Executor.SessionConfigSyncError', `${this.queue.size} dependency syncs are already running or waiting on this executor: retry when they have finished`, '', 'busy');
    }
  }

  private async runSync(request: SyncRequest): Promise<SyncReport> {
    const { logger, metrics } = this.deps;
    const startedAt = new Date();
    const clock = performance.now();
    const log = logger.child({
      session_id: request.sessionId,
      language_runtime: request.languageRuntime,
      sync_mode: request.mode,
      dependencies: request.dependencies.length,
      index: redactIndexUrl(request.indexUrl),
    });
    log.info('dependency sync started');
    let layout: StoreLayout | undefined;
    let outcome: SyncOutcome = 'failed';
    try {
      layout = this.store.prepare();
      const staged = await this.store.stage(layout);
      const installed = await this.install(request, staged);
      const template = layout.templateDir ? readInstalledDistributions(layout.templateDir) : [];
      const carried = layout.templateDir ? await overlayTemplate(layout.templateDir, template, staged.stagingDir, new Set(installed.map((d) => d.project))) : [];
      const setDir = await this.store.seal(layout, staged);
      await this.store.publish(layout, setDir);
      this.deps.onPublished?.();
      outcome = 'completed';
      const report: SyncReport = {
        status: 'completed',
        installed_dependencies: [...installed.map((d) => listed(d, false)), ...carried.map((d) => listed(d, true))].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase())),
        error: '',
        started_at: startedAt.toISOString(),
        completed_at: new Date().toISOString(),
      };
      log.info({ set: setDir, installed: installed.length, from_template: carried.length, seconds: (performance.now() - clock) / 1000 }, 'dependency sync completed');
      return report;
    } catch (error) {
      const failure = asSyncError(error);
      outcome = failure.outcome;
      log.warn({ error_code: failure.code, description: failure.description, pip_output_tail: failure.detail.slice(-2048) }, 'dependency sync failed');
      throw failure;
    } finally {
      metrics.dependencySyncs.inc({ outcome });
      metrics.dependencySyncDuration.observe({ outcome }, (performance.now() - clock) / 1000);
      if (layout) await this.collect(layout);
    }
  }

  /** pip into the staging directory, then a check of what landed there. */
  private async install(request: SyncRequest, staged: StagedSet): Promise<InstalledDistribution[]> {
    if (request.dependencies.length === 0) return [];
    const cacheDir = path.join(this.deps.stateDir, 'pip-cache');
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const outcome = await runPipInstall(
      {
        specs: request.dependencies,
        indexUrl: request.indexUrl,
        targetDir: staged.stagingDir,
        scratchDir: staged.scratchDir,
        cacheDir,
        timeoutMs: this.deps.installTimeoutSeconds * 1000,
      },
      this.deps.serverEnv,
    );
    if (outcome.kind !== 'installed') throw pipFailure(outcome, request.indexUrl, this.deps.installTimeoutSeconds);
    const installed = readInstalledDistributions(staged.stagingDir);
    const projects = new Set(installed.map((d) => d.project));
    // a spec with an environment marker may rightly install nothing on this interpreter
    const missing = request.dependencies.filter((spec) => !spec.includes(';') && !projects.has(requestedProject(spec)));
    if (missing.length > 0) {
      throw new SyncError(
        'Executor.SessionConfigSyncError',
        `pip reported success but the installed metadata lacks ${missing.map((s) => `"${s}"`).join(', ')}: the new set was discarded and the previous dependency set is unchanged`,
        outcome.output.text(8 * 1024),
        'failed',
      );
    }
    return installed;
  }

  /** Leftovers of this sync; retired sets too when no execution is running. */
  private async collect(layout: StoreLayout): Promise<void> {
    try {
      const { retiredLeft } = await this.store.collect(layout, this.deps.runningExecutions() === 0);
      this.retiredSetsLeft = retiredLeft > 0;
    } catch (error) {
      this.deps.logger.warn({ err: { message: (error as Error).message } }, 'could not delete old dependency sets');
    }
  }

  private collectRetiredWhenIdle(): void {
    if (!this.retiredSetsLeft || this.deps.runningExecutions() > 0) return;
    this.retiredSetsLeft = false;
    // through the queue: never while a sync is deciding which set is current
    void this.queue.enqueue(async () => {
      try {
        await this.collect(this.store.prepare());
      } catch (error) {
        this.deps.logger.warn({ err: { message: (error as Error).message } }, 'could not delete old dependency sets');
      }
    });
  }
}

function listed(distribution: InstalledDistribution, fromTemplate: boolean): InstalledDependency {
  return {
    name: distribution.name,
    version: distribution.version,
    // where user code finds it: the sandbox path, whatever DEPENDENCY_PATH is on the host
    install_location: DEPENDENCY_DIR,
    install_time: distribution.installedAt.toISOString(),
    is_from_template: fromTemplate,
  };
}

function asSyncError(error: unknown): SyncError {
  if (error instanceof SyncError) return error;
  const message = (error as Error).message ?? String(error);
  const hint = error instanceof DependencyStoreError ? '' : ' (the dependency directory could not be prepared or swapped)';
  return new SyncError('Executor.SessionConfigSyncError', `the executor could not complete the sync${hint}: ${message}; the previous dependency set is unchanged`, '', 'failed');
}
