// HTTP server limits (issue 12, item 11): idle, half-sent requests (slowloris) must not exhaust
// the server's descriptors. Heads and bodies have to arrive within HTTP_HEADERS_TIMEOUT_SECONDS /
// HTTP_REQUEST_TIMEOUT_SECONDS; at MAX_CONNECTIONS the connection idle longest makes room, and
// when every connection is busy a newcomer is answered 503. Answers that take long (?wait=true,
// ?stream=true) are not cut by those timeouts. The server runs as its own process so that its
// descriptors (/proc/PID/fd) are its alone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { executorDirs, executorEnv, type ExecutorDirs } from '../helpers/executor-fixture.js';
import { ExecutorProcess } from '../helpers/executor-process.js';
import { executionId, sessionId, sleep } from '../helpers/http.js';
import { halfSentHead, openDescriptors, sentThenSilent } from '../helpers/raw-http.js';

const MAX_CONNECTIONS = 100;
const HEADERS_TIMEOUT_SECONDS = 2;
const REQUEST_TIMEOUT_SECONDS = 3;
/** what Node adds to a timeout: it looks for expired requests once a second */
const CHECK_INTERVAL_MS = 1000;

/** This process's own open-file limit: the attack must not run the test out of descriptors. */
function ownDescriptorLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3] ?? 1024);
}
/** many more than MAX_CONNECTIONS, within what this process may open */
const ATTACK_CONNECTIONS = Math.min(3000, ownDescriptorLimit() - 200);

let dirs: ExecutorDirs;
let executor: ExecutorProcess;
let port: number;

const halfSent = () => halfSentHead(port);

/** A connection whose head is complete (a request is in flight) but whose body never ends. */
const bodyNeverEnds = () => sentThenSilent(port, 'POST /execute HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"code": "');

async function health(): Promise<number> {
  const response = await fetch(`${executor.url}/health`, { headers: { connection: 'close' } });
  await response.arrayBuffer();
  return response.status;
}

/** Resolves with `value` after ms, for a race against a promise that must settle first. */
const after_ = <T>(ms: number, value: T) => sleep(ms).then(() => value);

describe('HTTP server limits', () => {
  before(async () => {
    dirs = executorDirs('connection-limits');
    executor = await ExecutorProcess.start(
      executorEnv(dirs, {
        MAX_CONNECTIONS: String(MAX_CONNECTIONS),
        HTTP_HEADERS_TIMEOUT_SECONDS: String(HEADERS_TIMEOUT_SECONDS),
        HTTP_REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_SECONDS),
        HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '1',
      }),
    );
    port = Number(new URL(executor.url).port);
  });
  after(async () => {
    await executor?.kill();
    dirs?.remove();
  });

  it('closes a connection whose request head does not arrive within HTTP_HEADERS_TIMEOUT_SECONDS', async () => {
    const connections = await Promise.all(Array.from({ length: 20 }, () => halfSent()));
    const limit = HEADERS_TIMEOUT_SECONDS * 1000 + CHECK_INTERVAL_MS + 3000;
    const outcomes = await Promise.all(connections.map((c) => Promise.race([c.closed, after_(limit, 'still open')])));
    for (const c of connections) c.socket.destroy();
    assert.ok(
      outcomes.every((o) => o !== 'still open'),
      `${outcomes.filter((o) => o === 'still open').length} of 20 half-sent requests still open after ${limit} ms`,
    );
    assert.match(outcomes[0]!, /^HTTP\/1\.1 408/, 'a timed-out request is answered 408 before it is closed');
  });

  it('closes a connection whose request body does not arrive within HTTP_REQUEST_TIMEOUT_SECONDS', async () => {
    const { socket, closed } = await bodyNeverEnds();
    const limit = REQUEST_TIMEOUT_SECONDS * 1000 + CHECK_INTERVAL_MS + 3000;
    const outcome = await Promise.race([closed, after_(limit, 'still open')]);
    socket.destroy();
    assert.notEqual(outcome, 'still open', `a request whose body never ends was still open after ${limit} ms`);
  });

  it(`keeps its descriptors bounded and answers /health while ${ATTACK_CONNECTIONS} half-sent requests hold on`, async () => {
    const before = openDescriptors(executor.pid);
    const attack: net.Socket[] = [];
    let most = before;
    try {
      for (let i = 0; i < ATTACK_CONNECTIONS; i += 100) {
        const batch = await Promise.all(Array.from({ length: Math.min(100, ATTACK_CONNECTIONS - i) }, () => halfSent()));
        attack.push(...batch.map((c) => c.socket));
        most = Math.max(most, openDescriptors(executor.pid));
      }
      assert.equal(await health(), 200, '/health while the half-sent requests hold on');
      most = Math.max(most, openDescriptors(executor.pid));
    } finally {
      for (const socket of attack) socket.destroy();
    }
    // the server's own descriptors (journal, warm sandboxes, listeners) plus at most the cap
    assert.ok(most <= before + MAX_CONNECTIONS + 10, `the server had ${most} descriptors open (${before} before ${ATTACK_CONNECTIONS} half-sent requests, MAX_CONNECTIONS=${MAX_CONNECTIONS})`);
  });

  it('answers 503 when every connection is busy with a request, and recovers', async () => {
    const busy = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => bodyNeverEnds()));
    try {
      await sleep(500); // every head has been read: each connection has a request in flight
      const response = await fetch(`${executor.url}/health`).catch((error: Error) => error);
      assert.ok(!(response instanceof Error), `refused without an answer: ${String(response)}`);
      assert.equal(response.status, 503);
      const problem = (await response.json()) as { error_code: string; message: string };
      assert.equal(problem.error_code, 'Executor.TooManyConnections');
      assert.match(problem.message, /MAX_CONNECTIONS/);
      // the busy requests time out; then there is room again
      await Promise.all(busy.map((c) => c.closed));
      assert.equal(await health(), 200);
      const metrics = await (await fetch(`${executor.url}/metrics`)).text();
      assert.match(metrics, /^sandbox_rejected_requests_total\{reason="connection_limit"\} [1-9]/m);
    } finally {
      for (const c of busy) c.socket.destroy();
    }
  });

  it('lets an answer take longer than the timeouts: ?wait=true and ?stream=true of a 5 s execution', async () => {
    const code = 'sleep 5; echo done';
    const waited = await fetch(`${executor.url}/execute?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ execution_id: executionId('wait'), session_id: sessionId('limits'), language: 'shell', code }),
    });
    assert.equal(waited.status, 200);
    const result = (await waited.json()) as { status: string; stdout: string };
    assert.equal(result.status, 'success');
    assert.equal(result.stdout, 'done\n');

    const streamed = await fetch(`${executor.url}/execute?stream=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ execution_id: executionId('stream'), session_id: sessionId('limits'), language: 'shell', code }),
    });
    const events = await streamed.text();
    assert.match(events, /event: stdout\ndata: \{"text":"done\\n"\}/);
    assert.match(events, /event: result\ndata: \{[^\n]*"status":"success"/);
  });
});
