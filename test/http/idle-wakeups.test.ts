// An idle executor does not wake (issue 17, "idle CPU"): no timer of its own, of Node's HTTP server
// (the request-timeout check, src/http/expired-request-check.ts) or of prom-client (the lag
// histogram, src/metrics.ts) fires while no connection is open and nothing runs. Each of those
// woke the process once a second, about 0.6 ms of CPU per wake-up here. The request timeouts still
// hold for a connection that arrives after such a quiet stretch. The server runs as its own process
// so that its main thread's context switches (/proc/PID/task/PID/status) are its alone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { executorDirs, executorEnv, type ExecutorDirs } from '../helpers/executor-fixture.js';
import { ExecutorProcess } from '../helpers/executor-process.js';
import { sleep } from '../helpers/http.js';
import { halfSentHead } from '../helpers/raw-http.js';

const HEADERS_TIMEOUT_SECONDS = 1;
/** a quiet stretch: with a 1 s timer it would hold at least three wake-ups */
const QUIET_MS = 3000;
/** start-up settles within this (lazy compilation, V8's first memory-reducing GC) */
const SETTLE_DEADLINE_MS = 40_000;

let dirs: ExecutorDirs;
let executor: ExecutorProcess;

/** How often the server's main thread (its event loop) has left the CPU so far. */
function mainThreadSwitches(pid: number): number {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  return [...status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/**
 * Watches consecutive quiet-length windows until two in a row have at most `allowed` switches each
 * (one quiet window could fall between the firings of a slower timer); returns each window's count.
 */
async function windowsUntilQuiet(pid: number, allowed: number): Promise<number[]> {
  const counts: number[] = [];
  const deadline = Date.now() + SETTLE_DEADLINE_MS;
  const quiet = () => counts.length >= 2 && counts.slice(-2).every((c) => c <= allowed);
  while (Date.now() < deadline && !quiet()) {
    const before = mainThreadSwitches(pid);
    await sleep(QUIET_MS);
    counts.push(mainThreadSwitches(pid) - before);
  }
  return counts;
}

async function health(): Promise<void> {
  const response = await fetch(`${executor.url}/health`, { headers: { connection: 'close' } });
  assert.equal(response.status, 200);
  await response.arrayBuffer();
}

describe('an idle executor', () => {
  before(async () => {
    dirs = executorDirs('idle-wakeups');
    executor = await ExecutorProcess.start(executorEnv(dirs, { HTTP_HEADERS_TIMEOUT_SECONDS: String(HEADERS_TIMEOUT_SECONDS) }));
  });
  after(async () => {
    await executor?.kill();
    dirs?.remove();
  });

  it('does not wake while no connection is open, after serving one', async () => {
    await health(); // a connection came and went: whatever it started must stop with it
    const counts = await windowsUntilQuiet(executor.pid, 1);
    assert.ok(counts.length >= 2 && counts.slice(-2).every((c) => c <= 1), `the main thread kept waking: ${counts.join(', ')} switches per ${QUIET_MS} ms window\n${executor.output}`);
  });

  it('still closes a request head that does not arrive in time, on a connection made after a quiet stretch', async () => {
    await windowsUntilQuiet(executor.pid, 1);
    const port = Number(new URL(executor.url).port);
    for (let round = 0; round < 2; round++) {
      const { socket, closed } = await halfSentHead(port);
      // Node's check runs once a second: timeout + 1 s + slack for a loaded machine
      const limit = HEADERS_TIMEOUT_SECONDS * 1000 + 1000 + 3000;
      const outcome = await Promise.race([closed, sleep(limit).then(() => 'still open')]);
      socket.destroy();
      assert.match(outcome, /^HTTP\/1\.1 408/, `round ${round}: the half-sent head was not answered 408 within ${limit} ms`);
      await sleep(200); // the server sees the close: no connection is open before the next round
    }
  });
});
