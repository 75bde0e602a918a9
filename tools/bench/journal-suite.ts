// The journal at its size cap (JOURNAL_MAX_MB): what one result costs the event loop there (its
// insert, its commit, pruning back to the cap) beside the same writes to the same journal with
// room to spare, in one run. A server that has run long enough is always at its cap, so this is
// its steady state; the figure that matters is the ratio, ~1 when pruning costs nothing more.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Journal } from '../../src/executions/journal.js';
import { summarize, type Summary } from './stats.js';

export interface JournalResultSize {
  name: string;
  /** the stored text of one result: its own fields or its return value */
  result_bytes: number;
}

/** Results as small as an `echo`'s and as large as a return value may be (1 MiB). */
export const JOURNAL_RESULT_SIZES: JournalResultSize[] = [
  { name: 'small', result_bytes: 2_000 },
  { name: 'large', result_bytes: 1024 * 1024 },
];

export interface JournalSizeResult extends JournalResultSize {
  cap_mb: number;
  /** finished rows in the journal when it reached its cap */
  rows_at_cap: number;
  /** per result: insert + commit + prune to the cap, milliseconds */
  at_cap: Summary;
  /** the same writes with the cap out of reach (nothing pruned) */
  below_cap: Summary;
  /** at_cap p50 / below_cap p50 */
  ratio_p50: number;
  rows_pruned: number;
}

export interface JournalSuiteResult {
  iterations: number;
  sizes: JournalSizeResult[];
}

export interface JournalBenchOptions {
  iterations: number;
  capMb: number;
  progress: (line: string) => void;
}

export async function benchJournal(options: JournalBenchOptions): Promise<JournalSuiteResult> {
  const sizes: JournalSizeResult[] = [];
  for (const size of JOURNAL_RESULT_SIZES) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-executor-bench-journal-'));
    const journal = new Journal(dir);
    try {
      sizes.push(await measureSize(journal, size, options));
    } finally {
      await journal.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { iterations: options.iterations, sizes };
}

async function measureSize(journal: Journal, size: JournalResultSize, options: JournalBenchOptions): Promise<JournalSizeResult> {
  const capBytes = options.capMb * 1024 * 1024;
  const text = JSON.stringify({ stdout: 'x'.repeat(size.result_bytes) });
  let next = 0;
  const writeOne = () => {
    const executionId = `bench_journal_${size.name}_${next++}`;
    journal.insertPending({ execution_id: executionId, session_id: 'bench', language: 'shell', timeout_seconds: 30, created_at: new Date().toISOString() });
    journal.finish({ execution_id: executionId, state: 'success', started_at: null, finished_at: new Date().toISOString(), stored: { result: text, return_value: null }, delivery_state: 'none' });
  };
  // filled in one transaction: seconds, where one commit each would take a minute
  journal.db.transaction(() => {
    while (journal.usedBytes() <= capBytes) writeOne();
  })();
  const rowsAtCap = next;
  options.progress(`journal ${size.name}: ${rowsAtCap} results of ${size.result_bytes} bytes fill ${options.capMb} MiB`);
  await settle();

  const timed = (maxBytes: number) => {
    const samples: number[] = [];
    let pruned = 0;
    for (let i = 0; i < options.iterations; i++) {
      const began = performance.now();
      writeOne();
      pruned += journal.pruneToSize(maxBytes);
      samples.push(performance.now() - began);
    }
    return { samples, pruned };
  };
  const atCap = timed(capBytes);
  await settle();
  const belowCap = timed(Number.MAX_SAFE_INTEGER);
  const at = summarize(atCap.samples);
  const below = summarize(belowCap.samples);
  options.progress(`journal ${size.name}: per result p50 ${at.p50} ms at the cap, ${below.p50} ms below it`);
  return {
    ...size,
    cap_mb: options.capMb,
    rows_at_cap: rowsAtCap,
    at_cap: at,
    below_cap: below,
    ratio_p50: Math.round((at.p50 / below.p50) * 100) / 100,
    rows_pruned: atCap.pruned,
  };
}

/** Lets the journal's checkpoint thread catch up between phases, as it would between bursts. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 500));
