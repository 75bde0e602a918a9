// Configuration from the environment (CONTRACT.md section 6): every documented variable read with
// its default, every bad value refused at start-up with a line naming the variable, and the
// values that change what a run gets (DISABLE_BWRAP never meaning "no isolation",
// MAX_EXECUTION_TIME, MAX_MEMORY_MB, a WORKSPACE_PATH that is a symlink or an s3:// URL).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { assertSuccess, describeResult, sessionId, TestServer } from '../helpers/http.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    return error.problems;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

describe('config: reading the environment', () => {
  it('defaults: port 8080 on 0.0.0.0, /workspace, INFO, json, 512 MB, 300 s, 100 concurrent', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.workspaceRoot, existsSync('/workspace') ? realpathSync('/workspace') : '/workspace');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.logFormat, 'json');
    assert.equal(c.limits.memoryMb, 512);
    assert.equal(c.limits.defaultTimeoutSeconds, 300);
    assert.equal(c.maxConcurrentExecutions, 100);
    assert.equal(c.controlPlaneUrl, undefined);
    assert.equal(c.disableBwrap, false);
    assert.deepEqual(c.http, { maxConnections: 4096, headersTimeoutSeconds: 10, requestTimeoutSeconds: 60, keepAliveTimeoutSeconds: 5 });
  });

  it('reads every documented variable', () => {
    const c = loadConfig({
      EXECUTOR_PORT: '9090',
      EXECUTOR_HOST: '127.0.0.1',
      WORKSPACE_PATH: '/srv/ws-not-there',
      CONTROL_PLANE_URL: 'http://control-plane:8000/',
      INTERNAL_API_TOKEN: 'itok',
      CONTAINER_ID: 'container-1',
      POD_NAME: 'pod-1',
      LOG_LEVEL: 'WARNING',
      LOG_FORMAT: 'text',
      MAX_MEMORY_MB: '256',
      MAX_EXECUTION_TIME: '60',
      MAX_CONCURRENT_EXECUTIONS: '7',
      DISABLE_BWRAP: 'true',
      MAX_CONNECTIONS: '500',
      HTTP_HEADERS_TIMEOUT_SECONDS: '3',
      HTTP_REQUEST_TIMEOUT_SECONDS: '30',
      HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '2',
    });
    assert.equal(c.port, 9090);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.workspaceRoot, '/srv/ws-not-there');
    assert.equal(c.controlPlaneUrl, 'http://control-plane:8000');
    assert.equal(c.internalApiToken, 'itok');
    assert.equal(c.containerId, 'container-1');
    assert.equal(c.podName, 'pod-1');
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.logFormat, 'text');
    assert.equal(c.limits.memoryMb, 256);
    assert.equal(c.limits.defaultTimeoutSeconds, 60);
    assert.equal(c.maxConcurrentExecutions, 7);
    assert.equal(c.disableBwrap, true);
    assert.deepEqual(c.http, { maxConnections: 500, headersTimeoutSeconds: 3, requestTimeoutSeconds: 30, keepAliveTimeoutSeconds: 2 });
  });

  it('container_id: CONTAINER_ID, else HOSTNAME, else the OS hostname', () => {
    assert.equal(loadConfig({ CONTAINER_ID: 'c', HOSTNAME: 'h' }).containerId, 'c');
    assert.equal(loadConfig({ HOSTNAME: 'h' }).containerId, 'h');
    assert.equal(loadConfig({}).containerId, os.hostname());
  });

  it('an s3:// WORKSPACE_PATH means /workspace', () => {
    const c = loadConfig({ WORKSPACE_PATH: 's3://bucket/sessions/abc' });
    assert.equal(c.workspaceRoot, existsSync('/workspace') ? realpathSync('/workspace') : '/workspace');
  });

  it('refuses each bad value with a line naming the variable', () => {
    const bad: Record<string, string> = {
      EXECUTOR_PORT: 'eighty',
      LOG_LEVEL: 'loud',
      LOG_FORMAT: 'xml',
      MAX_MEMORY_MB: '-5',
      MAX_EXECUTION_TIME: '0',
      MAX_CONCURRENT_EXECUTIONS: '1.5',
      CONTROL_PLANE_URL: 'ftp://cp',
      DISABLE_BWRAP: 'maybe',
      MAX_CONNECTIONS: '0',
      HTTP_HEADERS_TIMEOUT_SECONDS: 'soon',
    };
    for (const [name, value] of Object.entries(bad)) {
      const problems = problemsOf({ [name]: value });
      assert.equal(problems.length, 1, `${name}=${value}: ${problems.join('; ')}`);
      assert.match(problems[0]!, new RegExp(`^${name}: `), `${name}=${value}: ${problems[0]}`);
    }
    // all at once: one line each, in one error
    const all = problemsOf(bad);
    assert.equal(all.length, Object.keys(bad).length, all.join('\n'));
    for (const name of Object.keys(bad))
      assert.ok(
        all.some((p) => p.startsWith(`${name}: `)),
        `${name} not named`,
      );
  });

  it('refuses a head timeout longer than the whole request may take', () => {
    const problems = problemsOf({ HTTP_HEADERS_TIMEOUT_SECONDS: '30', HTTP_REQUEST_TIMEOUT_SECONDS: '20' });
    assert.equal(problems.length, 1, problems.join('; '));
    assert.match(problems[0]!, /^HTTP_HEADERS_TIMEOUT_SECONDS: .*HTTP_REQUEST_TIMEOUT_SECONDS=20/);
  });
});

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
