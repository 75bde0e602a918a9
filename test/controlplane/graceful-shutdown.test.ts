// Stopping the executor with signals, as an orchestrator does: SIGTERM lets running executions
// finish within SHUTDOWN_GRACE_SECONDS and reports the rest crashed, delivers their results,
// announces `exited` (sigterm; SIGINT is `normal`) and exits 0; a second signal exits at once.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { CallbackReceiver } from '../helpers/callback-receiver.js';
import { executorDirs, executorEnv, getJson, submit, type ExecutorDirs } from '../helpers/executor-fixture.js';
import { ExecutorProcess } from '../helpers/executor-process.js';
import { killMarked, pollFor, processesWithMarker, survivorsAfter, uniqueMarker } from '../helpers/processes.js';

describe('graceful shutdown', () => {
  let dirs: ExecutorDirs | undefined;
  let receiver: CallbackReceiver | undefined;
  const executors: ExecutorProcess[] = [];
  const markers: string[] = [];

  afterEach(async () => {
    for (const executor of executors.splice(0)) await executor.kill();
    for (const marker of markers.splice(0)) killMarked(marker);
    await receiver?.stop();
    dirs?.remove();
  });

  async function startExecutor(label: string, extra: Record<string, string> = {}): Promise<ExecutorProcess> {
    dirs = executorDirs(label);
    receiver = await CallbackReceiver.start();
    const executor = await ExecutorProcess.start(executorEnv(dirs, { CONTROL_PLANE_URL: receiver.url, CONTAINER_ID: `ctr-${label}`, ...extra }));
    executors.push(executor);
    await receiver.waitUntil('ready', () => receiver!.ofKind('ready').length > 0, 10_000);
    return executor;
  }

  const heartbeatOf = (id: string) => receiver!.ofKind('heartbeat').some((c) => c.executionId === id);

  it('on SIGTERM: refuses new work, lets short executions finish, kills the rest after the grace period, reports all, sends exited, exits 0', async () => {
    const executor = await startExecutor('sigterm', { SHUTDOWN_GRACE_SECONDS: '3' });
    const marker = uniqueMarker('grace');
    markers.push(marker);
    assert.equal((await submit(executor.url, { execution_id: 'exec_short', code: 'sleep 1; echo short-done' })).status, 200);
    assert.equal((await submit(executor.url, { execution_id: 'exec_long', code: `exec -a ${marker} sleep 60` })).status, 200);
    await receiver!.waitUntil('both running', () => heartbeatOf('exec_short') && heartbeatOf('exec_long'), 10_000);

    const signalledAt = Date.now();
    executor.signal('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = await submit(executor.url, { execution_id: 'exec_too_late', code: 'echo no' });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error_code ?? refused.body.detail?.error_code, 'Executor.ShuttingDown', JSON.stringify(refused.body));
    assert.equal((await getJson(`${executor.url}/health`)).status, 503);

    const exit = await executor.exited;
    const took = Date.now() - signalledAt;
    assert.equal(exit.code, 0, executor.output);
    assert.ok(took >= 3_000 && took < 15_000, `stopped after the 3 s grace period, took ${took} ms`);
    assert.deepEqual(await survivorsAfter(marker, 3_000), []);

    const results = receiver!.acceptedResults();
    assert.equal(results.get('exec_short')?.[0]?.body.status, 'success', receiver!.summary());
    assert.equal(results.get('exec_short')![0]!.body.stdout, 'short-done\n');
    const long = results.get('exec_long')![0]!.body;
    assert.equal(long.status, 'crashed');
    assert.equal(long.exit_code, -1);
    assert.match(long.stderr, /shut down before this execution finished/);
    assert.equal(results.has('exec_too_late'), false);

    const exited = receiver!.ofKind('exited');
    assert.equal(exited.length, 1);
    assert.deepEqual(
      { ...exited[0]!.body, exited_at: undefined },
      { event_type: 'exited', container_id: 'ctr-sigterm', pod_name: null, executor_port: Number(new URL(executor.url).port), exit_code: 0, exit_reason: 'sigterm', exited_at: undefined },
    );
    assert.match(exited[0]!.body.exited_at, /(Z|[+-]\d\d:\d\d)$/);
    const lastResultAt = Math.max(...[...results.values()].map((calls) => calls[0]!.at));
    assert.ok(exited[0]!.at >= lastResultAt, 'exited comes after the results');
  });

  it('stops within a bounded time when the control plane is down; the next start delivers what was left', async () => {
    const executor = await startExecutor('cp-down');
    assert.equal((await submit(executor.url, { execution_id: 'exec_left_over', code: 'echo left-over' })).status, 200);
    await receiver!.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const signalledAt = Date.now();
    executor.signal('SIGTERM');
    assert.equal((await executor.exited).code, 0, executor.output);
    const took = Date.now() - signalledAt;
    assert.ok(took < 12_000, `the flush and exited tries are bounded, took ${took} ms`);
    assert.match(executor.output, /results not delivered before exit/);

    await receiver!.restart();
    const restarted = await ExecutorProcess.start(executorEnv(dirs!, { CONTROL_PLANE_URL: receiver!.url }));
    executors.push(restarted);
    await receiver!.waitUntil('the left-over result', () => receiver!.acceptedResults().has('exec_left_over'), 20_000);
    assert.equal(receiver!.acceptedResults().get('exec_left_over')![0]!.body.stdout, 'left-over\n');
  });

  it('on SIGINT: exits 0 and reports exit_reason normal', async () => {
    const executor = await startExecutor('sigint');
    executor.signal('SIGINT');
    assert.equal((await executor.exited).code, 0, executor.output);
    const exited = receiver!.ofKind('exited');
    assert.equal(exited.length, 1);
    assert.equal(exited[0]!.body.exit_reason, 'normal');
  });

  it('exits at once (code 130) on a second signal; the next start reports the execution crashed', async () => {
    const executor = await startExecutor('twice');
    const marker = uniqueMarker('twice');
    markers.push(marker);
    assert.equal((await submit(executor.url, { execution_id: 'exec_cut_short', code: `exec -a ${marker} sleep 60` })).status, 200);
    await receiver!.waitUntil('running', () => heartbeatOf('exec_cut_short'), 10_000);
    assert.ok(await pollFor(() => (processesWithMarker(marker).length === 1 ? true : undefined), 5_000), 'the sandboxed sleep runs');

    const signalledAt = Date.now();
    executor.signal('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    executor.signal('SIGTERM');
    const exit = await executor.exited;
    assert.equal(exit.code, 130, executor.output);
    assert.ok(Date.now() - signalledAt < 3_000, 'not waiting for the 30 s grace period');
    assert.deepEqual(await survivorsAfter(marker, 5_000), []);
    assert.equal(receiver!.ofKind('exited').length, 0, 'no graceful stop, no exited');

    const restarted = await ExecutorProcess.start(executorEnv(dirs!, { CONTROL_PLANE_URL: receiver!.url }));
    executors.push(restarted);
    await receiver!.waitUntil('the crashed result', () => receiver!.acceptedResults().has('exec_cut_short'), 20_000);
    assert.equal(receiver!.acceptedResults().get('exec_cut_short')![0]!.body.status, 'crashed');
    restarted.signal('SIGTERM');
    assert.equal((await restarted.exited).code, 0);
  });
});
