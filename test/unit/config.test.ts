// Configuration from the environment: every variable with a value it can refuse gets a bad one,
// and the start-up error names that variable and what it expects. Free-text variables are listed
// apart, so a new variable must land in one list or the other.
import assert from 'node:assert/strict';
import { existsSync, realpathSync } from 'node:fs';
import os from 'node:os';
import { describe, it } from 'node:test';
import { CONFIG_VARIABLES, ConfigError, defaultStateDir, filesystemTypeOf, loadConfig } from '../../src/config.js';

/** variable, a bad value, what the message must say */
const BAD_VALUES: [string, string, RegExp][] = [
  ['EXECUTOR_PORT', '80a', /whole number from 0 to 65535, got '80a'/],
  ['WORKSPACE_LAYOUT', 'nested', /per-session.*flat/],
  ['CONTROL_PLANE_URL', 'ftp://cp', /http\(s\) URL such as http:\/\/control-plane:8000, got 'ftp:\/\/cp'/],
  ['LOG_LEVEL', 'loud', /trace.*silent/],
  ['LOG_FORMAT', 'xml', /json.*text/],
  ['LOG_FILE_MAX_MB', '0', /from 0.001 to 1048576 \(decimals allowed\), got '0'/],
  ['LOG_FILE_ROTATE', 'weekly', /daily.*hourly.*size/],
  ['LOG_FILE_KEEP', '0', /from 1 to 10000, got '0'/],
  ['LOG_STDERR', 'nope', /expected true or false, got 'nope'/],
  ['WORKSPACE_RETENTION_HOURS', '-1', /from 0 to 87600 \(decimals allowed\), got '-1'/],
  ['MAX_MEMORY_MB', '8', /whole number from 16 to 1048576, got '8'/],
  ['MAX_EXECUTION_TIME', '0', /from 1 to 3600/],
  ['MAX_CPU_SECONDS', '-1', /from 0 to 86400/],
  ['MAX_CONCURRENT_EXECUTIONS', '1.5', /from 1 to 10000, got '1.5'/],
  ['MAX_PROCESSES', '300', /from 301 to 65536/],
  ['MAX_OPEN_FILES', '15', /from 16 to 1048576/],
  ['MAX_FILE_SIZE_MB', 'big', /from 1 to 1048576, got 'big'/],
  ['MAX_OUTPUT_BYTES', '61441', /from 1024 to 61440/],
  ['MAX_OUTPUT_TOTAL_MB', '0', /from 1 to 4096/],
  ['MAX_ARTIFACTS', '100001', /from 0 to 100000/],
  ['WORKSPACE_MAX_MB', '0', /from 1 to 1048576/],
  ['WORKSPACE_MAX_FILES', '9', /from 10 to 100000000/],
  ['ISOLATION', 'docker', /auto.*native.*bwrap.*none/],
  ['DISABLE_BWRAP', 'maybe', /expected true or false, got 'maybe'/],
  ['SANDBOX_NETWORK', '2', /expected true or false, got '2'/],
  ['SANDBOX_NICE', '20', /from 0 to 19, got '20'/],
  ['SERVER_AUTOGROUP_NICE', '5', /from -20 to 0, got '5'/],
  ['SANDBOX_HOST_UID', '0', /from 1 to 4294967294/],
  ['SANDBOX_HOST_GID', '4294967295', /from 1 to 4294967294/],
  ['SHUTDOWN_GRACE_SECONDS', '3601', /from 0 to 3600/],
  ['RESULT_RETENTION_HOURS', '0', /from 1 to 8760/],
  ['JOURNAL_MAX_MB', '7', /from 8 to 1048576/],
  ['RESULT_DELIVERY_MAX_AGE_HOURS', '0', /from 1 to 8760/],
  ['RESULT_DELIVERY_MAX_ATTEMPTS', '-3', /from 0 to 1000000/],
  ['DEPENDENCY_INSTALL_TIMEOUT', '7201', /from 1 to 7200/],
  ['WARM_SANDBOXES_PER_SESSION', '65', /from 0 to 64/],
  ['WARM_IDLE_SECONDS', '0', /from 1 to 86400, got '0'/],
  ['WARM_SESSIONS', '0', /from 1 to 4096/],
  ['MAX_CONNECTIONS', '0', /from 1 to 1048576/],
  ['HTTP_HEADERS_TIMEOUT_SECONDS', '0', /from 1 to 3600/],
  ['HTTP_REQUEST_TIMEOUT_SECONDS', 'soon', /from 1 to 3600, got 'soon'/],
  ['HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', '3601', /from 1 to 3600/],
  ['HTTP_STREAM_STALL_SECONDS', '0', /from 1 to 3600/],
];

/** paths, names and tokens: any text is a value */
const FREE_TEXT = ['EXECUTOR_HOST', 'LOG_FILE', 'WORKSPACE_PATH', 'SESSION_ID', 'STATE_PATH', 'DEPENDENCY_PATH', 'INTERNAL_API_TOKEN', 'EXECUTOR_API_TOKEN', 'CONTAINER_ID', 'POD_NAME', 'HOSTNAME'];

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    return error.problems;
  }
  return [];
}

describe('loadConfig', () => {
  it('covers every variable it reads: each has a bad value below or is free text', () => {
    assert.deepEqual([...BAD_VALUES.map(([name]) => name), ...FREE_TEXT].sort(), [...CONFIG_VARIABLES].sort());
  });

  for (const [name, value, expected] of BAD_VALUES) {
    it(`refuses ${name}=${value} with one line naming it and what it expects`, () => {
      const problems = problemsOf({ [name]: value });
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0]!.startsWith(`${name}: `), problems[0]);
      assert.match(problems[0]!, expected);
    });
  }

  it('reports every bad variable at once, and says each in the error message', () => {
    const problems = problemsOf({ EXECUTOR_PORT: 'x', ISOLATION: 'y', SANDBOX_NETWORK: 'z' });
    assert.deepEqual(
      problems.map((p) => p.split(':')[0]),
      ['EXECUTOR_PORT', 'ISOLATION', 'SANDBOX_NETWORK'],
    );
    assert.throws(() => loadConfig({ EXECUTOR_PORT: 'x' }), /invalid configuration:\n {2}- EXECUTOR_PORT: /);
  });

  it('refuses a header timeout longer than the request timeout, saying which to lower', () => {
    const problems = problemsOf({ HTTP_HEADERS_TIMEOUT_SECONDS: '30', HTTP_REQUEST_TIMEOUT_SECONDS: '20' });
    assert.deepEqual(problems.length, 1);
    assert.match(problems[0]!, /^HTTP_HEADERS_TIMEOUT_SECONDS: 30 is more than HTTP_REQUEST_TIMEOUT_SECONDS=20.*set it lower/);
  });

  it('takes flags, spaces and empty values as documented', () => {
    const config = loadConfig({ SANDBOX_NETWORK: ' Yes ', DISABLE_BWRAP: '', LOG_LEVEL: 'WARNING', MAX_MEMORY_MB: ' ', WORKSPACE_PATH: '/nonexistent-ws', SESSION_ID: 's-1' });
    assert.equal(config.network, true);
    assert.equal(config.disableBwrap, false);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.limits.memoryMb, 512, 'empty: the default');
    assert.equal(config.workspaceLayout, 'flat', 'one session: its storage is the workspace root');
    assert.equal(config.stateDir, '/var/lib/sandbox-executor');
  });
});

describe('loadConfig: values read', () => {
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
    assert.deepEqual(c.http, { maxConnections: 4096, headersTimeoutSeconds: 10, requestTimeoutSeconds: 60, keepAliveTimeoutSeconds: 5, streamStallSeconds: 60 });
    assert.equal(c.limits.sandboxNice, 10);
    assert.equal(c.serverAutogroupNice, -20);
  });

  it('CONTROL_PLANE_URL=None or null (a control plane without the setting) is standalone, and the word is kept to be said', () => {
    for (const word of ['None', 'null', ' NONE ']) {
      const c = loadConfig({ CONTROL_PLANE_URL: word });
      assert.equal(c.controlPlaneUrl, undefined);
      assert.equal(c.controlPlaneUrlUnsetWord, word.trim());
    }
    const set = loadConfig({ CONTROL_PLANE_URL: 'http://none:8000' });
    assert.equal(set.controlPlaneUrl, 'http://none:8000');
    assert.equal(set.controlPlaneUrlUnsetWord, undefined);
    assert.throws(() => loadConfig({ CONTROL_PLANE_URL: 'Nothing' }), /http\(s\) URL/);
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
      HTTP_STREAM_STALL_SECONDS: '7',
      SANDBOX_NICE: '5',
      SERVER_AUTOGROUP_NICE: '-7',
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
    assert.deepEqual(c.http, { maxConnections: 500, headersTimeoutSeconds: 3, requestTimeoutSeconds: 30, keepAliveTimeoutSeconds: 2, streamStallSeconds: 7 });
    assert.equal(c.limits.sandboxNice, 5);
    assert.equal(c.serverAutogroupNice, -7);
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

  it('keeps the journal off a remote filesystem: the state beside the workspace only on a local one', () => {
    const local = os.tmpdir();
    assert.equal(defaultStateDir(`${local}/sessions/abc`), `${local}/sessions/.sandbox-executor-state-abc`);
    assert.equal(loadConfig({ WORKSPACE_PATH: `${local}/never-made/ws` }).stateDir, `${local}/never-made/.sandbox-executor-state-ws`);
    // the control plane's /workspace on Docker is a link into its s3fs mount (FUSE); NFS alike
    for (const remote of [0x65735546, 0x6969])
      assert.equal(
        defaultStateDir('/mnt/s3-root/sessions/abc', () => remote),
        '/var/lib/sandbox-executor',
      );
    // the statfs type of a directory that does not exist yet is its nearest ancestor's
    assert.equal(filesystemTypeOf(`${local}/never-made/ws`), filesystemTypeOf(local));
  });
});
