// The bench tool's `all` end to end on a tiny iteration count: real sandboxes, a real
// executor child process. Checks what it writes and prints, never how fast anything was.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { BenchRun } from '../../tools/bench/run.js';
import { assertWellFormedSvg } from './fixtures.js';

const BENCH = new URL('../../tools/bench/main.js', import.meta.url).pathname;

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('bench all, tiny', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-out-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('prints only the run JSON on stdout and writes JSON, Markdown and SVG', { timeout: 180_000 }, async () => {
    const r = await cli(['all', '--json', '--iterations', '2', '--concurrency', '1,2', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 1, 'one line of JSON, nothing else');
    const run = JSON.parse(r.stdout) as BenchRun;
    assert.deepEqual(run.suites, ['spawn', 'http', 'cost', 'journal']);
    assert.equal(run.machine.cpus, os.cpus().length);
    assert.equal(run.versions.node, process.version);

    assert.ok(run.spawn, 'spawn suite ran');
    assert.equal(run.spawn.variants.plain?.n, 2);
    assert.deepEqual(
      Object.keys(run.spawn.cpu_ms_per_spawn ?? {}).sort(),
      Object.keys(run.spawn.variants)
        .filter((v) => v !== 'native-1gib-heap')
        .sort(),
      'a CPU pass per variant',
    );
    assert.deepEqual(Object.keys(run.spawn.concurrency), run.spawn.variants.native ? ['1', '2'] : []);

    assert.ok(run.http, 'http suite ran');
    assert.equal(run.http.cells.length, 10, 'five workloads at two levels');
    assert.ok(run.http.startup_reference?.python, 'python start-up measured as the reference');
    assert.ok(run.http.startup_reference?.shell, "bash's start-up measured: the shell row's floor");
    for (const cell of run.http.cells) {
      assert.equal(cell.errors.total, 0, `${cell.workload}@${cell.concurrency}: ${cell.errors.first}`);
      assert.equal(cell.latency?.n, 2);
      assert.ok(cell.phases_p50 && cell.phases_p50.run_ms >= 0, 'the server reports phases');
      assert.ok(cell.server && cell.server.rss_peak_mb > 0, 'our own server: RSS sampled');
      assert.equal(typeof cell.server.tree_cpu_ms_per_execution, 'number', 'the tree CPU measured');
    }
    // over all cells: a cell of two executions is a few 10 ms clock ticks, and one CI run once saw
    // a cell's tree below its server (cause not found); ten cells' sandboxes are far above that
    const servers = run.http.cells.map((cell) => cell.server!);
    const treeMs = servers.reduce((total, s) => total + s.tree_cpu_ms_per_execution!, 0);
    const serverMs = servers.reduce((total, s) => total + s.cpu_ms_per_execution, 0);
    assert.ok(treeMs > serverMs, `the tree holds the server and its reaped sandboxes: ${JSON.stringify(servers)}`);
    const [ack, ...more] = run.http.ack_under_load;
    assert.ok(ack && more.length === 0, 'the acknowledgement measured under load at the highest level, once');
    assert.deepEqual([ack.workload, ack.concurrency, ack.errors, ack.latency?.n], ['python-return-1', 2, 0, 2], ack.first_error ?? '');
    assert.ok(ack.background_executions >= 1, 'the load ran while the acknowledgements were timed');

    assert.ok(run.cost, 'cost suite ran');
    assert.ok(run.cost.rss_idle_start_mb > 0 && run.cost.in_flight.rss_mb > 0);
    assert.equal(run.cost.loads.length, 2);
    const burst = run.cost.burst;
    assert.ok(burst, 'the burst of sessions measured');
    assert.ok(burst.after.processes > burst.after_idle.processes, `the burst's warm sandboxes were there, then given back: ${JSON.stringify(burst)}`);
    assert.ok(burst.after_idle.processes <= burst.before.processes, `nothing of the burst stayed: ${JSON.stringify(burst)}`);
    assert.ok(burst.idle_cpu_window_s! >= 1 && burst.idle_cpu_ms_per_second! >= 0, `the settled idle CPU measured: ${JSON.stringify(burst)}`);

    assert.ok(run.journal, 'journal suite ran');
    assert.deepEqual(
      run.journal.sizes.map((s) => [s.name, s.cap_mb, s.at_cap.n, s.below_cap.n]),
      [
        ['small', 8, 2, 2],
        ['large', 8, 2, 2],
      ],
    );
    // pruned only once at the cap: each result written there made room
    for (const size of run.journal.sizes) assert.ok(size.rows_at_cap > 0 && size.rows_pruned >= 2, `filled to its cap, then pruned: ${JSON.stringify(size)}`);

    // progress went to stderr, files to --out
    assert.match(r.stderr, /\[bench\] suite http: start/);
    const files = readdirSync(out);
    for (const ext of ['json', 'md', 'svg']) assert.equal(files.filter((f) => f.endsWith(`.${ext}`)).length, 2, `a run file and latest.${ext}`);
    assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'latest.json'), 'utf8')), run);
    assert.match(readFileSync(path.join(out, 'latest.md'), 'utf8'), /### HTTP: POST \/execute\?wait=true/);
    assert.match(readFileSync(path.join(out, 'latest.md'), 'utf8'), /The acknowledgement under load: POST \/execute answering PENDING while 2 executions of python-return-1/);
    // the spawn suite and bash's start in one run: the shell row's target has its floor
    if (run.spawn.variants.native) assert.match(readFileSync(path.join(out, 'latest.md'), 'utf8'), /\| shell `echo hi`, c1, p50 \| [\d.]+ \/ [\d.]+ ms = [\d.]+ × \(native spawn \+ bash start\) \|/);
    assertWellFormedSvg(readFileSync(path.join(out, 'latest.svg'), 'utf8'));
  });

  it('prints the Markdown without --json, and rejects bad options with exit code 2', { timeout: 60_000 }, async () => {
    const r = await cli(['spawn', '--iterations', '2', '--concurrency', '1', '--no-write']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^## Benchmark run/);
    assert.match(r.stdout, /\| plain \|/);
    for (const bad of [['bogus'], ['http', '--mode', 'carrier-pigeon'], ['http', '--target', 'ftp://x'], ['spawn', '--iterations', '0'], ['http', '--concurrency', '1,x']]) {
      const b = await cli(bad);
      assert.equal(b.status, 2, `${bad.join(' ')}: ${b.stderr}`);
      assert.equal(b.stdout, '');
    }
  });
});
