// A fork bomb stays inside its sandbox: its process count never exceeds the sandbox's limit, a
// concurrent sandbox still starts and finishes while it rages, and the wall-clock timeout leaves
// none of it behind. The bomb's processes are counted from the host's /proc through a marker
// they all carry (fork copies argv).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { killMarked, processesWithMarker, sleep, survivorsAfter, uniqueMarker } from '../helpers/processes.js';
import { BACKENDS, bash, describeRun, SandboxFixture } from '../helpers/sandbox-host.js';

const MAX_PROCESSES = 400;
const BOMB_TIMEOUT_MS = 5000;
/**
 * The classic bomb's first shell returns at once, and sandbox-init kills the tree when the command
 * exits: the command stays (exec sleep, no fork needed) so the bomb can rage until the timeout.
 */
const BOMB = (marker: string) => bash(`: ${marker}; bomb() { bomb | bomb & }; bomb; exec -a ${marker} sleep 3600`);
/** Processes of the sandbox that are not the bomb's but carry its marker: init, bwrap and its pid 1. */
const INFRASTRUCTURE = 3;

const fixture = await SandboxFixture.start();

/**
 * bwrap has no per-sandbox process cap of its own: the limit is RLIMIT_NPROC, which counts every
 * process of the sandbox's host uid, so a bomb in one sandbox uses up the count all others share.
 */
const BWRAP_SHARED_NPROC = 'bwrap caps processes with RLIMIT_NPROC per host uid, shared by every sandbox (and, unprivileged, by the server): a bomb starves its neighbours';

describe('fork bomb', () => {
  after(() => fixture.close());

  for (const backend of BACKENDS) {
    describe(backend, { skip: fixture.unavailable(backend) ?? false }, () => {
      it(`is capped at ${MAX_PROCESSES} processes and killed by the timeout, leaving no survivor`, async (t) => {
        const marker = uniqueMarker(`bomb-${backend}`);
        const { run } = fixture.start(backend, {
          argv: BOMB(marker),
          limits: { maxProcesses: MAX_PROCESSES },
          timeoutMs: BOMB_TIMEOUT_MS,
        });
        let peak = 0;
        let ended = false;
        const result = run.result.finally(() => (ended = true));
        try {
          while (!ended) {
            peak = Math.max(peak, processesWithMarker(marker).length);
            await sleep(20);
          }
          const r = await result;
          t.diagnostic(`peak: ${peak} processes`);
          assert.equal(r.killedBy, 'timeout', describeRun(r));
          assert.ok(r.wallMs < BOMB_TIMEOUT_MS + 5000, `ended after ${r.wallMs} ms`);
          // the bomb really went off (so the cap below is what held it)
          assert.ok(peak >= 100, `the bomb peaked at only ${peak} processes`);
          assert.ok(peak <= MAX_PROCESSES + INFRASTRUCTURE, `the bomb reached ${peak} processes (limit ${MAX_PROCESSES})`);
          assert.deepEqual(await survivorsAfter(marker, 5000), []);
        } finally {
          run.kill('timeout');
          await result.catch(() => undefined);
          killMarked(marker);
        }
      });

      it('does not starve a concurrent sandbox', { todo: backend === 'bwrap' ? BWRAP_SHARED_NPROC : false }, async () => {
        const marker = uniqueMarker(`bomb-neighbour-${backend}`);
        const bomb = fixture.start(backend, {
          argv: BOMB(marker),
          limits: { maxProcesses: MAX_PROCESSES },
          timeoutMs: BOMB_TIMEOUT_MS + 10_000,
        });
        try {
          // let it reach its cap first
          let count = 0;
          for (let i = 0; i < 100 && count < MAX_PROCESSES / 2; i++) {
            await sleep(50);
            count = processesWithMarker(marker).length;
          }
          assert.ok(count >= MAX_PROCESSES / 2, `the bomb only reached ${count} processes`);
          const neighbour = await fixture.run(backend, { argv: ['/bin/echo', 'ok'], limits: { maxProcesses: MAX_PROCESSES }, timeoutMs: 30_000 });
          assert.equal(neighbour.exitCode, 0, describeRun(neighbour));
          assert.equal(neighbour.out, 'ok\n');
          assert.ok(processesWithMarker(marker).length > 0, 'the bomb ended before the neighbour ran: the test proved nothing');
        } finally {
          bomb.run.kill('timeout');
          await bomb.run.result;
          killMarked(marker);
        }
        assert.deepEqual(await survivorsAfter(marker, 5000), []);
      });
    });
  }
});
