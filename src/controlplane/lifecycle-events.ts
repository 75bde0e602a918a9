// The container's lifecycle as the control plane sees it. `ready` once the server accepts
// connections: it is the only way a session leaves `creating`, and the control plane can only
// hear it once it has saved this container's id (≈0.5 s after the start; before that it answers
// 200 "... (no session found)", a 2xx that did nothing). So `ready` is announced again, with a
// backoff from 0.5 s, until an answer says it was heard or READY_ANNOUNCE_MS is over. A call from
// the control plane proves nothing: it sends /execute to a session still `creating`, before it
// has saved the container's id, and only a heard `ready` ever makes that session `running`.
// `exited` on a graceful stop, with the real reason, retried only within a short time bound: the
// process is about to end.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import { isoTimestamp, type CallOutcome, type ControlPlaneClient } from './control-plane-client.js';

/** The contract's set; SIGINT (an operator's Ctrl-C) is a `normal` stop, SIGTERM a `sigterm`. */
export type ExitReason = 'normal' | 'sigterm' | 'sigkill' | 'oom_killed' | 'error';

export interface ContainerIdentity {
  containerId: string;
  podName: string | undefined;
  port: number;
}

/** ready: 0.5 s, 1 s, 2 s, … up to 10 s between attempts; no jitter (one container, no herd) */
const READY_FIRST_DELAY_MS = 500;
const READY_MAX_DELAY_MS = 10_000;
export const READY_ANNOUNCE_MS = 5 * 60_000;
/** exited: the process is about to end, retries come quickly */
const EXITED_RETRY_MS = 250;
const ATTEMPT_TIMEOUT_MS = 10_000;

/** The control plane's 2xx for a container it does not know (yet): not heard. */
const UNKNOWN_CONTAINER = /no session found/i;

export type ReadyState =
  /** still announcing */
  | 'announcing'
  /** an answer said the control plane took it */
  | 'heard'
  /** READY_ANNOUNCE_MS passed without an answer that says so */
  | 'gave_up'
  /** the executor stopped first */
  | 'stopped';

export interface ReadyStatus {
  state: ReadyState;
  attempts: number;
  last_attempt_at: string | null;
  /** what the last attempt got: "HTTP 200: {...}", a network error, … */
  last_outcome: string | null;
}

export class LifecycleEvents {
  private readonly abortReady = new AbortController();
  private readyLoop: Promise<unknown> = Promise.resolve();
  private ready: ReadyStatus = { state: 'announcing', attempts: 0, last_attempt_at: null, last_outcome: null };

  constructor(
    private readonly client: ControlPlaneClient,
    private readonly logger: Logger,
    private readonly announceForMs = READY_ANNOUNCE_MS,
  ) {}

  /** Announces `ready` in the background (see the top of this file for when it stops). */
  announceReady(identity: ContainerIdentity): void {
    const body = JSON.stringify({
      event_type: 'ready',
      container_id: identity.containerId,
      pod_name: identity.podName ?? null,
      executor_port: identity.port,
      ready_at: isoTimestamp(),
    });
    this.readyLoop = this.announceUntilHeard(body);
  }

  readyStatus(): ReadyStatus {
    return { ...this.ready };
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
    if (this.ready.state === 'announcing') this.ready.state = 'stopped';
    this.abortReady.abort();
    await this.readyLoop;
  }

  private async announceUntilHeard(body: string): Promise<void> {
    const signal = AbortSignal.any([this.abortReady.signal, AbortSignal.timeout(this.announceForMs)]);
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.client.post('ready', '/api/v1/internal/containers/ready', body, { timeoutMs: ATTEMPT_TIMEOUT_MS, signal });
      if (outcome.kind === 'aborted') break;
      const heard = outcome.kind === 'accepted' && !UNKNOWN_CONTAINER.test(outcome.answer);
      this.ready = { ...this.ready, attempts: attempt, last_attempt_at: isoTimestamp(), last_outcome: describe(outcome) };
      const delayMs = Math.min(READY_MAX_DELAY_MS, READY_FIRST_DELAY_MS * 2 ** Math.min(attempt - 1, 20));
      this.logger.debug({ event: 'ready', attempt, outcome: this.ready.last_outcome, heard, retry_in_ms: heard ? null : delayMs }, 'ready announced');
      if (heard && this.ready.state === 'announcing') {
        this.ready.state = 'heard';
        this.logger.info({ event: 'ready', attempts: attempt }, 'control plane told: ready');
        return;
      }
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        break;
      }
    }
    if (this.ready.state === 'announcing') {
      this.ready.state = 'gave_up';
      this.logger.warn({ attempts: this.ready.attempts, last_outcome: this.ready.last_outcome }, `ready not heard by the control plane within ${this.announceForMs / 1000} s: no longer announced`);
    }
  }

  /** true once accepted; false when `signal` ends the tries first. */
  private async sendUntilAccepted(event: 'exited', body: string, signal: AbortSignal): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.client.post(event, `/api/v1/internal/containers/${event}`, body, { timeoutMs: ATTEMPT_TIMEOUT_MS, signal });
      if (outcome.kind === 'accepted') {
        this.logger.info({ event, attempts: attempt }, `control plane told: ${event}`);
        return true;
      }
      if (outcome.kind === 'aborted') break;
      this.logger.warn({ event, attempts: attempt, error: describe(outcome) }, `control plane not told ${event} yet: will retry`);
      try {
        await sleep(EXITED_RETRY_MS, undefined, { signal });
      } catch {
        break; // out of time
      }
    }
    this.logger.warn('control plane not told exited within the time bound: giving up, the process ends now');
    return false;
  }
}

function describe(outcome: Exclude<CallOutcome, { kind: 'aborted' }>): string {
  return outcome.kind === 'failed' ? outcome.error : `HTTP ${outcome.status}: ${outcome.answer}`;
}
