// The performance targets the executor is held to (issue 17, "Performance wave 2"), each read from
// one run and set against the floors measured in that same run: absolute figures move with the
// machine and the hour, ratios to a floor of the same run much less.
import { ACK_REFERENCE_LEVEL, ackResultsOf } from './ack-latency.js';
import type { CellResult } from './load.js';
import type { BenchRun } from './run.js';
import { fmt } from './stats.js';

export interface TargetRow {
  figure: string;
  /** a few characters, for a chart's axis */
  short: string;
  /** which chart it goes on: request latency, or what the executor costs */
  group: 'latency' | 'cost';
  /** what this run measured, with its unit, or how it was derived from the run's floors */
  measured: string;
  target: string;
  /** measured / target when lower is better, target / measured when higher is: ≤ 1 is met */
  ratio: number | null;
  /** null: the run did not measure what this row needs; false too when its figures had errors */
  met: boolean | null;
}

/** The level the issue's concurrent rows are at (the acknowledgement's too). */
const TARGET_LEVEL = ACK_REFERENCE_LEVEL;
/** The memory a burst of sessions may leave above the idle server (a global warm budget). */
const BURST_BUDGET_MB = 64;

function cell(run: BenchRun, workload: string, level: number): CellResult | undefined {
  return run.http?.cells.find((c) => c.workload === workload && c.concurrency === level);
}

/**
 * A figure from requests of which some failed is no verdict of "met": failures are cheap (a 503
 * costs no sandbox) and untimed, so they flatter CPU per execution and latency.
 */
function unlessErrors(row: Measured, errors: number | undefined): Measured {
  if (!errors) return row;
  return { ...row, measured: row.met === null ? `${errors} errors, nothing timed` : `${row.measured}, ${errors} errors`, met: false };
}

/** A lower-is-better row: `value` against `limit`. */
type Measured = Omit<TargetRow, 'short' | 'group'>;

function atMost(figure: string, value: number | null | undefined, limit: number, unit: string): Measured {
  if (value === null || value === undefined || !Number.isFinite(value)) return { figure, measured: 'not measured', target: `≤ ${fmt(limit)} ${unit}`, ratio: null, met: null };
  return { figure, measured: `${fmt(value)} ${unit}`, target: `≤ ${fmt(limit)} ${unit}`, ratio: value / limit, met: value <= limit };
}

/** A higher-is-better row. */
function atLeast(figure: string, value: number | null | undefined, floor: number, unit: string): Measured {
  if (value === null || value === undefined || !Number.isFinite(value)) return { figure, measured: 'not measured', target: `≥ ${fmt(floor)} ${unit}`, ratio: null, met: null };
  return { figure, measured: `${fmt(value)} ${unit}`, target: `≥ ${fmt(floor)} ${unit}`, ratio: value > 0 ? floor / value : null, met: value >= floor };
}

/** A ratio of two figures of the run against the most it may be. */
function ratioAtMost(figure: string, numerator: number | undefined, denominator: number | undefined, limit: number, of: string): Measured {
  const value = numerator !== undefined && denominator ? numerator / denominator : null;
  const row = atMost(figure, value, limit, `× ${of}`);
  if (value !== null && numerator !== undefined && denominator) row.measured = `${fmt(numerator)} / ${fmt(denominator)} ms = ${fmt(value)} × ${of}`;
  return row;
}

export function issueTargets(run: BenchRun): TargetRow[] {
  const rows: TargetRow[] = [];
  const add = (short: string, group: TargetRow['group'], row: Measured) => rows.push({ ...row, short, group });
  const shell = cell(run, 'shell-echo', 1);
  const shell1 = shell?.latency?.p50;
  const againstShell = (short: string, workload: string, figure: string, limit: number) => {
    const row = cell(run, workload, 1);
    add(short, 'latency', unlessErrors(ratioAtMost(figure, row?.latency?.p50, shell1, limit, 'shell'), (row?.errors.total ?? 0) + (shell?.errors.total ?? 0)));
  };
  againstShell('py/sh', 'python-return-1', 'python `return 1`, c1, p50', 1.5);
  againstShell('js/sh', 'javascript-return-1', 'javascript `return 1`, c1, p50', 2);

  // the shell row's floor: a native sandbox's spawn and bash's start, both measured in this run
  const spawnP50 = run.spawn?.variants.native?.p50;
  const bashP50 = run.http?.startup_reference?.shell?.p50;
  const shellFloor = spawnP50 !== undefined && bashP50 !== undefined ? spawnP50 + bashP50 : undefined;
  add('sh c1', 'latency', unlessErrors(ratioAtMost('shell `echo hi`, c1, p50', shell1, shellFloor, 1.6, '(native spawn + bash start)'), shell?.errors.total));

  const spawnCpu = run.spawn?.cpu_ms_per_spawn?.native;
  for (const [workload, limit, short] of [
    ['shell-echo', 3, 'cpu sh'],
    ['python-return-1', 6, 'cpu py'],
    ['javascript-return-1', 12, 'cpu js'],
  ] as const) {
    const row = cell(run, workload, TARGET_LEVEL);
    const measured = atMost(`machine CPU per execution (all processes), ${workload}, c${TARGET_LEVEL}`, row?.server?.tree_cpu_ms_per_execution, limit, 'ms');
    // for reference: what one sandbox costs, made and reaped, running /bin/true (spawn suite)
    if (measured.met !== null && spawnCpu !== undefined) measured.measured += ` (a native sandbox of /bin/true alone: ${fmt(spawnCpu)} ms)`;
    add(short, 'cost', unlessErrors(measured, row?.errors.total));
  }
  for (const [workload, floor, short] of [
    ['shell-echo', 400, 'rps sh'],
    ['python-return-1', 200, 'rps py'],
  ] as const) {
    const row = cell(run, workload, TARGET_LEVEL);
    add(short, 'cost', unlessErrors(atLeast(`throughput, ${workload}, c${TARGET_LEVEL}`, row?.throughput_rps, floor, 'per s'), row?.errors.total));
  }

  const ack = run.http ? ackResultsOf(run.http).find((a) => a.concurrency === TARGET_LEVEL) : undefined;
  add('ack p50', 'latency', unlessErrors(atMost(`\`PENDING\` acknowledgement while ${TARGET_LEVEL} executions run, p50`, ack?.latency?.p50, 2, 'ms'), ack?.errors));
  add('ack p99', 'latency', unlessErrors(atMost(`\`PENDING\` acknowledgement while ${TARGET_LEVEL} executions run, p99`, ack?.latency?.p99, 10, 'ms'), ack?.errors));

  const cost = run.cost;
  add('RSS', 'cost', atMost('idle server RSS (after warm-up)', cost?.rss_idle_warm_mb, 60, 'MB'));
  // settled: the last part of the wait after the burst, when nothing is left to do
  add('idle CPU', 'cost', atMost('idle server CPU, settled', cost?.burst?.idle_cpu_ms_per_second, 1, 'ms/s'));
  const burst = cost?.burst;
  const afterBurst = atMost(
    `server and sandboxes ${burst?.idle_wait_s ?? 60} s after a burst of ${burst?.sessions ?? 16} sessions (PSS)`,
    burst?.after_idle.pss_mb,
    (cost?.rss_idle_warm_mb ?? 0) + BURST_BUDGET_MB,
    'MB',
  );
  afterBurst.target = burst && cost ? `${afterBurst.target} (idle RSS + ${BURST_BUDGET_MB})` : `≤ idle RSS + ${BURST_BUDGET_MB} MB`;
  add('burst', 'cost', afterBurst);
  return rows;
}
