// Wiring: configuration -> logger -> sandbox host (probe, select) -> journal -> executions ->
// HTTP. Every other module receives what it needs; nothing is global.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from './config.js';
import { ExecutionService } from './executions/execution-service.js';
import { Journal } from './executions/journal.js';
import { createApp } from './http/app.js';
import { executeRoutes } from './http/routes/execute.js';
import { executionRoutes } from './http/routes/executions.js';
import { healthRoutes } from './http/routes/health.js';
import { metricsRoutes } from './http/routes/metrics.js';
import { openApiDocument, openApiRoutes } from './http/routes/openapi.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createRuntimes } from './runtimes/index.js';
import { limitsFromConfig } from './sandbox/limits.js';
import { SandboxHost } from './sandbox/sandbox-host.js';
import { VERSION } from './version.js';

export interface Server {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  host: SandboxHost;
  journal: Journal;
  service: ExecutionService;
  http: ServerType;
  port: number;
  /** stops accepting connections and closes the journal (running executions are the caller's) */
  close(): Promise<void>;
}

export async function startServer(config: Config, logger = createLogger(config.logLevel, config.logFormat)): Promise<Server> {
  const startedAt = Date.now();
  mkdirSync(config.workspaceRoot, { recursive: true });
  const metrics = createMetrics();
  const host = await SandboxHost.start({
    isolation: config.isolation,
    disableBwrap: config.disableBwrap,
    network: config.network,
    stateDir: config.stateDir,
    rootServerUid: config.rootServerSandboxUid,
    rootServerGid: config.rootServerSandboxGid,
    limits: limitsFromConfig(config, config.limits.defaultTimeoutSeconds),
  });
  for (const probe of host.probes) logger.info({ backend: probe.backend, available: probe.available, reason: probe.reason }, 'isolation backend probed');
  if (host.backend.name === 'none') logger.warn('ISOLATION=none: code will run WITHOUT a sandbox. Development only.');
  else logger.info({ backend: host.backend.name, protections: host.protections }, 'isolation backend selected');

  const journal = new Journal(config.stateDir);
  const service = new ExecutionService({ config, host, runtimes: createRuntimes(), journal, logger, metrics, deliverResults: Boolean(config.controlPlaneUrl) });
  const app = createApp({
    apiToken: config.apiToken,
    logger,
    routes: [
      executeRoutes(service, config.limits.defaultTimeoutSeconds),
      executionRoutes(service),
      healthRoutes({ config, host, service, version: VERSION, startedAt }),
      metricsRoutes(metrics),
      openApiRoutes(() => openApiDocument(VERSION)),
    ],
  });

  const http = await new Promise<ServerType>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(server));
    server.once('error', reject);
  });
  const port = (http.address() as AddressInfo).port;
  logger.info({ host: config.host, port, workspace: config.workspaceRoot, mode: config.controlPlaneUrl ? 'control-plane' : 'standalone' }, 'executor listening');

  return {
    config, logger, metrics, host, journal, service, http, port,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => {
          journal.close();
          resolve();
        });
        (http as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
