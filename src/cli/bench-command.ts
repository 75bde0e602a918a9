// `sandbox-executor bench spawn [--json] [--iterations N]`
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchSpawn, type SpawnBenchResult } from '../../bench/spawn-suite.js';
import { sandboxHostFor } from './sandbox-from-cli.js';
import { parseIntegerOption, UsageError } from './usage-error.js';

export async function benchCommand(args: string[]): Promise<number> {
  const [suite, ...rest] = args;
  if (suite !== 'spawn') throw new UsageError(`unknown bench suite '${suite ?? ''}': expected spawn`);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: { json: { type: 'boolean', default: false }, iterations: { type: 'string' } },
  });
  const iterations = parseIntegerOption('iterations', values.iterations, 1, 100000) ?? 300;
  const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const { host } = await sandboxHostFor('auto', { disableBwrap: false });
  const result = await benchSpawn(host, host.usable.native, host.usable.bwrap, {
    iterations,
    warmup: Math.min(20, iterations),
    concurrency: [1, 2, 4, 8, 16],
    progress,
  });
  if (values.json) process.stdout.write(`${JSON.stringify({ suite: 'spawn', machine: machine(), ...result })}\n`);
  else process.stdout.write(spawnTable(result));
  return 0;
}

export function machine() {
  return { kernel: os.release(), cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version, uid: process.getuid?.() };
}

export function spawnTable(r: SpawnBenchResult): string {
  const lines = ['variant            p50 ms   p90 ms   p99 ms   mean ms  spawns/s', '-----------------  -------  -------  -------  -------  --------'];
  for (const [name, s] of Object.entries(r.variants)) {
    lines.push(`${name.padEnd(17)}  ${s.p50.toFixed(3).padStart(7)}  ${s.p90.toFixed(3).padStart(7)}  ${s.p99.toFixed(3).padStart(7)}  ${s.mean.toFixed(3).padStart(7)}  ${String(s.spawns_per_second).padStart(8)}`);
  }
  lines.push('', `native/bwrap p50 ratio:        ${r.ratios.native_over_bwrap ?? 'n/a'}`);
  lines.push(`native-1GiB/native p50 ratio:  ${r.ratios.native_1gib_over_native ?? 'n/a'}`);
  lines.push(`native/plain p50 ratio:        ${r.ratios.native_over_plain ?? 'n/a'}`);
  lines.push('', 'native concurrency  spawns/s   p50 ms   p99 ms');
  for (const [level, c] of Object.entries(r.concurrency)) {
    lines.push(`${level.padStart(18)}  ${String(c.spawns_per_second).padStart(8)}  ${c.latency.p50.toFixed(3).padStart(7)}  ${c.latency.p99.toFixed(3).padStart(7)}`);
  }
  lines.push(`(iterations ${r.iterations}, warm-up ${r.warmup}, command ${r.true_path})`, '');
  return lines.join('\n');
}
