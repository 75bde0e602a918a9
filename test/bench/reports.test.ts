// The run's Markdown, SVG and statistics, from a synthetic run: shape, not speed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { renderMarkdown } from '../../tools/bench/report-markdown.js';
import { chartPanels, renderSvg } from '../../tools/bench/report-svg.js';
import { writeResults } from '../../tools/bench/results-files.js';
import { percentile, summarize } from '../../tools/bench/stats.js';
import { assertWellFormedSvg, syntheticRun } from './fixtures.js';

describe('bench statistics', () => {
  it('uses nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 50), 50);
    assert.equal(percentile(sorted, 99), 99);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('summarizes unsorted samples', () => {
    const s = summarize([3, 1, 2, 4]);
    assert.deepEqual([s.n, s.min, s.max, s.p50, s.mean], [4, 1, 4, 2, 2.5]);
  });
});

describe('bench Markdown', () => {
  const markdown = renderMarkdown(syntheticRun());

  it('has a spawn table with every variant, the ratios and the concurrency table', () => {
    for (const variant of ['native', 'bwrap', 'plain', 'native-1gib-heap']) assert.match(markdown, new RegExp(`^\\| ${variant} \\| [\\d.]+ \\|`, 'm'));
    assert.match(markdown, /native\/bwrap 0\.25/);
    assert.match(markdown, /native-1GiB-heap\/native 1\.10/);
    assert.match(markdown, /^\| native at concurrency \|/m);
    assert.match(markdown, /^\| native \|( [\d.]+ \|){6} 2\.00 \|$/m, 'the CPU of one spawn, last column');
    assert.match(markdown, /^\| native-1gib-heap \|( [\d.]+ \|){6} n\/a \|$/m, 'a variant without a CPU pass says so');
  });

  it('has one http row per workload and concurrency, with phases and server CPU', () => {
    const rows = markdown.split('\n').filter((l) => /^\| (shell-echo|python-return-1) \| \d+ \|/.test(l));
    assert.equal(rows.length, 4);
    const header = markdown.split('\n').find((l) => l.startsWith('| workload |'))!;
    for (const row of rows) assert.equal(row.split('|').length, header.split('|').length, 'every row has every column');
    assert.match(header, /queue \| prepare \| spawn \| run \| scan \| build \| server CPU ms\/exec \| with sandboxes ms\/exec/);
    assert.ok(
      rows.every((row) => row.endsWith('| 1.50 | 9.50 |')),
      'server CPU, then the tree with its reaped sandboxes',
    );
    assert.match(markdown, /outside any sandbox on this machine \(30 runs, p50 \/ p99\): python3 [\d.]+ \/ [\d.]+ ms, node [\d.]+/);
  });

  it('names the machine and has the cost table', () => {
    assert.match(markdown, /Test CPU, 2 CPUs, 8 GiB RAM/);
    assert.match(markdown, /0123456789/);
    assert.match(markdown, /server memory per in-flight execution/);
  });

  it('has the journal at its cap beside below it', () => {
    assert.match(markdown, /### The journal at its size cap/);
    assert.match(markdown, /\| 1024 KiB \| 64 MiB \| 64 \| [\d.]+ \/ [\d.]+ \/ [\d.]+ \| [\d.]+ \/ [\d.]+ \/ [\d.]+ \| 1\.17 \| 100 \|/);
  });

  it('leaves out suites that did not run', () => {
    const only = { ...syntheticRun(), spawn: null, cost: null, journal: null, suites: ['http' as const] };
    const text = renderMarkdown(only);
    assert.doesNotMatch(text, /Spawn latency|Cost of the executor|journal at its size cap/);
    assert.match(text, /### HTTP/);
  });
});

describe('bench SVG', () => {
  it('is well-formed, with a panel per backend comparison and concurrency sweep, the acknowledgement under load, throughput and cost', () => {
    const run = syntheticRun();
    const svg = renderSvg(run);
    assertWellFormedSvg(svg);
    const panels = chartPanels(run);
    assert.deepEqual(
      panels.map((p) => p.title),
      [
        'Spawn of /bin/true by backend',
        'Native spawn by concurrency',
        'HTTP shell-echo (wait) by concurrency',
        'HTTP python-return-1 (wait) by concurrency',
        'PENDING acknowledgement under python-return-1 load',
        'HTTP throughput at concurrency 4',
        'Executor RSS; with sandboxes after 16 new sessions',
        'Executor CPU: idle per second, per execution',
        'Targets: latency against the floors of this run',
        'Targets: what the executor costs',
      ],
    );
    const bars = panels.reduce((n, p) => n + (p.kind === 'latency' ? p.groups.length * 3 : p.bars.length), 0);
    assert.equal(svg.match(/<rect x=/g)!.length, bars + 3, 'three bars per latency group, one per value, plus the legend');
    assert.match(svg, /latency, ms \(log scale\)/);
    const values = (title: string) => panels.find((p) => p.title === title && p.kind === 'values') as { bars: { label: string; value: number }[] };
    assert.deepEqual(
      values('Executor RSS; with sandboxes after 16 new sessions').bars,
      [
        { label: 'idle', value: 75 },
        { label: 'shell c16', value: 90 },
        { label: 'settled', value: 90 },
        { label: 'burst', value: 400 },
        { label: '+32 s', value: 80 },
      ],
      'the idle, peak and settled RSS, then the tree right after the burst and once its sessions went idle',
    );
    assert.match(svg, /<title>burst: 400 MB<\/title>/);
    assert.deepEqual(
      values('Executor CPU: idle per second, per execution').bars,
      [
        { label: 'started, per s', value: 1 },
        { label: 'settled, per s', value: 0.5 },
        { label: 'shell c16', value: 2 },
      ],
      'idle CPU just started and settled after the burst, then per execution under load',
    );
    assert.deepEqual(
      values('HTTP throughput at concurrency 4').bars.map((b) => b.label),
      ['shell-echo', 'python-return-1'],
    );
  });

  it('draws the percentile legend only where a panel has percentiles', () => {
    const costOnly = renderSvg({ ...syntheticRun(), spawn: null, http: null });
    assertWellFormedSvg(costOnly);
    assert.match(costOnly, /Executor RSS/);
    assert.doesNotMatch(costOnly, />p50</);
    assert.match(renderSvg(syntheticRun()), />p50</);
  });

  it('escapes text and survives a run without data', () => {
    const run = { ...syntheticRun(), spawn: null, cost: null };
    run.http = { ...run.http!, cells: run.http!.cells.map((c) => ({ ...c, workload: 'a<b>&c', latency: null })) };
    const svg = renderSvg(run);
    assertWellFormedSvg(svg);
    assert.match(svg, /a&lt;b&gt;&amp;c/);
    assert.match(svg, /no data/);
  });
});

describe('bench result files', () => {
  it('writes the JSON, Markdown and SVG, and latest.* copies', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-files-'));
    try {
      const files = writeResults(syntheticRun(), path.join(dir, 'nested'));
      assert.deepEqual(JSON.parse(readFileSync(files.json, 'utf8')).schema, 'sandbox-executor-bench/1');
      assert.match(readFileSync(files.markdown, 'utf8'), /^## Benchmark run/);
      assertWellFormedSvg(readFileSync(files.svg, 'utf8'));
      assert.deepEqual(
        readdirSync(path.join(dir, 'nested'))
          .filter((f) => f.startsWith('latest'))
          .sort(),
        ['latest.json', 'latest.md', 'latest.svg'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
