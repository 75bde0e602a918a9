// ?stream=true against readers that fall behind (issue 12, item 9): clients that never read a big
// output must not make the server keep it. Each connection holds at most a bounded buffer; what
// does not fit is dropped and announced with a `gap` event counting the bytes; the memory comes
// back when the clients close. The server runs as its own process so that its resident memory
// (/proc/PID/status VmRSS) is its alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { executorDirs, executorEnv, finished, type ExecutorDirs } from '../helpers/executor-fixture.js';
import { ExecutorProcess } from '../helpers/executor-process.js';
import { executionId, MiB, sessionId, sleep } from '../helpers/http.js';
import { connect, postAndNeverRead, postRequest, readChunkedResponse, residentBytes } from '../helpers/raw-http.js';

const OUTPUT_BYTES = 60 * MiB;
/** prints OUTPUT_BYTES of 'x' on stdout as fast as the pipe takes them */
const BIG_OUTPUT = `head -c ${OUTPUT_BYTES} /dev/zero | tr '\\0' x`;
const CLIENTS = 12;
/**
 * What the server may grow by while the clients hold on: their buffers (1 MiB each) and the heap
 * the output passes through on its way. Keeping every client's 60 MB would be 720 MB.
 */
const MAX_GROWTH_WHILE_BLOCKED = 100 * MiB;
/** How close to where it started the server must come back after the clients close. */
const MAX_GROWTH_AFTER_CLOSE = 50 * MiB;

let dirs: ExecutorDirs;
let executor: ExecutorProcess;

const streamRequest = (id: string) => ({ execution_id: id, session_id: sessionId('slow'), language: 'shell', code: BIG_OUTPUT, timeout: 120 });

interface SseEvent {
  event: string;
  data: string;
}

function parseEvents(body: string): SseEvent[] {
  return body
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      return { event, data: data.join('\n') };
    });
}

/** POST /execute?stream=true read as fast as this process can, nothing kept. */
async function readAll(url: string, request: object): Promise<void> {
  const response = await fetch(`${url}/execute?stream=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
  assert.equal(response.status, 200);
  for await (const _ of response.body!); // eslint-disable-line @typescript-eslint/no-unused-vars
}

describe('?stream=true with readers that fall behind', () => {
  before(async () => {
    dirs = executorDirs('slow-readers');
    executor = await ExecutorProcess.start(executorEnv(dirs));
  });
  after(async () => {
    await executor?.kill();
    dirs?.remove();
  });

  it(`keeps the server's memory bounded while ${CLIENTS} clients never read ${OUTPUT_BYTES / MiB} MB each, and gives it back when they close`, async (t) => {
    // The baseline is a server that has streamed the same output to as many readers that read as fast as they can:
    // moving that much output grows V8's young generation and the allocator's arenas, and they
    // stay grown whoever reads. What is measured is what slow readers cost on top.
    await Promise.all(Array.from({ length: CLIENTS }, () => readAll(executor.url, streamRequest(executionId('fast')))));
    await sleep(2000);
    const baseline = residentBytes(executor.pid);

    const ids = Array.from({ length: CLIENTS }, () => executionId('blocked'));
    const port = Number(new URL(executor.url).port);
    const clients = await Promise.all(ids.map((id) => postAndNeverRead(port, '/execute?stream=true', streamRequest(id))));
    let peak = baseline;
    const sample = setInterval(() => (peak = Math.max(peak, residentBytes(executor.pid))), 100);
    try {
      // the executions finish although nobody reads their output: they never wait for a client
      for (const id of ids) {
        const state = await finished(executor.url, id, 120_000);
        assert.equal(state.result.status, 'success', JSON.stringify(state.result).slice(0, 500));
      }
      await sleep(2000); // whatever the server still does for the blocked clients, it does now
    } finally {
      clearInterval(sample);
    }
    peak = Math.max(peak, residentBytes(executor.pid));
    const mb = (bytes: number) => `${(bytes / MiB).toFixed(1)} MB`;
    assert.ok(peak - baseline < MAX_GROWTH_WHILE_BLOCKED, `RSS grew from ${mb(baseline)} to ${mb(peak)} while the clients did not read`);

    for (const client of clients) client.destroy();
    // V8 gives freed heap back to the system after its next collections, a few seconds at most
    let now = residentBytes(executor.pid);
    for (let i = 0; i < 40 && now - baseline >= MAX_GROWTH_AFTER_CLOSE; i++) {
      await sleep(500);
      now = residentBytes(executor.pid);
    }
    t.diagnostic(`RSS baseline ${mb(baseline)}, peak while blocked ${mb(peak)}, after close ${mb(now)}`);
    assert.ok(now - baseline < MAX_GROWTH_AFTER_CLOSE, `RSS still ${mb(now)} after the clients closed (baseline ${mb(baseline)}, peak ${mb(peak)})`);
  });

  it('tells a reader that fell behind how many bytes it missed, then sends the result', async (t) => {
    const id = executionId('gap');
    const socket = await connect(Number(new URL(executor.url).port));
    socket.pause();
    socket.write(postRequest('/execute?stream=true', streamRequest(id)));
    // read nothing until the execution is over: all but the last MiB or so must have been dropped
    await finished(executor.url, id, 120_000);
    const { statusLine, body } = await readChunkedResponse(socket);
    socket.destroy();
    assert.match(statusLine, /^HTTP\/1\.1 200/);
    const events = parseEvents(body);
    assert.equal(events[0]?.event, 'accepted');
    assert.equal(events.at(-1)?.event, 'result', `the last event is not the result: ${events.slice(-3).map((e) => e.event)}`);
    const result = JSON.parse(events.at(-1)!.data) as { status: string; execution_id: string };
    assert.equal(result.status, 'success');
    assert.equal(result.execution_id, id);

    const gaps = events.filter((e) => e.event === 'gap').map((e) => JSON.parse(e.data) as { stream: string; dropped_bytes: number });
    assert.ok(gaps.length > 0, `no gap event although the reader read nothing while ${OUTPUT_BYTES} bytes were printed`);
    for (const gap of gaps) {
      assert.equal(gap.stream, 'stdout');
      assert.ok(Number.isInteger(gap.dropped_bytes) && gap.dropped_bytes > 0, JSON.stringify(gap));
    }
    const received = events.filter((e) => e.event === 'stdout').reduce((n, e) => n + Buffer.byteLength((JSON.parse(e.data) as { text: string }).text), 0);
    const dropped = gaps.reduce((n, gap) => n + gap.dropped_bytes, 0);
    // every byte printed is either delivered or counted in a gap, none twice
    assert.equal(received + dropped, OUTPUT_BYTES, `received ${received} + dropped ${dropped}`);
    t.diagnostic(`${gaps.length} gap events, ${received} bytes received, ${dropped} dropped`);
    assert.ok(dropped > OUTPUT_BYTES / 2, `only ${dropped} bytes dropped for a reader that read nothing until the end`);
  });

  it('disconnects a reader that takes nothing for HTTP_STREAM_STALL_SECONDS (it would hold its connection and buffers for good); the result stays for GET', async () => {
    const stallDirs = executorDirs('stream-stall');
    const stalling = await ExecutorProcess.start(executorEnv(stallDirs, { HTTP_STREAM_STALL_SECONDS: '2' }));
    try {
      const id = executionId('stalled');
      const socket = await postAndNeverRead(Number(new URL(stalling.url).port), '/execute?stream=true', streamRequest(id));
      const state = await finished(stalling.url, id, 120_000);
      assert.equal(state.result.status, 'success', 'the execution never waits for its reader, and its result is kept');
      await sleep(4000); // past the stall limit: the server has let go
      // what the kernel already held arrives, then the end of the connection, without the result
      const received = await new Promise<string>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error(`the connection was still open 30 s after the reader resumed (${text.length} chars read)`)), 30_000);
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.once('close', () => {
          clearTimeout(timer);
          resolve(text);
        });
        socket.resume();
      });
      assert.match(received, /^HTTP\/1\.1 200/);
      assert.doesNotMatch(received, /event: result/, 'the stream was cut before its end');
    } finally {
      await stalling.kill();
      stallDirs.remove();
    }
  });
});
