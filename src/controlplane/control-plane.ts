// Everything the executor tells the control plane, wired to the executions: results through
// the durable outbox, heartbeats while executions run, and the container's ready/exited
// events. It exists only when CONTROL_PLANE_URL is set: standalone mode sends nothing at all.
import type { Config } from '../config.js';
import type { ExecutionEvent, ExecutionService } from '../executions/execution-service.js';
import type { Journal } from '../executions/journal.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { ControlPlaneClient } from './control-plane-client.js';
import { Heartbeats } from './heartbeats.js';
import { LifecycleEvents, type ContainerIdentity, type ExitReason, type ReadyStatus } from './lifecycle-events.js';
import { ResultOutbox } from './result-outbox.js';

export interface ControlPlaneDeps {
  /** CONTROL_PLANE_URL */
  url: string;
  config: Config;
  journal: Journal;
  service: ExecutionService;
  logger: Logger;
  metrics: Metrics;
}

/**
 * At a graceful stop, once no execution runs: time for the last results, then for `exited`.
 * STOP_AFTER_GRACE_MS is what a stop takes beyond SHUTDOWN_GRACE_SECONDS at most: with the
 * default grace (5 s) the whole stop ends within 9 s, inside the 10 s a Docker stop (the
 * control plane's) waits before SIGKILL. Time spent killing what still ran (its result is
 * built and committed) is taken from `exited` first, down to EXITED_MIN_MS: the control plane
 * records results, it only acknowledges `exited`.
 */
const FLUSH_TIMEOUT_MS = 2_500;
const EXITED_TIMEOUT_MS = 1_500;
const EXITED_MIN_MS = 500;
export const STOP_AFTER_GRACE_MS = FLUSH_TIMEOUT_MS + EXITED_TIMEOUT_MS;

export class ControlPlane {
  private readonly outbox: ResultOutbox;
  private readonly heartbeats: Heartbeats;
  private readonly lifecycle: LifecycleEvents;
  private readonly logger: Logger;
  private identity: ContainerIdentity;
  private readonly onStarted = (event: ExecutionEvent) => this.heartbeats.start(event.execution_id);
  private readonly onFinished = (finished: ExecutionEvent) => {
    this.heartbeats.stop(finished.execution_id);
    this.outbox.wake();
  };

  constructor(private readonly deps: ControlPlaneDeps) {
    const { url, config, journal, metrics } = deps;
    this.logger = deps.logger.child({ component: 'control-plane' });
    const client = new ControlPlaneClient(url, config.internalApiToken, metrics);
    this.outbox = new ResultOutbox(journal, client, this.logger, metrics, config.resultDelivery);
    this.heartbeats = new Heartbeats(client, this.logger);
    this.lifecycle = new LifecycleEvents(client, this.logger);
    this.identity = { containerId: config.containerId, podName: config.podName, port: config.port };
  }

  /** The server accepts connections on `port`: announce it and start delivering results. */
  start(port: number): void {
    this.identity = { ...this.identity, port };
    this.deps.service.events.on('started', this.onStarted);
    this.deps.service.events.on('finished', this.onFinished);
    this.outbox.start();
    this.lifecycle.announceReady(this.identity);
  }

  readyStatus(): ReadyStatus {
    return this.lifecycle.readyStatus();
  }

  /**
   * Graceful stop, once no execution runs any more: deliver what the control plane takes, then
   * announce the exit, both by `stopBy` (epoch ms; see STOP_AFTER_GRACE_MS). What is left stays in the journal for the next start.
   */
  async stop(exit: { code: number; reason: ExitReason }, stopBy = Date.now() + STOP_AFTER_GRACE_MS): Promise<void> {
    this.unsubscribe();
    const waiting = await this.outbox.flush(Math.min(FLUSH_TIMEOUT_MS, Math.max(0, stopBy - EXITED_MIN_MS - Date.now())));
    if (waiting > 0) this.logger.warn({ results: waiting }, 'results not delivered before exit: they stay in the journal, the next start on this STATE_PATH sends them');
    await this.lifecycle.announceExited(this.identity, exit, Math.min(EXITED_TIMEOUT_MS, Math.max(EXITED_MIN_MS, stopBy - Date.now())));
    await this.heartbeats.close();
  }

  /** Stops everything at once (tests, or a server closed without a graceful stop). */
  async close(): Promise<void> {
    this.unsubscribe();
    await Promise.all([this.outbox.close(), this.heartbeats.close(), this.lifecycle.close()]);
  }

  private unsubscribe(): void {
    this.deps.service.events.off('started', this.onStarted);
    this.deps.service.events.off('finished', this.onFinished);
  }
}
