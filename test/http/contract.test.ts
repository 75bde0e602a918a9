// CONTRACT.md sections 2 and 3 as the control plane exercises them: POST /execute without a query
// answers 200 PENDING at once (the CP treats anything else as an error), the field rules and
// defaults, and the result body every key of which the CP stores (bounded text, never-null
// exit_code and execution_time, one of four statuses). The callback body is read from the
// journal's outbox copy, which is exactly what gets POSTed to the control plane (its delivery:
// headers, retries, outbox, is tested with the control-plane module, test/controlplane).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, body, describeResult, executionId, OUTPUT_LIMIT_BYTES, sessionId, sleep, TestServer, type CallbackBody } from '../helpers/http.js';

const CALLBACK_KEYS = ['status', 'stdout', 'stderr', 'exit_code', 'execution_time', 'return_value', 'metrics', 'artifacts'];

/** Every key present, each of the type the control plane's columns take. */
function assertCallbackShape(cb: CallbackBody, label: string): void {
  for (const key of CALLBACK_KEYS) assert.ok(key in cb, `${label}: callback body lacks '${key}': ${JSON.stringify(cb).slice(0, 500)}`);
  assert.ok(['success', 'failed', 'timeout', 'crashed'].includes(cb.status), `${label}: status ${cb.status}`);
  assert.equal(typeof cb.stdout, 'string', label);
  assert.equal(typeof cb.stderr, 'string', label);
  assert.ok(Buffer.byteLength(cb.stdout) <= OUTPUT_LIMIT_BYTES, `${label}: stdout ${Buffer.byteLength(cb.stdout)} bytes`);
  assert.ok(Buffer.byteLength(cb.stderr) <= OUTPUT_LIMIT_BYTES, `${label}: stderr ${Buffer.byteLength(cb.stderr)} bytes`);
  assert.ok(Number.isInteger(cb.exit_code), `${label}: exit_code ${cb.exit_code}`);
  assert.equal(typeof cb.execution_time, 'number', `${label}: execution_time ${cb.execution_time}`);
  assert.ok(Number.isFinite(cb.execution_time) && cb.execution_time >= 0, `${label}: execution_time ${cb.execution_time}`);
  if (cb.metrics !== null) {
    assert.equal(typeof cb.metrics, 'object', label);
    assert.equal(typeof cb.metrics.duration_ms, 'number', `${label}: metrics.duration_ms must be a number`);
  }
  assert.ok(Array.isArray(cb.artifacts), label);
  for (const a of cb.artifacts) assert.ok(typeof a === 'string' && a.length > 0, `${label}: artifact ${JSON.stringify(a)}`);
}

describe('contract: POST /execute (section 2)', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start();
  });
  after(() => t.stop());

  it('acknowledges with exactly 200 {"execution_id","status":"PENDING","message":"Execution submitted"}', async () => {
    const id = `exec_20260312170038_${Date.now().toString(16)}`;
    const reply = await t.submit({ execution_id: id, session_id: sessionId(), code: 'echo acknowledged', language: 'shell' });
    assert.equal(reply.status, 200, reply.text);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(reply.json, { execution_id: id, status: 'PENDING', message: 'Execution submitted' });
    // and it really ran: the result is kept in standalone mode too
    const state = await t.finished(id);
    assert.equal(state.state, 'success');
    assert.equal(state.result?.stdout, 'acknowledged\n');
  });

  it('answers at once, without waiting for the execution to end', async () => {
    const id = executionId('slow');
    const reply = await t.submit({ execution_id: id, session_id: sessionId(), code: 'sleep 3', language: 'shell' });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.status, 'PENDING');
    const now = await t.state(id);
    assert.ok(['pending', 'running'].includes(now.json.state), `the ack came after the end: ${now.text}`);
    assert.equal(now.json.result, null);
  });

  it('takes each of python, javascript and shell', async () => {
    const codes = {
      python: 'def handler(event):\n    return event["n"] * 2\n',
      javascript: 'module.exports.handler = (event) => event.n * 2;',
      shell: 'echo $(( $(echo "$EVENT_JSON" | sed "s/[^0-9]//g") * 2 ))',
    };
    await Promise.all(
      Object.entries(codes).map(async ([language, code]) => {
        const r = await t.run({ code, language, event: { n: 21 } });
        assertSuccess(r);
        if (language === 'shell') assert.equal(r.stdout, '42\n');
        else assert.equal(r.return_value, 42, describeResult(r));
      }),
    );
  });

  it('accepts empty code (a shell that does nothing succeeds; a python without handler fails clearly)', async () => {
    const sh = await t.run({ code: '', language: 'shell' });
    assertSuccess(sh);
    assert.equal(sh.stdout, '');
    const py = await t.run({ code: '', language: 'python' });
    assert.equal(py.status, 'failed', describeResult(py));
    assert.match(py.stderr, /sandbox-executor: no handler found/);
  });

  it('defaults: event {} and timeout 300 s', async () => {
    const r = await t.run({
      code: 'def handler(event, context):\n    return {"event": event, "timeout": context.timeout_seconds}\n',
      language: 'python',
    });
    assertSuccess(r);
    assert.deepEqual(r.return_value, { event: {}, timeout: 300 });
    // the enforced CPU limit follows the execution's timeout
    assert.equal(r.sandbox?.rlimits.cpu_seconds, 300);
  });

  it('uses the request timeout (1..3600 s, whole seconds)', async () => {
    const r = await t.run({ code: 'def handler(event, context):\n    return context.timeout_seconds\n', language: 'python', timeout: 3600 });
    assertSuccess(r);
    assert.equal(r.return_value, 3600);
    assert.equal(r.sandbox?.rlimits.cpu_seconds, 3600);
  });

  it('ignores unknown extra fields', async () => {
    const reply = await t.submit({
      ...body({ code: 'echo extra', language: 'shell' }),
      callback_url: 'http://example.invalid/',
      priority: 7,
      metadata: { user: 'u1', tags: ['a'] },
      execution_mode: 'async',
    });
    assert.equal(reply.status, 200, reply.text);
    const state = await t.finished(reply.json.execution_id);
    assert.equal(state.result?.stdout, 'extra\n');
  });

  it('keeps the execution_id exactly as sent (no pattern enforced)', async () => {
    const id = `weird id/with:chars?&#${Date.now()}`;
    const reply = await t.submit({ execution_id: id, session_id: sessionId(), code: 'true', language: 'shell' });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.execution_id, id);
    const state = await t.finished(id);
    assert.equal(state.execution_id, id);
    assert.equal(state.state, 'success');
  });
});

describe('contract: the result the control plane stores (section 3)', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start();
  });
  after(() => t.stop());

  it('success: every key present, the right types, and the same values as the full result', async () => {
    const r = await t.run({ code: 'def handler(event):\n    print("out")\n    return {"ok": True}\n', language: 'python' });
    assertSuccess(r);
    const cb = t.callbackOf(r.execution_id);
    assertCallbackShape(cb, 'success');
    assert.equal(cb.status, 'success');
    assert.equal(cb.exit_code, 0);
    assert.equal(cb.stdout, 'out\n');
    assert.deepEqual(cb.return_value, { ok: true });
    for (const key of CALLBACK_KEYS) assert.deepEqual(cb[key as keyof CallbackBody], r[key as keyof CallbackBody], key);
  });

  it('failed: exit_code is the process exit code, never null', async () => {
    const r = await t.run({ code: 'echo bad >&2; exit 7', language: 'shell' });
    const cb = t.callbackOf(r.execution_id);
    assertCallbackShape(cb, 'failed');
    assert.equal(cb.status, 'failed');
    assert.equal(cb.exit_code, 7);
    assert.equal(cb.stderr, 'bad\n');
    assert.equal(cb.return_value, null);
  });

  it('timeout: status "timeout", exit_code and execution_time still numbers', async () => {
    const r = await t.run({ code: 'sleep 30', language: 'shell', timeout: 1 });
    const cb = t.callbackOf(r.execution_id);
    assertCallbackShape(cb, 'timeout');
    assert.equal(cb.status, 'timeout');
    assert.ok(cb.execution_time >= 0.9 && cb.execution_time < 20, `execution_time ${cb.execution_time}`);
  });

  it('crashed: an execution stopped by the executor shutting down is reported, with every key', async () => {
    const t2 = await TestServer.start();
    try {
      const id = executionId('crash');
      const ack = await t2.submit({ execution_id: id, session_id: sessionId(), code: 'sleep 60', language: 'shell' });
      assert.equal(ack.status, 200);
      // wait until it really runs, then shut the executor down
      for (let i = 0; i < 200 && (await t2.state(id)).json.state !== 'running'; i++) await sleep(25);
      t2.server.service.killAll('shutdown');
      const state = await t2.finished(id);
      assert.equal(state.state, 'crashed');
      const cb = t2.callbackOf(id);
      assertCallbackShape(cb, 'crashed');
      assert.equal(cb.status, 'crashed');
      assert.match(cb.stderr, /shut down/);
    } finally {
      await t2.stop();
    }
  });

  it('huge stdout and stderr are bounded to 60 KiB of UTF-8 each, with a truncation notice', async () => {
    const r = await t.run({
      code: 'import sys\ndef handler(event):\n    sys.stdout.write("é" * 200000)\n    sys.stderr.write("x" * 300000)\n    return 1\n',
      language: 'python',
    });
    assertSuccess(r);
    const cb = t.callbackOf(r.execution_id);
    assertCallbackShape(cb, 'bounded');
    assert.match(cb.stdout, /output truncated/);
    assert.match(cb.stderr, /output truncated/);
    // nothing the CP's 64 KiB text column refuses
    assert.ok(Buffer.byteLength(cb.stdout) > 50 * 1024, 'the kept part is most of the limit, not nothing');
  });

  it('return_value: NaN and Infinity become null; a big serialized return value stays bounded', async () => {
    const r = await t.run({ code: 'def handler(event):\n    return [float("nan"), float("inf"), 1]\n', language: 'python' });
    assertSuccess(r);
    assert.deepEqual(t.callbackOf(r.execution_id).return_value, [null, null, 1]);
    const big = await t.run({ code: 'def handler(event):\n    return "x" * (3 * 1024 * 1024)\n', language: 'python' });
    const cb = t.callbackOf(big.execution_id);
    assertCallbackShape(cb, 'big return');
    assert.ok(JSON.stringify(cb.return_value).length <= 1024 * 1024 + 64, 'return value not bounded');
    assert.equal(big.return_value_truncated, true, describeResult(big));
    assert.match(big.stderr, /return value was larger/);
  });

  it('artifacts: workspace-relative paths, never empty strings', async () => {
    const r = await t.run({ code: 'mkdir -p out && echo a > out/a.txt && echo b > b.txt', language: 'shell' });
    assertSuccess(r);
    const cb = t.callbackOf(r.execution_id);
    assertCallbackShape(cb, 'artifacts');
    assert.deepEqual(cb.artifacts, ['b.txt', 'out/a.txt']);
  });
});
