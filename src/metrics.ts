// Prometheus metrics (prom-client), one registry per server.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { EventLoopDelay } from './event-loop-delay.js';

/** The journal's undelivered results (Journal.outboxStats). */
export interface OutboxStats {
  /** results committed and not yet delivered */
  depth: number;
  /** how long the oldest of them has been waiting (0 when none) */
  oldestAgeSeconds: number;
}

/** Reasons of sandbox_rejected_requests_total (admission, the connection limit). */
const REJECTION_REASONS = ['concurrency_limit', 'connection_limit', 'execution_id_conflict', 'journal_unavailable', 'shutting_down', 'wrong_session'];

/** `outbox` is read on each scrape: the journal is the truth, no counter can drift from it. */
/** The label values known up front, from the layers that define them (this module imports none). */
export interface KnownLabels {
  languages: readonly string[];
  finishedStates: readonly string[];
  /** how an execution's sandbox was had (execution-types.ts SANDBOX_STARTS) */
  sandboxStarts: readonly string[];
  syncOutcomes: readonly string[];
}

/** the longest interval a Node timer takes (2^31 - 1 ms, 24.8 days) */
const MAX_TIMER_MS = 2 ** 31 - 1;
const SAMPLED_LAG_GAUGES = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'].map((stat) => `nodejs_eventloop_lag_${stat}_seconds`);

export function createMetrics(outbox: () => OutboxStats, known: KnownLabels = { languages: [], finishedStates: [], sandboxStarts: [], syncOutcomes: [] }) {
  const registry = new Registry();
  // prom-client's lag percentiles come from a timer that wakes the process every
  // eventLoopMonitoringPrecision ms for as long as it runs, and an idle server must not wake (each
  // wake-up costs ~0.6 ms of CPU here, docs/benchmarks.md). That timer is pushed out to 24.8 days and
  // its gauges left out; nodejs_eventloop_lag_seconds (measured at each scrape) stays, and the
  // fine-grained delay is sandbox_event_loop_delay_seconds, sampled while executions run
  // (event-loop-delay.ts).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: MAX_TIMER_MS });
  for (const name of SAMPLED_LAG_GAUGES) registry.removeSingleMetric(name);
  let warmSandboxes = () => 0; // the execution service is made after the metrics: countWarmWith
  const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600];
  const metrics = {
    registry,
    executions: new Counter({ name: 'sandbox_executions_total', help: 'Finished executions by language and status', labelNames: ['language', 'status'] as const, registers: [registry] }),
    starts: new Counter({
      name: 'sandbox_execution_starts_total',
      help: 'Executions that ran (crashed ones aside) by how their sandbox was had: primed (runtime already started), warm (sandbox made ahead), cold (made for it)',
      labelNames: ['language', 'start'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'sandbox_execution_duration_seconds',
      help: 'Wall time of executions in their sandbox',
      labelNames: ['language'] as const,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    spawnLatency: new Histogram({
      name: 'sandbox_spawn_latency_seconds',
      help: 'Time to create a sandbox, until its first exec',
      labelNames: ['backend'] as const,
      buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    active: new Gauge({ name: 'sandbox_active_executions', help: 'Executions admitted and not finished', registers: [registry] }),
    eventLoopDelay: new Histogram({
      name: 'sandbox_event_loop_delay_seconds',
      help: 'How much later than due a 10 ms timer fired, sampled while executions are admitted: what an acknowledgement or a result waits for the event loop',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    // the denominator of the work signal (active / capacity): the executor queues nothing, it
    // refuses past this many (sandbox_rejected_requests_total{reason="concurrency_limit"})
    capacity: new Gauge({ name: 'sandbox_max_concurrent_executions', help: 'Executions this executor admits at once (MAX_CONCURRENT_EXECUTIONS)', registers: [registry] }),
    isolationBackend: new Gauge({
      name: 'sandbox_isolation_backend_info',
      help: 'The isolation backend executions run on (1 for the selected one; backend="none" runs code WITHOUT a sandbox), and ISOLATION as configured',
      labelNames: ['backend', 'configured'] as const,
      registers: [registry],
    }),
    truncations: new Counter({ name: 'sandbox_output_truncations_total', help: 'Outputs cut to the per-stream limit', labelNames: ['stream'] as const, registers: [registry] }),
    rejected: new Counter({ name: 'sandbox_rejected_requests_total', help: 'Requests refused, by reason', labelNames: ['reason'] as const, registers: [registry] }),
    dependencySyncs: new Counter({
      name: 'sandbox_dependency_syncs_total',
      help: 'Dependency syncs (POST /internal/session-config/sync) by outcome (completed, invalid_request, busy, install_failed, index_unreachable, timed_out, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    dependencySyncDuration: new Histogram({
      name: 'sandbox_dependency_sync_duration_seconds',
      help: 'Wall time of dependency syncs that ran (pip, verification, swap), by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 7200],
      registers: [registry],
    }),
    callbackAttempts: new Counter({
      name: 'sandbox_callback_attempts_total',
      help: 'Calls to the control plane by kind (result, heartbeat, ready, exited) and outcome (success, rejected, http_error, timeout, network_error, aborted)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    undeliverable: new Counter({
      name: 'sandbox_results_undeliverable_total',
      help: 'Results given up: refused for good by the control plane (refused) or not taken within the delivery bounds (expired)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    sessionRemovals: new Counter({
      name: 'sandbox_session_removals_total',
      help: 'Sessions whose state (workspace, /tmp, warm sandboxes) was removed, by trigger (retention: idle longer than WORKSPACE_RETENTION_HOURS; request: DELETE /sessions/{id}) and outcome (removed, failed)',
      labelNames: ['trigger', 'outcome'] as const,
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: 'sandbox_outbox_depth',
      help: 'Results committed and not yet delivered to the control plane',
      registers: [registry],
      collect() {
        this.set(outbox().depth);
      },
    }),
    warmSandboxes: new Gauge({
      name: 'sandbox_warm_sandboxes',
      help: "Sandboxes built ahead and waiting for their session's next execution, each with its runtime started (about 10 MiB for python, 40 MiB for node); given back after WARM_IDLE_SECONDS",
      registers: [registry],
      collect() {
        this.set(warmSandboxes());
      },
    }),
    outboxOldestAge: new Gauge({
      name: 'sandbox_outbox_oldest_undelivered_age_seconds',
      help: 'How long the oldest undelivered result has been waiting (0 when none)',
      registers: [registry],
      collect() {
        this.set(outbox().oldestAgeSeconds);
      },
    }),
  };
  // Counters of known label values start at 0: a series born at 1 hides its first increment from
  // rate() and increase(), so the first rejection or failed sync would show on no dashboard or alert.
  for (const language of known.languages) for (const status of known.finishedStates) metrics.executions.inc({ language, status }, 0);
  for (const language of known.languages) for (const start of known.sandboxStarts) metrics.starts.inc({ language, start }, 0);
  for (const reason of REJECTION_REASONS) metrics.rejected.inc({ reason }, 0);
  for (const outcome of known.syncOutcomes) metrics.dependencySyncs.inc({ outcome }, 0);
  const loopDelay = new EventLoopDelay(metrics.eventLoopDelay);
  return {
    ...metrics,
    /** where sandbox_warm_sandboxes reads its count */
    countWarmWith(count: () => number): void {
      warmSandboxes = count;
    },
    /** the admitted executions: the gauge, and the event-loop delay sampled while there are any */
    setActive(count: number): void {
      metrics.active.set(count);
      loopDelay.track(count > 0);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
