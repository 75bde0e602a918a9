// The whole sandbox's memory (MAX_MEMORY_MB) and the session's storage quota (WORKSPACE_MAX_MB,
// WORKSPACE_MAX_FILES) through the real server, on both backends: a run over one is `failed` with
// its limit_exceeded and a line on stderr saying what happened and what to do.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, TestServer } from '../helpers/http.js';

const MEMORY_MB = 256;

for (const isolation of ['native', 'bwrap'] as const) {
  describe(`sandbox limits through the server (${isolation})`, () => {
    let t: TestServer;
    before(async () => {
      t = await TestServer.start({ ISOLATION: isolation, MAX_MEMORY_MB: String(MEMORY_MB), WORKSPACE_MAX_MB: '16', WORKSPACE_MAX_FILES: '100' });
    });
    after(() => t.stop());

    it('MAX_MEMORY_MB bounds the tree: processes each under it are killed together (limit_exceeded memory)', async () => {
      const r = await t.run({
        language: 'python',
        code: `
import os, time
def handler(event):
    for _ in range(6):
        if os.fork() == 0:
            block = bytearray(100 << 20)
            for i in range(0, len(block), 4096): block[i] = 1
            time.sleep(10)
            os._exit(0)
    for _ in range(6): os.wait()
    return 'ALL HELD'
`,
      });
      assert.equal(r.status, 'failed', describeResult(r));
      assert.equal(r.limit_exceeded, 'memory');
      assert.match(r.stderr, /\[sandbox-executor\] killed: the sandbox held [\d.]+ MiB, over the memory limit of 256 MiB/);
      assert.ok(r.metrics!.peak_memory_mb! >= MEMORY_MB, `peak_memory_mb ${r.metrics!.peak_memory_mb}`); // over it by a few KiB at least
      const watchdogBounds = r.sandbox?.bounds.filter((b) => b.mechanism === 'watchdog' || b.resource === 'shared_memory_outside_tmpfs');
      assert.deepEqual(watchdogBounds, [
        { resource: 'sandbox_memory', limit: MEMORY_MB * 1024 * 1024, unit: 'bytes', mechanism: 'watchdog' },
        { resource: 'session_storage', limit: 16 * 1024 * 1024, unit: 'bytes', mechanism: 'watchdog' },
        { resource: 'session_storage_entries', limit: 100, unit: 'entries', mechanism: 'watchdog' },
        { resource: 'shared_memory_outside_tmpfs', limit: 0, unit: 'bytes', mechanism: 'seccomp' },
      ]);
    });

    it('WORKSPACE_MAX_MB: over it the run is stopped (limit_exceeded disk), the files stay, the session cannot grow until cleaned', async () => {
      const session = `quota-${isolation}`;
      const write = `
def handler(event):
    for i in range(event['files']):
        with open(f"/workspace/{event['prefix']}{i}", 'wb') as f: f.write(b'x' * (1 << 20))
    return 'WROTE'
`;
      const r = await t.run({ language: 'python', session_id: session, code: write, event: { files: 60, prefix: 'f' } }); // under the files quota: the bytes stop it
      assert.equal(r.status, 'failed', describeResult(r));
      assert.equal(r.limit_exceeded, 'disk');
      assert.match(r.stderr, /\[sandbox-executor\] killed: the session's storage \(\/workspace and \/tmp\) reached [\d.]+ MiB, over its quota of 16 MiB; what was written stays/);
      const listed = await t.run({ language: 'shell', session_id: session, code: 'ls /workspace | wc -l' });
      assertSuccess(listed);
      assert.ok(Number(listed.stdout.trim()) >= 16, `the workspace kept ${listed.stdout.trim()} files`);

      const grows = await t.run({ language: 'python', session_id: session, code: write, event: { files: 1, prefix: 'g' } });
      assert.ok(grows.limit_exceeded === 'disk' || grows.limit_exceeded === 'files', describeResult(grows)); // it adds bytes and an entry
      const cleans = await t.run({ language: 'shell', session_id: session, code: 'rm -f /workspace/f* /workspace/g*' });
      assertSuccess(cleans);
      const fits = await t.run({ language: 'python', session_id: session, code: write, event: { files: 2, prefix: 'h' } });
      assertSuccess(fits);
    });

    it('a session over its quota cannot grow it in the first instant of a run: the baseline is walked before the code runs', async () => {
      const session = `instant-${isolation}`;
      assertSuccess(await t.run({ language: 'shell', session_id: session, code: 'true' }));
      // 30,000 entries (over the quota of 100) make the walk that measures what the session held
      // take tens of milliseconds: a primed interpreter released alongside it writes before it ends
      const workspace = t.workspaceOf(session);
      // written without blocking the loop: a pooled keep-alive connection must not go stale meanwhile
      for (let i = 0; i < 30_000; i += 500) {
        await Promise.all(Array.from({ length: 500 }, (_, j) => writeFile(path.join(workspace, `held${i + j}`), '')));
      }
      for (let i = 0; i < 5; i++) {
        const grows = await t.run({ language: 'python', session_id: session, code: `def handler(event):\n    open('/workspace/g${i}', 'wb').write(b'x' * 8192)` });
        assert.ok(grows.limit_exceeded === 'disk' || grows.limit_exceeded === 'files', `run ${i}: ${describeResult(grows)}`);
      }
    });

    it('WORKSPACE_MAX_FILES: creating entries beyond it is stopped (limit_exceeded files)', async () => {
      const r = await t.run({ language: 'shell', session_id: `files-${isolation}`, code: 'for i in $(seq 1 5000); do : > /workspace/e$i; done; echo CREATED' });
      assert.equal(r.status, 'failed', describeResult(r));
      assert.equal(r.limit_exceeded, 'files');
      assert.doesNotMatch(r.stdout, /CREATED/);
      assert.match(r.stderr, /files and directories, over its quota of 100/);
    });
  });
}
