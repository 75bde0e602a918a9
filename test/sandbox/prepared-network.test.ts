// Network namespaces the addon makes ahead (native backend): one held by a handle is joined by
// every sandbox given it (a session's), one taken from the reserve by one sandbox only, and the
// handle API refuses what it did not make.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadNative, type NetworkHandle } from '../../src/sandbox/native-addon.js';
import type { NativeBackend } from '../../src/sandbox/native-backend.js';
import { SandboxRun, spawnSandbox } from '../../src/sandbox/sandbox-run.js';
import { pollFor } from '../helpers/processes.js';
import { describeRun, SandboxFixture, sh, TEST_LIMITS } from '../helpers/sandbox-host.js';

const fixture = await SandboxFixture.start();
const native = fixture.host.usable.native as NativeBackend;

/** The network namespace a sandbox sees (its /proc/self/ns/net link). */
async function networkOf(network?: NetworkHandle): Promise<string> {
  const policy = fixture.host.policy([], TEST_LIMITS);
  const command = { argv: sh('readlink /proc/self/ns/net'), env: { PATH: '/usr/bin:/bin' }, cwd: '/' };
  const spawned = spawnSandbox(native, policy, command, false, network);
  const r = await new SandboxRun(native, policy, command, { timeoutMs: 10_000, captureBytesPerStream: 4096, maxTotalOutputBytes: 1 << 20, resultChannel: false }, spawned).result;
  assert.equal(r.exitCode, 0, describeRun(r));
  return r.stdout.head.toString().trim();
}

describe('prepared network namespaces (native)', () => {
  after(() => fixture.close());

  it('a handle is joined by every sandbox given it; other sandboxes each get one of their own', async () => {
    const handle = await pollFor(() => native.takeNetwork() ?? undefined, 10_000);
    assert.ok(handle, 'the addon made no network namespace ahead within 10 s');
    try {
      const shared = [await networkOf(handle), await networkOf(handle)];
      const own = [await networkOf(), await networkOf()];
      assert.match(shared[0]!, /^net:\[\d+\]$/);
      assert.equal(shared[0], shared[1], 'two sandboxes given one handle are in one network namespace');
      assert.equal(new Set([shared[0], ...own]).size, 3, `without the handle each sandbox has its own: ${[...shared, ...own].join(' ')}`);
    } finally {
      loadNative().addon.releaseNetwork(handle);
    }
    // released: a sandbox given the handle still runs, in a network namespace of its own
    assert.match(await networkOf(handle), /^net:\[\d+\]$/);
  });

  it('refuses a handle it did not make', () => {
    const { plan } = native.render(fixture.host.policy([], TEST_LIMITS), { argv: ['/bin/true'], env: {}, cwd: '/' }, ['null', 'null', 'null'], {} as NetworkHandle);
    assert.throws(() => loadNative().addon.spawn(plan, () => {}), (e: Error) => e instanceof TypeError && /network: expected a handle from takeNetwork\(\)/.test(e.message));
    assert.throws(() => loadNative().addon.releaseNetwork({} as NetworkHandle), TypeError);
  });
});
