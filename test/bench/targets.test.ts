// Issue 17's targets read from a run (tools/bench/targets.ts): each against the floor of the same
// run, a verdict only where the run measured what the row needs, and shown in the Markdown and SVG.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CellResult } from '../../tools/bench/load.js';
import { renderMarkdown } from '../../tools/bench/report-markdown.js';
import { renderSvg } from '../../tools/bench/report-svg.js';
import type { BenchRun } from '../../tools/bench/run.js';
import type { Summary } from '../../tools/bench/stats.js';
import { issueTargets, type TargetRow } from '../../tools/bench/targets.js';
import { assertWellFormedSvg, syntheticRun } from './fixtures.js';

const summary = (p50: number, p99 = p50 * 2): Summary => ({ n: 100, min: p50 / 2, p50, p90: p50 * 1.5, p99, max: p99, mean: p50, stddev: 1 });

function cell(workload: string, concurrency: number, p50: number, figures: { tree?: number; rps?: number } = {}): CellResult {
  const template = syntheticRun().http!.cells[0]!;
  return {
    ...template,
    workload,
    concurrency,
    latency: summary(p50),
    throughput_rps: figures.rps ?? 10,
    server: { cpu_ms_per_execution: 1, tree_cpu_ms_per_execution: figures.tree, rss_peak_mb: 90, rss_mean_mb: 80 },
  };
}

/** A run whose every target figure is chosen, some met and some not. */
function chosenRun(): BenchRun {
  const run = syntheticRun();
  run.spawn!.variants.native = { ...summary(2), spawns_per_second: 500 };
  run.http!.startup_reference = { iterations: 20, python: summary(20), javascript: summary(40), shell: summary(1) };
  run.http!.concurrency = [1, 16];
  run.http!.cells = [
    cell('shell-echo', 1, 4),
    cell('python-return-1', 1, 5),
    cell('javascript-return-1', 1, 10),
    cell('shell-echo', 16, 40, { tree: 2.5, rps: 450 }),
    cell('python-return-1', 16, 80, { tree: 9, rps: 150 }),
  ];
  run.http!.ack_under_load = [{ workload: 'python-return-1', concurrency: 16, acks: 100, latency: summary(1.5, 12), errors: 0, first_error: null, background_executions: 900 }];
  run.cost!.rss_idle_warm_mb = 75;
  run.cost!.burst = { ...run.cost!.burst!, after_idle: { processes: 1, pss_mb: 100 }, idle_cpu_ms_per_second: 0.5 };
  return run;
}

const byShort = (rows: TargetRow[]) => Object.fromEntries(rows.map((r) => [r.short, r]));

describe('bench targets (issue 17)', () => {
  it('sets every figure against its target and the floors of the same run', () => {
    const rows = byShort(issueTargets(chosenRun()));
    const verdicts = Object.fromEntries(Object.entries(rows).map(([short, r]) => [short, r.met]));
    assert.deepEqual(verdicts, {
      'py/sh': true, // 5 / 4 = 1.25 × shell, at most 1.5
      'js/sh': false, // 10 / 4 = 2.5 × shell, at most 2
      'sh c1': true, // 4 ms against 1.6 × (2 + 1)
      'cpu sh': true,
      'cpu py': false,
      'cpu js': null, // no javascript row at c16 in this run
      'rps sh': true,
      'rps py': false,
      'ack p50': true,
      'ack p99': false,
      RSS: false,
      'idle CPU': true,
      burst: true, // 100 MB against the idle 75 + 64
    });
    assert.equal(rows['py/sh']!.ratio, 1.25 / 1.5);
    assert.equal(rows['rps py']!.ratio, 200 / 150, 'a higher-is-better ratio is target / measured');
    assert.match(rows['sh c1']!.measured, /^4\.00 \/ 3\.00 ms = 1\.33 × \(native spawn \+ bash start\)$/);
    assert.equal(rows['cpu sh']!.measured, '2.50 ms (a native sandbox of /bin/true alone: 2.00 ms)', "the CPU rows quote the run's own sandbox cost");
    assert.match(rows.burst!.target, /≤ 139 MB \(idle RSS \+ 64\)/);
    assert.equal(rows['cpu js']!.measured, 'not measured');
  });

  it('says "not measured" where the run lacks a floor or a suite, instead of a verdict', () => {
    const withoutSpawn = chosenRun();
    withoutSpawn.spawn = null;
    assert.equal(byShort(issueTargets(withoutSpawn))['sh c1']!.met, null, 'no spawn suite: no native spawn floor');
    const withoutBash = chosenRun();
    delete withoutBash.http!.startup_reference!.shell; // a file from before bash's start was measured
    assert.equal(byShort(issueTargets(withoutBash))['sh c1']!.met, null, 'no bash start: no floor either');
    const withoutCost = chosenRun();
    withoutCost.cost = null;
    const rows = byShort(issueTargets(withoutCost));
    for (const short of ['RSS', 'idle CPU', 'burst']) assert.equal(rows[short]!.met, null, short);
    assert.equal(rows.burst!.target, '≤ idle RSS + 64 MB');
    assert.equal(rows['py/sh']!.met, true, 'rows this run has keep their verdict');
  });

  it('gives no "met" to figures from requests of which some failed (a 503 is cheap and untimed)', () => {
    const run = chosenRun();
    const shell16 = run.http!.cells.find((c) => c.workload === 'shell-echo' && c.concurrency === 16)!;
    shell16.errors = { ...shell16.errors, rejected_503: 5, total: 5, first: 'HTTP 503' };
    const python1 = run.http!.cells.find((c) => c.workload === 'python-return-1' && c.concurrency === 1)!;
    python1.errors = { ...python1.errors, wrong_result: 100, total: 100, first: 'status failed' };
    python1.latency = null; // nothing timed
    run.http!.ack_under_load[0]!.errors = 2;
    const rows = byShort(issueTargets(run));
    assert.deepEqual([rows['cpu sh']!.met, rows['rps sh']!.met, rows['py/sh']!.met, rows['ack p50']!.met], [false, false, false, false]);
    assert.match(rows['cpu sh']!.measured, /^2\.50 ms \(a native sandbox of \/bin\/true alone: 2\.00 ms\), 5 errors$/);
    assert.equal(rows['py/sh']!.measured, '100 errors, nothing timed');
    const shellErrors = chosenRun();
    const shell1 = shellErrors.http!.cells.find((c) => c.workload === 'shell-echo' && c.concurrency === 1)!;
    shell1.errors = { ...shell1.errors, transport: 1, total: 1, first: 'ECONNRESET' };
    assert.equal(byShort(issueTargets(shellErrors))['py/sh']!.met, false, "the shell row's errors spoil the ratios taken against it");
  });

  it('is in the Markdown and the SVG when the run measured any of them, and absent otherwise', () => {
    const run = chosenRun();
    const markdown = renderMarkdown(run);
    assert.match(markdown, /### Targets \(issue 17\)/);
    assert.match(markdown, /7 of 12 measured targets met/);
    assert.match(markdown, /\| `PENDING` acknowledgement while 16 executions run, p99 \| 12\.0 ms \| ≤ 10\.0 ms \| 1\.20 \| not met \|/);
    const svg = renderSvg(run);
    assertWellFormedSvg(svg);
    assert.match(svg, /Targets: latency against the floors of this run/);
    assert.match(svg, /Targets: what the executor costs/);
    assert.equal(svg.match(/class="reference"/g)?.length, 2, 'each target panel draws its line at 1');

    const empty = syntheticRun();
    empty.http = null;
    empty.cost = null;
    assert.doesNotMatch(renderMarkdown(empty), /Targets/);
    assert.doesNotMatch(renderSvg(empty), /Targets:/);
  });
});
