// Deliveries that end: a result the control plane keeps failing on (a 500 it will answer forever,
// like "Data too long") is given up after RESULT_DELIVERY_MAX_ATTEMPTS attempts or
// RESULT_DELIVERY_MAX_AGE_HOURS, kept as undeliverable with the last answer, and counted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { startServer, type Server } from '../../src/server.js';
import { CallbackReceiver } from '../helpers/callback-receiver.js';
import { eventually, executorDirs, executorEnv, getJson, submit, type ExecutorDirs } from '../helpers/executor-fixture.js';

describe('result delivery bounds', () => {
  let dirs: ExecutorDirs;
  let receiver: CallbackReceiver;
  let server: Server;
  let base: string;

  before(async () => {
    dirs = executorDirs('delivery-bounds');
    receiver = await CallbackReceiver.start();
    receiver.answer('result', 500);
    server = await startServer(loadConfig(executorEnv(dirs, { CONTROL_PLANE_URL: receiver.url, RESULT_DELIVERY_MAX_ATTEMPTS: '3' })));
    base = `http://127.0.0.1:${server.port}`;
  });

  after(async () => {
    await server?.close();
    await receiver?.stop();
    dirs?.remove();
  });

  it('gives a result up after the configured attempts: undeliverable, the last answer kept, counted, never sent again', async () => {
    const id = 'exec_never_stored';
    assert.equal((await submit(base, { execution_id: id, code: 'echo kept' })).status, 200);
    await eventually('undeliverable', () => (server.journal.get(id)?.delivery_state === 'undeliverable' ? true : undefined), 30_000);
    const calls = () => receiver.ofKind('result').filter((c) => c.executionId === id).length;
    assert.equal(calls(), 3, receiver.summary());
    const { body } = await getJson(`${base}/executions/${id}`);
    assert.equal(body.result.stdout, 'kept\n', 'the result itself is kept');
    assert.match(body.delivery.last_error, /RESULT_DELIVERY_MAX_ATTEMPTS=3.*HTTP 500/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /sandbox_results_undeliverable_total\{reason="expired"\} 1/);
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // long enough for a retry to show up
    assert.equal(calls(), 3, 'no attempt after giving up');
  });
});
