#!/usr/bin/env node
// The benchmark tool's entry: `npm run bench -- <spawn|http|cost|journal|all>` and `--compare A.json B.json`.
// A development tool beside the service, not part of it: it imports src/, src/ never imports it,
// and the runtime image does not ship it. Results go to stdout (Markdown, or only the JSON
// document with --json) and to files under --out; progress goes to stderr.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseIntegerOption, UsageError } from '../../src/cli/usage-error.js';
import { ConfigError } from '../../src/config.js';
import { compareRuns, comparisonText } from './compare.js';
import { renderMarkdown } from './report-markdown.js';
import { DEFAULT_RESULTS_DIR, writeResults } from './results-files.js';
import { runBenchmarks, SCHEMA, SUITES, type BenchRun, type SuiteName } from './run.js';
import { HTTP_WORKLOADS } from './workloads.js';

const USAGE = `usage: npm run bench -- <spawn|http|cost|journal|all> [options]
       npm run bench -- --compare A.json[,A2.json...] B.json[,B2.json...] [--threshold 0.1] [--only REGEX] [--json]
  (or node dist/tools/bench/main.js ...; no suite: all)

  --json                 print only the run's JSON document on stdout (default: Markdown tables)
  --iterations N         measured iterations per variant / per http cell / per cost load
  --concurrency LIST     concurrency levels for spawn and http, e.g. 1,4,16
  --out DIR              where the JSON, Markdown and SVG go (default tools/bench/results/)
  --no-write             write no files
  --workloads LIST       http suite: only these workloads, e.g. shell-echo,python-return-1
  --think-ms N           http suite: each worker waits N ms after a result before its next request (default 0)
  --target URL           http suite: measure this executor instead of starting one
  --mode wait|callback   http suite: POST /execute?wait=true (default), or the result by callback
  --token TOKEN          Authorization: Bearer for --target (default: $EXECUTOR_API_TOKEN)
  --receiver-host HOST   callback mode: where our receiver listens (default 127.0.0.1)
  --receiver-port PORT   callback mode: its port (default: any free one; the executor we start is told)
  --compare A B          print B/A for every figure; exit 1 when one got worse by more than --threshold
                         (a side of several runs, joined by commas, counts each figure's median)
`;

async function bench(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      iterations: { type: 'string' },
      concurrency: { type: 'string' },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      target: { type: 'string' },
      workloads: { type: 'string' },
      'think-ms': { type: 'string' },
      mode: { type: 'string', default: 'wait' },
      token: { type: 'string' },
      'receiver-host': { type: 'string', default: '127.0.0.1' },
      'receiver-port': { type: 'string' },
      compare: { type: 'boolean', default: false },
      threshold: { type: 'string', default: '0.1' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.compare || positionals[0] === 'compare') return compare(positionals[0] === 'compare' ? positionals.slice(1) : positionals, values);

  const [suite = 'all', ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (suite !== 'all' && !(SUITES as readonly string[]).includes(suite)) throw new UsageError(`unknown bench suite '${suite}': expected ${[...SUITES, 'all'].join(', ')}`);
  if (values.mode !== 'wait' && values.mode !== 'callback') throw new UsageError(`--mode must be wait or callback, got '${values.mode}'`);
  if (values.target !== undefined) {
    let url: URL;
    try {
      url = new URL(values.target);
    } catch {
      throw new UsageError(`--target must be a URL such as http://executor:8080, got '${values.target}'`);
    }
    if (url.protocol !== 'http:') throw new UsageError(`--target must be an http:// URL, got '${values.target}'`);
  }

  const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const run = await runBenchmarks({
    suites: suite === 'all' ? [...SUITES] : [suite as SuiteName],
    iterations: parseIntegerOption('iterations', values.iterations, 1, 100_000),
    concurrency: concurrencyList(values.concurrency),
    workloads: workloadList(values.workloads),
    thinkMs: parseIntegerOption('think-ms', values['think-ms'], 0, 60_000),
    target: values.target,
    mode: values.mode,
    token: values.token ?? process.env.EXECUTOR_API_TOKEN,
    receiverHost: values['receiver-host'],
    receiverPort: parseIntegerOption('receiver-port', values['receiver-port'], 0, 65535) ?? 0,
    progress,
  });
  if (!values['no-write']) {
    const files = writeResults(run, path.resolve(values.out ?? DEFAULT_RESULTS_DIR));
    progress(`wrote ${files.json}, ${files.markdown}, ${files.svg}`);
  }
  progress(`finished in ${run.duration_s} s`);
  process.stdout.write(values.json ? `${JSON.stringify(run)}\n` : renderMarkdown(run));
  return 0;
}

function workloadList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const known = HTTP_WORKLOADS.map((w) => w.name);
  const names = value.split(',').map((part) => part.trim());
  const unknown = names.find((name) => !known.includes(name));
  if (unknown !== undefined) throw new UsageError(`--workloads: unknown workload '${unknown}': expected some of ${known.join(', ')}`);
  return names;
}

function concurrencyList(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const levels = value.split(',').map((part) => parseIntegerOption('concurrency', part.trim(), 1, 1024)!);
  return [...new Set(levels)].sort((a, b) => a - b);
}

function readRun(file: string): BenchRun {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  if ((parsed as { schema?: string }).schema !== SCHEMA) throw new UsageError(`${file} is not a benchmark run (expected "schema": "${SCHEMA}")`);
  return parsed as BenchRun;
}

function compare(files: string[], values: { threshold: string; only?: string; json: boolean }): number {
  if (files.length !== 2) throw new UsageError('--compare takes two sides: A.json (baseline) and B.json, each one run file or several joined by commas');
  const threshold = Number(values.threshold);
  if (!Number.isFinite(threshold) || threshold < 0 || threshold > 10) throw new UsageError(`--threshold must be a fraction such as 0.1, got '${values.threshold}'`);
  let only: RegExp | undefined;
  try {
    only = values.only === undefined ? undefined : new RegExp(values.only);
  } catch {
    throw new UsageError(`--only must be a regular expression, got '${values.only}'`);
  }
  const side = (list: string) => {
    const names = list.split(',').filter(Boolean);
    if (names.length === 0) throw new UsageError(`--compare: '${list}' names no run file`);
    return names.map(readRun);
  };
  const comparison = compareRuns(side(files[0]!), side(files[1]!), threshold, only);
  process.stdout.write(values.json ? `${JSON.stringify(comparison)}\n` : comparisonText(comparison, files[0]!, files[1]!));
  return comparison.regressions > 0 ? 1 : 0;
}

bench(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const hint = usage ? '\n(see npm run bench -- --help)' : '';
    process.stderr.write(`bench: ${(error as Error).message}${hint}\n`);
    process.exitCode = usage || error instanceof ConfigError ? 2 : 1;
  },
);
