// The callback body is one the control plane can store: stdout, stderr and the serialized return
// value each within CALLBACK_FIELD_BYTES (its TEXT columns are 65,535 bytes), flagged when cut.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { CALLBACK_FIELD_BYTES, callbackBody, MAX_STORED_JSON_DEPTH, storedJsonBytes } from '../../src/executions/callback-body.js';
import type { ExecutionResult } from '../../src/executions/execution-types.js';
import { RawJson, stringifyWithRaw } from '../../src/executions/raw-json.js';

function result(fields: Partial<ExecutionResult>): ExecutionResult {
  return {
    execution_id: 'e',
    session_id: 's',
    language: 'python',
    status: 'success',
    stdout: '',
    stderr: '',
    exit_code: 0,
    execution_time: 0.1,
    return_value: null,
    metrics: { duration_ms: 100, cpu_time_ms: 1, peak_memory_mb: 1, io_read_bytes: 0, io_write_bytes: 0 },
    artifacts: [],
    sandbox: null,
    limit_exceeded: null,
    stdout_truncated: false,
    stderr_truncated: false,
    return_value_truncated: false,
    artifact_details: [],
    artifacts_complete: true,
    artifacts_incomplete_reason: null,
    started_at: null,
    finished_at: '2026-12-04T00:00:00.000Z',
    phases: { queue_ms: 0, prepare_ms: 0, spawn_ms: 0, run_ms: 0, artifact_scan_ms: 0, result_build_ms: 0, start: 'cold' },
    ...fields,
  };
}

describe('callback body', () => {
  it('keeps what fits as it is, flags nothing', () => {
    const body = callbackBody(result({ stdout: 'ü'.repeat(1000), return_value: RawJson.from('[1, 123456789012345678901234567890]') }));
    assert.equal(body.stdout, 'ü'.repeat(1000));
    assert.equal(stringifyWithRaw(body.return_value), '[1, 123456789012345678901234567890]');
    assert.deepEqual([body.stdout_truncated, body.stderr_truncated, body.return_value_truncated], [false, false, false]);
  });

  it('cuts stdout and stderr on a character boundary within the bound, flagged', () => {
    const body = callbackBody(result({ stdout: '😀'.repeat(40_000), stderr: 'e'.repeat(CALLBACK_FIELD_BYTES + 1) }));
    for (const text of [body.stdout, body.stderr]) {
      assert.ok(Buffer.byteLength(text) <= CALLBACK_FIELD_BYTES);
      assert.ok(!text.includes('\ufffd'));
      assert.match(text, /GET \/executions/);
    }
    assert.equal(body.stdout_truncated, true);
    assert.equal(body.stderr_truncated, true);
  });

  it('a return value over the bound (as the control plane re-serializes it) becomes null, flagged', () => {
    const big = callbackBody(result({ return_value: RawJson.from(JSON.stringify('x'.repeat(100_000))) }));
    assert.equal(big.return_value, null);
    assert.equal(big.return_value_truncated, true);
    // 20,000 non-ASCII characters: 60 KB of UTF-8 but 120 KB as \\uXXXX escapes
    const escaped = JSON.stringify('é'.repeat(20_000));
    assert.ok(storedJsonBytes(escaped) > CALLBACK_FIELD_BYTES);
    assert.equal(callbackBody(result({ return_value: RawJson.from(escaped) })).return_value, null);
  });

  it("measures a return value as Python's json.dumps stores it: JavaScript's compact separators would not fit", () => {
    // what a JavaScript handler returning new Array(25000).fill(0) sends: 50,001 bytes compact,
    // 75,000 once the control plane writes it with ", " between the items
    const zeros = JSON.stringify(new Array(25_000).fill(0));
    assert.ok(Buffer.byteLength(zeros) < CALLBACK_FIELD_BYTES);
    const body = callbackBody(result({ language: 'javascript', return_value: RawJson.from(zeros) }));
    assert.equal(body.return_value, null);
    assert.equal(body.return_value_truncated, true);
    // the same list written the way Python writes it (48,000 bytes stored) still fits
    const written = `[${new Array(16_000).fill('0').join(', ')}]`;
    assert.notEqual(callbackBody(result({ return_value: RawJson.from(written) })).return_value, null);
  });

  it("a return value the control plane's json.loads refuses (too deep, too long an integer) becomes null, flagged", () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const deep = callbackBody(result({ language: 'javascript', return_value: RawJson.from(nested(MAX_STORED_JSON_DEPTH + 1)) }));
    assert.equal(deep.return_value, null);
    assert.equal(deep.return_value_truncated, true);
    const kept = callbackBody(result({ language: 'javascript', return_value: RawJson.from(nested(MAX_STORED_JSON_DEPTH)) }));
    assert.equal(stringifyWithRaw(kept.return_value), nested(MAX_STORED_JSON_DEPTH));
    // what the real python3 does with each: the kept one loads, a much deeper one cannot
    const loads = (text: string) =>
      execFileSync('python3', ['-c', 'import json,sys\ntry:\n    json.loads(sys.stdin.read()); print("ok")\nexcept RecursionError:\n    print("too deep")'], { input: text, encoding: 'utf8' }).trim();
    assert.equal(loads(nested(MAX_STORED_JSON_DEPTH)), 'ok');
    assert.equal(loads(nested(100_000)), 'too deep');
    // an integer longer than json.loads converts (a JavaScript BigInt is sent exactly)
    assert.equal(callbackBody(result({ return_value: RawJson.from(`[${'9'.repeat(5000)}]`) })).return_value, null);
    assert.notEqual(callbackBody(result({ return_value: RawJson.from(`[${'9'.repeat(4300)}]`) })).return_value, null);
  });

  it('counts DEL as json.dumps writes it: 12,000 of them are 72,002 bytes there, not 12,002', () => {
    const dels = JSON.stringify('\u007f'.repeat(12_000));
    assert.ok(storedJsonBytes(dels) > CALLBACK_FIELD_BYTES);
    assert.equal(callbackBody(result({ return_value: RawJson.from(dels) })).return_value, null);
  });

  it("is what the real python3's json.dumps writes for ASCII values, never below it for others", () => {
    const documents = [
      JSON.stringify({ a: [1, 2, { b: 'c, d: e' }], 'k:ey': 'va,l', n: null, t: true, f: false }),
      JSON.stringify([1e-7, 1.5e300, 0.000015, -0, 12345678901234567000, 1e21, 'e1', 'x\ny"z\\']),
      JSON.stringify({ text: 'é😀中', nested: [[[]], {}], escaped: '\u0001\t', del: '\u007f'.repeat(3) }),
      '[1, 2, 3]',
      '{ "spaced" :  [ 1 ,2 ] , "e" : 1E5, "big": 1e400, "f": 12345678901234567.5 }',
      JSON.stringify(Array.from({ length: 300 }, (_, i) => (i % 2 ? -1 : 1) * Math.random() * 10 ** ((i % 40) - 20))),
    ];
    const python = execFileSync(
      'python3',
      ['-c', 'import json,sys\nfor t in json.load(sys.stdin): v=json.loads(t); print(len(json.dumps(v).encode()), len(json.dumps(v, ensure_ascii=False).encode()))'],
      { input: JSON.stringify(documents), encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .map((line) => line.split(' ').map(Number));
    documents.forEach((doc, i) => {
      const [ascii, utf8] = python[i]!;
      const measured = storedJsonBytes(doc);
      assert.ok(measured >= ascii! && measured >= utf8!, `${doc}: measured ${measured}, python ${ascii} / ${utf8}`);
      // exact where no character is beyond ASCII
      if (!/[^\x00-\x7f]/.test(doc)) assert.equal(measured, ascii, doc);
    });
  });
});
