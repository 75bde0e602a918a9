// Heartbeats while an execution runs (the first at its start, then every 5 s, never fatal) and
// `containers/ready` once the server listens, retried until the control plane answers 2xx.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { startServer, type Server } from '../../src/server.js';
import { CallbackReceiver } from '../helpers/callback-receiver.js';
import { executorDirs, executorEnv, submit, type ExecutorDirs } from '../helpers/executor-fixture.js';

/** ISO-8601 with an explicit timezone (Z or ±hh:mm). */
const ISO_WITH_ZONE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

describe('heartbeats and ready', () => {
  let dirs: ExecutorDirs;
  let receiver: CallbackReceiver;
  let server: Server;
  let base: string;

  before(async () => {
    dirs = executorDirs('heartbeats');
    receiver = await CallbackReceiver.start();
    receiver.script('ready', [503, 500]);
    receiver.script('heartbeat', [500]);
    server = await startServer(loadConfig(executorEnv(dirs, { CONTROL_PLANE_URL: receiver.url, CONTAINER_ID: 'ctr-heartbeat-test', POD_NAME: 'pod-heartbeat-test' })));
    base = `http://127.0.0.1:${server.port}`;
  });

  after(async () => {
    await server?.shutdown('normal'); // the whole stop: warm sandboxes too
    await receiver?.stop();
    dirs?.remove();
  });

  it('announces ready, retrying until the control plane answers 2xx', async () => {
    await receiver.waitUntil('an accepted ready', () => receiver.ofKind('ready').some((c) => c.status === 200), 15_000);
    const ready = receiver.ofKind('ready');
    assert.deepEqual(
      ready.map((c) => c.status),
      [503, 500, 200],
    );
    const body = ready[2]!.body;
    assert.equal(body.event_type, 'ready');
    assert.equal(body.container_id, 'ctr-heartbeat-test');
    assert.equal(body.pod_name, 'pod-heartbeat-test');
    assert.equal(body.executor_port, server.port);
    assert.match(body.ready_at, ISO_WITH_ZONE);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(receiver.ofKind('ready').length, 3, 'nothing more once accepted');
  });

  it('sends a heartbeat at the start and every 5 s while the execution runs; a failed one is not fatal', async () => {
    const id = 'exec_heartbeats';
    const submitted = Date.now();
    assert.equal((await submit(base, { execution_id: id, code: 'sleep 11; echo awake' })).status, 200);
    await receiver.waitUntil('the result', () => receiver.acceptedResults().has(id), 30_000);
    const result = receiver.acceptedResults().get(id)![0]!;
    assert.equal(result.body.status, 'success', 'the first heartbeat failed (500): the execution does not care');
    assert.equal(result.body.stdout, 'awake\n');

    const beats = receiver.ofKind('heartbeat').filter((c) => c.executionId === id);
    assert.ok(beats.length >= 2 && beats.length <= 4, `at least 2 heartbeats within 12 s, got ${beats.length}`);
    assert.ok(beats[0]!.at - submitted < 2_000, `the first heartbeat comes at the start (${beats[0]!.at - submitted} ms)`);
    for (let i = 1; i < beats.length; i++) {
      const gap = beats[i]!.at - beats[i - 1]!.at;
      assert.ok(gap > 4_000 && gap < 6_500, `heartbeats ~5 s apart, saw ${gap} ms`);
    }
    for (const beat of beats) {
      assert.match(beat.body.timestamp, ISO_WITH_ZONE);
      assert.deepEqual(beat.body.progress, { status: 'running' });
    }
    assert.ok(
      beats.every((b) => b.at <= result.at),
      'no heartbeat after the result',
    );
  });
});
