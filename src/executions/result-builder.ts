// Building an execution's result from what its sandbox run left behind: status, exit code,
// notices on stderr, the return value from the runtime's result channel, bounded output. Pure:
// the same inputs give the same result (but for finished_at), nothing is written or counted here.
import { signalNumber, watchdogNotice, type Attestation, type Limits, type RunResult } from '../sandbox/index.js';
import type { ArtifactDetail, ArtifactsIncompleteReason } from './artifacts.js';
import { boundedUtf8 } from './bounded-text.js';
import type { ExecutionRequest, ExecutionResult, FinishedStatus } from './execution-types.js';
import { RawJson } from './raw-json.js';

/** Return values larger than this (serialized) are replaced by null, with a notice on stderr. */
export const MAX_RETURN_VALUE_BYTES = 1024 * 1024;

export const INTERRUPTED_REASON = 'the executor restarted while this execution was running (unclean stop: SIGKILL, OOM or crash)';

/** The output bounds of the configuration the result is cut to, and that its notices name. */
export interface OutputBounds {
  outputBytesPerStream: number;
  outputTotalBytes: number;
  fileSizeMb: number;
}

export interface FinishedRun {
  request: Pick<ExecutionRequest, 'execution_id' | 'session_id' | 'language' | 'timeout'>;
  run: RunResult;
  limits: Limits;
  /** whether the runtime reports its handler's return through the result channel */
  resultChannel: boolean;
  bounds: OutputBounds;
  artifacts: string[];
  artifactDetails: ArtifactDetail[];
  artifactsIncomplete: ArtifactsIncompleteReason | null;
  /** what the sandbox enforced (SandboxHost.attestation) */
  sandbox: Attestation | null;
  startedAt: string;
  phases: ExecutionResult['phases'];
}

export function buildResult(finished: FinishedRun): ExecutionResult {
  const { request, run, limits, bounds } = finished;
  const notices: string[] = [];
  const channel = readChannel(run);
  let status: FinishedStatus;
  let exitCode: number;
  let returnValue: RawJson | null = null;
  let returnValueTruncated = false;

  if (run.killedBy === 'timeout') {
    status = 'timeout';
    exitCode = -1;
    notices.push(`execution timed out after ${request.timeout} s: every process of the sandbox was killed`);
  } else if (run.killedBy === 'shutdown') {
    status = 'crashed';
    exitCode = -1;
    notices.push('the executor shut down before this execution finished: every process of the sandbox was killed');
  } else {
    exitCode = run.exitCode ?? (run.signal ? 128 + signalNumber(run.signal) : -1);
    const runtimeOk = !finished.resultChannel || channel.kind === 'return';
    status = run.exitCode === 0 && runtimeOk && !run.killedBy ? 'success' : 'failed';
    if (run.execError) notices.push(`could not start the interpreter: ${run.execError}`);
    if (run.killedBy === 'cpu') notices.push('killed: the CPU time limit was reached');
    if (run.killedBy === 'file_size') notices.push(`killed: a file grew beyond the limit of ${bounds.fileSizeMb} MiB`);
    if (run.killedBy === 'output') notices.push(`killed: the output exceeded ${bounds.outputTotalBytes} bytes`);
    const limitNotice = run.killedBy && run.report ? watchdogNotice(run.killedBy, run.report, limits) : null;
    if (limitNotice) notices.push(limitNotice);
    if (run.signal && !run.killedBy) notices.push(`the process was killed by ${run.signal}`);
    if (status === 'failed' && run.exitCode === 0 && channel.kind === 'none') {
      notices.push('the process exited before the handler returned a value');
      exitCode = 1;
    }
  }
  if (channel.kind === 'return') {
    if (channel.tooLarge) {
      returnValueTruncated = true;
      notices.push(`the return value was larger than ${MAX_RETURN_VALUE_BYTES} bytes serialized and was replaced by null`);
    } else {
      returnValue = channel.value;
    }
  }
  const limit = bounds.outputBytesPerStream;
  const stdout = boundedUtf8(run.stdout.head, run.stdout.totalBytes, limit);
  const stderrHead =
    notices.length > 0
      ? Buffer.concat([
          run.stderr.head,
          Buffer.from(`${run.stderr.head.length > 0 && !run.stderr.head.toString().endsWith('\n') ? '\n' : ''}${notices.map((n) => `[sandbox-executor] ${n}`).join('\n')}\n`),
        ])
      : run.stderr.head;
  const stderr = boundedUtf8(stderrHead, run.stderr.totalBytes + (stderrHead.length - run.stderr.head.length), limit);
  return {
    execution_id: request.execution_id,
    session_id: request.session_id,
    language: request.language,
    status,
    stdout: stdout.text,
    stderr: stderr.text,
    exit_code: exitCode,
    execution_time: Math.round(run.wallMs) / 1000,
    return_value: returnValue,
    metrics: {
      duration_ms: ms(run.wallMs),
      cpu_time_ms: ms(run.userCpuMs + run.systemCpuMs),
      peak_memory_mb: run.peakMemoryKb === null ? null : Math.round((run.peakMemoryKb / 1024) * 100) / 100,
      io_read_bytes: run.ioReadBytes,
      io_write_bytes: run.ioWriteBytes,
    },
    artifacts: finished.artifacts,
    sandbox: finished.sandbox,
    limit_exceeded: run.killedBy,
    stdout_truncated: stdout.truncated,
    stderr_truncated: stderr.truncated,
    return_value_truncated: returnValueTruncated,
    artifact_details: finished.artifactDetails,
    artifacts_complete: finished.artifactsIncomplete === null,
    artifacts_incomplete_reason: finished.artifactsIncomplete,
    started_at: finished.startedAt,
    finished_at: new Date().toISOString(),
    phases: finished.phases,
  };
}

/** The result of an execution that never ran to an end of its own: only the reason, on stderr. */
export function crashedResult(execution: Pick<ExecutionRequest, 'execution_id' | 'session_id' | 'language'>, reason: string, startedAt: string | null, queueMs: number): ExecutionResult {
  return {
    execution_id: execution.execution_id,
    session_id: execution.session_id,
    language: execution.language,
    status: 'crashed',
    stdout: '',
    stderr: `[sandbox-executor] ${reason}\n`,
    exit_code: -1,
    execution_time: 0,
    return_value: null,
    metrics: { duration_ms: 0, cpu_time_ms: null, peak_memory_mb: null, io_read_bytes: null, io_write_bytes: null },
    artifacts: [],
    sandbox: null,
    limit_exceeded: null,
    stdout_truncated: false,
    stderr_truncated: false,
    return_value_truncated: false,
    artifact_details: [],
    artifacts_complete: true,
    artifacts_incomplete_reason: null,
    started_at: startedAt,
    finished_at: new Date().toISOString(),
    phases: { queue_ms: queueMs, prepare_ms: 0, spawn_ms: 0, run_ms: 0, artifact_scan_ms: 0, result_build_ms: 0, start: 'cold' },
  };
}

export type Channel = { kind: 'none' } | { kind: 'error'; message: string } | { kind: 'return'; value: RawJson | null; tooLarge: boolean };

/** The runtime's private result channel: "return\n<json>" or "error\n<message>". */
export function readChannel(run: Pick<RunResult, 'result'>): Channel {
  if (!run.result || run.result.totalBytes === 0) return { kind: 'none' };
  const text = run.result.head.toString('utf8');
  const newline = text.indexOf('\n');
  const kind = newline < 0 ? text : text.slice(0, newline);
  const payload = newline < 0 ? '' : text.slice(newline + 1);
  if (kind === 'error') return { kind: 'error', message: payload };
  if (kind !== 'return') return { kind: 'none' };
  if (run.result.truncated || Buffer.byteLength(payload) > MAX_RETURN_VALUE_BYTES) return { kind: 'return', value: null, tooLarge: true };
  try {
    return { kind: 'return', value: RawJson.from(payload), tooLarge: false };
  } catch {
    return { kind: 'none' }; // not what our bootstrap writes: the code wrote to the channel itself
  }
}

/** Milliseconds rounded to the microsecond. */
export function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}
