// The session's storage quota (WORKSPACE_MAX_MB / WORKSPACE_MAX_FILES): every writable directory
// bound into the sandbox, walked by sandbox-init's watchdog. A run that goes over is killed
// (killedBy disk / files); what it wrote stays; a later run may shrink the storage but is killed
// as soon as it grows it while it is over the quota.
import assert from 'node:assert/strict';
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BACKENDS, describeRun, MiB, python, SandboxFixture, sh } from '../helpers/sandbox-host.js';

const QUOTA_BYTES = 32 * MiB;
const QUOTA_FILES = 200;
/** what a writer at full speed (page cache: 2-3 GB/s here) adds between two walks (100 ms apart) and the kill */
const SLACK_BYTES = 512 * MiB;
const SLACK_FILES = 5000;

const fixture = await SandboxFixture.start();

/** Allocated bytes and entries under dir (itself excluded), as the watchdog counts them. */
function usage(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const name of readdirSync(dir)) {
    const st = lstatSync(path.join(dir, name));
    files++;
    bytes += st.blocks * 512;
    if (st.isDirectory()) {
      const inner = usage(path.join(dir, name));
      bytes += inner.bytes;
      files += inner.files;
    }
  }
  return { bytes, files };
}

const limits = { storageMaxBytes: QUOTA_BYTES, storageMaxFiles: QUOTA_FILES };

describe('storage quota of a session', () => {
  after(() => fixture.close());

  for (const backend of BACKENDS) {
    describe(backend, { skip: fixture.unavailable(backend) ?? false }, () => {
      it('bytes: a writer is stopped at the quota (killedBy disk), what it wrote stays, the session cannot grow until it shrinks', async (t) => {
        const workspace = fixture.workspace();
        const r = await fixture.run(backend, {
          workspace,
          limits,
          argv: python(`
chunk = b'x' * (1 << 20)
for i in range(1024):
    with open(f'/workspace/f{i}', 'wb') as f: f.write(chunk)
print('WROTE 1 GiB')
`),
        });
        assert.equal(r.killedBy, 'disk', describeRun(r));
        assert.doesNotMatch(r.out, /WROTE/);
        const held = usage(workspace);
        t.diagnostic(`a writer at full speed left ${Math.round(held.bytes / MiB)} MiB under a quota of ${QUOTA_BYTES / MiB} MiB`);
        assert.ok(held.bytes > QUOTA_BYTES && held.bytes <= QUOTA_BYTES + SLACK_BYTES, `the workspace holds ${Math.round(held.bytes / MiB)} MiB under a quota of ${QUOTA_BYTES / MiB} MiB`);
        assert.ok(r.report!.storageKb * 1024 > QUOTA_BYTES);

        const grows = await fixture.run(backend, { workspace, limits, argv: sh('head -c 65536 /dev/zero > /workspace/more') });
        // growing adds bytes and an entry: either limit may be the one the walk sees first
        assert.ok(grows.killedBy === 'disk' || grows.killedBy === 'files', `a run growing an over-quota session: ${describeRun(grows)}`);

        const shrinks = await fixture.run(backend, { workspace, limits, argv: sh('rm -f /workspace/f* /workspace/more && echo cleaned') });
        assert.equal(shrinks.killedBy, null, describeRun(shrinks));
        assert.equal(shrinks.out, 'cleaned\n');

        const again = await fixture.run(backend, { workspace, limits, argv: sh('head -c 1048576 /dev/zero > /workspace/small && echo ok') });
        assert.equal(again.killedBy, null, describeRun(again));
        assert.equal(again.out, 'ok\n');
      });

      it('files: creating entries is stopped at the quota (killedBy files), in a directory made unlistable too (mode 0300)', async (t) => {
        const workspace = fixture.workspace();
        const r = await fixture.run(backend, {
          workspace,
          limits,
          argv: python(`
import os
os.mkdir('/workspace/hidden')
for i in range(20000):
    open(f'/workspace/hidden/e{i}', 'w').close()
    if i == 50: os.chmod('/workspace/hidden', 0o300)  # writable, not listable: hidden from a walker
print('CREATED 20000')
`),
        });
        assert.equal(r.killedBy, 'files', describeRun(r));
        assert.doesNotMatch(r.out, /CREATED/);
        const held = usage(workspace);
        t.diagnostic(`a creator at full speed left ${held.files} entries under a quota of ${QUOTA_FILES}`);
        assert.ok(held.files > QUOTA_FILES && held.files <= QUOTA_FILES + SLACK_FILES, `the workspace holds ${held.files} entries under a quota of ${QUOTA_FILES}`);
      });

      it('bytes: what is written past a path longer than PATH_MAX (2,100 nested directories) is counted too', async () => {
        const workspace = fixture.workspace();
        const r = await fixture.run(backend, {
          workspace,
          limits: { storageMaxBytes: QUOTA_BYTES, storageMaxFiles: 100_000 },
          argv: python(`
import os
os.chdir('/workspace')
for _ in range(2100):
    os.mkdir('a')
    os.chdir('a')
chunk = b'x' * (1 << 20)
for i in range(1024):
    with open(f'f{i}', 'wb') as f: f.write(chunk)
print('WROTE 1 GiB past PATH_MAX')
`),
        });
        // killed, or (a deep tree makes walks slow, and they are spaced to take a twentieth of a
        // core) found over the quota by the walk after the last process ended
        assert.equal(r.killedBy, 'disk', describeRun(r));
        assert.ok(r.report!.storageKb * 1024 > QUOTA_BYTES, `the watchdog saw ${r.report!.storageKb} KiB`);
        // the session can clean it (and the fixture's recursive delete could not: too deep for its stack)
        const cleans = await fixture.run(backend, { workspace, limits, argv: sh('rm -rf /workspace/a && ls -A /workspace | wc -l') });
        assert.equal(cleans.killedBy, null, describeRun(cleans));
        assert.equal(cleans.out, '0\n');
      });

      it('control: a session under its quota is not stopped, and the report says what it holds', async () => {
        const r = await fixture.run(backend, { limits, argv: sh('mkdir d && head -c 4194304 /dev/zero > d/four && echo ok') });
        assert.equal(r.killedBy, null, describeRun(r));
        assert.equal(r.out, 'ok\n');
        assert.equal(r.report!.storageFiles, 2);
        assert.ok(r.report!.storageKb >= 4096 && r.report!.storageKb < 4200, `${r.report!.storageKb} KiB`);
      });
    });
  }
});
