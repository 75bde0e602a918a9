// The Markdown tables of a run: what the CLI prints and docs/benchmarks.md quotes.
import { ackResultsOf } from './ack-latency.js';
import type { BenchRun } from './run.js';
import { fmt, type Summary } from './stats.js';
import { issueTargets } from './targets.js';

function table(header: string[], rows: (string | number)[][], rightAligned = header.map((_, i) => i > 0)): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  const rule = `|${header.map((_, i) => (rightAligned[i] ? ' ---: ' : ' --- ')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const pct = (s: Summary | null) => (s ? [fmt(s.p50), fmt(s.p90), fmt(s.p99), fmt(s.mean)] : ['n/a', 'n/a', 'n/a', 'n/a']);

export function machineLine(run: BenchRun): string {
  const m = run.machine;
  const v = run.versions;
  const commit = v.git_commit ? `${v.git_commit.slice(0, 10)}${v.git_dirty ? ' (uncommitted changes)' : ''}` : 'unknown commit';
  return (
    `${m.cpu_model}, ${m.cpus} CPUs, ${m.memory_gib} GiB RAM, ${m.os ?? 'unknown OS'}${m.container ? ` (${m.container} container)` : ''}, ` +
    `kernel ${m.kernel}, uid ${m.uid ?? '?'}, load average at start ${m.load_average.join(' / ')}; ` +
    `Node ${v.node}, Python ${v.python ?? 'n/a'}, bwrap ${v.bwrap ?? 'n/a'}; sandbox-executor ${v.sandbox_executor} at ${commit}`
  );
}

function spawnSection(run: BenchRun): string[] {
  const s = run.spawn;
  if (!s) return [];
  const out = [
    `### Spawn latency of ${s.true_path}`,
    '',
    `${s.iterations} measured spawns per variant after ${s.warmup} warm-up, variants interleaved; latency = spawn call to exit seen on the event loop.`,
    '',
  ];
  out.push(
    table(
      ['variant', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms', 'stddev ms', 'spawns/s', 'CPU ms per spawn'],
      Object.entries(s.variants).map(([name, v]) => [name, ...pct(v), fmt(v.stddev), fmt(v.spawns_per_second), s.cpu_ms_per_spawn?.[name] === undefined ? 'n/a' : fmt(s.cpu_ms_per_spawn[name])]),
      [false, true, true, true, true, true, true, true],
    ),
  );
  const ownNetns = s.ratios.native_own_netns_over_bwrap === undefined ? '' : `, native-own-netns/bwrap ${fmt(s.ratios.native_own_netns_over_bwrap)}`;
  out.push(
    '',
    `Ratios of p50 (same run): **native/bwrap ${fmt(s.ratios.native_over_bwrap)}**, **native-1GiB-heap/native ${fmt(s.ratios.native_1gib_over_native)}**, native/plain ${fmt(s.ratios.native_over_plain)}${ownNetns}.`,
    '',
  );
  if (Object.keys(s.concurrency).length > 0) {
    out.push(
      table(
        ['native at concurrency', 'spawns', 'spawns/s', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms'],
        Object.entries(s.concurrency).map(([level, c]) => [level, c.latency.n, fmt(c.spawns_per_second), ...pct(c.latency)]),
      ),
      '',
    );
  }
  return out;
}

function httpSection(run: BenchRun): string[] {
  const h = run.http;
  if (!h) return [];
  const endpoint = h.mode === 'wait' ? 'POST /execute?wait=true' : 'POST /execute, result by callback';
  const against =
    h.target === 'self'
      ? `an executor started for the run (backend ${h.server?.backend ?? '?'}, MAX_CONCURRENT_EXECUTIONS=${h.server?.max_concurrent_executions ?? '?'})`
      : `${h.target}${h.server?.backend ? ` (backend ${h.server.backend})` : ''}`;
  const out = [
    `### HTTP: ${endpoint}`,
    '',
    `Against ${against}. ${h.iterations_per_cell} measured requests per row (at least one per worker) after ${h.warmup_per_cell}; one session per worker${h.think_ms ? `, each waiting ${h.think_ms} ms after a result before its next request (throughput counts the pauses)` : ''}. Latency = request sent to full result received. Phases are the server's medians; server CPU is the executor process's own CPU per execution (sandboxes excluded).`,
    '',
  ];
  const hasServer = h.cells.some((c) => c.server);
  const header = ['workload', 'conc.', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms', 'req/s', 'errors (503)', 'queue', 'prepare', 'spawn', 'run', 'scan', 'build'];
  if (hasServer) header.push('server CPU ms/exec', 'with sandboxes ms/exec');
  const rows = h.cells.map((c) => {
    const p = c.phases_p50;
    const row = [
      c.workload,
      c.concurrency,
      ...pct(c.latency),
      fmt(c.throughput_rps),
      `${c.errors.total} (${c.errors.rejected_503})`,
      ...(p ? [p.queue_ms, p.prepare_ms, p.spawn_ms, p.run_ms, p.artifact_scan_ms, p.result_build_ms].map(fmt) : ['n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']),
    ];
    if (hasServer) row.push(fmt(c.server?.cpu_ms_per_execution), fmt(c.server?.tree_cpu_ms_per_execution));
    return row;
  });
  out.push(
    table(
      header,
      rows,
      header.map((_, i) => i !== 0),
    ),
    '',
  );
  for (const ack of ackResultsOf(h))
    out.push(
      `The acknowledgement under load: POST /execute answering PENDING while ${ack.concurrency} executions of ${ack.workload} run (${ack.concurrency - 1} workers with ?wait=true, ${ack.background_executions} finished meanwhile), ${ack.acks} acknowledgements, p50 / p99: ${fmt(ack.latency?.p50)} / ${fmt(ack.latency?.p99)} ms${ack.errors ? `, ${ack.errors} errors (first: ${ack.first_error?.replace(/\s+/g, ' ').slice(0, 200)})` : ''}.`,
      '',
    );
  const ref = h.startup_reference;
  if (ref)
    out.push(
      `Interpreter start-up and exit outside any sandbox on this machine (${ref.iterations} runs, p50 / p99): python3 ${fmt(ref.python?.p50)} / ${fmt(ref.python?.p99)} ms, node ${fmt(ref.javascript?.p50)} / ${fmt(ref.javascript?.p99)} ms${ref.shell ? `, bash ${fmt(ref.shell.p50)} / ${fmt(ref.shell.p99)} ms` : ''}.`,
      '',
    );
  const failing = h.cells.filter((c) => c.errors.first);
  for (const c of failing) out.push(`- ${c.workload} at ${c.concurrency}: first error: ${c.errors.first!.replace(/\s+/g, ' ').slice(0, 200)}`);
  if (failing.length) out.push('');
  return out;
}

function costSection(run: BenchRun): string[] {
  const c = run.cost;
  if (!c) return [];
  const rows: (string | number)[][] = [
    ['server RSS idle, just started', `${fmt(c.rss_idle_start_mb)} MB`],
    ['server RSS idle, after warm-up', `${fmt(c.rss_idle_warm_mb)} MB`],
    ['server CPU while idle, just started', `${fmt(c.cpu_ms_per_idle_second)} ms/s`],
  ];
  for (const l of c.loads) {
    rows.push([`${l.workload} at concurrency ${l.concurrency}: server RSS peak / mean`, `${fmt(l.rss_peak_mb)} / ${fmt(l.rss_mean_mb)} MB`]);
    rows.push([`${l.workload} at concurrency ${l.concurrency}: server CPU per execution`, `${fmt(l.cpu_ms_per_execution)} ms`]);
    rows.push([`${l.workload} at concurrency ${l.concurrency}: throughput`, `${fmt(l.throughput_rps)} exec/s`]);
  }
  rows.push([`server memory per in-flight execution (${c.in_flight.executions} sleeping at once, RSS ${fmt(c.in_flight.rss_mb)} MB)`, `${fmt(c.in_flight.overhead_kb_per_execution)} KiB`]);
  rows.push([`server RSS after ${c.executions_total} executions, settled`, `${fmt(c.rss_after_load_mb)} MB`]);
  const b = c.burst;
  if (b) {
    const tree = (m: { pss_mb: number; processes: number }) => `${fmt(m.pss_mb)} MB (${m.processes} processes)`;
    rows.push(['server and sandboxes (PSS) after the loads, before a burst', tree(b.before)]);
    rows.push([`... after one python execution in each of ${b.sessions} new sessions`, tree(b.after)]);
    rows.push([`... ${b.idle_wait_s} s later (the sessions idle)`, tree(b.after_idle)]);
    if (b.idle_cpu_ms_per_second !== undefined) rows.push([`server CPU while idle, settled (the last ${b.idle_cpu_window_s} s of that wait)`, `${fmt(b.idle_cpu_ms_per_second)} ms/s`]);
  }
  return [
    '### Cost of the executor process',
    '',
    `${c.iterations_per_load} measured executions per load; RSS from /proc/<pid>/status, CPU from /proc/<pid>/stat (utime+stime, sandboxes excluded).`,
    '',
    table(['figure', 'value'], rows),
    '',
  ];
}

function journalSection(run: BenchRun): string[] {
  const j = run.journal;
  if (!j) return [];
  const latency = (s: { p50: number; p99: number; max: number }) => `${fmt(s.p50)} / ${fmt(s.p99)} / ${fmt(s.max)}`;
  return [
    '### The journal at its size cap',
    '',
    `Per result, on the event loop: its insert, its commit and pruning back to the cap (JOURNAL_MAX_MB), ${j.iterations} results into a journal filled to its cap, then as many into the same journal with the cap out of reach. Milliseconds, p50 / p99 / max.`,
    '',
    table(
      ['result', 'cap', 'results at the cap', 'at the cap', 'below the cap', 'ratio p50', 'pruned'],
      j.sizes.map((s) => [`${fmt(s.result_bytes / 1024)} KiB`, `${s.cap_mb} MiB`, s.rows_at_cap, latency(s.at_cap), latency(s.below_cap), fmt(s.ratio_p50), s.rows_pruned]),
    ),
    '',
  ];
}

/** Issue 17's targets against this run; only when the run measured at least one of them. */
function targetsSection(run: BenchRun): string[] {
  const rows = issueTargets(run);
  if (rows.every((r) => r.met === null)) return [];
  const verdict = (met: boolean | null) => (met === null ? 'n/a' : met ? 'met' : 'not met');
  return [
    '### Targets (issue 17)',
    '',
    `Each against the floors of this run where it has one; ratio: measured / target (≥ targets: target / measured), so ≤ 1 is met. ${rows.filter((r) => r.met).length} of ${rows.filter((r) => r.met !== null).length} measured targets met.`,
    '',
    table(
      ['figure', 'measured', 'target', 'ratio', 'verdict'],
      rows.map((r) => [r.figure, r.measured, r.target, fmt(r.ratio), verdict(r.met)]),
      [false, true, true, true, false],
    ),
    '',
  ];
}

export function renderMarkdown(run: BenchRun): string {
  const out = [`## Benchmark run ${run.started_at} (${run.suites.join(', ')}; ${fmt(run.duration_s)} s)`, '', `Machine: ${machineLine(run)}.`, ''];
  out.push(...targetsSection(run), ...spawnSection(run), ...httpSection(run), ...costSection(run), ...journalSection(run));
  for (const [what, why] of Object.entries(run.skipped)) out.push(`- skipped ${what}: ${why}`);
  return `${out.join('\n').trimEnd()}\n`;
}
