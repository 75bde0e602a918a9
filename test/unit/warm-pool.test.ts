// The warm pool's accounting, with stand-ins for the sandboxes (no namespaces): how many entries
// a session keeps (one when new to the pool, its count once it comes back), which one a take
// returns, what is discarded and when, and that each session's network is taken once and given
// back once.
import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { WarmPool, type WarmEntry } from '../../src/executions/warm-pool.js';
import { pino } from 'pino';
import type { Language } from '../../src/runtimes/runtime.js';
import type { SessionNetwork, WarmSandbox } from '../../src/sandbox/index.js';

interface StandIn extends WarmEntry {
  session: string;
  discarded: boolean;
  released: boolean;
  dead: boolean;
}

function pool(perSession: number, maxSessions: number, idleMs = 60_000) {
  const made: StandIn[] = [];
  const networks = { taken: [] as string[], released: [] as string[] };
  const create = (session: string, language: Language, network: SessionNetwork | undefined): WarmEntry => {
    const entry = { session, language, inputDir: `/run/${made.length}`, discarded: false, released: false, dead: false, network } as StandIn & { network: unknown };
    entry.warm = {
      get usable() {
        return !entry.discarded && !entry.dead;
      },
      discard: () => {
        entry.discarded = true;
      },
    } as unknown as WarmSandbox;
    entry.release = () => {
      entry.released = true;
    };
    made.push(entry);
    return entry;
  };
  const sessionNetworks = {
    takeNetwork: () => {
      const handle = `net-${networks.taken.length}`;
      networks.taken.push(handle);
      return handle as unknown as SessionNetwork;
    },
    releaseNetwork: (handle: SessionNetwork) => void networks.released.push(handle as unknown as string),
  };
  const warm = new WarmPool(perSession, maxSessions, idleMs, create, pino({ level: 'silent' }), sessionNetworks);
  return { warm, made, networks };
}

/** A session that has come back: it entered the pool and took its sandbox (made[n], taken). */
async function returning(warm: WarmPool, session: string): Promise<void> {
  warm.refill(session, 'python');
  await nextTurn();
  assert.ok(warm.take(session, 'python'));
}

describe('WarmPool', () => {
  it('gives a new session one entry and one that comes back its count, after the current turn, once for two refills', async () => {
    const { warm, made } = pool(2, 4);
    warm.refill('s1', 'python');
    warm.refill('s1', 'python');
    assert.equal(made.length, 0, 'filled off the current turn');
    await nextTurn();
    assert.equal(made.length, 1, 'a session new to the pool: one');
    warm.refill('s1', 'python');
    await nextTurn();
    assert.equal(made.length, 1, 'nothing taken: no more demand');
    assert.equal(warm.take('s1', 'python'), made[0]);
    warm.refill('s1', 'python');
    warm.refill('s1', 'python');
    await nextTurn();
    assert.equal(made.length, 3, 'the session came back: its count of 2');
    warm.refill('s1', 'python');
    await nextTurn();
    assert.equal(made.length, 3, 'already full');
  });

  it('counts what each session has waiting for a language (what refillIfNoneWaiting reads)', async () => {
    const { warm, made } = pool(2, 4);
    assert.equal(warm.waiting('s1', 'python'), 0, 'a session the pool does not know');
    await returning(warm, 's1');
    warm.refill('s1', 'python');
    await nextTurn();
    assert.equal(warm.waiting('s1', 'python'), 2);
    assert.equal(warm.waiting('s1', 'shell'), 0, 'per language');
    assert.equal(warm.waiting('s2', 'python'), 0, 'per session');
    const kept = warm.take('s1', 'python')!;
    assert.equal(warm.waiting('s1', 'python'), 1, 'a take leaves one');
    made.slice(1).find((e) => e !== kept)!.dead = true; // the one still in the pool (made[0] was taken by returning())
    assert.equal(warm.waiting('s1', 'python'), 0, 'a dead one does not count');
  });

  it('puts a session that takes a sandbox last in the eviction order: a session running code keeps its place', async (t) => {
    t.mock.timers.enable({ apis: ['Date'] });
    const { warm, made } = pool(1, 2);
    warm.refill('s1', 'python');
    warm.refill('s2', 'python');
    await nextTurn();
    t.mock.timers.tick(60_000); // both idle long enough to be evicted
    assert.ok(warm.take('s1', 'python'), 's1 runs code now');
    warm.refill('s3', 'python');
    await nextTurn();
    assert.deepEqual(
      made.map((e) => `${e.session}${e.discarded ? ' discarded' : ''}`),
      ['s1', 's2 discarded', 's3'],
      's3 takes the place of s2, idle, not of s1',
    );
  });

  it('takes one primed for the language first, else any, and never a dead one (discarded and released)', async () => {
    const { warm, made } = pool(2, 4);
    await returning(warm, 's1');
    warm.refill('s1', 'python');
    await nextTurn();
    made[1]!.language = 'javascript';
    assert.equal(warm.take('s1', 'python'), made[2]);
    assert.equal(warm.take('s1', 'python'), made[1], 'another language is still a sandbox');
    assert.equal(warm.take('s1', 'python'), undefined);
    assert.equal(warm.take('nobody', 'python'), undefined);

    warm.refill('s1', 'python');
    await nextTurn();
    made[3]!.dead = true;
    assert.equal(warm.take('s1', 'python'), made[4]);
    assert.ok(made[3]!.discarded && made[3]!.released, 'a dead entry is dropped and its input directory released');
  });

  it('replaces entries primed for another language when the session moves on', async () => {
    const { warm, made } = pool(2, 4);
    await returning(warm, 's1');
    warm.refill('s1', 'python');
    await nextTurn();
    warm.refill('s1', 'shell');
    await nextTurn();
    assert.deepEqual(
      made.slice(1).map((e) => [e.language, e.discarded]),
      [
        ['python', true],
        ['python', true],
        ['shell', false],
        ['shell', false],
      ],
    );
  });

  it('keeps no more sessions than its bound: a new one waits while the oldest is recently active', async () => {
    const { warm, made } = pool(1, 2);
    for (const s of ['s1', 's2', 's3']) warm.refill(s, 'python');
    await nextTurn();
    assert.deepEqual(
      made.map((e) => e.session),
      ['s1', 's2'],
      's3 does not evict a session active a moment ago',
    );
  });

  it('takes a session network once per session and gives each back once on clear', async () => {
    const { warm, made, networks } = pool(2, 4);
    await returning(warm, 's1');
    await returning(warm, 's2');
    warm.refill('s1', 'python');
    warm.refill('s2', 'python');
    await nextTurn();
    assert.deepEqual(networks.taken, ['net-0', 'net-1']);
    assert.deepEqual(
      made.map((e) => (e as unknown as { network: string }).network),
      ['net-0', 'net-1', 'net-0', 'net-0', 'net-1', 'net-1'],
    );
    warm.clear();
    assert.deepEqual(networks.released.sort(), ['net-0', 'net-1']);
    assert.ok(
      made.slice(2).every((e) => e.discarded && e.released),
      'all the pool held (the two taken belong to their executions)',
    );
    warm.clear();
    assert.equal(networks.released.length, 2, 'released once');
  });

  it('makes nothing once closed, and nothing when sized 0', async () => {
    const closed = pool(2, 4);
    closed.warm.refill('s1', 'python');
    closed.warm.close();
    await nextTurn();
    assert.equal(closed.made.length, 0);
    const none = pool(0, 4);
    none.warm.refill('s1', 'python');
    await nextTurn();
    assert.equal(none.made.length, 0);
  });

  it('gives back the sandboxes and network of a session idle for its idle time, and only those', async () => {
    const { warm, made, networks } = pool(2, 4, 1000);
    await returning(warm, 's1');
    warm.refill('s1', 'python');
    warm.refill('s2', 'python');
    await nextTurn();
    await sleep(600);
    assert.ok(warm.take('s2', 'python'), 'taking a sandbox makes s2 active again');
    await sleep(600);
    const bySession = (session: string) => made.filter((e) => e.session === session).map((e) => e.discarded && e.released);
    assert.deepEqual(bySession('s1'), [false, true, true], 's1 idle 1.2 s: what it held is given back (the first was taken)');
    assert.deepEqual(bySession('s2'), [false], 's2 active 0.6 s ago: its one entry taken, nothing dropped');
    assert.deepEqual(networks.released, ['net-0']);
    assert.equal(warm.take('s1', 'python'), undefined);
    const before = made.length;
    warm.refill('s1', 'python');
    await nextTurn();
    assert.equal(made.length - before, 1, 'a session given back starts over at one entry');
    warm.close();
  });
});
