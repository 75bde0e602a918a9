// The container's lifecycle as the control plane sees it. `ready` once the server accepts
// connections: it is the only way a session leaves `creating`, so it is retried with a bounded
// backoff until the control plane takes it. `exited` on a graceful stop, with the real reason,
// retried only within a short time bound: the process is about to end.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import { backoffDelayMs, type Backoff } from './backoff.js';
import { isoTimestamp, type CallOutcome, type ControlPlaneClient } from './control-plane-client.js';

/** The contract's set; SIGINT (an operator's Ctrl-C) is a `normal` stop, SIGTERM a `sigterm`. */
export type ExitReason = 'normal' | 'sigterm' | 'sigkill' | 'oom_killed' | 'error';

export interface ContainerIdentity {
  containerId: string;
  podName: string | undefined;
  port: number;
}

const RETRY: Backoff = { baseMs: 500, capMs: 15_000 };
const ATTEMPT_TIMEOUT_MS = 10_000;

export class LifecycleEvents {
  private readonly abortReady = new AbortController();
  private readyLoop: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: ControlPlaneClient,
    private readonly logger: Logger,
  ) {}

  /** Sends `ready` in the background, until the control plane answers 2xx or we stop. */
  announceReady(identity: ContainerIdentity): void {
    const body = JSON.stringify({
      event_type: 'ready',
      container_id: identity.containerId,
      pod_name: identity.podName ?? null,
      executor_port: identity.port,
      ready_at: isoTimestamp(),
    });
    this.readyLoop = this.sendUntilAccepted('ready', body, this.abortReady.signal);
  }

  /** Sends `exited`, retrying until the control plane takes it or `timeoutMs` is over. */
  async announceExited(identity: ContainerIdentity, exit: { code: number; reason: ExitReason }, timeoutMs: number): Promise<boolean> {
    await this.close(); // a `ready` still being retried is moot now
    const body = JSON.stringify({
      event_type: 'exited',
      container_id: identity.containerId,
      pod_name: identity.podName ?? null,
      executor_port: identity.port,
      exit_code: exit.code,
      exit_reason: exit.reason,
      exited_at: isoTimestamp(),
    });
    return this.sendUntilAccepted('exited', body, AbortSignal.timeout(timeoutMs));
  }

  async close(): Promise<void> {
    this.abortReady.abort();
    await this.readyLoop;
  }

  /** true once accepted; false when `signal` ends the tries first. */
  private async sendUntilAccepted(event: 'ready' | 'exited', body: string, signal: AbortSignal): Promise<boolean> {
    for (let failures = 1; ; failures++) {
      const outcome = await this.client.post(event, `/api/v1/internal/containers/${event}`, body, { timeoutMs: ATTEMPT_TIMEOUT_MS, signal });
      if (outcome.kind === 'accepted') {
        this.logger.info({ event, attempts: failures }, `control plane told: ${event}`);
        return true;
      }
      if (outcome.kind === 'aborted') break;
      const delayMs = backoffDelayMs(failures, RETRY);
      this.logger.warn({ event, attempts: failures, error: describe(outcome), retry_in_ms: delayMs }, `control plane not told ${event} yet: will retry`);
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        break; // stopped while waiting
      }
    }
    if (event === 'exited') this.logger.warn('control plane not told exited within the time bound: giving up, the process ends now');
    return false;
  }
}

function describe(outcome: Exclude<CallOutcome, { kind: 'accepted' | 'aborted' }>): string {
  return outcome.kind === 'refused' ? `HTTP ${outcome.status}: ${outcome.answer}` : outcome.error;
}
