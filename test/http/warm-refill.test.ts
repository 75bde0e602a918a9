// When a session's warm sandboxes are topped up: while its code runs only when none is left
// waiting (its next execution would start cold), else once the execution is over, so that a
// runtime starting beside the command does not take CPU from it.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, type Result, sessionId, TestServer } from '../helpers/http.js';

const SLEEPS = 'import time\ndef handler(event):\n    time.sleep(2)\n    return 1\n';
const QUICK = 'def handler(event):\n    return 1\n';

describe('warm sandboxes topped up', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start({ WARM_SANDBOXES_PER_SESSION: '2' });
  });
  after(async () => {
    await t.stop();
  });

  async function warmGauge(): Promise<number> {
    const metrics = (await t.request('GET', '/metrics')).text;
    return Number(/^sandbox_warm_sandboxes (\d+)$/m.exec(metrics)?.[1]);
  }
  async function gaugeReaches(n: number): Promise<boolean> {
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(50)) if ((await warmGauge()) === n) return true;
    return false;
  }

  /**
   * The gauge, read every 100 ms from 300 ms after an execution was sent until 1.5 s (its code sleeps
   * 2 s): a read after the code ended could already see the refill that follows it.
   */
  async function gaugeWhileCodeSleeps(): Promise<number[]> {
    const started = Date.now();
    await sleep(300);
    const seen: number[] = [];
    while (Date.now() - started < 1500) {
      seen.push(await warmGauge());
      await sleep(100);
    }
    return seen;
  }

  /** Runs SLEEPS in the session, reading the gauge while its code sleeps. */
  async function runSampling(session: string): Promise<{ result: Result; seen: number[] }> {
    const running = t.run({ session_id: session, language: 'python', code: SLEEPS });
    const seen = await gaugeWhileCodeSleeps();
    const result = await running;
    assertSuccess(result);
    assert.ok(seen.length >= 5, `sampled while it ran: ${seen}`);
    return { result, seen };
  }

  it('while the code runs when the session has none waiting, after it when one still waits', async () => {
    const session = sessionId('refill');
    const first = await runSampling(session);
    assert.equal(first.result.phases.start, 'cold', describeResult(first.result));
    assert.deepEqual(new Set(first.seen), new Set([1]), `a session with nothing waiting gets its sandbox while its code runs (${first.seen})`);

    assertSuccess(await t.run({ session_id: session, language: 'python', code: QUICK }));
    assert.ok(await gaugeReaches(2), 'the session came back: two wait');
    const long = await runSampling(session);
    assert.equal(long.result.phases.start, 'primed', describeResult(long.result));
    assert.deepEqual(new Set(long.seen), new Set([1]), `one still waited: no other started while the code ran (${long.seen})`);
    assert.ok(await gaugeReaches(2), 'topped up once the execution was over');
  });
});
