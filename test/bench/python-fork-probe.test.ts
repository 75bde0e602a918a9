// The Python fork server probe (tools/bench/python-fork-probe.py) on a tiny run: it must keep
// working, and its forked executions must really be what it measures (pid 1 of a namespace of
// their own, seccomp in force, no capability: the probe checks that inside and fails otherwise).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SANDBOX_PYTHON } from '../../src/runtimes/runtime.js';

const PROBE = new URL('../../../tools/bench/python-fork-probe.py', import.meta.url).pathname;
const UNSHARE = '/usr/bin/unshare';
const PATHS = ['fork', 'start', 'fork_import_json', 'start_import_json', 'fork_until_fork', 'fork_until_namespaces', 'fork_until_restrictions'];

describe('python fork server probe', () => {
  it('measures every path of forked executions that hold their namespaces and restrictions', { skip: existsSync(UNSHARE) ? false : `${UNSHARE} is missing (util-linux)` }, () => {
    const run = spawnSync(UNSHARE, ['--user', '--map-root-user', '--mount', '--pid', '--fork', '--mount-proc', SANDBOX_PYTHON, '-s', '-B', '-S', PROBE, '3'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, `probe failed: ${run.stderr}`);
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

  it('fails, and reports nothing, where an execution cannot make its namespaces', () => {
    // outside any user namespace of its own and without capabilities, unshare is refused
    const unprivileged = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const [command, ...args] = [...unprivileged, SANDBOX_PYTHON, '-s', '-B', '-S', PROBE, '1'];
    const run = spawnSync(command!, args, { encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(run.status, 0, run.stdout);
    assert.match(run.stderr, /python-fork-probe: unshare: Operation not permitted/);
    assert.equal(run.stdout, '');
  });
});
