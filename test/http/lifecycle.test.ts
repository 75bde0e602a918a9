// The life of an execution: wall timeouts (the request's, and __timeout in the event overriding
// it) that leave nothing running, CPU and memory limits from configuration, the concurrency limit
// (503 beyond it, nothing lost), idempotency per execution_id (the control plane retries), and
// the states GET /executions/{id} shows on the way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { processesWithMarker, pollFor, uniqueMarker, killMarked } from '../helpers/processes.js';
import { assertNothingRunning, assertProblem, assertSuccess, body, describeResult, leaveBehind, sessionId, sleep, TestServer } from '../helpers/http.js';

/** Polls GET until the execution shows `state`; fails after timeoutMs. */
async function waitForState(t: TestServer, id: string, state: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await t.state(id);
    if (reply.status === 200 && reply.json.state === state) return;
    assert.ok(Date.now() < deadline, `${id} never reached ${state}: last ${reply.status} ${reply.text.slice(0, 300)}`);
    await sleep(20);
  }
}

/** Waits until a process carrying marker shows up in the host's /proc. */
async function assertStarted(marker: string, timeoutMs = 10_000): Promise<void> {
  const found = await pollFor(() => (processesWithMarker(marker).length > 0 ? true : undefined), timeoutMs, 20);
  assert.ok(found, `the process marked ${marker} never started`);
}

describe('lifecycle', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start();
  });
  after(() => t.stop());

  describe('timeouts', () => {
    it('the request timeout stops the execution: status timeout, and every process of it is gone', async () => {
      const marker = uniqueMarker('timeout');
      try {
        const request = body({ code: `${leaveBehind(marker)}\necho started\nsleep 120`, language: 'shell', timeout: 2 });
        assert.equal((await t.submit(request)).status, 200);
        await assertStarted(marker);
        const state = await t.finished(request.execution_id);
        const r = state.result!;
        assert.equal(state.state, 'timeout');
        assert.equal(r.status, 'timeout', describeResult(r));
        assert.equal(r.limit_exceeded, 'timeout');
        assert.equal(r.exit_code, -1);
        assert.ok(r.execution_time >= 1.9 && r.execution_time < 20, `execution_time ${r.execution_time}`);
        assert.match(r.stderr, /timed out after 2 s/);
        assert.equal(r.stdout, 'started\n');
        await assertNothingRunning(marker);
      } finally {
        killMarked(marker);
      }
    });

    it('__timeout in the event overrides the request timeout, both ways', async () => {
      const shorter = await t.run({ code: 'sleep 30', language: 'shell', timeout: 300, event: { __timeout: 1 } });
      assert.equal(shorter.status, 'timeout', describeResult(shorter));
      assert.match(shorter.stderr, /timed out after 1 s/);
      assert.ok(shorter.execution_time < 15, `${shorter.execution_time} s`);
      const longer = await t.run({ code: 'sleep 2; echo made it', language: 'shell', timeout: 1, event: { __timeout: 30 } });
      assertSuccess(longer);
      assert.equal(longer.stdout, 'made it\n');
    });

    it('a python busy loop and its subprocesses are stopped at the timeout', async () => {
      const marker = uniqueMarker('pytimeout');
      try {
        const code = `import subprocess\nsubprocess.Popen(["/bin/bash", "-c", "sleep 120; : ${marker}"])\ndef handler(event):\n    while True:\n        pass\n`;
        const request = body({ code, language: 'python', timeout: 2 });
        assert.equal((await t.submit(request)).status, 200);
        await assertStarted(marker);
        const state = await t.finished(request.execution_id);
        assert.equal(state.state, 'timeout', describeResult(state.result!));
        await assertNothingRunning(marker);
      } finally {
        killMarked(marker);
      }
    });

    it('a successful execution leaves nothing behind either', async () => {
      const marker = uniqueMarker('leftover');
      try {
        const request = body({ code: `${leaveBehind(marker)}\nsleep 1.5\necho ok`, language: 'shell', timeout: 30 });
        assert.equal((await t.submit(request)).status, 200);
        await assertStarted(marker);
        const state = await t.finished(request.execution_id);
        assert.equal(state.state, 'success', describeResult(state.result!));
        await assertNothingRunning(marker);
      } finally {
        killMarked(marker);
      }
    });
  });

  describe('GET /executions/{id} and ?wait=true', () => {
    it('shows the execution pending or running, then finished with its result', async () => {
      const request = body({ code: 'echo start; sleep 1.5; echo end', language: 'shell' });
      assert.equal((await t.submit(request)).status, 200);
      const first = await t.state(request.execution_id);
      assert.equal(first.status, 200, first.text);
      assert.ok(['pending', 'running'].includes(first.json.state), first.text);
      assert.equal(first.json.result, null, 'no result before the end');
      assert.equal(first.json.execution_id, request.execution_id);
      assert.equal(first.json.session_id, request.session_id);
      assert.equal(first.json.language, 'shell');
      await waitForState(t, request.execution_id, 'running');
      const finished = await t.finished(request.execution_id);
      assert.equal(finished.state, 'success');
      assert.equal(finished.result?.stdout, 'start\nend\n');
      assert.equal(finished.result?.status, 'success');
      assert.equal(finished.result?.execution_id, request.execution_id);
      for (const key of ['created_at', 'started_at', 'finished_at'] as const) {
        assert.ok(!Number.isNaN(Date.parse(String(finished[key]))), `${key}: ${finished[key]}`);
      }
    });

    it('?wait=true answers with the full result: the callback fields plus ids, language and limit', async () => {
      const r = await t.run({ code: 'def handler(event):\n    return 5\n', language: 'python' });
      assertSuccess(r);
      for (const key of ['execution_id', 'session_id', 'language', 'status', 'stdout', 'stderr', 'exit_code', 'execution_time', 'return_value', 'metrics', 'artifacts', 'limit_exceeded']) {
        assert.ok(key in r, `missing ${key}`);
      }
      assert.equal(r.language, 'python');
      assert.equal(r.limit_exceeded, null);
      // GET returns the same stored result
      const state = await t.state(r.execution_id);
      assert.deepEqual({ ...state.json.result }, JSON.parse(r.raw));
    });

    it('answers 404 with a clear error for an unknown execution', async () => {
      const reply = await t.state('exec_never_submitted_123');
      assertProblem(reply, 404, 'Executor.ExecutionNotFound');
      assert.match(reply.json.message, /exec_never_submitted_123/);
    });
  });

  describe('idempotency per execution_id', () => {
    it('runs a repeated execution_id once, acknowledging each repeat identically', async () => {
      const session = sessionId('idem');
      const request = body({ session_id: session, code: 'echo run >> runs.log; sleep 1', language: 'shell' });
      const acks = [await t.submit(request), await t.submit(request)];
      await t.finished(request.execution_id);
      acks.push(await t.submit(request));
      // the retry may differ in anything but the id: still not run again
      acks.push(await t.submit({ ...request, code: 'echo changed >> runs.log' }));
      for (const ack of acks) {
        assert.equal(ack.status, 200, ack.text);
        assert.deepEqual(ack.json, { execution_id: request.execution_id, status: 'PENDING', message: 'Execution submitted' });
      }
      await sleep(300); // a second run, if one had been started, would have written by now
      const count = await t.run({ session_id: session, code: 'wc -l < runs.log; cat runs.log', language: 'shell' });
      assertSuccess(count);
      assert.equal(count.stdout, '1\nrun\n');
    });

    it('?wait=true with a known id answers with the stored result, without running again', async () => {
      const session = sessionId('idemwait');
      const request = body({ session_id: session, code: 'echo x >> once.log; wc -l < once.log', language: 'shell' });
      const first = await t.request('POST', '/execute?wait=true', { json: request });
      const again = await t.request('POST', '/execute?wait=true', { json: request });
      assert.equal(first.status, 200);
      assert.equal(again.status, 200);
      assert.equal(first.json.stdout, '1\n');
      assert.equal(again.text, first.text);
    });
  });
});

describe('lifecycle: the concurrency limit (MAX_CONCURRENT_EXECUTIONS=2)', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start({ MAX_CONCURRENT_EXECUTIONS: '2' });
  });
  after(() => t.stop());

  it('answers 503 Executor.TooManyExecutions beyond the limit and loses nothing', async () => {
    const running = [body({ code: 'sleep 2; echo first done', language: 'shell' }), body({ code: 'sleep 2; echo second done', language: 'shell' })];
    for (const request of running) assert.equal((await t.submit(request)).status, 200);
    const third = body({ code: 'echo third', language: 'shell' });
    const refused = await t.submit(third);
    assertProblem(refused, 503, 'Executor.TooManyExecutions');
    assert.match(refused.json.message, /MAX_CONCURRENT_EXECUTIONS=2/);
    // ?wait=true and ?stream=true are refused the same way
    assertProblem(await t.request('POST', '/execute?wait=true', { json: body({ code: 'true', language: 'shell' }) }), 503, 'Executor.TooManyExecutions');
    // a refused execution is not recorded: the control plane's retry can take it later
    assertProblem(await t.state(third.execution_id), 404);
    // a retry of an admitted execution is acknowledged, even at the limit
    const retry = await t.submit(running[0]!);
    assert.equal(retry.status, 200, retry.text);
    // the health check still answers while full
    const health = await t.request('GET', '/health');
    assert.equal(health.status, 200);
    assert.equal(health.json.active_executions, 2);

    const results = await Promise.all(running.map((r) => t.finished(r.execution_id)));
    assert.deepEqual(
      results.map((s) => [s.state, s.result?.stdout]),
      [
        ['success', 'first done\n'],
        ['success', 'second done\n'],
      ],
    );
    // room again: the refused one, retried with its id, runs
    const accepted = await t.submit(third);
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal((await t.finished(third.execution_id)).result?.stdout, 'third\n');
    const metrics = await t.request('GET', '/metrics');
    assert.match(metrics.text, /sandbox_rejected_requests_total\{reason="concurrency_limit"\} 2\b/);
  });
});

describe('lifecycle: CPU and memory limits from configuration', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start({ MAX_MEMORY_MB: '128', MAX_CPU_SECONDS: '1' });
  });
  after(() => t.stop());

  it('MAX_MEMORY_MB: python cannot allocate beyond it, and the limit is attested', async () => {
    const r = await t.run({ code: 'def handler(event):\n    block = bytearray(300 * 1024 * 1024)\n    return len(block)\n', language: 'python' });
    assert.equal(r.status, 'failed', describeResult(r));
    assert.match(r.stderr, /MemoryError/);
    assert.equal(r.sandbox?.rlimits.data_bytes, 128 * 1024 * 1024);
    const fits = await t.run({ code: 'def handler(event):\n    return len(bytearray(32 * 1024 * 1024))\n', language: 'python' });
    assertSuccess(fits);
    assert.equal(fits.return_value, 32 * 1024 * 1024);
  });

  it('MAX_MEMORY_MB: node fails on a heap beyond it instead of taking the host down', async () => {
    const r = await t.run({ code: 'module.exports = () => { const a = []; for (;;) a.push(new Array(100000).fill(1.5)); };', language: 'javascript', timeout: 60 });
    assert.equal(r.status, 'failed', describeResult(r));
    assert.notEqual(r.exit_code, 0);
    assert.ok(r.execution_time < 45, `${r.execution_time} s`);
  });

  it('MAX_CPU_SECONDS: a busy loop is stopped by the CPU limit before its wall timeout', async () => {
    const r = await t.run({ code: 'def handler(event):\n    while True:\n        pass\n', language: 'python', timeout: 30 });
    assert.equal(r.status, 'failed', describeResult(r));
    assert.equal(r.limit_exceeded, 'cpu');
    assert.match(r.stderr, /CPU time limit/);
    assert.equal(r.sandbox?.rlimits.cpu_seconds, 1);
    assert.ok(r.execution_time < 20, `${r.execution_time} s`);
  });
});
