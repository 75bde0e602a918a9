// Compatibility with the real control plane, as measured (CONTRACT.md section 8): one executor per
// session started with the environment it sets (SESSION_ID, an s3:// WORKSPACE_PATH mounted at the
// workspace, HOSTNAME, CONTROL_PLANE_URL, no SHUTDOWN_GRACE_SECONDS), a stand-in control plane
// that ignores `ready` until it has saved the container, stores results in 65,535-byte columns,
// and stops the container with SIGTERM then SIGKILL after 10 s. Asserted: what the control plane
// would record.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, executorDirs, executorEnv, getJson, submit, type ExecutorDirs } from '../helpers/executor-fixture.js';
import { ExecutorProcess, type Exit } from '../helpers/executor-process.js';
import { READY_UNKNOWN_MS, StandInControlPlane } from './stand-in-control-plane.js';

/** what the real control plane accepts and the original executor took (not a "plain" id) */
const SESSION = 'rc_dots..1';
const DOCKER_STOP_TIMEOUT_MS = 10_000;

describe('drop-in for the control plane (one executor per session)', () => {
  let dirs: ExecutorDirs;
  let cp: StandInControlPlane;
  let executor: ExecutorProcess;
  let exit: Exit | undefined;
  let killedBySigkill = false;

  before(async () => {
    dirs = executorDirs('compat');
    // the session's storage as the control plane's entrypoint mounts it: files it uploaded are there
    mkdirSync(path.join(dirs.workspace, 'input'), { recursive: true, mode: 0o755 });
    chmodSync(dirs.workspace, 0o777);
    writeFileSync(path.join(dirs.workspace, 'input', 'people.csv'), 'name\nada\ngrace\n', { mode: 0o644 });
    cp = await StandInControlPlane.start();
    executor = await ExecutorProcess.start(executorEnv(dirs, { SESSION_ID: SESSION, HOSTNAME: `sandbox-${SESSION}`, CONTROL_PLANE_URL: cp.url, LOG_LEVEL: 'debug' }));
  });

  after(async () => {
    await executor?.kill();
    await cp?.stop();
    dirs?.remove();
  });

  async function resultOf(executionId: string) {
    return eventually(`the control plane to store ${executionId}`, () => cp.results.get(executionId), 30_000);
  }

  it('keeps announcing ready until the control plane has saved the container, and shows it in /info', async () => {
    await eventually('ready heard', () => (cp.ready.some((r) => r.heard) ? true : undefined), READY_UNKNOWN_MS + 15_000);
    assert.equal(cp.ready[0]!.heard, false, 'the first ready came before the container was saved (as measured)');
    assert.equal(cp.ready.at(-1)!.heard, true);
    assert.equal(cp.ready.filter((r) => r.heard).length, 1, 'nothing more once heard');
    assert.equal(cp.ready[0]!.body.container_id, `sandbox-${SESSION}`);
    const info = await getJson(`${executor.url}/info`);
    assert.equal(info.body.ready.state, 'heard', JSON.stringify(info.body.ready));
    assert.equal(info.body.ready.attempts, cp.ready.length);
    assert.match(info.body.ready.last_outcome, /^HTTP 200: .*session updated/);
    assert.equal(info.body.workspace_layout, 'flat');
  });

  it("runs python, javascript and shell in the session's own storage: input/ as uploaded, output/ at the volume root", async () => {
    const python =
      'def handler(event):\n    rows = open("/workspace/input/people.csv").read().split()[1:]\n    import os\n    os.makedirs("output", exist_ok=True)\n    open("output/result.txt", "w").write(",".join(rows))\n    return rows\n';
    const javascript = 'const fs = require("fs");\nexports.handler = () => { fs.writeFileSync("/workspace/output/from-js.txt", "js"); return process.env["MY-VAR"]; };';
    const shell = 'cat input/people.csv | wc -l > output/lines.txt; printf "%s" "$EVENT_JSON"';
    assert.equal((await submit(executor.url, { session_id: SESSION, execution_id: 'exec_py', language: 'python', code: python })).status, 200);
    const py = await resultOf('exec_py');
    assert.equal(py.status, 'success', py.stderr);
    assert.deepEqual(py.return_value, ['ada', 'grace']);
    // any name execve can carry, as the original executor accepted
    const js = await fetch(`${executor.url}/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: SESSION, execution_id: 'exec_js', language: 'javascript', code: javascript, env_vars: { 'MY-VAR': 'dash' } }),
    });
    assert.equal(js.status, 200, await js.text());
    assert.equal((await resultOf('exec_js')).return_value, 'dash');
    assert.equal((await submit(executor.url, { session_id: SESSION, execution_id: 'exec_sh', code: shell })).status, 200);
    assert.equal((await resultOf('exec_sh')).status, 'success');

    assert.equal(readFileSync(path.join(dirs.workspace, 'output', 'result.txt'), 'utf8'), 'ada,grace');
    assert.equal(readFileSync(path.join(dirs.workspace, 'output', 'from-js.txt'), 'utf8'), 'js');
    assert.equal(readFileSync(path.join(dirs.workspace, 'output', 'lines.txt'), 'utf8').trim(), '3');
    assert.equal(existsSync(path.join(dirs.workspace, SESSION)), false, "no per-session directory in the session's storage");
  });

  it("a return value too large for the control plane's column is stored as null with a flag; the whole value stays in GET", async () => {
    const code = 'def handler(event):\n    return "x" * 100000\n';
    assert.equal((await submit(executor.url, { session_id: SESSION, execution_id: 'exec/big', language: 'python', code })).status, 200);
    const stored = await resultOf('exec/big');
    assert.equal(stored.status, 'success');
    assert.equal(stored.return_value, null);
    assert.equal(stored.body.return_value_truncated, true);
    assert.deepEqual(cp.refusedResults, []);
    const full = await getJson(`${executor.url}/executions/${encodeURIComponent('exec/big')}`);
    assert.equal(full.body.result.return_value.length, 100_000);
  });

  it("refuses executions of another session: this executor is that session's storage", async () => {
    const other = await submit(executor.url, { session_id: 'someone-else', execution_id: 'exec_other', code: 'echo no' });
    assert.equal(other.status, 409);
    assert.equal(other.body.error_code, 'Executor.WrongSession');
  });

  it('on terminate (SIGTERM, SIGKILL after 10 s) the running execution is recorded crashed with its output, then exited', async () => {
    assert.equal((await submit(executor.url, { session_id: SESSION, execution_id: 'exec_long', code: 'echo started-before-stop; sleep 120' })).status, 200);
    await eventually('the long execution to run', () => (cp.heartbeats.includes('exec_long') ? true : undefined), 15_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // its first line has been printed
    executor.signal('SIGTERM');
    const sigkill = setTimeout(() => {
      killedBySigkill = true;
      executor.signal('SIGKILL');
    }, DOCKER_STOP_TIMEOUT_MS);
    exit = await executor.exited;
    clearTimeout(sigkill);
    assert.equal(killedBySigkill, false, `the executor was still running after ${DOCKER_STOP_TIMEOUT_MS} ms:\n${executor.output.slice(-3000)}`);
    assert.equal(exit.code, 0);
    const long = cp.results.get('exec_long');
    assert.ok(long, `no result for the killed execution; the control plane got: ${cp.paths.join(' ')}`);
    assert.equal(long.status, 'crashed');
    assert.match(long.stdout, /started-before-stop/);
    assert.equal(cp.exited.length, 1);
    assert.equal(cp.exited[0]!.body.exit_reason, 'sigterm');
  });
});
