// An executor SIGKILLed with an execution running and a result not yet delivered, then started
// again on the same STATE_PATH: nothing of the sandbox survives the kill, the interrupted
// execution is reported crashed, the undelivered result arrives, and the id is not run twice.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CallbackReceiver } from '../helpers/callback-receiver.js';
import { executorDirs, executorEnv, getJson, submit } from '../helpers/executor-fixture.js';
import { ExecutorProcess } from '../helpers/executor-process.js';
import { killMarked, pollFor, processesWithMarker, survivorsAfter, uniqueMarker } from '../helpers/processes.js';

const INTERRUPTED_STDERR = '[sandbox-executor] the executor restarted while this execution was running (unclean stop: SIGKILL, OOM or crash)\n';

describe('crash recovery', () => {
  const dirs = executorDirs('crash');
  const marker = uniqueMarker('sigkill');
  const executors: ExecutorProcess[] = [];
  let receiver: CallbackReceiver | undefined;

  after(async () => {
    for (const executor of executors) await executor.kill();
    killMarked(marker);
    await receiver?.stop();
    dirs.remove();
  });

  it('reports the execution running at a SIGKILL as crashed after the restart and re-sends the undelivered result', async () => {
    receiver = await CallbackReceiver.start();
    receiver.answer('result', 503); // nothing is delivered before the kill
    const env = executorEnv(dirs, { CONTROL_PLANE_URL: receiver.url });
    const first = await ExecutorProcess.start(env);
    executors.push(first);

    assert.equal((await submit(first.url, { execution_id: 'exec_done_before_kill', code: 'echo before-the-kill' })).status, 200);
    assert.equal((await submit(first.url, { execution_id: 'exec_running_at_kill', code: `exec -a ${marker} sleep 60` })).status, 200);
    await receiver.waitUntil(
      'a refused delivery and a heartbeat of the running execution',
      (calls) => calls.some((c) => c.executionId === 'exec_done_before_kill' && c.status === 503) && calls.some((c) => c.kind === 'heartbeat' && c.executionId === 'exec_running_at_kill'),
      20_000,
    );
    assert.ok(await pollFor(() => (processesWithMarker(marker).length === 1 ? true : undefined), 5_000), 'the sandboxed sleep runs');

    first.signal('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    assert.deepEqual(await survivorsAfter(marker, 5_000), [], 'no sandbox process outlives its server');

    receiver.answer('result', 201);
    const second = await ExecutorProcess.start(env);
    executors.push(second);
    await receiver.waitUntil('both results after the restart', () => ['exec_done_before_kill', 'exec_running_at_kill'].every((id) => receiver!.acceptedResults().has(id)), 30_000);
    const crashed = receiver.acceptedResults().get('exec_running_at_kill')!;
    assert.equal(crashed.length, 1);
    assert.equal(crashed[0]!.body.status, 'crashed');
    assert.equal(crashed[0]!.body.exit_code, -1);
    assert.equal(crashed[0]!.body.stderr, INTERRUPTED_STDERR);
    assert.equal(typeof crashed[0]!.body.execution_time, 'number');
    assert.equal(typeof crashed[0]!.body.metrics.duration_ms, 'number');
    assert.deepEqual(crashed[0]!.body.artifacts, []);
    const done = receiver.acceptedResults().get('exec_done_before_kill')!;
    assert.equal(done.length, 1);
    assert.equal(done[0]!.body.status, 'success');
    assert.equal(done[0]!.body.stdout, 'before-the-kill\n');
    assert.equal(receiver.ofKind('ready').length, 2, 'each start announces ready');

    // the control plane retries /execute: the interrupted id is answered, not run again
    const again = await submit(second.url, { execution_id: 'exec_running_at_kill', code: `exec -a ${marker} sleep 60` });
    assert.equal(again.status, 200);
    const state = await getJson(`${second.url}/executions/exec_running_at_kill`);
    assert.equal(state.body.state, 'crashed');
    assert.equal(processesWithMarker(marker).length, 0, 'not run a second time');

    second.signal('SIGTERM');
    assert.equal((await second.exited).code, 0, second.output);
  });
});
