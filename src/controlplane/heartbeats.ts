// Heartbeats while an execution runs: the first at its start, then every 5 s, so the control
// plane can tell a long execution from a lost one. A failed heartbeat is logged and forgotten
// (the next one is due soon and the result never depends on them); a slow control plane never
// gets a second heartbeat for the same execution stacked on one still in flight.
import type { Logger } from '../logger.js';
import { isoTimestamp, type ControlPlaneClient } from './control-plane-client.js';

const INTERVAL_MS = 5_000;

interface Beating {
  timer: NodeJS.Timeout;
  inFlight: Promise<void> | null;
  failures: number;
}

export class Heartbeats {
  private readonly beating = new Map<string, Beating>();
  private readonly abort = new AbortController();

  constructor(
    private readonly client: ControlPlaneClient,
    private readonly logger: Logger,
  ) {}

  start(executionId: string): void {
    if (this.abort.signal.aborted || this.beating.has(executionId)) return;
    const timer = setInterval(() => this.beat(executionId), INTERVAL_MS);
    timer.unref();
    this.beating.set(executionId, { timer, inFlight: null, failures: 0 });
    this.beat(executionId);
  }

  stop(executionId: string): void {
    const beating = this.beating.get(executionId);
    if (!beating) return;
    clearInterval(beating.timer);
    this.beating.delete(executionId);
  }

  async close(): Promise<void> {
    this.abort.abort();
    const inFlight = [...this.beating.values()].map((b) => b.inFlight);
    for (const id of [...this.beating.keys()]) this.stop(id);
    await Promise.all(inFlight);
  }

  private beat(executionId: string): void {
    const beating = this.beating.get(executionId);
    if (!beating || beating.inFlight) return;
    const body = JSON.stringify({ timestamp: isoTimestamp(), progress: { status: 'running' } });
    const path = `/api/v1/internal/executions/${encodeURIComponent(executionId)}/heartbeat`;
    beating.inFlight = this.client
      .post('heartbeat', path, body, { timeoutMs: INTERVAL_MS, signal: this.abort.signal })
      .then((outcome) => {
        if (outcome.kind === 'accepted' || outcome.kind === 'aborted') return;
        beating.failures += 1;
        const error = outcome.kind === 'refused' ? `HTTP ${outcome.status}: ${outcome.answer}` : outcome.error;
        // one warning per execution is enough to see the CP is not listening; the rest is detail
        const level = beating.failures === 1 ? 'warn' : 'debug';
        this.logger[level]({ execution_id: executionId, error, failures: beating.failures }, 'heartbeat not delivered');
      })
      .finally(() => {
        beating.inFlight = null;
      });
  }
}
