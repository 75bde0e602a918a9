// A session that stops running code gives its warm sandboxes back (WARM_IDLE_SECONDS): their
// waiting runtimes end and their memory returns to the host, while a session in use keeps its
// own primed. A session's first execution leaves one waiting, a session that comes back its count.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, sessionId, TestServer } from '../helpers/http.js';
import { pollFor, primedRuntimes } from '../helpers/processes.js';

// long enough that a loaded machine starts both primed runtimes well before the session is idle
const IDLE_SECONDS = 5;

describe('warm sandboxes of an idle session', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start({ WARM_IDLE_SECONDS: String(IDLE_SECONDS), WARM_SANDBOXES_PER_SESSION: '2' });
  });
  after(async () => {
    await t.stop();
  });

  async function warmGauge(): Promise<number> {
    const metrics = (await t.request('GET', '/metrics')).text;
    return Number(/^sandbox_warm_sandboxes (\d+)$/m.exec(metrics)?.[1]);
  }

  const primedCount = (n: number) => pollFor(() => (primedRuntimes(process.pid).length === n ? true : undefined), 15_000);

  it('are one for a new session, two once it comes back, none once it is idle, then one again', async () => {
    const session = sessionId('idle');
    const code = 'def handler(event):\n    return 1\n';
    assertSuccess(await t.run({ session_id: session, language: 'python', code }));
    assert.ok(await primedCount(1), `a session's first execution leaves one primed runtime: ${primedRuntimes(process.pid).length} found`);
    assert.equal(await warmGauge(), 1, 'sandbox_warm_sandboxes counts it');
    const second = await t.run({ session_id: session, language: 'python', code });
    assertSuccess(second);
    assert.equal(second.phases.start, 'primed', describeResult(second));
    assert.ok(await primedCount(2), `the session came back: two primed runtimes wait for it, ${primedRuntimes(process.pid).length} found`);
    assert.equal(await warmGauge(), 2);
    const gone = await pollFor(() => (primedRuntimes(process.pid).length === 0 ? true : undefined), 10 * IDLE_SECONDS * 1000);
    assert.ok(gone, `the idle session's runtimes ended: ${primedRuntimes(process.pid).join(', ')} still there`);
    assert.equal(await warmGauge(), 0);
    const next = await t.run({ session_id: session, language: 'python', code: 'def handler(event):\n    return 2\n' });
    assertSuccess(next);
    assert.equal(next.phases.start, 'cold', describeResult(next));
    assert.ok(await primedCount(1), `a session given back starts over at one: ${primedRuntimes(process.pid).length} found`);
  });

  it('stay while the session keeps running code, past the idle time', async () => {
    const session = sessionId('busy');
    assertSuccess(await t.run({ session_id: session, language: 'python', code: 'def handler(event):\n    return 1\n' }));
    const started = Date.now();
    while (Date.now() - started < 2 * IDLE_SECONDS * 1000) {
      await sleep(300);
      const r = await t.run({ session_id: session, language: 'python', code: 'def handler(event):\n    return 1\n' });
      assertSuccess(r);
      assert.equal(r.phases.start, 'primed', describeResult(r));
    }
  });
});
