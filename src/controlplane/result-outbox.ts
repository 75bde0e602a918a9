// The result outbox. Results wait in the journal, committed before anybody is told, until the
// control plane has them. This worker sends the due ones a few at a time and records each
// answer: delivered, undeliverable (a final 4xx, never sent again; or still failing after
// RESULT_DELIVERY_MAX_AGE_HOURS / _MAX_ATTEMPTS: given up, the last answer kept), or due again
// after a backoff. All of its state is in the journal, so a new process resumes where the last one
// stopped. However slow or absent the control plane, at most CONCURRENCY results are read and
// in flight at once, and an execution never waits for a delivery.
import type { Journal, OutboxEntry } from '../executions/journal.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { backoffDelayMs, type Backoff } from './backoff.js';
import type { ControlPlaneClient } from './control-plane-client.js';

const CONCURRENCY = 4;
const ATTEMPT_TIMEOUT_MS = 10_000;
const RETRY: Backoff = { baseMs: 1_000, capMs: 60_000 };
/** after an outage, how often at most every waiting result is made due at once */
const CATCH_UP_INTERVAL_MS = 10_000;
const FLUSH_POLL_MS = 50;

function resultPath(executionId: string): string {
  return `/api/v1/internal/executions/${encodeURIComponent(executionId)}/result`;
}

export class ResultOutbox {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failedSinceCatchUp = false;
  private lastCatchUpAt = 0;

  constructor(
    private readonly journal: Journal,
    private readonly client: ControlPlaneClient,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly bounds: { maxAgeHours: number; maxAttempts: number },
  ) {
    // at 0 from the start: increase() sees the first result given up (alert SandboxResultsUndeliverable)
    for (const reason of ['refused', 'expired']) metrics.undeliverable.inc({ reason }, 0);
  }

  /**
   * Starts sending, beginning with whatever an earlier process left undelivered: at once, not when
   * its backoff says (a stop that found the control plane down may have left 30 s of backoff, and a
   * restart is when it is most likely back). One attempt per result per start: no storm.
   */
  start(): void {
    this.running = true;
    this.makeAllDueThenWake();
  }

  /** Sends what is due now (a result was just committed, or a timer or a delivery ended). */
  wake(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const free = CONCURRENCY - this.inFlight.size;
    if (free <= 0) return; // the next delivery to end wakes us
    for (const entry of this.journal.dueDeliveries(free, this.inFlight.keys())) this.send(entry);
    if (this.inFlight.size < CONCURRENCY) this.sleepUntilNextDue();
  }

  /**
   * Graceful stop: makes every waiting result due and keeps sending until none waits or
   * `timeoutMs` is over, then stops. Returns how many still wait (the next start sends them).
   */
  async flush(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    await this.journal.deliverAllNow(deadline);
    this.wake();
    while (this.journal.outboxStats().depth > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, FLUSH_POLL_MS));
    }
    await this.close();
    return this.journal.outboxStats().depth;
  }

  /** Stops at once: attempts in flight are abandoned and stay due in the journal. */
  async close(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.abort.abort();
    await Promise.all(this.inFlight.values());
  }

  private sleepUntilNextDue(): void {
    const next = this.journal.nextDeliveryAt(this.inFlight.keys());
    if (next === null) return; // the next committed result wakes us
    this.timer = setTimeout(() => this.wake(), Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  private send(entry: OutboxEntry): void {
    const attempt = this.attempt(entry)
      .catch((error: Error) => this.logger.error({ execution_id: entry.execution_id, err: { message: error.message } }, 'result delivery failed internally'))
      .finally(() => {
        this.inFlight.delete(entry.execution_id);
        this.wake();
      });
    this.inFlight.set(entry.execution_id, attempt);
  }

  private async attempt(entry: OutboxEntry): Promise<void> {
    const id = entry.execution_id;
    const attempts = entry.delivery_attempts + 1;
    const log = this.logger.child({ execution_id: id });
    const outcome = await this.client.post('result', resultPath(id), entry.callback, {
      idempotencyKey: id,
      timeoutMs: ATTEMPT_TIMEOUT_MS,
      signal: this.abort.signal,
    });
    switch (outcome.kind) {
      case 'aborted':
        return; // stopping: the result stays due, the CP may or may not have it (Idempotency-Key)
      case 'accepted':
        this.journal.markDelivered(id);
        log.info({ attempts, status: outcome.status }, 'result delivered to the control plane');
        this.catchUpAfterOutage();
        return;
      case 'refused':
        this.journal.markUndeliverable(id, `HTTP ${outcome.status}: ${outcome.answer}`);
        this.metrics.undeliverable.inc({ reason: 'refused' });
        log.error({ attempts, status: outcome.status, answer: outcome.answer }, 'the control plane refused the result for good: kept in the journal as undeliverable');
        return;
      case 'failed': {
        const exhausted = this.exhausted(entry, attempts);
        if (exhausted) {
          this.journal.markUndeliverable(id, `${exhausted}; last answer: ${outcome.error}`);
          this.metrics.undeliverable.inc({ reason: 'expired' });
          log.error({ attempts, error: outcome.error }, `result given up (${exhausted}): kept in the journal as undeliverable`);
          return;
        }
        const delayMs = backoffDelayMs(attempts, RETRY);
        this.journal.rescheduleDelivery(id, Date.now() + delayMs, outcome.error);
        this.failedSinceCatchUp = true;
        // warn at attempts 1, 2, 4, 8, …: a control plane down for hours does not flood the log
        const level = (attempts & (attempts - 1)) === 0 ? 'warn' : 'debug';
        log[level]({ attempts, error: outcome.error, retry_in_ms: delayMs }, 'result not delivered: will retry');
      }
    }
  }

  /** Why this result is not tried again, or undefined while it is within the bounds. */
  private exhausted(entry: OutboxEntry, attempts: number): string | undefined {
    const { maxAgeHours, maxAttempts } = this.bounds;
    if (maxAttempts > 0 && attempts >= maxAttempts) return `not delivered in ${attempts} attempts (RESULT_DELIVERY_MAX_ATTEMPTS=${maxAttempts})`;
    const ageMs = Date.now() - Date.parse(entry.finished_at);
    if (ageMs >= maxAgeHours * 3_600_000) return `not delivered within ${maxAgeHours} h (RESULT_DELIVERY_MAX_AGE_HOURS=${maxAgeHours})`;
    return undefined;
  }

  /** journal.deliverAllNow(), then sends; for the callers that do not wait: a failure is logged, never thrown. */
  private makeAllDueThenWake(onMadeDue?: (results: number) => void): void {
    this.journal
      .deliverAllNow()
      .then((results) => {
        onMadeDue?.(results);
        this.wake();
      })
      .catch((error: Error) => this.logger.error({ err: { message: error.message } }, 'making the waiting results due failed: they keep their backoff'));
  }

  /**
   * The control plane answers again after failures: results waiting out a backoff of up to the
   * cap are made due now, so a recovered CP gets the backlog in seconds. Rate-limited, so that
   * one result the CP keeps failing on is not retried at the pace of every other success.
   */
  private catchUpAfterOutage(): void {
    const now = Date.now();
    if (!this.failedSinceCatchUp || now - this.lastCatchUpAt < CATCH_UP_INTERVAL_MS) return;
    this.failedSinceCatchUp = false;
    this.lastCatchUpAt = now;
    this.makeAllDueThenWake((waiting) => {
      if (waiting > 0) this.logger.info({ results: waiting }, 'the control plane answers again: sending the results that were waiting');
    });
  }
}
