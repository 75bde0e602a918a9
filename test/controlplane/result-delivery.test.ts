// Result delivery to a real HTTP receiver on loopback, from a real executor with a real journal:
// what arrives (the contract's headers, the committed body byte for byte), and what each answer
// of the control plane leads to: 2xx delivered once; 5xx and outages retried until delivered;
// a final 4xx kept as undeliverable after exactly one attempt; a slow control plane never gets
// more than a few requests at once and never holds up executions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { storedResultOf } from '../../src/executions/journal.js';
import { callbackJson } from '../../src/executions/stored-result.js';
import { startServer, type Server } from '../../src/server.js';
import { headerSafe } from '../../src/controlplane/control-plane-client.js';
import { CallbackReceiver } from '../helpers/callback-receiver.js';
import { eventually, executorDirs, executorEnv, finished, getJson, submit, type ExecutorDirs } from '../helpers/executor-fixture.js';

const TOKEN = 'internal-test-token';

describe('result delivery', () => {
  let dirs: ExecutorDirs;
  let receiver: CallbackReceiver;
  let server: Server;
  let base: string;

  before(async () => {
    dirs = executorDirs('delivery');
    receiver = await CallbackReceiver.start();
    server = await startServer(loadConfig(executorEnv(dirs, { CONTROL_PLANE_URL: receiver.url, INTERNAL_API_TOKEN: TOKEN })));
    base = `http://127.0.0.1:${server.port}`;
  });

  after(async () => {
    await server?.shutdown('normal'); // the whole stop: warm sandboxes too
    await receiver?.stop();
    dirs?.remove();
  });

  const resultCalls = (id: string) => receiver.ofKind('result').filter((c) => c.executionId === id);

  it('POSTs the committed callback body verbatim, with the Authorization and Idempotency-Key headers', async () => {
    const id = 'exec_verbatim_1';
    const code = 'def handler(event):\n    return {"big": 2**70, "falsy": 0, "text": "é"}\n';
    assert.equal((await submit(base, { execution_id: id, language: 'python', code })).status, 200);
    await receiver.waitUntil(`the result of ${id}`, () => receiver.acceptedResults().has(id), 30_000);

    const calls = resultCalls(id);
    assert.equal(calls.length, 1, receiver.summary());
    const call = calls[0]!;
    assert.equal(call.headers['content-type'], 'application/json');
    assert.equal(call.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(call.headers['idempotency-key'], id);
    const row = server.journal.get(id)!;
    assert.equal(call.raw, callbackJson(storedResultOf(row)!), 'the body is derived from the journal row, byte for byte');
    assert.match(call.raw, /"big": ?1180591620717411303424\b/, 'a 70-bit integer keeps every digit');
    assert.equal(call.body.status, 'success', call.raw);
    for (const key of ['status', 'stdout', 'stderr', 'exit_code', 'execution_time', 'return_value', 'metrics', 'artifacts']) {
      assert.ok(key in call.body, `callback key ${key}`);
    }
    assert.equal(typeof call.body.metrics.duration_ms, 'number');
    await eventually('the delivery to be recorded', () => (server.journal.get(id)!.delivery_state === 'delivered' ? true : undefined), 5_000);
    assert.equal(server.journal.get(id)!.delivery_attempts, 1);
  });

  it('delivers the result of an id with characters beyond Latin-1, its Idempotency-Key percent-encoded (a header value is bytes)', async () => {
    const id = `exec_日本_${Date.now()}`;
    assert.equal((await submit(base, { execution_id: id, code: 'echo delivered' })).status, 200);
    await receiver.waitUntil(`the result of ${id}`, () => receiver.acceptedResults().has(id), 30_000);
    const call = resultCalls(id)[0]!;
    assert.equal(call.headers['idempotency-key'], encodeURIComponent(id));
    assert.equal(call.body.stdout, 'delivered\n');
    await eventually('the delivery to be recorded', () => (server.journal.get(id)!.delivery_state === 'delivered' ? true : undefined), 5_000);
    assert.equal(server.journal.get(id)!.delivery_attempts, 1);
    // an id holding '%' is encoded too: no two ids share a key
    assert.equal(headerSafe(encodeURIComponent('日本-1')), encodeURIComponent(encodeURIComponent('日本-1')));
    assert.equal(headerSafe('exec_20261208_ab12'), 'exec_20261208_ab12');
  });

  it('retries 5xx answers until the control plane answers 201, with the same key and body each time', async () => {
    const id = 'exec_retry_5xx';
    receiver.script('result', [500, 503]);
    assert.equal((await submit(base, { execution_id: id, code: 'echo retried' })).status, 200);
    await receiver.waitUntil(`the result of ${id} to be accepted`, () => receiver.acceptedResults().has(id), 30_000);

    const calls = resultCalls(id);
    assert.deepEqual(
      calls.map((c) => c.status),
      [500, 503, 201],
    );
    assert.ok(calls.every((c) => c.raw === calls[0]!.raw && c.headers['idempotency-key'] === id));
    assert.equal(calls[0]!.body.stdout, 'retried\n');
    await eventually('the delivery to be recorded', () => (server.journal.get(id)!.delivery_state === 'delivered' ? true : undefined), 5_000);
    const { body } = await getJson(`${base}/executions/${id}`);
    assert.equal(body.delivery.state, 'delivered');
    assert.equal(body.delivery.attempts, 3);
  });

  for (const status of [404, 422]) {
    it(`keeps a result the control plane answers ${status} as undeliverable, after exactly one attempt`, async () => {
      const id = `exec_final_${status}`;
      receiver.script('result', [status]);
      assert.equal((await submit(base, { execution_id: id, code: 'echo refused' })).status, 200);
      await receiver.waitUntil(`the result of ${id}`, () => resultCalls(id).length > 0, 30_000);
      await eventually('undeliverable', () => (server.journal.get(id)!.delivery_state === 'undeliverable' ? true : undefined), 5_000);
      await new Promise((resolve) => setTimeout(resolve, 2_500)); // long enough for a retry to show up
      assert.equal(resultCalls(id).length, 1, 'no retry after a final answer');
      const { body } = await getJson(`${base}/executions/${id}`);
      assert.equal(body.state, 'success', 'the result itself is kept');
      assert.equal(body.delivery.state, 'undeliverable');
      assert.match(body.delivery.last_error, new RegExp(`^HTTP ${status}: .*test control plane answers ${status}`));
    });
  }

  it('keeps results while the control plane is down and delivers each exactly once when it is back', async () => {
    await receiver.stop();
    const ids = [1, 2, 3, 4, 5].map((n) => `exec_outage_${n}`);
    for (const [n, id] of ids.entries()) assert.equal((await submit(base, { execution_id: id, code: `echo ${n}` })).status, 200);
    for (const id of ids) await finished(base, id);
    await eventually('attempts against the absent control plane', () => (server.journal.get(ids[0]!)!.delivery_attempts > 0 ? true : undefined), 10_000);

    const info = await getJson(`${base}/info`);
    assert.equal(info.body.outbox.depth, ids.length);
    assert.ok(info.body.outbox.oldest_undelivered_age_seconds > 0);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, new RegExp(`^sandbox_outbox_depth ${ids.length}$`, 'm'));
    assert.ok(Number(/^sandbox_outbox_oldest_undelivered_age_seconds (\S+)$/m.exec(metrics)?.[1]) > 0, 'the oldest result has been waiting');
    assert.match(metrics, /^sandbox_callback_attempts_total\{kind="result",outcome="network_error"\} [1-9]/m);

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await receiver.restart();
    await receiver.waitUntil('every result after the outage', () => ids.every((id) => receiver.acceptedResults().has(id)), 45_000);
    for (const [n, id] of ids.entries()) {
      const accepted = receiver.acceptedResults().get(id)!;
      assert.equal(accepted.length, 1, `${id} accepted once`);
      assert.equal(accepted[0]!.body.stdout, `${n}\n`);
    }
    await eventually('an empty outbox', async () => ((await getJson(`${base}/info`)).body.outbox.depth === 0 ? true : undefined), 5_000);
    const after = await (await fetch(`${base}/metrics`)).text();
    assert.match(after, /^sandbox_outbox_depth 0$/m);
    assert.match(after, /^sandbox_callback_attempts_total\{kind="result",outcome="rejected"\} 2$/m);
  });

  it('sends at most 4 results at once to a slow control plane, and executions do not wait for it', async () => {
    receiver.resultDelayMs = 1_000;
    receiver.maxConcurrentResults = 0;
    try {
      const ids = Array.from({ length: 10 }, (_, n) => `exec_slow_${n}`);
      for (const id of ids) assert.equal((await submit(base, { execution_id: id, code: 'true' })).status, 200);
      for (const id of ids) await finished(base, id);
      const deliveredWhenAllFinished = ids.filter((id) => receiver.acceptedResults().has(id)).length;
      assert.ok(deliveredWhenAllFinished < ids.length, `executions finished before their deliveries (${deliveredWhenAllFinished} delivered)`);
      await receiver.waitUntil('every slow delivery', () => ids.every((id) => receiver.acceptedResults().has(id)), 30_000);
      assert.ok(receiver.maxConcurrentResults <= 4, `at most 4 result requests at once, saw ${receiver.maxConcurrentResults}`);
      assert.ok(receiver.maxConcurrentResults >= 2, `deliveries run in parallel, saw ${receiver.maxConcurrentResults}`);
    } finally {
      receiver.resultDelayMs = 0;
    }
  });
});

describe('standalone mode (no CONTROL_PLANE_URL)', () => {
  let dirs: ExecutorDirs;
  let server: Server;

  before(async () => {
    dirs = executorDirs('standalone');
    server = await startServer(loadConfig(executorEnv(dirs)));
  });

  after(async () => {
    await server?.shutdown('normal'); // the whole stop: warm sandboxes too
    dirs?.remove();
  });

  it('sends nothing and keeps results for ?wait=true and GET /executions/{id}', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    assert.equal(server.controlPlane, undefined);
    const { status, body } = await submit(base, { execution_id: 'exec_standalone', code: 'echo alone' }, '?wait=true');
    assert.equal(status, 200);
    assert.equal(body.stdout, 'alone\n');
    const state = await getJson(`${base}/executions/exec_standalone`);
    assert.equal(state.body.delivery.state, 'none');
    assert.equal(state.body.result.status, 'success');
    assert.equal((await getJson(`${base}/info`)).body.outbox.depth, 0);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.doesNotMatch(metrics, /^sandbox_callback_attempts_total\{/m, 'no call to any control plane');
  });
});
