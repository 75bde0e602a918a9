#!/usr/bin/env node
// Draws the panels of deploy/observability/grafana-dashboard.json from a Prometheus's data into a
// PNG (an SVG drawn here, rasterized with @resvg/resvg-js), for docs/operations.md. Grafana is not
// needed: every panel's queries run through Prometheus's HTTP API over the last MINUTES minutes.
//   node scripts/render-dashboard.mjs http://127.0.0.1:9090 docs/operations-dashboard.png [MINUTES]
// The test suite makes one from real data: DASHBOARD_PNG=docs/operations-dashboard.png node --test
// dist/test/deploy/observability.test.js (it runs a minute of executions first).
import { readFileSync, writeFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';

const [prometheusUrl, out, minutesArg = '3'] = process.argv.slice(2);
if (!prometheusUrl || !out) {
  console.error('usage: render-dashboard.mjs PROMETHEUS_URL OUT.png [MINUTES]');
  process.exit(2);
}
const dashboard = JSON.parse(readFileSync(new URL('../deploy/observability/grafana-dashboard.json', import.meta.url), 'utf8'));
const minutes = Number(minutesArg);
const end = Date.now() / 1000;
const start = end - minutes * 60;
const step = Math.max(1, Math.round((minutes * 60) / 120));
/** Grafana's variables as it fills them for "All executors" and a window of 4 steps. */
const filled = (expr) => expr.replaceAll('$__rate_interval', `${Math.max(4 * step, 30)}s`).replaceAll('$instance', '.+');

async function rangeQuery(expr) {
  const params = new URLSearchParams({ query: filled(expr), start: String(start), end: String(end), step: String(step) });
  const body = await (await fetch(`${prometheusUrl}/api/v1/query_range`, { method: 'POST', body: params })).json();
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

const legend = (format, labels) => format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name) => labels[name] ?? '');
const escapeXml = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = ['#73bf69', '#f2cc0c', '#5794f2', '#ff7383', '#b877d9', '#ff9830', '#8ab8ff', '#96d98d'];

function formatValue(value, unit) {
  if (!Number.isFinite(value)) return '–';
  const scaled = (v, units, base) => {
    let i = 0;
    while (Math.abs(v) >= base && i < units.length - 1) {
      v /= base;
      i++;
    }
    return `${+v.toPrecision(3)} ${units[i]}`;
  };
  if (unit === 'bytes') return scaled(value, ['B', 'KiB', 'MiB', 'GiB'], 1024);
  if (unit === 's') return value >= 1 ? `${+value.toPrecision(3)} s` : `${+(value * 1000).toPrecision(3)} ms`;
  if (unit === 'percentunit') return `${+(value * 100).toPrecision(3)} %`;
  if (unit === 'ops' || unit === 'reqps') return `${+value.toPrecision(3)}/s`;
  return `${+value.toPrecision(3)}`;
}

const CELL = 40; // px per grid unit horizontally is 1200/24 = 50; vertically CELL
const WIDTH = 1200;
const unitX = WIDTH / 24;
const height = Math.max(...dashboard.panels.map((p) => (p.gridPos.y + p.gridPos.h) * CELL)) + 40;
const parts = [
  `<rect width="${WIDTH}" height="${height}" fill="#111217"/>`,
  `<text x="12" y="26" fill="#d8d9da" font-size="18" font-family="DejaVu Sans">${escapeXml(dashboard.title)} — last ${minutes} min, real data</text>`,
];

for (const panel of dashboard.panels) {
  const x = panel.gridPos.x * unitX + 6;
  const y = panel.gridPos.y * CELL + 40;
  const w = panel.gridPos.w * unitX - 12;
  const h = panel.gridPos.h * CELL - 10;
  const unit = panel.fieldConfig?.defaults?.unit;
  parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="4" fill="#181b1f" stroke="#2c3235"/>`);
  parts.push(`<text x="${x + 8}" y="${y + 18}" fill="#d8d9da" font-size="13" font-family="DejaVu Sans" font-weight="bold">${escapeXml(panel.title)}</text>`);
  const series = [];
  for (const target of panel.targets) {
    for (const s of await rangeQuery(target.expr)) {
      series.push({ name: legend(target.legendFormat ?? '', s.metric) || target.refId, points: s.values.map(([t, v]) => [t, Number(v)]).filter(([, v]) => Number.isFinite(v)) });
    }
  }
  if (panel.type === 'stat') {
    const text = series.map((s) => `${s.name}: ${formatValue(s.points.at(-1)?.[1], unit)}`).join('   ') || 'no data';
    parts.push(`<text x="${x + 8}" y="${y + h / 2 + 14}" fill="#73bf69" font-size="20" font-family="DejaVu Sans">${escapeXml(text)}</text>`);
    continue;
  }
  const plot = { x: x + 70, y: y + 28, w: w - 80, h: h - 70 };
  const values = series.flatMap((s) => s.points.map(([, v]) => v));
  const max = Math.max(...values, 0) || 1;
  const min = Math.min(...values, 0);
  const px = (t) => plot.x + ((t - start) / (end - start)) * plot.w;
  const py = (v) => plot.y + plot.h - ((v - min) / (max - min)) * plot.h;
  for (const v of [min, (min + max) / 2, max]) {
    parts.push(`<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${py(v)}" y2="${py(v)}" stroke="#2c3235"/>`);
    parts.push(`<text x="${plot.x - 6}" y="${py(v) + 4}" fill="#9fa7b3" font-size="10" font-family="DejaVu Sans" text-anchor="end">${escapeXml(formatValue(v, unit))}</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    if (s.points.length > 0) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${s.points.map(([t, v]) => `${px(t).toFixed(1)},${py(v).toFixed(1)}`).join(' ')}"/>`);
    const lx = x + 10 + (i % 3) * (w / 3);
    const ly = y + h - 26 + Math.floor(i / 3) * 12;
    if (ly < y + h - 2) {
      parts.push(`<rect x="${lx}" y="${ly - 8}" width="10" height="3" fill="${color}"/>`);
      parts.push(`<text x="${lx + 14}" y="${ly - 4}" fill="#9fa7b3" font-size="10" font-family="DejaVu Sans">${escapeXml(s.name.slice(0, 40))}</text>`);
    }
  });
  if (series.length === 0) parts.push(`<text x="${x + w / 2}" y="${y + h / 2}" fill="#9fa7b3" font-size="12" font-family="DejaVu Sans" text-anchor="middle">no data</text>`);
}

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}">${parts.join('')}</svg>`;
writeFileSync(out, new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng());
console.error(`render-dashboard: ${dashboard.panels.length} panels drawn into ${out}`);
