// A sandbox that cannot be built says which step failed and why, as a typed error, whether it
// was cloned on the event loop (a sandbox for a command) or on the addon's spawner thread (a warm
// one): here a bind whose source is removed between the policy and the spawn.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { bind } from '../../src/sandbox/policy.js';
import { SandboxRun, SandboxSpawnError } from '../../src/sandbox/sandbox-run.js';
import { WarmSandbox } from '../../src/sandbox/warm-sandbox.js';
import { DEFAULT_ENV, SandboxFixture } from '../helpers/sandbox-host.js';

const fixture = await SandboxFixture.start();

const OPTIONS = { timeoutMs: 10_000, captureBytesPerStream: 4096, maxTotalOutputBytes: 1 << 20, resultChannel: false };

/** A policy binding a directory that no longer exists when the sandbox is built. */
function policyWithVanishedBind(label: string) {
  const source = path.join(fixture.root, `vanishing-${label}`);
  mkdirSync(source);
  const entry = bind(source, '/data')!;
  rmSync(source, { recursive: true });
  return fixture.host.policy([bind(fixture.workspace(), '/workspace', { writable: true })!, entry]);
}

async function expectSetupError(promise: Promise<unknown>): Promise<SandboxSpawnError> {
  const error = await promise.then(
    () => assert.fail('the sandbox was built although a bind source is gone'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof SandboxSpawnError, `not a SandboxSpawnError: ${String(error)}`);
  return error;
}

describe('sandbox setup errors (native)', () => {
  after(() => rmSync(fixture.root, { recursive: true, force: true }));

  it('a sandbox for a command: the failing mount, its paths and errno', async () => {
    const native = fixture.host.usable.native!;
    const run = new SandboxRun(native, policyWithVanishedBind('cold'), { argv: ['/bin/true'], env: { ...DEFAULT_ENV }, cwd: '/' }, OPTIONS);
    const error = await expectSetupError(run.result);
    assert.equal(error.backend, 'native');
    assert.equal(error.errno, 'ENOENT');
    assert.match(error.step ?? '', /^mount\(bind\) \/data from .*vanishing-cold$/);
    assert.match(error.message, /mount\(bind\) \/data from .*: ENOENT/);
  });

  it('a warm sandbox (cloned on the spawner thread): the same, when its command is run', async (t) => {
    const native = fixture.host.usable.native!;
    const warm = WarmSandbox.create(native, policyWithVanishedBind('warm'), null);
    // the failure arrives with the child's exit: the warm sandbox is then unusable, and a command
    // handed to it before that learns why
    const run = warm.run({ argv: ['/bin/true'], env: { ...DEFAULT_ENV }, cwd: '/' }, OPTIONS, 10);
    if (run === undefined) {
      // The spawner thread's child may fail and close its control pipe before the command is
      // written (the write then fails): nothing is left to carry the error to, only the check below.
      t.skip('the warm sandbox failed before its command reached it (a race with the spawner thread): only its unusability is checked');
    } else {
      const error = await expectSetupError(run.result);
      assert.equal(error.errno, 'ENOENT');
      assert.match(error.step ?? '', /^mount\(bind\) \/data from .*vanishing-warm$/);
    }
    for (let i = 0; i < 100 && warm.usable; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(warm.usable, false, 'a warm sandbox that failed to build still counts as usable');
  });
});
