// The fault test: 200 executions submitted while the control plane goes away and comes back and
// the executor is SIGKILLed and started again on the same STATE_PATH. Every execution's result
// must reach the control plane: 200 distinct results delivered, 0 lost. A result may arrive more
// than once only as a retry of the same execution id (the control plane deduplicates by
// Idempotency-Key), never as two different results for one id.
//
// The submitter behaves like the control plane: it retries /execute on connection errors and
// 503 (the same execution_id, so nothing runs twice).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CallbackReceiver, type ReceivedCall } from '../helpers/callback-receiver.js';
import { executorDirs, executorEnv, submit } from '../helpers/executor-fixture.js';
import { ExecutorProcess } from '../helpers/executor-process.js';

const TOTAL = 200;
const SUBMITTERS = 24;
const idOf = (n: number) => `exec_fault_${String(n).padStart(3, '0')}`;
const INTERRUPTED = /executor restarted while this execution was running/;

describe('fault test', () => {
  const dirs = executorDirs('faults');
  const executors: ExecutorProcess[] = [];
  let receiver: CallbackReceiver | undefined;

  after(async () => {
    for (const executor of executors) await executor.kill();
    await receiver?.stop();
    dirs.remove();
  });

  it(`delivers all ${TOTAL} results through a control-plane outage and an executor SIGKILL`, async (t) => {
    const started = Date.now();
    receiver = await CallbackReceiver.start();
    const env = executorEnv(dirs, { CONTROL_PLANE_URL: receiver.url, MAX_CONCURRENT_EXECUTIONS: '50' });
    let executor = await ExecutorProcess.start(env);
    executors.push(executor);
    let retriedSubmissions = 0;

    /** Submits executions from..to-1 with a few submitters in parallel; returns once each was acknowledged. */
    async function submitRange(from: number, to: number, duringRange?: (n: number) => Promise<void>): Promise<void> {
      let next = from;
      const submitter = async () => {
        while (next < to) {
          const n = next++;
          await duringRange?.(n);
          for (;;) {
            try {
              const { status } = await submit(executor.url, { execution_id: idOf(n), code: `sleep 0.2; echo ${n}`, timeout: 30 });
              if (status === 200) break;
              assert.equal(status, 503, `POST /execute answered ${status}`);
            } catch {
              // the executor is down (killed): the control plane retries the same id
            }
            retriedSubmissions += 1;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      };
      await Promise.all(Array.from({ length: SUBMITTERS }, submitter));
    }

    // 1. everything up
    await submitRange(0, 60);
    // 2. the control plane goes away
    await receiver.stop();
    await submitRange(60, 120);
    // 3. the executor is SIGKILLed while executions run and results wait, and started again
    let killedRunning = 0;
    await submitRange(120, 200, async (n) => {
      if (n !== 150) return;
      const running = await fetch(`${executor.url}/health`).then((r) => r.json() as Promise<{ active_executions: number }>);
      killedRunning = running.active_executions;
      executor.signal('SIGKILL');
      await executor.exited;
      executor = await ExecutorProcess.start(env);
      executors.push(executor);
    });
    // 4. the control plane comes back
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await receiver.restart();

    const delivered = () => receiver!.acceptedResults();
    try {
      await receiver.waitUntil(`${TOTAL} distinct results`, () => delivered().size >= TOTAL, 100_000);
    } catch (error) {
      t.diagnostic(
        `missing: ${Array.from({ length: TOTAL }, (_, n) => idOf(n))
          .filter((id) => !delivered().has(id))
          .join(' ')}`,
      );
      throw error;
    }

    const results = delivered();
    const expected = new Set(Array.from({ length: TOTAL }, (_, n) => idOf(n)));
    const lost = [...expected].filter((id) => !results.has(id));
    const unexpected = [...results.keys()].filter((id) => !expected.has(id));
    const statuses: Record<string, number> = {};
    let redelivered = 0;
    for (const [id, calls] of results) {
      const first = calls[0]!;
      statuses[first.body.status] = (statuses[first.body.status] ?? 0) + 1;
      redelivered += calls.length - 1;
      assert.ok(
        calls.every((c: ReceivedCall) => c.raw === first.raw && c.headers['idempotency-key'] === id),
        `${id}: a repeat is the same result, under the same key`,
      );
      const n = Number(id.slice(-3));
      if (first.body.status === 'success') assert.equal(first.body.stdout, `${n}\n`, id);
      else assert.match(first.body.stderr, INTERRUPTED, `${id} is ${first.body.status}: ${first.body.stderr}`);
    }
    const notAccepted = receiver.ofKind('result').filter((c) => c.status !== 201).length;
    const summary = [
      `submitted ${TOTAL} (${retriedSubmissions} /execute retries after 503 or the kill)`,
      `delivered ${results.size} distinct results: ${Object.entries(statuses)
        .map(([s, c]) => `${c} ${s}`)
        .join(', ')}`,
      `lost ${lost.length}, unexpected ${unexpected.length}, repeated deliveries of the same id ${redelivered}, result calls answered other than 201: ${notAccepted}`,
      `executor SIGKILLed once with ${killedRunning} executions running, control plane down from execution 60 to after 200`,
      `took ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ];
    for (const line of summary) t.diagnostic(line);

    assert.equal(results.size, TOTAL);
    assert.deepEqual(lost, []);
    assert.deepEqual(unexpected, []);
    assert.equal((statuses.success ?? 0) + (statuses.crashed ?? 0), TOTAL, JSON.stringify(statuses));

    executor.signal('SIGTERM');
    assert.equal((await executor.exited).code, 0, executor.output);
  });
});
