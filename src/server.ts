// Wiring: configuration -> logger -> sandbox host (probe, select) -> journal -> executions ->
// dependency sync -> HTTP (docs/architecture.md). Every other module receives what it needs; nothing is global.
import { mkdirSync } from 'node:fs';
import type { Server as HttpServer, ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from './config.js';
import { ControlPlane, STOP_AFTER_GRACE_MS } from './controlplane/control-plane.js';
import { startJournalRetention } from './controlplane/journal-retention.js';
import type { ExitReason } from './controlplane/lifecycle-events.js';
import { DependencySync } from './dependencies/dependency-sync.js';
import { SYNC_OUTCOMES } from './dependencies/sync-error.js';
import { ExecutionService } from './executions/execution-service.js';
import { SANDBOX_STARTS } from './executions/execution-types.js';
import { FINISHED_STATES, Journal } from './executions/journal.js';
import { SessionRemoval } from './executions/session-removal.js';
import { createApp } from './http/app.js';
import { limitConnections } from './http/connection-limit.js';
import { checkExpiredRequestsOnlyWhileConnected } from './http/expired-request-check.js';
import { executeRoutes } from './http/routes/execute.js';
import { executionRoutes } from './http/routes/executions.js';
import { healthRoutes } from './http/routes/health.js';
import { metricsRoutes } from './http/routes/metrics.js';
import { openApiDocument, openApiRoutes } from './http/routes/openapi.js';
import { sessionConfigRoutes } from './http/routes/session-config.js';
import { sessionRoutes } from './http/routes/sessions.js';
import { SessionConfigSyncRequestSchema } from './http/schemas.js';
import { createLogs, type Logger, type Logs } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createRuntimes } from './runtimes/index.js';
import { LANGUAGES } from './runtimes/runtime.js';
import { type DirectoryLock, limitsFromConfig, SandboxHost } from './sandbox/index.js';
import { lockStateDirectory } from './state-directory-lock.js';
import { VERSION } from './version.js';

export interface Server {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  host: SandboxHost;
  journal: Journal;
  service: ExecutionService;
  /** undefined in standalone mode (no CONTROL_PLANE_URL) */
  controlPlane: ControlPlane | undefined;
  http: ServerType;
  port: number;
  /**
   * SIGTERM/SIGINT: take no new executions, let the running ones finish within
   * SHUTDOWN_GRACE_SECONDS, kill the rest (recorded crashed), deliver what the control plane
   * takes in time, announce the exit, close.
   */
  shutdown(exitReason: ExitReason): Promise<void>;
  /** stops accepting, discards warm sandboxes, closes connections and the journal (running executions are the caller's) */
  close(): Promise<void>;
}

export async function startServer(config: Config, logs?: Logs): Promise<Server> {
  // before anything reads or writes the state directory: a second server there is refused
  const stateLock = await lockStateDirectory(config.stateDir);
  try {
    return await startLocked(config, logs, stateLock);
  } catch (error) {
    stateLock.release();
    throw error;
  }
}

async function startLocked(config: Config, logs: Logs | undefined, stateLock: DirectoryLock): Promise<Server> {
  const startedAt = Date.now();
  const { logger, flush: flushLogs } = logs ?? (await createLogs(config));
  mkdirSync(config.workspaceRoot, { recursive: true });
  const host = await SandboxHost.start({
    isolation: config.isolation,
    disableBwrap: config.disableBwrap,
    network: config.network,
    stateDir: config.stateDir,
    rootServerUid: config.rootServerSandboxUid,
    rootServerGid: config.rootServerSandboxGid,
    limits: limitsFromConfig(config, config.limits.defaultTimeoutSeconds),
    serverAutogroupNice: config.serverAutogroupNice,
  });
  for (const probe of host.probes) logger.info({ backend: probe.backend, available: probe.available, reason: probe.reason }, 'isolation backend probed');
  if (host.backend.name === 'none') logger.warn('ISOLATION=none: code will run WITHOUT a sandbox. Development only.');
  else logger.info({ backend: host.backend.name, protections: host.protections }, 'isolation backend selected');

  const journal = new Journal(config.stateDir, { log: logger });
  const metrics = createMetrics(() => journal.outboxStats(), { languages: LANGUAGES, finishedStates: FINISHED_STATES, sandboxStarts: SANDBOX_STARTS, syncOutcomes: SYNC_OUTCOMES });
  metrics.capacity.set(config.maxConcurrentExecutions);
  metrics.isolationBackend.set({ backend: host.backend.name, configured: config.isolation }, 1);
  const service = new ExecutionService({
    config,
    host,
    runtimes: createRuntimes(config.stateDir, (message) => logger.warn(message)),
    journal,
    logger,
    metrics,
    deliverResults: Boolean(config.controlPlaneUrl),
  });
  metrics.countWarmWith(() => service.warmSandboxes());
  // before listening: an id submitted again must find its crashed result, not run anew
  const interrupted = service.recordInterrupted();
  if (interrupted.length > 0) logger.warn({ count: interrupted.length, execution_ids: interrupted.slice(0, 100) }, 'executions interrupted by an unclean stop recorded as crashed');
  const retention = startJournalRetention(journal, { retentionHours: config.resultRetentionHours, maxBytes: config.journalMaxBytes }, logger);
  service.events.on('finished', () => retention.enforceSizeCap());
  const dependencySync = new DependencySync({
    dependencyPath: config.dependencyDir,
    stateDir: config.stateDir,
    installTimeoutSeconds: config.dependencyInstallTimeoutSeconds,
    logger,
    metrics,
    runningExecutions: () => service.activeCount,
    onExecutionFinished: (listener) => service.events.on('finished', listener),
    onPublished: () => service.invalidateWarmSandboxes(),
  });
  const sessionRemoval = new SessionRemoval({ config, service, logger, metrics });
  sessionRemoval.start();
  const controlPlane = config.controlPlaneUrl ? new ControlPlane({ url: config.controlPlaneUrl, config, journal, service, logger, metrics }) : undefined;
  const app = createApp({
    apiToken: config.apiToken,
    logger,
    routes: [
      executeRoutes(service, config.limits.defaultTimeoutSeconds, config.http.streamStallSeconds * 1000),
      executionRoutes(service),
      healthRoutes({ config, host, service, version: VERSION, startedAt, infoExtras: () => ({ ...outboxInfo(journal), ...(controlPlane ? { ready: controlPlane.readyStatus() } : {}) }) }),
      metricsRoutes(metrics),
      sessionConfigRoutes({ dependencySync, metrics }),
      sessionRoutes(config, sessionRemoval, metrics),
      openApiRoutes(() => openApiDocument(VERSION, { SessionConfigSyncRequest: SessionConfigSyncRequestSchema })),
    ],
  });

  // without an HTTP server, what started above is stopped: its timers, warm sandboxes and the
  // journal's thread would keep a process that cannot serve alive
  const stopServices = async () => {
    service.stopAccepting();
    retention.stop();
    sessionRemoval.stop();
    await controlPlane?.close();
    service.writeKeptResults();
    await journal.close();
  };
  let http: ServerType;
  try {
    http = await listen(app.fetch, config);
  } catch (error) {
    await stopServices();
    await flushLogs();
    throw error;
  }
  const checksOnlyWhileConnected = checkExpiredRequestsOnlyWhileConnected(http as HttpServer);
  limitConnections(http as HttpServer, { maxConnections: config.http.maxConnections, onRefused: () => metrics.rejected.inc({ reason: 'connection_limit' }) });
  const port = (http.address() as AddressInfo).port;
  if (!checksOnlyWhileConnected) logger.info("this Node's HTTP server checks request timeouts every second, also while idle");
  logger.info({ host: config.host, port, workspace: config.workspaceRoot, mode: config.controlPlaneUrl ? 'control-plane' : 'standalone' }, 'executor listening');
  if (config.controlPlaneUrlUnsetWord !== undefined) {
    logger.warn(
      { CONTROL_PLANE_URL: config.controlPlaneUrlUnsetWord },
      'CONTROL_PLANE_URL is a word for "unset", not a URL: running standalone, no result or lifecycle event is sent (set the control plane\'s URL to report to it)',
    );
  }
  controlPlane?.start(port);

  const closeServices = async () => {
    // warm sandboxes are idle processes of ours: a closed server keeps none
    service.stopAccepting();
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      (http as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    await stopServices();
    stateLock.release();
  };
  const close = async () => {
    await closeServices();
    await flushLogs();
  };
  const shutdown = async (exitReason: ExitReason) => {
    const stopBy = Date.now() + config.shutdownGraceSeconds * 1000 + STOP_AFTER_GRACE_MS;
    logger.info({ reason: exitReason, running: service.activeCount, grace_seconds: config.shutdownGraceSeconds }, 'shutting down: no new executions');
    service.stopAccepting();
    if (!(await settlesWithin(service.drained(), config.shutdownGraceSeconds * 1000))) {
      logger.warn({ running: service.activeCount }, 'grace period over: killing the executions still running (recorded crashed)');
      service.killAll('shutdown');
      await service.drained();
    }
    service.writeKeptResults(); // before the outbox's last flush: one that fits now is sent too
    await controlPlane?.stop({ code: 0, reason: exitReason }, stopBy);
    await closeServices();
    logger.info('stopped');
    await flushLogs();
  };
  return { config, logger, metrics, host, journal, service, controlPlane, http, port, shutdown, close };
}

/** Listens on EXECUTOR_HOST:EXECUTOR_PORT; a port in use says which setting to change. */
async function listen(fetch: Parameters<typeof serve>[0]['fetch'], config: Config): Promise<ServerType> {
  try {
    return await new Promise<ServerType>((resolve, reject) => {
      const server = serve({ fetch, port: config.port, hostname: config.host, serverOptions: httpServerOptions(config) }, () => resolve(server));
      server.once('error', reject);
    });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    throw new Error(`${config.host}:${config.port} is in use by another process: stop it, or set EXECUTOR_PORT (0 takes a free port)`, { cause: error });
  }
}

/**
 * Node's own limits, which time out only the receiving of a request: once its body is in, an
 * answer may take as long as the execution (?wait=true, ?stream=true). Expired requests are
 * looked for every second, not every 30 (Node's default), so a timeout means what it says; only
 * while a connection is open (expired-request-check.ts).
 */
function httpServerOptions(config: Config): ServerOptions {
  return {
    headersTimeout: config.http.headersTimeoutSeconds * 1000,
    requestTimeout: config.http.requestTimeoutSeconds * 1000,
    keepAliveTimeout: config.http.keepAliveTimeoutSeconds * 1000,
    connectionsCheckingInterval: 1000,
  };
}

function outboxInfo(journal: Journal): Record<string, unknown> {
  const { depth, oldestAgeSeconds } = journal.outboxStats();
  return { outbox: { depth, oldest_undelivered_age_seconds: oldestAgeSeconds } };
}

/** true when `promise` settles within `ms`, false when time ran out first. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = await Promise.race([promise.then(() => true), timeUp]);
  clearTimeout(timer);
  return settled;
}
