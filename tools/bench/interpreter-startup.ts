// How long the interpreters take to start and exit on this machine outside any sandbox: the
// floor under the python, javascript and shell handler latencies, measured in the same run.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { SANDBOX_BASH, SANDBOX_PYTHON } from '../../src/runtimes/runtime.js';
import { summarize, type Summary } from './stats.js';

export interface StartupReference {
  iterations: number;
  python: Summary | null;
  javascript: Summary | null;
  /** bash, which the shell runtime runs (absent from runs before 2026-12-07) */
  shell?: Summary | null;
}

const COMMANDS = {
  // the flags the python runtime starts with (-S: site's start-up skipped, src/runtimes/python-preparation.ts)
  python: [SANDBOX_PYTHON, '-s', '-B', '-S', '-c', 'pass'],
  javascript: [process.execPath, '-e', '0'],
  shell: [SANDBOX_BASH, '-c', ':'],
};

// the clean environment sandboxes get: an inherited NODE_EXTRA_CA_CERTS alone adds ~200 ms to node
const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };

function once(argv: string[]): Promise<number> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', env: ENV });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - began) : reject(new Error(`${argv[0]} exited ${code}`))));
  });
}

export async function interpreterStartup(iterations: number, warmup = 3): Promise<StartupReference> {
  const samples: Record<keyof typeof COMMANDS, number[] | null> = { python: [], javascript: [], shell: [] };
  for (let i = 0; i < warmup + iterations; i++) {
    for (const name of Object.keys(COMMANDS) as (keyof typeof COMMANDS)[]) {
      if (samples[name] === null) continue;
      try {
        const ms = await once(COMMANDS[name]);
        if (i >= warmup) samples[name]!.push(ms);
      } catch {
        samples[name] = null; // not installed here
      }
    }
  }
  const summary = (s: number[] | null) => (s?.length ? summarize(s) : null);
  return { iterations, python: summary(samples.python), javascript: summary(samples.javascript), shell: summary(samples.shell) };
}
