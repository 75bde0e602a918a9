// GET /health (cheap: Docker HEALTHCHECK and Kubernetes probes) and GET /info.
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import { Hono } from 'hono';
import type { Config } from '../../config.js';
import type { ExecutionService } from '../../executions/execution-service.js';
import { configuredValues, limitsFromConfig, sandboxBounds, type SandboxHost } from '../../sandbox/index.js';

export interface HealthDeps {
  config: Config;
  host: SandboxHost;
  service: ExecutionService;
  version: string;
  startedAt: number;
  /** extra /info fields from other modules (the outbox depth, ...) */
  infoExtras?: () => Record<string, unknown>;
}

export function healthRoutes(deps: HealthDeps): Hono {
  const { config, host, service } = deps;
  const app = new Hono();

  app.get('/health', (c) => {
    let reason: string | null = null;
    try {
      accessSync(config.workspaceRoot, constants.W_OK | constants.X_OK);
    } catch {
      reason = `workspace ${config.workspaceRoot} is not writable by the executor`;
    }
    if (!service.isAccepting) reason = 'shutting down';
    if (reason) return c.json({ detail: { status: 'unhealthy', reason, backend: host.backend.name } }, 503);
    return c.json({
      status: 'healthy',
      version: deps.version,
      uptime_seconds: (Date.now() - deps.startedAt) / 1000,
      active_executions: service.activeCount,
      backend: host.backend.name,
    });
  });

  app.get('/info', (c) =>
    c.json({
      version: deps.version,
      platform: { os: os.platform(), kernel: os.release(), arch: os.arch(), node: process.version, cpus: os.cpus().length },
      isolation: {
        backend: host.backend.name,
        configured: config.isolation,
        enforced: host.protections,
        backends: host.probes,
        network: config.network ? 'host' : 'none',
        cpu_priority: host.cpuPriority,
      },
      workspace: config.workspaceRoot,
      workspace_layout: config.workspaceLayout,
      session_id: config.sessionId ?? null,
      dependency_dir: config.dependencyDir,
      mode: config.controlPlaneUrl ? 'control-plane' : 'standalone',
      active_executions: service.activeCount,
      queued_executions: 0,
      accepting: service.isAccepting,
      limits: {
        max_concurrent_executions: config.maxConcurrentExecutions,
        default_timeout_seconds: config.limits.defaultTimeoutSeconds,
        memory_mb: config.limits.memoryMb,
        cpu_seconds: config.limits.cpuSeconds || 'the execution timeout',
        max_processes: config.limits.maxProcesses,
        open_files: config.limits.openFiles,
        file_size_mb: config.limits.fileSizeMb,
        workspace_mb: config.limits.workspaceMb,
        workspace_files: config.limits.workspaceFiles,
        output_bytes_per_stream: config.limits.outputBytesPerStream,
        output_total_bytes: config.limits.outputTotalBytes,
      },
      // per execution, with the default timeout; each result's `sandbox.bounds` has its own run's
      bounds: sandboxBounds(configuredValues(limitsFromConfig(config, config.limits.defaultTimeoutSeconds), host.backend.processLimit), host.backend.processLimit),
      ...deps.infoExtras?.(),
    }),
  );
  return app;
}
