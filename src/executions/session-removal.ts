// Removing a session's state: its workspace, its /tmp, its warm sandboxes and network, what is kept
// in memory for it. On request (DELETE /sessions/{id}) or when idle longer than
// WORKSPACE_RETENTION_HOURS (a sweep every tenth of that, 1 s to 15 min). Never a session with an
// execution queued or running: the check and the detaching of its directories (renamed into a
// trash directory on the same file system) happen in one event-loop turn, so an execution admitted
// a moment later finds no directory and gets fresh ones, never a half-deleted one. The trash is
// emptied afterwards, at the pace of the file system (tree-removal.ts); what a crash left there
// is emptied at the next start.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { ExecutionEvent, ExecutionService } from './execution-service.js';
import { isSessionDirectoryName, sessionDirectoryName } from './session-paths.js';
import { removeTree } from './tree-removal.js';

/** Under the workspace root and under <state>/sessions: no session directory name starts with "." */
export const TRASH_DIR = '.removing';
const MIN_SWEEP_MS = 1000;
const MAX_SWEEP_MS = 15 * 60 * 1000;

export type RemovalTrigger = 'retention' | 'request';
/** not_found: no state of that session here; recent: it became active again during the sweep */
export type RemovalOutcome = 'removed' | 'busy' | 'not_found' | 'recent';

export interface SessionRemovalDeps {
  config: Config;
  service: ExecutionService;
  logger: Logger;
  metrics: Metrics;
}

export class SessionRemoval {
  /** directory name -> the session's id and when its last execution finished (ms) */
  private readonly lastActive = new Map<string, { sessionId: string; at: number }>();
  private readonly startedAt = Date.now();
  private readonly workspaceTrash: string;
  private readonly tmpRoot: string;
  private readonly tmpTrash: string;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: SessionRemovalDeps) {
    const { config, service } = deps;
    this.tmpRoot = path.join(config.stateDir, 'sessions');
    this.workspaceTrash = path.join(config.workspaceRoot, TRASH_DIR);
    this.tmpTrash = path.join(this.tmpRoot, TRASH_DIR);
    service.events.on('finished', (event: ExecutionEvent) => this.lastActive.set(sessionDirectoryName(event.session_id), { sessionId: event.session_id, at: Date.now() }));
  }

  /** Empties what an earlier run left in the trash, then sweeps periodically when WORKSPACE_RETENTION_HOURS is set. */
  start(): void {
    const retentionMs = this.deps.config.workspaceRetentionHours * 3600 * 1000;
    this.sweeping = this.emptyTrash().finally(() => (this.sweeping = undefined));
    if (retentionMs === 0) return;
    const every = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, retentionMs / 10));
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep(retentionMs).finally(() => (this.sweeping = undefined));
    }, every).unref();
  }

  /** No more sweeps; one under way finishes the session it is removing (the rest waits for the next start). */
  stop(): void {
    clearInterval(this.timer);
    this.stopped = true;
  }

  /** Removes the session's state now, unless it is busy; resolves when its files are gone. */
  async remove(sessionId: string, trigger: RemovalTrigger): Promise<RemovalOutcome> {
    return this.removeDirectory(sessionDirectoryName(sessionId), trigger, () => true);
  }

  private async sweep(retentionMs: number): Promise<void> {
    const names = new Set([...(await sessionNames(this.deps.config.workspaceRoot)), ...(await sessionNames(this.tmpRoot))]);
    for (const name of names) {
      if (this.stopped) return;
      // checked again right before each removal: executions came and went during the last one
      await this.removeDirectory(name, 'retention', () => Date.now() - (this.lastActive.get(name)?.at ?? this.startedAt) > retentionMs);
    }
  }

  private async removeDirectory(name: string, trigger: RemovalTrigger, stillDue: () => boolean): Promise<RemovalOutcome> {
    const { config, service, logger, metrics } = this.deps;
    const sessionId = this.lastActive.get(name)?.sessionId;
    // one turn of the event loop from the busy check to the renames: no execution admitted in between
    const busy = [...service.busySessions()].some((id) => sessionDirectoryName(id) === name);
    if (busy) return 'busy';
    if (!stillDue()) return 'recent';
    const detached = [this.detach(path.join(config.workspaceRoot, name), this.workspaceTrash, name), this.detach(path.join(this.tmpRoot, name), this.tmpTrash, name)].filter(
      (dir) => dir !== undefined,
    );
    if (sessionId !== undefined) service.releaseSession(sessionId);
    this.lastActive.delete(name);
    if (detached.length === 0) return 'not_found';

    const started = performance.now();
    try {
      let entries = 0;
      for (const dir of detached) entries += await removeTree(dir);
      metrics.sessionRemovals.inc({ trigger, outcome: 'removed' });
      logger.info({ session_id: sessionId, session_dir: name, trigger, entries, ms: Math.round(performance.now() - started) }, 'session state removed');
    } catch (error) {
      // detached already: the session starts afresh; the next start empties the trash
      metrics.sessionRemovals.inc({ trigger, outcome: 'failed' });
      logger.error({ session_id: sessionId, session_dir: name, trigger, err: (error as Error).message }, 'session state detached but not all removed');
    }
    return 'removed';
  }

  /** Renames `dir` into `trash` (the same file system); its new path, or undefined when it does not exist. */
  private detach(dir: string, trash: string, name: string): string | undefined {
    mkdirSync(trash, { recursive: true, mode: 0o700 });
    const target = path.join(trash, `${name}.${randomUUID()}`);
    try {
      renameSync(dir, target);
      return target;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  private async emptyTrash(): Promise<void> {
    for (const trash of [this.workspaceTrash, this.tmpTrash]) {
      for (const name of listOrEmpty(trash)) {
        if (this.stopped) return;
        await removeTree(path.join(trash, name)).catch((error: Error) => this.deps.logger.error({ path: path.join(trash, name), err: error.message }, 'could not empty the session trash'));
      }
    }
  }
}

async function sessionNames(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => []);
  return names.filter(isSessionDirectoryName);
}

function listOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
