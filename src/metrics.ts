// Prometheus metrics (prom-client), one registry per server.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600];
  return {
    registry,
    executions: new Counter({ name: 'sandbox_executions_total', help: 'Finished executions by language and status', labelNames: ['language', 'status'] as const, registers: [registry] }),
    duration: new Histogram({ name: 'sandbox_execution_duration_seconds', help: 'Wall time of executions in their sandbox', labelNames: ['language'] as const, buckets: latencyBuckets, registers: [registry] }),
    spawnLatency: new Histogram({ name: 'sandbox_spawn_latency_seconds', help: 'Time to create a sandbox, until its first exec', labelNames: ['backend'] as const, buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5], registers: [registry] }),
    active: new Gauge({ name: 'sandbox_active_executions', help: 'Executions admitted and not finished', registers: [registry] }),
    truncations: new Counter({ name: 'sandbox_output_truncations_total', help: 'Outputs cut to the per-stream limit', labelNames: ['stream'] as const, registers: [registry] }),
    rejected: new Counter({ name: 'sandbox_rejected_requests_total', help: 'Requests refused, by reason', labelNames: ['reason'] as const, registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
