// Writes a run as <stamp>-<suites>.json/.md/.svg under the results directory, and the same three
// as latest.* (a fixed name for CI baselines and for docs).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './machine.js';
import { renderMarkdown } from './report-markdown.js';
import { renderSvg } from './report-svg.js';
import type { BenchRun } from './run.js';

export const DEFAULT_RESULTS_DIR = path.join(REPO_ROOT, 'tools', 'bench', 'results');

export function writeResults(run: BenchRun, dir: string): { json: string; markdown: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = run.started_at.replace(/[:.]/g, '-');
  const base = path.join(dir, `${stamp}-${run.suites.join('-')}`);
  const files = { json: `${base}.json`, markdown: `${base}.md`, svg: `${base}.svg` };
  writeFileSync(files.json, `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(files.markdown, renderMarkdown(run));
  writeFileSync(files.svg, renderSvg(run));
  for (const [file, ext] of [
    [files.json, 'json'],
    [files.markdown, 'md'],
    [files.svg, 'svg'],
  ] as const)
    copyFileSync(file, path.join(dir, `latest.${ext}`));
  return files;
}
