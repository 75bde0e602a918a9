// `bench --compare`: ratios B/A, regressions beyond the threshold, exit code 1 for CI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ackLevels } from '../../tools/bench/ack-latency.js';
import { compareRuns, comparisonText } from '../../tools/bench/compare.js';
import { syntheticRun } from './fixtures.js';

const BENCH = new URL('../../tools/bench/main.js', import.meta.url).pathname;

describe('bench acknowledgement levels', () => {
  it("measures at the issue's level 16 when the run has it, and at the run's highest level", () => {
    assert.deepEqual(ackLevels([1, 4, 16, 64]), [16, 64]);
    assert.deepEqual(ackLevels([64, 16, 1]), [16, 64]);
    assert.deepEqual(ackLevels([1, 16]), [16]);
    assert.deepEqual(ackLevels([1, 2]), [2]);
    assert.deepEqual(ackLevels([1, 32]), [32]);
    assert.deepEqual(ackLevels([1]), [], 'no load at level 1');
  });
});

describe('bench compare', () => {
  it('finds nothing between a run and itself', () => {
    const c = compareRuns(syntheticRun(), syntheticRun(), 0.1);
    assert.equal(c.regressions, 0);
    assert.ok(c.figures.length > 40);
    assert.ok(c.figures.every((f) => f.verdict === 'same' && (f.ratio === null || f.ratio === 1)));
  });

  it('flags slower latencies and higher cost, not within-threshold noise', () => {
    const slower = compareRuns(syntheticRun(), syntheticRun(1.5), 0.1);
    const p50 = slower.figures.find((f) => f.key === 'http.shell-echo.c1.p50')!;
    assert.equal(p50.ratio, 1.5);
    assert.equal(p50.verdict, 'regression');
    assert.equal(slower.figures.find((f) => f.key === 'spawn.native.spawns_per_second')!.verdict, 'regression', 'fewer spawns/s is worse');
    assert.equal(slower.figures.find((f) => f.key === 'spawn.native.cpu_ms_per_spawn')!.verdict, 'regression', 'more CPU per spawn is worse');
    assert.equal(slower.figures.find((f) => f.key === 'cost.shell-echo.cpu_ms_per_execution')!.verdict, 'regression');
    assert.equal(slower.figures.find((f) => f.key === 'journal.small.at_cap.p50')!.verdict, 'regression');
    assert.equal(compareRuns(syntheticRun(), syntheticRun(1.05), 0.1).regressions, 0);
    assert.equal(compareRuns(syntheticRun(1.5), syntheticRun(), 0.1).regressions, 0, 'faster is an improvement');
  });

  it('counts any new error as a regression and filters with --only', () => {
    const b = syntheticRun();
    b.http!.cells[0]!.errors = { ...b.http!.cells[0]!.errors, rejected_503: 2, total: 2, first: 'HTTP 503' };
    const c = compareRuns(syntheticRun(), b, 0.1);
    assert.deepEqual(
      c.figures.filter((f) => f.verdict === 'regression').map((f) => f.key),
      ['http.shell-echo.c1.errors'],
    );
    const p50Only = compareRuns(syntheticRun(), syntheticRun(2), 0.1, /\.p50$/);
    assert.ok(p50Only.figures.every((f) => f.key.endsWith('.p50')));
    assert.match(comparisonText(p50Only, 'a.json', 'b.json'), /REGRESSION/);
  });

  it('takes the median of several runs per side, so one disturbed run does not decide', () => {
    const disturbed = compareRuns(syntheticRun(), [syntheticRun(), syntheticRun(2), syntheticRun(1.02)], 0.1);
    assert.equal(disturbed.regressions, 0);
    assert.deepEqual(disturbed.runs, { a: 1, b: 3 });
    assert.equal(disturbed.figures.find((f) => f.key === 'http.shell-echo.c1.p50')!.ratio, 1.02);
    const slower = compareRuns([syntheticRun(), syntheticRun(0.9)], [syntheticRun(1.5), syntheticRun(1.3), syntheticRun()], 0.1);
    const p50 = slower.figures.find((f) => f.key === 'http.shell-echo.c1.p50')!;
    assert.equal(p50.verdict, 'regression', 'two of three runs slower: the median is slower');
    assert.equal(p50.ratio, Math.round((1.3 / 0.95) * 1000) / 1000, 'an even count takes the mean of the middle two');
    assert.match(comparisonText(slower, 'a1,a2', 'b1,b2,b3'), /median of 3 runs/);
  });

  it('reads a file from before the acknowledgement had levels (one object) like one of one level', () => {
    const old = syntheticRun() as unknown as { http: { ack_under_load: unknown } };
    old.http.ack_under_load = syntheticRun().http!.ack_under_load[0];
    const c = compareRuns(old as unknown as ReturnType<typeof syntheticRun>, syntheticRun(1.5), 0.1);
    const ack = c.figures.find((f) => f.key === 'http.ack.python-return-1.c4.p50')!;
    assert.deepEqual([ack.ratio, ack.verdict], [1.5, 'regression']);
  });

  it('warns when the runs paused differently between requests (--think-ms), and not otherwise', () => {
    const paused = syntheticRun();
    paused.http!.think_ms = 200;
    const old = syntheticRun();
    delete old.http!.think_ms; // a file from before --think-ms: back to back
    const mixed = compareRuns([old, syntheticRun()], paused, 0.1);
    assert.deepEqual(mixed.think_ms_differ, [0, 200]);
    assert.match(comparisonText(mixed, 'a', 'b'), /paused 0 \/ 200 ms .*do not compare/);
    const same = compareRuns(old, syntheticRun(), 0.1);
    assert.equal(same.think_ms_differ, null);
    assert.doesNotMatch(comparisonText(same, 'a', 'b'), /paused/);
  });

  it('lists figures present in one run only without failing', () => {
    const b = syntheticRun();
    b.cost = null;
    const c = compareRuns(syntheticRun(), b, 0.1);
    assert.equal(c.regressions, 0);
    assert.ok(c.figures.some((f) => f.verdict === 'only in A' && f.key.startsWith('cost.')));
  });

  describe('on the command line', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-compare-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, content: unknown) => {
      const file = path.join(dir, name);
      writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
      return file;
    };
    const a = write('a.json', syntheticRun());
    const b = write('b.json', syntheticRun(1.5));
    const cli = (...args: string[]) => spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8' });

    it('exits 1 on a regression and 0 without one', () => {
      const worse = cli('--compare', a, b);
      assert.equal(worse.status, 1, worse.stderr);
      assert.match(worse.stdout, /REGRESSION/);
      const same = cli('--compare', a, a, '--threshold', '0.2');
      assert.equal(same.status, 0, same.stderr);
      assert.match(same.stdout, /0 regressions/);
    });

    it('prints only JSON with --json', () => {
      const r = cli('--compare', a, b, '--json');
      assert.equal(r.status, 1);
      const parsed = JSON.parse(r.stdout) as { regressions: number; threshold: number };
      assert.ok(parsed.regressions > 0);
      assert.equal(parsed.threshold, 0.1);
    });

    it('rejects a file that is not a run, and a bad threshold, with exit code 2', () => {
      const r = cli('--compare', a, write('bad.json', '{"x":1}'));
      assert.equal(r.status, 2);
      assert.match(r.stderr, /not a benchmark run/);
      assert.equal(cli('--compare', a, b, '--threshold', 'lots').status, 2);
      assert.equal(cli('--compare', a).status, 2);
      assert.equal(cli('--compare', a, ',').status, 2, 'a side naming no file');
      const sides = cli('--compare', `${a},${a}`, `${b},${a},${b}`);
      assert.equal(sides.status, 1, sides.stderr);
      assert.match(sides.stdout, /median of 3 runs/);
      assert.equal(cli('nonsense').status, 2);
    });
  });
});
