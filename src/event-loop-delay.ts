// How late the event loop answers while the executor works, as a Prometheus histogram: a timer
// every SAMPLE_MS observes how much later than due it fired. It runs only while executions are
// admitted: the delay that matters is the one an acknowledgement or a result waits for under load,
// and an idle server then wakes for nothing (prom-client's own lag gauges sample every second).
import { performance } from 'node:perf_hooks';
import type { Histogram } from 'prom-client';

const SAMPLE_MS = 10;

export class EventLoopDelay {
  private timer: NodeJS.Timeout | undefined;
  private due = 0;

  constructor(private readonly histogram: Histogram) {}

  /** Samples while `busy`; call whenever the number of admitted executions changes. */
  track(busy: boolean): void {
    if (busy && !this.timer) {
      this.due = performance.now() + SAMPLE_MS;
      this.timer = setInterval(() => this.sample(), SAMPLE_MS).unref();
    } else if (!busy && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private sample(): void {
    const now = performance.now();
    this.histogram.observe(Math.max(0, now - this.due) / 1000);
    this.due = now + SAMPLE_MS;
  }
}
