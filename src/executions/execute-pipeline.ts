// One admitted execution, start to result: its session's sandbox (warm or created now), its input
// files, the run with bounded output published as it comes, the artifact scan, and the result
// built from all of it. The result goes back to the caller (ExecutionService), which commits it.
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { primedRuntimeCanTake, type Language, type Runtime } from '../runtimes/runtime.js';
import { limitsFromConfig, SandboxSpawnError, type RunResult, type SandboxHost, type SandboxRun } from '../sandbox/index.js';
import { changedSince, describe, snapshot } from './artifacts.js';
import type { ExecutionRequest, ExecutionResult, SandboxStart } from './execution-types.js';
import type { OutputSubscriptions } from './output-subscriptions.js';
import { buildResult, crashedResult, MAX_RETURN_VALUE_BYTES, ms } from './result-builder.js';
import { runtimeEnvironment, type SessionSandboxes } from './session-sandboxes.js';

/** Each scan's bounds (entries, ms) and the bytes hashed per execution: see SECURITY.md. */
const ARTIFACT_SCAN = { maxEntries: 20_000, maxMillis: 2_000, hashBytes: 256 * 1024 * 1024 };

export interface ExecutePipelineDeps {
  config: Config;
  host: SandboxHost;
  runtimes: Record<Language, Runtime>;
  logger: Logger;
  metrics: Metrics;
  sandboxes: SessionSandboxes;
  output: OutputSubscriptions;
}

export interface ExecutionTiming {
  /** performance.now() when it was admitted */
  acceptedAt: number;
  /** performance.now() and ISO time when it started */
  started: number;
  startedAt: string;
}

export class ExecutePipeline {
  constructor(private readonly deps: ExecutePipelineDeps) {}

  /** Runs the execution; onRun receives its sandbox run as soon as there is one (to kill it). */
  async run(request: ExecutionRequest, timing: ExecutionTiming, onRun: (run: SandboxRun) => void): Promise<ExecutionResult> {
    const { config, host, runtimes, metrics, sandboxes, output } = this.deps;
    const log = this.deps.logger.child({ execution_id: request.execution_id, session_id: request.session_id });
    const runtime = runtimes[request.language];
    const session = sandboxes.acquire(request.session_id, request.language);
    const { warm, paths } = session;
    try {
      const context = { execution_id: request.execution_id, session_id: request.session_id, language: request.language, timeout_seconds: request.timeout };
      session.writeInputs({
        [runtime.codeFileName]: request.code,
        'event.json': request.eventText ?? JSON.stringify(request.event),
        ...(runtime.readsContext ? { 'context.json': JSON.stringify(context) } : {}),
      });

      const before = await snapshot(paths.workspace, ARTIFACT_SCAN);
      const limits = limitsFromConfig(config, request.timeout);
      const policy = session.policy(limits);
      const command = runtime.command(config.limits.memoryMb);
      const env = { ...runtimeEnvironment(command), ...request.env_vars };
      const prepared = performance.now();
      let result: RunResult;
      let start: SandboxStart = 'cold';
      try {
        const sandboxCommand = { argv: command.argv, env, cwd: '/workspace' };
        // one decoder per stream: a character split between two reads of the pipe is streamed whole
        const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
        const publish = (stream: 'stdout' | 'stderr', text: string) => {
          if (text) output.publish(request.execution_id, { stream, text });
        };
        const runOptions = {
          timeoutMs: request.timeout * 1000,
          captureBytesPerStream: config.limits.outputBytesPerStream,
          maxTotalOutputBytes: config.limits.outputTotalBytes,
          resultChannel: runtime.resultChannel,
          maxResultBytes: MAX_RETURN_VALUE_BYTES + 64,
          onOutput: (stream: 'stdout' | 'stderr', chunk: Buffer) => publish(stream, decoders[stream].write(chunk)),
        };
        // a warm sandbox when one waits (its primed runtime when it is this language's and the
        // request sets nothing the runtime reads at start-up), else a sandbox created now
        const primed = warm?.language === request.language && primedRuntimeCanTake(request.env_vars);
        const warmRun = primed ? warm.warm.release(request.env_vars, runOptions, limits.cpuSeconds) : warm?.warm.run(sandboxCommand, runOptions, limits.cpuSeconds);
        start = warmRun ? (primed ? 'primed' : 'warm') : 'cold';
        const run = warmRun ?? host.run(policy, sandboxCommand, runOptions);
        // a session left with no sandbox waiting gets one while this command runs; else after it
        sandboxes.refillIfNoneWaiting(request.session_id, request.language);
        onRun(run);
        if (host.backend.name === 'none') log.warn('ISOLATION=none: this execution runs WITHOUT any sandbox');
        result = await run.result;
        publish('stdout', decoders.stdout.end());
        publish('stderr', decoders.stderr.end());
      } catch (error) {
        if (!(error instanceof SandboxSpawnError)) throw error;
        log.error({ step: error.step, errno: error.errno }, 'sandbox could not be created');
        return crashedResult(request, `the sandbox could not be created: ${error.message}`, null, ms(performance.now() - timing.acceptedAt));
      }
      metrics.spawnLatency.observe({ backend: result.backend }, result.spawnMs / 1000);

      const scanStarted = performance.now();
      const changed = await changedSince(paths.workspace, before, ARTIFACT_SCAN, config.limits.artifacts);
      const artifacts = changed.paths;
      const artifactDetails = await describe(paths.workspace, artifacts, ARTIFACT_SCAN);
      const built = performance.now();
      const phases = {
        queue_ms: ms(timing.started - timing.acceptedAt),
        prepare_ms: ms(prepared - timing.started),
        spawn_ms: ms(result.spawnMs),
        run_ms: ms(result.wallMs),
        artifact_scan_ms: ms(built - scanStarted),
        result_build_ms: 0,
        start,
      };
      const full = buildResult({
        request,
        run: result,
        limits,
        resultChannel: runtime.resultChannel,
        bounds: { outputBytesPerStream: config.limits.outputBytesPerStream, outputTotalBytes: config.limits.outputTotalBytes, fileSizeMb: config.limits.fileSizeMb },
        artifacts,
        artifactDetails,
        artifactsIncomplete: changed.incomplete,
        sandbox: host.attestation(result, limits),
        startedAt: timing.startedAt,
        phases,
      });
      if (full.stdout_truncated) metrics.truncations.inc({ stream: 'stdout' });
      if (full.stderr_truncated) metrics.truncations.inc({ stream: 'stderr' });
      full.phases.result_build_ms = ms(performance.now() - built);
      log.info(
        {
          status: full.status,
          exit_code: full.exit_code,
          duration_ms: full.metrics.duration_ms,
          stdout_bytes: result.stdout.totalBytes,
          stderr_bytes: result.stderr.totalBytes,
          artifacts: artifacts.length,
          limit: full.limit_exceeded,
        },
        'execution finished',
      );
      return full;
    } finally {
      session.release();
    }
  }
}
