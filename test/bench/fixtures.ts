// A synthetic benchmark run (no sandboxes, no server) for the report and compare tests, and a
// structural check that an SVG is well-formed XML. Does nothing when imported on its own
// (`node --test dist/test/` loads every file here).
import assert from 'node:assert/strict';
import type { CellResult } from '../../tools/bench/load.js';
import { SCHEMA, type BenchRun } from '../../tools/bench/run.js';
import { summarize } from '../../tools/bench/stats.js';

const latency = (base: number) => summarize(Array.from({ length: 100 }, (_, i) => base + i * base * 0.01));

function cell(workload: string, concurrency: number, base: number): CellResult {
  return {
    workload,
    concurrency,
    requests: 100,
    warmup: concurrency,
    ok: 100,
    latency: latency(base * concurrency),
    throughput_rps: 1000 / base,
    elapsed_s: 1,
    errors: { rejected_503: 0, http_error: 0, wrong_result: 0, transport: 0, total: 0, first: null },
    phases_p50: { queue_ms: 0.1, prepare_ms: 0.5, spawn_ms: 2, run_ms: base / 2, artifact_scan_ms: 0.2, result_build_ms: 0.1 },
    server: { cpu_ms_per_execution: 1.5, tree_cpu_ms_per_execution: 9.5, rss_peak_mb: 90, rss_mean_mb: 80 },
  };
}

/** A run with every suite filled in; `scale` multiplies every latency (a slower run). */
export function syntheticRun(scale = 1): BenchRun {
  const spawnVariant = (base: number) => ({ ...latency(base * scale), spawns_per_second: Math.round(1000 / (base * scale)) });
  return {
    schema: SCHEMA,
    suites: ['spawn', 'http', 'cost', 'journal'],
    started_at: '2026-01-01T00:00:00.000Z',
    duration_s: 100,
    machine: { hostname: 'h', os: 'Debian <test> & co', kernel: '6.1.0', arch: 'x64', cpus: 2, cpu_model: 'Test CPU', memory_gib: 8, load_average: [0, 0, 0], uid: 0, container: null },
    versions: { sandbox_executor: '0.1.0', node: 'v20.0.0', python: '3.11', bwrap: '0.8.0', git_commit: '0123456789abcdef', git_dirty: false },
    config: {},
    spawn: {
      iterations: 100,
      warmup: 10,
      true_path: '/bin/true',
      variants: { native: spawnVariant(2), bwrap: spawnVariant(8), plain: spawnVariant(1), 'native-1gib-heap': spawnVariant(2.2) },
      ratios: { native_over_bwrap: 0.25, native_1gib_over_native: 1.1, native_over_plain: 2 },
      concurrency: Object.fromEntries([1, 4].map((level) => [String(level), { spawns_per_second: 200 * level, latency: latency(2 * level * scale) }])),
      heap_used_mb_during_1gib: 1030,
      cpu_ms_per_spawn: { native: 2 * scale, bwrap: 9 * scale, plain: 1 * scale },
    },
    http: {
      target: 'self',
      mode: 'wait',
      iterations_per_cell: 100,
      warmup_per_cell: 'one execution per worker',
      concurrency: [1, 4],
      think_ms: 0,
      server: { version: '0.1.0', backend: 'native', max_concurrent_executions: 64, mode: 'standalone' },
      server_env: {},
      callback_duplicates: null,
      startup_reference: { iterations: 30, python: latency(20), javascript: latency(40) },
      cells: ['shell-echo', 'python-return-1'].flatMap((w, i) => [1, 4].map((c) => cell(w, c, (3 + 20 * i) * scale))),
      ack_under_load: [{ workload: 'python-return-1', concurrency: 4, acks: 100, latency: latency(1.5 * scale), errors: 0, first_error: null, background_executions: 300 }],
    },
    cost: {
      iterations_per_load: 100,
      load_concurrency: 16,
      settle_ms: 1000,
      rss_idle_start_mb: 70,
      rss_idle_warm_mb: 75,
      cpu_ms_per_idle_second: 1,
      loads: [{ workload: 'shell-echo', concurrency: 16, executions: 100, throughput_rps: 100, cpu_ms_per_execution: 2 * scale, rss_peak_mb: 90, rss_mean_mb: 85 }],
      in_flight: { executions: 32, rss_mb: 80, overhead_kb_per_execution: 160 },
      rss_after_load_mb: 90,
      burst: {
        sessions: 16,
        before: { processes: 1, pss_mb: 75 },
        after: { processes: 65, pss_mb: 400 },
        after_idle: { processes: 1, pss_mb: 80 * scale },
        idle_wait_s: 32,
        idle_cpu_ms_per_second: 0.5 * scale,
        idle_cpu_window_s: 10,
      },
      executions_total: 300,
    },
    journal: {
      iterations: 100,
      sizes: [
        { name: 'small', result_bytes: 2000, cap_mb: 64, rows_at_cap: 16000, at_cap: latency(0.3 * scale), below_cap: latency(0.2 * scale), ratio_p50: 1.5, rows_pruned: 101 },
        { name: 'large', result_bytes: 1048576, cap_mb: 64, rows_at_cap: 64, at_cap: latency(14 * scale), below_cap: latency(12 * scale), ratio_p50: 1.17, rows_pruned: 100 },
      ],
    },
    skipped: {},
  };
}

/** Asserts balanced tags, quoted attributes and no raw '&' or '<' in text: enough for a viewer. */
export function assertWellFormedSvg(svg: string): void {
  assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  const body = svg.replace(/^<\?xml[^>]*\?>/, '');
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const text = body.slice(last, m.index);
    assert.doesNotMatch(text, /<|&(?!(lt|gt|amp|quot|apos);)/, `stray markup in text: ${text.slice(0, 80)}`);
    last = m.index + m[0].length;
    const [, closing, name, , selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else if (!selfClosing) stack.push(name!);
  }
  assert.doesNotMatch(body.slice(last), /</, 'unparsed markup after the last tag');
  assert.deepEqual(stack, [], 'unclosed elements');
}
