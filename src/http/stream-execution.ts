// ?stream=true: server-sent events for one execution. `accepted`, then its output as `stdout` /
// `stderr` events (with a `gap` event where the reader fell behind and output was dropped), then
// the `result`. One write at a time, each awaited until the socket takes it: what waits for a slow
// reader is the relay's bounded buffer, never a growing queue of pending writes.
import type { Context } from 'hono';
import { streamSSE, type SSEMessage } from 'hono/streaming';
import type { OutputRelay, RelayItem } from './output-relay.js';

export function streamExecution(c: Context, executionId: string, relay: OutputRelay, result: Promise<string | undefined>): Response {
  // the service emits an execution's last output before its result settles
  void result.then(
    () => relay.end(),
    () => relay.end(),
  );
  return streamSSE(c, async (sse) => {
    // a reader that goes away stops costing anything at once, whether or not the execution runs on
    sse.onAbort(() => relay.close());
    await sse.writeSSE({ event: 'accepted', data: JSON.stringify({ execution_id: executionId, status: 'PENDING' }) });
    for (let item = await relay.next(); item && !sse.aborted; item = await relay.next()) {
      for (const message of messagesOf(item)) await sse.writeSSE(message);
    }
    if (!sse.aborted) await sse.writeSSE({ event: 'result', data: (await result) ?? 'null' });
  });
}

function messagesOf(item: RelayItem): SSEMessage[] {
  if (item.kind === 'output') return [{ event: item.event.stream, data: JSON.stringify({ text: item.event.text }) }];
  return (['stdout', 'stderr'] as const)
    .filter((stream) => item.droppedBytes[stream] > 0)
    .map((stream) => ({ event: 'gap', data: JSON.stringify({ stream, dropped_bytes: item.droppedBytes[stream] }) }));
}
