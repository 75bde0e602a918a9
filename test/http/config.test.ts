// Configuration from the environment (CONTRACT.md section 6) through a real server: the values
// that change what a run gets (DISABLE_BWRAP never meaning "no isolation", MAX_EXECUTION_TIME,
// MAX_MEMORY_MB, a WORKSPACE_PATH that is a symlink) and where it listens. Reading and refusing
// values is the unit tier's (test/unit/config.test.ts).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, sessionId, TestServer } from '../helpers/http.js';

describe('config: values that change what a run gets', () => {
  let t: TestServer;
  let linkedWorkspace: string;
  before(async () => {
    // WORKSPACE_PATH through a symlink (as /workspace may be in a container)
    const base = realpathSync(os.tmpdir());
    const real = path.join(base, `sandbox-real-ws-${process.pid}-${Date.now()}`);
    mkdirSync(real, { mode: 0o711 });
    linkedWorkspace = `${real}-link`;
    symlinkSync(real, linkedWorkspace);
    t = await TestServer.start({
      ISOLATION: 'auto',
      DISABLE_BWRAP: 'true',
      MAX_EXECUTION_TIME: '2',
      MAX_MEMORY_MB: '256',
      WORKSPACE_PATH: linkedWorkspace,
    });
  });
  after(async () => {
    const real = realpathSync(linkedWorkspace);
    await t.stop();
    rmSync(linkedWorkspace, { force: true });
    rmSync(real, { recursive: true, force: true });
  });

  it('DISABLE_BWRAP=true still runs every execution fully isolated', async () => {
    const r = await t.run({ language: 'shell', code: 'true' });
    assertSuccess(r);
    assert.equal(r.sandbox?.backend, 'native');
    assert.ok(Object.values(r.sandbox!.namespaces).every(Boolean), JSON.stringify(r.sandbox?.namespaces));
    assert.equal(r.sandbox?.seccomp, true);
    const info = await t.request('GET', '/info');
    assert.equal(info.json.isolation.backend, 'native');
  });

  it('MAX_EXECUTION_TIME is the default timeout; a request timeout overrides it', async () => {
    const r = await t.run({ language: 'shell', code: 'sleep 20' });
    assert.equal(r.status, 'timeout', describeResult(r));
    assert.match(r.stderr, /timed out after 2 s/);
    const longer = await t.run({ language: 'shell', code: 'sleep 3; echo done', timeout: 30 });
    assertSuccess(longer);
  });

  it('MAX_MEMORY_MB sets the memory limit of every run', async () => {
    const r = await t.run({ language: 'python', code: 'def handler(event):\n    return 1\n' });
    assertSuccess(r);
    assert.equal(r.sandbox?.rlimits.data_bytes, 256 * 1024 * 1024);
    assert.equal((await t.request('GET', '/info')).json.limits.memory_mb, 256);
  });

  it('a WORKSPACE_PATH symlink is resolved: session files land in the real directory', async () => {
    const real = realpathSync(linkedWorkspace);
    assert.equal(t.workspaceRoot, real);
    const session = sessionId('link');
    assertSuccess(await t.run({ session_id: session, language: 'shell', code: 'echo through-the-link > f.txt' }));
    assert.equal(readFileSync(path.join(real, session, 'f.txt'), 'utf8'), 'through-the-link\n');
  });
});

describe('config: EXECUTOR_PORT and EXECUTOR_HOST', () => {
  it('listens where it is told', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as net.AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const t = await TestServer.start({ EXECUTOR_PORT: String(port), EXECUTOR_HOST: '127.0.0.1' });
    try {
      assert.equal(t.server.port, port);
      const reply = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(reply.status, 200);
    } finally {
      await t.stop();
    }
  });
});
