// `containers/ready` is announced until the control plane shows it heard it: a 200 saying
// "(no session found)" is not that, and neither is a call from the control plane (it sends
// /execute to a session still `creating`, before it has saved the container's id). It stops
// after the bounded time; each attempt is visible in /info.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { ControlPlaneClient } from '../../src/controlplane/control-plane-client.js';
import { LifecycleEvents } from '../../src/controlplane/lifecycle-events.js';
import { pino } from 'pino';
import { createMetrics } from '../../src/metrics.js';
import { startServer } from '../../src/server.js';
import { eventually, executorDirs, executorEnv, getJson, submit } from '../helpers/executor-fixture.js';
import { StandInControlPlane } from './stand-in-control-plane.js';

describe('ready that is heard', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('a 200 "(no session found)" is not success, nor is an /execute: announced again until an answer says it was heard', async () => {
    const cp = await StandInControlPlane.start();
    cp.readyUnknownMs = Infinity;
    const dirs = executorDirs('ready');
    const server = await startServer(loadConfig(executorEnv(dirs, { CONTROL_PLANE_URL: cp.url })));
    cleanups.push(
      () => cp.stop(),
      () => dirs.remove(),
      () => server.close(),
    );
    const base = `http://127.0.0.1:${server.port}`;

    await eventually('three unheard ready attempts', () => (cp.ready.length >= 3 ? true : undefined), 10_000);
    const announcing = (await getJson(`${base}/info`)).body.ready;
    assert.equal(announcing.state, 'announcing', JSON.stringify(announcing));
    assert.match(announcing.last_outcome, /^HTTP 200: .*no session found/);
    assert.ok(announcing.attempts >= 3);

    // Docker's HEALTHCHECK calls /health too: it says nothing about the control plane
    assert.equal((await getJson(`${base}/health`)).status, 200);
    assert.equal((await getJson(`${base}/info`)).body.ready.state, 'announcing');
    // the control plane executes in a session still `creating`: ready must still reach it
    assert.equal((await submit(base, { execution_id: 'exec_first_call', code: 'true' })).status, 200);
    const attempts = cp.ready.length;
    await eventually('ready announced after the control plane called', () => (cp.ready.length > attempts ? true : undefined), 10_000);
    assert.equal((await getJson(`${base}/info`)).body.ready.state, 'announcing');

    cp.readyUnknownMs = 0; // the control plane has saved the container's id now
    await eventually('ready heard', async () => ((await getJson(`${base}/info`)).body.ready.state === 'heard' ? true : undefined), 15_000);
    const heard = cp.ready.length;
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // longer than the next backoff step
    assert.equal(cp.ready.length, heard, 'ready announced after it was heard');
    assert.equal(cp.ready.at(-1)!.heard, true);
  });

  it('gives up after the bounded time, each attempt logged at debug', async () => {
    const cp = await StandInControlPlane.start();
    cp.readyUnknownMs = Infinity;
    cleanups.push(() => cp.stop());
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const lifecycle = new LifecycleEvents(
      new ControlPlaneClient(
        cp.url,
        undefined,
        createMetrics(() => ({ depth: 0, oldestAgeSeconds: 0 })),
      ),
      logger,
      2_000,
    );
    lifecycle.announceReady({ containerId: 'ctr', podName: undefined, port: 1 });
    cleanups.push(() => lifecycle.close());
    await eventually('ready given up', () => (lifecycle.readyStatus().state === 'gave_up' ? true : undefined), 10_000);
    assert.ok(lifecycle.readyStatus().attempts >= 2);
    assert.ok(lines.filter((l) => l.includes('"msg":"ready announced"')).length >= 2, 'each attempt logged at debug');
    assert.ok(lines.some((l) => l.includes('no longer announced')));
  });
});
