// What a sandbox that returns 1 MiB of nested brackets costs everyone else: WORKERS sessions run
// python that writes `[` * 500,000 + `]` * 500,000 on the result channel itself (the bootstrap
// would refuse such depth), while a prober submits `echo hi` without waiting and times the
// PENDING answer every 25 ms. Responses are read as text: parsing them here would stall the
// prober's own event loop. docs/benchmarks.md, "Return values checked without building them".
// Usage: node dist/tools/bench/nested-return-probe.js URL [SECONDS=20] [WORKERS=2]
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { summarize } from './stats.js';

const NESTED_RETURN = ['import os, sys', 'channel = sys._getframe(1).f_globals["_channel"]', 'channel.write("return\\n" + "[" * 500000 + "]" * 500000)', 'channel.flush()', 'os._exit(0)', ''].join(
  '\n',
);

async function submit(url: string, fields: Record<string, unknown>, wait: boolean): Promise<string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (process.env.EXECUTOR_API_TOKEN) headers.authorization = `Bearer ${process.env.EXECUTOR_API_TOKEN}`;
  const response = await fetch(`${url}/execute${wait ? '?wait=true' : ''}`, { method: 'POST', headers, body: JSON.stringify({ execution_id: randomUUID(), timeout: 30, ...fields }) });
  return response.text();
}

async function main(): Promise<void> {
  const [url, seconds = '20', workers = '2'] = process.argv.slice(2);
  if (!url) throw new Error('usage: nested-return-probe.js URL [SECONDS] [WORKERS]');
  const until = Date.now() + Number(seconds) * 1000;
  let nested = 0;
  let refused = 0;
  const worker = async (w: number) => {
    while (Date.now() < until) {
      const text = await submit(url, { code: NESTED_RETURN, language: 'python', session_id: `nested-${w}` }, true);
      nested++;
      if (!text.includes('"return_value":[[[')) refused++;
    }
  };
  const acks: number[] = [];
  const prober = async () => {
    while (Date.now() < until) {
      const started = performance.now();
      await submit(url, { code: 'echo hi', language: 'shell', session_id: 'nested-prober' }, false);
      acks.push(performance.now() - started);
      await sleep(25);
    }
  };
  await Promise.all([...Array.from({ length: Number(workers) }, (_v, w) => worker(w)), prober()]);
  const ack = summarize(acks);
  const round = (n: number) => n.toFixed(2);
  console.log(`nested returns ${nested} (value not returned: ${refused}); PENDING acks ${acks.length}: p50 ${round(ack.p50)} p90 ${round(ack.p90)} p99 ${round(ack.p99)} max ${round(ack.max)} ms`);
}

await main();
