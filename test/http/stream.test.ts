// POST /execute?stream=true: server-sent events while the code runs (accepted, then stdout and
// stderr chunks as they are printed, then the full result), text decoded correctly even when a
// character straddles two reads of the pipe.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { body, describeResult, sleep, TestServer, type Result, type SseEvent } from '../helpers/http.js';

let t: TestServer;

const textOf = (events: SseEvent[], stream: 'stdout' | 'stderr') =>
  events
    .filter((e) => e.event === stream)
    .map((e) => (JSON.parse(e.data) as { text: string }).text)
    .join('');

function resultOf(events: SseEvent[]): Result {
  const last = events.at(-1);
  assert.equal(last?.event, 'result', `the last event is not the result: ${JSON.stringify(events.map((e) => e.event))}`);
  return JSON.parse(last.data) as Result;
}

describe('?stream=true', () => {
  before(async () => {
    t = await TestServer.start();
  });
  after(() => t.stop());

  it('sends accepted, the output as it is printed, then the result', async () => {
    const request = body({
      code: 'import sys, time\ndef handler(event):\n    print("first", flush=True)\n    sys.stderr.write("warn\\n")\n    time.sleep(1.2)\n    print("second")\n    return {"n": 1}\n',
      language: 'python',
    });
    const { status, headers, events } = await t.stream(request);
    assert.equal(status, 200);
    assert.match(headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(events[0]?.event, 'accepted');
    assert.deepEqual(JSON.parse(events[0]!.data), { execution_id: request.execution_id, status: 'PENDING' });
    const result = resultOf(events);
    assert.equal(result.status, 'success', describeResult(result));
    assert.deepEqual(result.return_value, { n: 1 });
    assert.equal(result.execution_id, request.execution_id);
    // the streamed chunks add up to the result's output
    assert.equal(textOf(events, 'stdout'), 'first\nsecond\n');
    assert.equal(textOf(events, 'stderr'), 'warn\n');
    assert.equal(result.stdout, 'first\nsecond\n');
    // live: "first" arrived well before the end, not in one batch with the result
    const firstChunk = events.find((e) => e.event === 'stdout' && e.data.includes('first'))!;
    const resultEvent = events.at(-1)!;
    assert.ok(resultEvent.at - firstChunk.at >= 600, `"first" came ${resultEvent.at - firstChunk.at} ms before the result: not streamed`);
    assert.equal(events.filter((e) => e.event === 'result').length, 1);
  });

  it('never splits a multi-byte character across events', async () => {
    const request = body({ code: 'import sys\ndef handler(event):\n    sys.stdout.write("€" * 100000 + "😀" * 50000)\n    return 1\n', language: 'python' });
    const { events } = await t.stream(request);
    const streamed = textOf(events, 'stdout');
    assert.ok(!streamed.includes('\uFFFD'), `a character was split between chunks (${(streamed.match(/\uFFFD/g) ?? []).length} U+FFFD)`);
    assert.match(streamed, /^€+😀*$/u);
    assert.ok(events.filter((e) => e.event === 'stdout').length > 1, 'expected several chunks for 500 KB');
    assert.equal(resultOf(events).stdout_truncated, true);
  });

  it('streams the end of a failed execution too', async () => {
    const { events } = await t.stream(body({ code: 'echo partial; echo oops >&2; exit 3', language: 'shell' }));
    const result = resultOf(events);
    assert.equal(result.status, 'failed');
    assert.equal(result.exit_code, 3);
    assert.equal(textOf(events, 'stdout'), 'partial\n');
    assert.equal(textOf(events, 'stderr'), 'oops\n');
  });

  it('stops listening to the output as soon as the reader goes away, while the execution runs on', async () => {
    const request = body({ code: 'for i in $(seq 40); do echo tick $i; sleep 0.1; done', language: 'shell' });
    const aborted = new AbortController();
    const response = await fetch(`${t.url}/execute?stream=true`, {
      method: 'POST',
      headers: { ...t.headers, 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: aborted.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    while (!seen.includes('tick 2')) seen += decoder.decode((await reader.read()).value);
    const listeners = () => t.server.service.output.count(request.execution_id);
    assert.equal(listeners(), 1);
    aborted.abort();
    const deadline = Date.now() + 2000;
    while (listeners() > 0 && Date.now() < deadline) await sleep(20);
    assert.equal(listeners(), 0, 'the closed stream still listens to the output');
    assert.equal((await t.state(request.execution_id)).json.state, 'running', 'the execution ended before the check: it proves nothing');
    assert.equal((await t.finished(request.execution_id)).result?.status, 'success');
  });

  it('answers a known execution_id with its stored result, without running it again', async () => {
    const request = body({ code: 'echo once >> once.log; wc -l < once.log', language: 'shell' });
    const first = await t.stream(request);
    assert.equal(resultOf(first.events).stdout, '1\n');
    const again = await t.stream(request);
    assert.equal(again.events[0]?.event, 'accepted');
    const result = resultOf(again.events);
    assert.equal(result.stdout, '1\n');
    assert.equal(result.execution_id, request.execution_id);
  });
});
