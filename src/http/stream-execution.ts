// ?stream=true: server-sent events for one execution. `accepted`, then its output as `stdout` /
// `stderr` events (with a `gap` event where the reader fell behind and output was dropped), then
// the `result`. One write at a time, each awaited until the socket takes it: what waits for a slow
// reader is the relay's bounded buffer, never a growing queue of pending writes. A connection
// whose next message waits `stallMs` for the reader is closed: otherwise a client that never
// reads would hold its connection, that buffer and the kernel's socket buffers for good (the
// result stays in the journal, for GET /executions/{id}).
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { streamSSE, type SSEMessage, type SSEStreamingApi } from 'hono/streaming';
import type { OutputRelay, RelayItem } from './output-relay.js';

export function streamExecution(c: Context, executionId: string, relay: OutputRelay, result: Promise<string | undefined>, stallMs: number): Response {
  // the service emits an execution's last output before its result settles
  void result.then(
    () => relay.end(),
    () => relay.end(),
  );
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return streamSSE(c, async (sse) => {
    // a reader that goes away stops costing anything at once, whether or not the execution runs on
    sse.onAbort(() => relay.close());
    const write = (message: SSEMessage) => writeOrDisconnect(sse, message, stallMs, () => incoming?.socket.destroy());
    await write({ event: 'accepted', data: JSON.stringify({ execution_id: executionId, status: 'PENDING' }) });
    for (let item = await relay.next(); item && !sse.aborted; item = await relay.next()) {
      for (const message of messagesOf(item)) if (!sse.aborted) await write(message);
    }
    if (!sse.aborted) await write({ event: 'result', data: (await result) ?? 'null' });
  });
}

/** Writes one message; when the reader has not taken it after stallMs, disconnects it (the stream then aborts). */
async function writeOrDisconnect(sse: SSEStreamingApi, message: SSEMessage, stallMs: number, disconnect: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<'stalled'>((resolve) => {
    timer = setTimeout(() => resolve('stalled'), stallMs);
  });
  try {
    if ((await Promise.race([sse.writeSSE(message), stalled])) === 'stalled') {
      disconnect();
      sse.abort();
    }
  } finally {
    clearTimeout(timer);
  }
}

function messagesOf(item: RelayItem): SSEMessage[] {
  if (item.kind === 'output') return [{ event: item.event.stream, data: JSON.stringify({ text: item.event.text }) }];
  return (['stdout', 'stderr'] as const)
    .filter((stream) => item.droppedBytes[stream] > 0)
    .map((stream) => ({ event: 'gap', data: JSON.stringify({ stream, dropped_bytes: item.droppedBytes[stream] }) }));
}
