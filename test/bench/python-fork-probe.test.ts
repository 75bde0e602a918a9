// The Python fork server probe (tools/bench/python-fork-probe.py) on a tiny run: it must keep
// working, and its forked executions must really be what it measures (pid 1 of a namespace of
// their own, seccomp in force, no capability: its warm-up runs check that inside, and it fails
// otherwise).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SANDBOX_PYTHON } from '../../src/runtimes/runtime.js';

const PROBE = fileURLToPath(new URL('../../../tools/bench/python-fork-probe.py', import.meta.url));
const UNSHARE = '/usr/bin/unshare';
const SETPRIV = '/usr/bin/setpriv';
const PATHS = ['fork', 'start', 'fork_import_json', 'start_import_json', 'fork_until_fork', 'fork_until_namespaces', 'fork_until_restrictions'];
const IS_ROOT = process.getuid?.() === 0;

describe('python fork server probe', () => {
  it('measures every path of forked executions that hold their namespaces and restrictions', { skip: existsSync(UNSHARE) ? false : `${UNSHARE} is missing (util-linux)` }, () => {
    // --kill-child: a timeout kills unshare, and with it the probe (pid 1 of its namespace)
    const argv = ['--user', '--map-root-user', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', SANDBOX_PYTHON, '-s', '-B', '-S', PROBE, '3'];
    const run = spawnSync(UNSHARE, argv, { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, `probe failed (unprivileged user namespaces must be allowed, as for the native backend): ${run.stderr}`);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(report.runs, 3);
    for (const name of PATHS) {
      const figures = report[name] as Record<string, { p50: number; p99: number }> | undefined;
      assert.ok(figures, `${name} measured: ${run.stdout}`);
      for (const figure of ['wall_ms', 'cpu_ms', 'minor_faults']) {
        const { p50, p99 } = figures[figure]!;
        assert.ok(p50 > 0 && p99 >= p50, `${name}.${figure}: ${JSON.stringify(figures[figure])}`);
      }
    }
  });

  it('fails, and reports nothing, where an execution cannot make its namespaces', { skip: IS_ROOT && !existsSync(SETPRIV) ? `${SETPRIV} is missing (util-linux)` : false }, () => {
    // outside any user namespace of its own and without capabilities, unshare is refused; the
    // script goes in on stdin, so a checkout uid 65534 cannot read (under /root) does not matter
    const unprivileged = IS_ROOT ? [SETPRIV, '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const [command, ...args] = [...unprivileged, SANDBOX_PYTHON, '-s', '-B', '-S', '-', '1'];
    const run = spawnSync(command!, args, { input: readFileSync(PROBE), encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(run.status, 0, run.stdout);
    assert.match(run.stderr, /python-fork-probe: unshare: Operation not permitted/);
    assert.equal(run.stdout, '');
  });
});
