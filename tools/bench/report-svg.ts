// The chart of a run as a standalone SVG written by hand (no browser, no dependency): one panel
// per backend comparison and per concurrency sweep, grouped bars of p50/p90/p99 on a log axis
// (latencies span a millisecond to seconds); then the throughput and the executor's own cost
// (memory, CPU) as single bars on a linear axis, each labelled with its value.
import type { CostSuiteResult } from './cost-suite.js';
import { ackResultsOf } from './ack-latency.js';
import type { BenchRun } from './run.js';
import type { Summary } from './stats.js';
import { issueTargets } from './targets.js';

interface Group {
  label: string;
  summary: Summary;
}

export interface LatencyPanel {
  kind: 'latency';
  title: string;
  xLabel: string;
  groups: Group[];
}

/** one value per bar, e.g. MB or executions per second */
export interface ValuePanel {
  kind: 'values';
  title: string;
  unit: string;
  bars: { label: string; value: number }[];
  /** a dashed line across the bars at this value (a target) */
  reference?: number;
}

export type Panel = LatencyPanel | ValuePanel;

const SERIES = [
  { key: 'p50', color: '#4c78a8' },
  { key: 'p90', color: '#f58518' },
  { key: 'p99', color: '#e45756' },
] as const;
const VALUE_COLOR = '#54a24b';

const PANEL_W = 470;
const PANEL_H = 270;
const MARGIN = { left: 58, right: 14, top: 34, bottom: 46 };
const COLUMNS = 2;
const HEADER_H = 64;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const num = (x: number) => (Math.round(x * 10) / 10).toString();

function tickLabel(value: number): string {
  return value >= 1000 ? `${value / 1000}s` : String(value);
}

function panelTitle(title: string, x0: number, y0: number): string {
  return `<text x="${num(x0 + PANEL_W / 2)}" y="${num(y0 + 18)}" text-anchor="middle" class="title">${escapeXml(title)}</text>`;
}

function noData(x0: number, y0: number): string {
  return `<text x="${num(x0 + PANEL_W / 2)}" y="${num(y0 + PANEL_H / 2)}" text-anchor="middle" class="axis">no data</text>`;
}

/** 1, 2 or 5 times a power of ten: a round step giving about five grid lines up to max */
function niceStep(max: number): number {
  const rough = max / 5;
  const decade = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * decade).find((step) => step >= rough)!;
}

function valuePanelSvg(panel: ValuePanel, x0: number, y0: number): string {
  const bars = panel.bars.filter((b) => Number.isFinite(b.value) && b.value >= 0);
  const out: string[] = ['<g>', panelTitle(panel.title, x0, y0)];
  if (bars.length === 0) return [...out, noData(x0, y0), '</g>'].join('\n');
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const left = x0 + MARGIN.left;
  const bottom = y0 + MARGIN.top + plotH;
  // headroom above the highest bar for its value label
  const max = Math.max(...bars.map((b) => b.value), panel.reference ?? 0) * 1.08;
  const step = niceStep(Math.max(max, 1e-9));
  const top = Math.ceil(max / step) * step || step;
  const y = (v: number) => bottom - (v / top) * plotH;
  for (let v = 0; v <= top + step / 2; v += step) {
    out.push(`<line x1="${num(left)}" x2="${num(left + plotW)}" y1="${num(y(v))}" y2="${num(y(v))}" class="${v === 0 ? 'axis-line' : 'minor'}"/>`);
    out.push(`<text x="${num(left - 6)}" y="${num(y(v) + 4)}" text-anchor="end" class="tick">${escapeXml(String(Number(v.toPrecision(3))))}</text>`);
  }
  out.push(`<line x1="${num(left)}" x2="${num(left)}" y1="${num(y(top))}" y2="${num(bottom)}" class="axis-line"/>`);
  if (panel.reference !== undefined) out.push(`<line x1="${num(left)}" x2="${num(left + plotW)}" y1="${num(y(panel.reference))}" y2="${num(y(panel.reference))}" class="reference"/>`);
  out.push(`<text transform="translate(${num(x0 + 14)} ${num(bottom - plotH / 2)}) rotate(-90)" text-anchor="middle" class="axis">${escapeXml(panel.unit)}</text>`);
  const slotW = plotW / bars.length;
  const barW = Math.min(36, slotW * 0.7);
  bars.forEach((bar, i) => {
    const cx = left + i * slotW + slotW / 2;
    const by = y(bar.value);
    const value = String(Number(bar.value.toPrecision(3)));
    out.push(
      `<rect x="${num(cx - barW / 2)}" y="${num(by)}" width="${num(barW)}" height="${num(Math.max(0.5, bottom - by))}" fill="${VALUE_COLOR}"><title>${escapeXml(`${bar.label}: ${value} ${panel.unit}`)}</title></rect>`,
      `<text x="${num(cx)}" y="${num(by - 4)}" text-anchor="middle" class="tick">${escapeXml(value)}</text>`,
      `<text x="${num(cx)}" y="${num(bottom + 16)}" text-anchor="middle" class="tick">${escapeXml(bar.label)}</text>`,
    );
  });
  out.push('</g>');
  return out.join('\n');
}

function panelSvg(panel: Panel, x0: number, y0: number): string {
  return panel.kind === 'latency' ? latencyPanelSvg(panel, x0, y0) : valuePanelSvg(panel, x0, y0);
}

function latencyPanelSvg(panel: LatencyPanel, x0: number, y0: number): string {
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const left = x0 + MARGIN.left;
  const top = y0 + MARGIN.top;
  const bottom = top + plotH;
  const out: string[] = ['<g>', panelTitle(panel.title, x0, y0)];

  const values = panel.groups.flatMap((g) => SERIES.map((s) => g.summary[s.key])).filter((v) => Number.isFinite(v) && v > 0);
  if (values.length === 0) return [...out, noData(x0, y0), '</g>'].join('\n');
  // at least half a decade under the smallest bar, so that it stays visible
  const lo = Math.floor(Math.log10(Math.min(...values)) - 0.3);
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values))));
  const y = (v: number) => bottom - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotH;

  // every decade labelled; 2x and 5x as fainter lines (labelled too when the axis is short)
  for (let e = lo; e <= hi; e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(3));
      if (v > 10 ** hi) break;
      const ty = y(v);
      out.push(`<line x1="${num(left)}" x2="${num(left + plotW)}" y1="${num(ty)}" y2="${num(ty)}" class="${m === 1 ? 'grid' : 'minor'}"/>`);
      if (m === 1 || hi - lo <= 2) out.push(`<text x="${num(left - 6)}" y="${num(ty + 4)}" text-anchor="end" class="tick">${escapeXml(tickLabel(v))}</text>`);
    }
  }
  out.push(`<line x1="${num(left)}" x2="${num(left)}" y1="${num(top)}" y2="${num(bottom)}" class="axis-line"/>`);
  out.push(`<line x1="${num(left)}" x2="${num(left + plotW)}" y1="${num(bottom)}" y2="${num(bottom)}" class="axis-line"/>`);
  out.push(`<text transform="translate(${num(x0 + 14)} ${num(top + plotH / 2)}) rotate(-90)" text-anchor="middle" class="axis">latency, ms (log scale)</text>`);
  out.push(`<text x="${num(left + plotW / 2)}" y="${num(bottom + 36)}" text-anchor="middle" class="axis">${escapeXml(panel.xLabel)}</text>`);

  const groupW = plotW / panel.groups.length;
  const barW = Math.min(22, (groupW * 0.8) / SERIES.length);
  panel.groups.forEach((group, gi) => {
    const gx = left + gi * groupW + (groupW - barW * SERIES.length) / 2;
    SERIES.forEach((series, si) => {
      const v = group.summary[series.key];
      if (!Number.isFinite(v)) return;
      const by = y(v);
      out.push(
        `<rect x="${num(gx + si * barW)}" y="${num(by)}" width="${num(barW - 1)}" height="${num(Math.max(0.5, bottom - by))}" fill="${series.color}"><title>${escapeXml(`${group.label} ${series.key}: ${v} ms`)}</title></rect>`,
      );
    });
    out.push(`<text x="${num(left + gi * groupW + groupW / 2)}" y="${num(bottom + 16)}" text-anchor="middle" class="tick">${escapeXml(group.label)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

export function chartPanels(run: BenchRun): Panel[] {
  const panels: Panel[] = [];
  if (run.spawn) {
    panels.push({
      kind: 'latency',
      title: `Spawn of ${run.spawn.true_path} by backend`,
      xLabel: 'backend',
      groups: Object.entries(run.spawn.variants).map(([label, summary]) => ({ label, summary })),
    });
    const levels = Object.entries(run.spawn.concurrency);
    if (levels.length) panels.push({ kind: 'latency', title: 'Native spawn by concurrency', xLabel: 'concurrent spawns', groups: levels.map(([label, c]) => ({ label, summary: c.latency })) });
  }
  if (run.http) {
    for (const workload of [...new Set(run.http.cells.map((c) => c.workload))]) {
      const cells = run.http.cells.filter((c) => c.workload === workload && c.latency);
      panels.push({
        kind: 'latency',
        title: `HTTP ${workload} (${run.http.mode}) by concurrency`,
        xLabel: 'concurrent requests',
        groups: cells.map((c) => ({ label: String(c.concurrency), summary: c.latency! })),
      });
    }
    const acks = ackResultsOf(run.http).filter((ack) => ack.latency);
    if (acks.length) {
      panels.push({
        kind: 'latency',
        title: `PENDING acknowledgement under ${acks[0]!.workload} load`,
        xLabel: 'concurrent executions',
        groups: acks.map((ack) => ({ label: String(ack.concurrency), summary: ack.latency! })),
      });
    }
    const top = Math.max(...run.http.cells.map((c) => c.concurrency));
    const busiest = run.http.cells.filter((c) => c.concurrency === top && c.ok > 0);
    if (busiest.length) {
      panels.push({ kind: 'values', title: `HTTP throughput at concurrency ${top}`, unit: 'executions per second', bars: busiest.map((c) => ({ label: c.workload, value: c.throughput_rps })) });
    }
  }
  if (run.cost) panels.push(...costPanels(run.cost));
  panels.push(...targetPanels(run));
  return panels;
}

/** Issue 17's targets measured in this run, each as measured / target: at or under 1 is met. */
function targetPanels(run: BenchRun): ValuePanel[] {
  const rows = issueTargets(run).filter((r) => r.ratio !== null);
  const groups = [
    ['latency', 'Targets: latency against the floors of this run'],
    ['cost', 'Targets: what the executor costs'],
  ] as const;
  return groups
    .map(([group, title]) => ({
      kind: 'values' as const,
      title,
      unit: '× target (≤ 1 is met)',
      reference: 1,
      bars: rows.filter((r) => r.group === group).map((r) => ({ label: r.short, value: r.ratio! })),
    }))
    .filter((panel) => panel.bars.length > 0);
}

/** The executor's own memory (its RSS; with its sandboxes around a burst of sessions) and CPU. */
function costPanels(cost: CostSuiteResult): ValuePanel[] {
  const loadLabel = (load: CostSuiteResult['loads'][number]) => `${load.workload.replace(/-.*/, '')} c${load.concurrency}`;
  const memory = [{ label: 'idle', value: cost.rss_idle_warm_mb }, ...cost.loads.map((l) => ({ label: loadLabel(l), value: l.rss_peak_mb })), { label: 'settled', value: cost.rss_after_load_mb }];
  const burst = cost.burst
    ? [
        { label: 'burst', value: cost.burst.after.pss_mb },
        { label: `+${cost.burst.idle_wait_s} s`, value: cost.burst.after_idle.pss_mb },
      ]
    : [];
  const settled = cost.burst?.idle_cpu_ms_per_second;
  const idleCpu = [{ label: 'started, per s', value: cost.cpu_ms_per_idle_second }, ...(settled === undefined ? [] : [{ label: 'settled, per s', value: settled }])];
  const cpu = [...idleCpu, ...cost.loads.map((l) => ({ label: loadLabel(l), value: l.cpu_ms_per_execution }))];
  return [
    { kind: 'values', title: `Executor RSS; with sandboxes after ${cost.burst?.sessions ?? 0} new sessions`, unit: 'MB', bars: [...memory, ...burst] },
    { kind: 'values', title: 'Executor CPU: idle per second, per execution', unit: 'ms', bars: cpu },
  ];
}

export function renderSvg(run: BenchRun): string {
  const panels = chartPanels(run);
  const rows = Math.max(1, Math.ceil(panels.length / COLUMNS));
  const width = PANEL_W * COLUMNS;
  const height = HEADER_H + rows * PANEL_H;
  const m = run.machine;
  const subtitle = `${m.cpu_model}, ${m.cpus} CPUs, kernel ${m.kernel}, Node ${run.versions.node}, commit ${run.versions.git_commit?.slice(0, 10) ?? 'unknown'}`;
  // the percentile colours, only where some panel draws them
  const legend = !panels.some((p) => p.kind === 'latency')
    ? ''
    : SERIES.map((s, i) => `<rect x="${width - 190 + i * 60}" y="38" width="12" height="12" fill="${s.color}"/><text x="${width - 174 + i * 60}" y="48" class="tick">${s.key}</text>`).join('');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>.title{font-size:14px;font-weight:bold}.tick{font-size:11px;fill:#333}.axis{font-size:12px;fill:#333}.grid{stroke:#bbb;stroke-width:1}.minor{stroke:#e6e6e6;stroke-width:1}.axis-line{stroke:#333;stroke-width:1}.reference{stroke:#c00;stroke-width:1.5;stroke-dasharray:6 4}</style>',
    '<rect width="100%" height="100%" fill="#fff"/>',
    `<text x="12" y="24" class="title">${escapeXml(`sandbox-executor benchmark, ${run.started_at}`)}</text>`,
    `<text x="12" y="48" class="tick">${escapeXml(subtitle)}</text>`,
    legend,
    ...panels.map((panel, i) => panelSvg(panel, (i % COLUMNS) * PANEL_W, HEADER_H + Math.floor(i / COLUMNS) * PANEL_H)),
    '</svg>',
    '',
  ].join('\n');
}
