// Result building from what a sandbox run left behind (pure, no sandbox): status and exit code
// for each way a run ends, the notices appended to stderr, the result channel's return value,
// and output bounded per stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildResult, MAX_RETURN_VALUE_BYTES, readChannel, type FinishedRun } from '../../src/executions/result-builder.js';
import { RawJson } from '../../src/executions/raw-json.js';
import type { CapturedStream, RunResult } from '../../src/sandbox/index.js';

const stream = (text: string, totalBytes = Buffer.byteLength(text)): CapturedStream => ({ head: Buffer.from(text), totalBytes, truncated: totalBytes > Buffer.byteLength(text) });

function run(overrides: Partial<RunResult> = {}): RunResult {
  return {
    backend: 'native',
    exitCode: 0,
    signal: null,
    killedBy: null,
    execError: null,
    stdout: stream(''),
    stderr: stream(''),
    result: null,
    spawnMs: 1,
    wallMs: 1234.5678,
    userCpuMs: 10,
    systemCpuMs: 5,
    peakMemoryKb: 2048,
    ioReadBytes: 1,
    ioWriteBytes: 2,
    processesReaped: 1,
    report: null,
    ...overrides,
  };
}

function finished(r: RunResult, resultChannel = true, outputBytesPerStream = 1024): FinishedRun {
  return {
    request: { execution_id: 'e-1', session_id: 's-1', language: 'python', timeout: 7 },
    run: r,
    limits: {} as FinishedRun['limits'],
    resultChannel,
    bounds: { outputBytesPerStream, outputTotalBytes: 1 << 20, fileSizeMb: 16 },
    artifacts: [],
    artifactDetails: [],
    artifactsIncomplete: null,
    sandbox: null,
    startedAt: '2026-01-01T00:00:00.000Z',
    phases: { queue_ms: 0, prepare_ms: 0, spawn_ms: 0, run_ms: 0, artifact_scan_ms: 0, result_build_ms: 0, start: 'cold' },
  };
}

describe('readChannel', () => {
  it('reads a return value, an error, or nothing', () => {
    assert.deepEqual(readChannel({ result: stream('return\n{"a": [1, 2]}') }), { kind: 'return', value: RawJson.from('{"a": [1, 2]}'), tooLarge: false });
    assert.deepEqual(readChannel({ result: stream('error\nZeroDivisionError: division by zero') }), { kind: 'error', message: 'ZeroDivisionError: division by zero' });
    assert.deepEqual(readChannel({ result: null }), { kind: 'none' });
    assert.deepEqual(readChannel({ result: stream('') }), { kind: 'none' });
  });

  it('takes what the code wrote to the channel itself as nothing, not as a value', () => {
    assert.deepEqual(readChannel({ result: stream('return\n{not json') }), { kind: 'none' });
    assert.deepEqual(readChannel({ result: stream('hello\n1') }), { kind: 'none' });
  });

  it('replaces a return value beyond the bound (or cut by the capture) by a too-large marker', () => {
    const big = `"${'x'.repeat(MAX_RETURN_VALUE_BYTES)}"`;
    assert.deepEqual(readChannel({ result: stream(`return\n${big}`) }), { kind: 'return', value: null, tooLarge: true });
    assert.deepEqual(readChannel({ result: stream('return\n[1,', 1 << 21) }), { kind: 'return', value: null, tooLarge: true });
  });
});

describe('buildResult', () => {
  it('a clean exit with a return value: success, the value, metrics in ms and MiB', () => {
    const result = buildResult(finished(run({ stdout: stream('hi\n'), result: stream('return\n42') })));
    assert.equal(result.status, 'success');
    assert.equal(result.exit_code, 0);
    assert.deepEqual(result.return_value, RawJson.from('42'));
    assert.equal(result.stdout, 'hi\n');
    assert.equal(result.stderr, '');
    assert.equal(result.execution_time, 1.235);
    assert.deepEqual(result.metrics, { duration_ms: 1234.568, cpu_time_ms: 15, peak_memory_mb: 2, io_read_bytes: 1, io_write_bytes: 2 });
  });

  it('a timeout: status timeout, exit code -1, the notice after the output on stderr', () => {
    const result = buildResult(finished(run({ exitCode: null, signal: 'SIGKILL', killedBy: 'timeout', stderr: stream('partial') })));
    assert.equal(result.status, 'timeout');
    assert.equal(result.exit_code, -1);
    assert.equal(result.stderr, 'partial\n[sandbox-executor] execution timed out after 7 s: every process of the sandbox was killed\n');
    assert.equal(result.limit_exceeded, 'timeout');
  });

  it('exit 0 without the handler returning: failed, exit code 1, saying why', () => {
    const result = buildResult(finished(run()));
    assert.equal(result.status, 'failed');
    assert.equal(result.exit_code, 1);
    assert.match(result.stderr, /the process exited before the handler returned a value/);
  });

  it('exit 0 without a result channel (shell): success', () => {
    assert.equal(buildResult(finished(run(), false)).status, 'success');
  });

  it('a signal: exit code 128 + its number, and a notice', () => {
    const result = buildResult(finished(run({ exitCode: null, signal: 'SIGSEGV' }), false));
    assert.equal(result.status, 'failed');
    assert.equal(result.exit_code, 128 + 11);
    assert.match(result.stderr, /killed by SIGSEGV/);
  });

  it('a return value too large: null, flagged, with a notice', () => {
    const result = buildResult(finished(run({ result: stream('return\n[1,', 1 << 21) })));
    assert.equal(result.return_value, null);
    assert.equal(result.return_value_truncated, true);
    assert.match(result.stderr, new RegExp(`larger than ${MAX_RETURN_VALUE_BYTES} bytes`));
  });

  it('bounds each stream and says it was cut', () => {
    const result = buildResult(finished(run({ stdout: stream('x'.repeat(2000)) }), false, 1024));
    assert.equal(result.stdout_truncated, true);
    assert.ok(Buffer.byteLength(result.stdout) <= 1024 + 200, `${Buffer.byteLength(result.stdout)} bytes kept`);
    assert.equal(result.stderr_truncated, false);
  });
});
