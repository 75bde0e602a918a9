// `bench --compare A.json B.json`: every figure of two runs side by side as B/A, flagging the ones
// that got worse by more than the threshold (for CI: a regression means exit code 1). Either side
// may be several runs (taken in turns with the other side's, on a noisy machine): each figure is
// then the median over that side's runs, so one disturbed run does not decide the verdict.
import { ackResultsOf } from './ack-latency.js';
import type { BenchRun } from './run.js';
import { fmt } from './stats.js';

type Direction = 'lower' | 'higher' | 'count';

export interface Figure {
  key: string;
  value: number;
  /** which way is better; 'count': any increase (errors) is a regression */
  better: Direction;
}

export interface ComparedFigure {
  key: string;
  a: number | null;
  b: number | null;
  ratio: number | null;
  verdict: 'regression' | 'improvement' | 'same' | 'only in A' | 'only in B';
}

export interface Comparison {
  threshold: number;
  /** how many runs each side's medians come from */
  runs: { a: number; b: number };
  machines_differ: boolean;
  /** the http suites' pauses between a result and the next request, when the runs used different ones */
  think_ms_differ: number[] | null;
  figures: ComparedFigure[];
  regressions: number;
}

const LATENCY = ['p50', 'p90', 'p99', 'mean'] as const;

/** The figures of a run worth comparing, flattened to dotted keys. */
export function figures(run: BenchRun): Figure[] {
  const out: Figure[] = [];
  const add = (key: string, value: number | null | undefined, better: Direction) => {
    if (typeof value === 'number' && Number.isFinite(value)) out.push({ key, value, better });
  };
  if (run.spawn) {
    for (const [variant, s] of Object.entries(run.spawn.variants)) {
      for (const p of LATENCY) add(`spawn.${variant}.${p}`, s[p], 'lower');
      add(`spawn.${variant}.spawns_per_second`, s.spawns_per_second, 'higher');
      add(`spawn.${variant}.cpu_ms_per_spawn`, run.spawn.cpu_ms_per_spawn?.[variant], 'lower');
    }
    for (const [ratio, value] of Object.entries(run.spawn.ratios)) add(`spawn.ratio.${ratio}`, value, 'lower');
    for (const [level, c] of Object.entries(run.spawn.concurrency)) {
      for (const p of LATENCY) add(`spawn.concurrency_${level}.${p}`, c.latency[p], 'lower');
      add(`spawn.concurrency_${level}.spawns_per_second`, c.spawns_per_second, 'higher');
    }
  }
  if (run.http) {
    for (const cell of run.http.cells) {
      const prefix = `http.${cell.workload}.c${cell.concurrency}`;
      for (const p of LATENCY) add(`${prefix}.${p}`, cell.latency?.[p], 'lower');
      add(`${prefix}.throughput_rps`, cell.throughput_rps, 'higher');
      add(`${prefix}.errors`, cell.errors.total, 'count');
      add(`${prefix}.server_cpu_ms_per_execution`, cell.server?.cpu_ms_per_execution, 'lower');
      add(`${prefix}.tree_cpu_ms_per_execution`, cell.server?.tree_cpu_ms_per_execution, 'lower');
    }
    for (const ack of ackResultsOf(run.http)) {
      for (const p of LATENCY) add(`http.ack.${ack.workload}.c${ack.concurrency}.${p}`, ack.latency?.[p], 'lower');
      add(`http.ack.${ack.workload}.c${ack.concurrency}.errors`, ack.errors, 'count');
    }
  }
  if (run.cost) {
    add('cost.rss_idle_start_mb', run.cost.rss_idle_start_mb, 'lower');
    add('cost.rss_idle_warm_mb', run.cost.rss_idle_warm_mb, 'lower');
    for (const load of run.cost.loads) {
      add(`cost.${load.workload}.cpu_ms_per_execution`, load.cpu_ms_per_execution, 'lower');
      add(`cost.${load.workload}.rss_peak_mb`, load.rss_peak_mb, 'lower');
      add(`cost.${load.workload}.throughput_rps`, load.throughput_rps, 'higher');
    }
    add('cost.in_flight_kb_per_execution', run.cost.in_flight.overhead_kb_per_execution, 'lower');
    const burst = run.cost.burst;
    if (burst) add(`cost.burst${burst.sessions}.tree_pss_after_idle_mb`, burst.after_idle.pss_mb, 'lower');
    add('cost.cpu_ms_per_idle_second_settled', burst?.idle_cpu_ms_per_second, 'lower');
  }
  for (const size of run.journal?.sizes ?? []) {
    for (const p of ['p50', 'p99'] as const) add(`journal.${size.name}.at_cap.${p}`, size.at_cap[p], 'lower');
    add(`journal.${size.name}.ratio_p50`, size.ratio_p50, 'lower');
  }
  return out;
}

function verdict(a: Figure, b: Figure, threshold: number): ComparedFigure['verdict'] {
  if (a.better === 'count') return b.value > a.value ? 'regression' : b.value < a.value ? 'improvement' : 'same';
  if (a.value === 0) return b.value === 0 ? 'same' : a.better === 'lower' ? 'regression' : 'improvement';
  const ratio = b.value / a.value;
  const worse = a.better === 'lower' ? ratio > 1 + threshold : ratio < 1 - threshold;
  const better = a.better === 'lower' ? ratio < 1 - threshold : ratio > 1 + threshold;
  return worse ? 'regression' : better ? 'improvement' : 'same';
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Each figure of one side: its median over the runs that have it. */
function sideFigures(runs: BenchRun[], select: (f: Figure) => boolean): Map<string, Figure> {
  const values = new Map<string, { better: Direction; values: number[] }>();
  for (const run of runs) {
    for (const f of figures(run).filter(select)) {
      const entry = values.get(f.key) ?? { better: f.better, values: [] };
      entry.values.push(f.value);
      values.set(f.key, entry);
    }
  }
  return new Map([...values].map(([key, e]) => [key, { key, value: median(e.values), better: e.better }]));
}

/** only: a regular expression selecting the figures to compare (e.g. 'p50|throughput'). */
export function compareRuns(a: BenchRun | BenchRun[], b: BenchRun | BenchRun[], threshold: number, only?: RegExp): Comparison {
  const select = (f: Figure) => !only || only.test(f.key);
  const runsA = Array.isArray(a) ? a : [a];
  const runsB = Array.isArray(b) ? b : [b];
  if (runsA.length === 0 || runsB.length === 0) throw new Error('each side of a comparison needs at least one run');
  const fa = sideFigures(runsA, select);
  const fb = sideFigures(runsB, select);
  const compared: ComparedFigure[] = [];
  for (const [key, x] of fa) {
    const y = fb.get(key);
    if (!y) {
      compared.push({ key, a: x.value, b: null, ratio: null, verdict: 'only in A' });
      continue;
    }
    compared.push({ key, a: x.value, b: y.value, ratio: x.value === 0 ? null : Math.round((y.value / x.value) * 1000) / 1000, verdict: verdict(x, y, threshold) });
  }
  for (const [key, y] of fb) if (!fa.has(key)) compared.push({ key, a: null, b: y.value, ratio: null, verdict: 'only in B' });
  const machines = new Set([...runsA, ...runsB].map((r) => `${r.machine.cpu_model}/${r.machine.cpus}`));
  // a file from before --think-ms ran back to back (0)
  const pauses = new Set([...runsA, ...runsB].filter((r) => r.http).map((r) => r.http!.think_ms ?? 0));
  return {
    threshold,
    runs: { a: runsA.length, b: runsB.length },
    machines_differ: machines.size > 1,
    think_ms_differ: pauses.size > 1 ? [...pauses].sort((x, y) => x - y) : null,
    figures: compared,
    regressions: compared.filter((c) => c.verdict === 'regression').length,
  };
}

export function comparisonText(c: Comparison, nameA: string, nameB: string): string {
  const width = Math.max(6, ...c.figures.map((f) => f.key.length));
  const runs = (n: number) => (n > 1 ? ` (each figure the median of ${n} runs)` : '');
  const lines = [`A = ${nameA}${runs(c.runs.a)}`, `B = ${nameB}${runs(c.runs.b)}`, `threshold ${c.threshold * 100}%: a figure that got worse by more is a regression`, ''];
  if (c.machines_differ) lines.push('warning: the runs come from different machines; absolute figures do not compare', '');
  if (c.think_ms_differ) {
    lines.push(`warning: the runs' http suites paused ${c.think_ms_differ.join(' / ')} ms between a result and the next request (--think-ms); their http figures do not compare`, '');
  }
  lines.push(`${'figure'.padEnd(width)}  ${'A'.padStart(9)}  ${'B'.padStart(9)}  ${'B/A'.padStart(7)}  verdict`);
  for (const f of c.figures) {
    const mark = f.verdict === 'regression' ? 'REGRESSION' : f.verdict === 'same' ? '' : f.verdict;
    lines.push(`${f.key.padEnd(width)}  ${fmt(f.a).padStart(9)}  ${fmt(f.b).padStart(9)}  ${(f.ratio === null ? 'n/a' : f.ratio.toFixed(3)).padStart(7)}  ${mark}`);
  }
  lines.push('', `${c.regressions} regression${c.regressions === 1 ? '' : 's'} among ${c.figures.length} figures`, '');
  return lines.join('\n');
}
