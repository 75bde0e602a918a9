// What one ?stream=true connection has not sent yet. The execution emits its output synchronously
// and never waits for a reader, so a reader that falls behind cannot slow it down; instead the
// relay keeps at most STREAM_BUFFER_BYTES of output per connection and only counts what does not
// fit: the reader gets a `gap` item saying how many bytes of which stream it missed, in place.
import type { EventEmitter } from 'node:events';
import type { OutputEvent } from '../executions/execution-service.js';

/** Output kept per stream connection; beyond it output is counted, not kept. */
export const STREAM_BUFFER_BYTES = 1024 * 1024;

export type RelayItem = { kind: 'output'; event: OutputEvent; bytes: number } | { kind: 'gap'; droppedBytes: Record<OutputEvent['stream'], number> };

export class OutputRelay {
  private queue: RelayItem[] = [];
  private queuedBytes = 0;
  private ended = false;
  private wake: (() => void) | undefined;
  private readonly eventName: string;

  /** Subscribes to the execution's output at once: nothing printed from now on is missed. */
  constructor(
    private readonly events: EventEmitter,
    executionId: string,
    private readonly capacityBytes = STREAM_BUFFER_BYTES,
  ) {
    this.eventName = `output:${executionId}`;
    events.on(this.eventName, this.onOutput);
  }

  private readonly onOutput = (event: OutputEvent) => {
    const bytes = Buffer.byteLength(event.text);
    if (this.queuedBytes + bytes <= this.capacityBytes) {
      this.queue.push({ kind: 'output', event, bytes });
      this.queuedBytes += bytes;
    } else {
      // consecutive drops share one gap item: the queue never holds more gaps than outputs + 1
      const last = this.queue.at(-1);
      const gap = last?.kind === 'gap' ? last : { kind: 'gap' as const, droppedBytes: { stdout: 0, stderr: 0 } };
      if (gap !== last) this.queue.push(gap);
      gap.droppedBytes[event.stream] += bytes;
    }
    this.wakeReader();
  };

  /**
   * The next item in order; waits while none is queued. undefined once the relay has ended (the
   * execution finished: only what is queued is left) or been closed, and nothing is queued.
   */
  async next(): Promise<RelayItem | undefined> {
    while (this.queue.length === 0 && !this.ended) await new Promise<void>((resolve) => (this.wake = resolve));
    const item = this.queue.shift();
    if (item?.kind === 'output') this.queuedBytes -= item.bytes;
    return item;
  }

  /** The execution has finished: no more output will come; what is queued is still delivered. */
  end(): void {
    this.events.off(this.eventName, this.onOutput);
    this.ended = true;
    this.wakeReader();
  }

  /** The reader is gone: unsubscribe and drop what is queued. */
  close(): void {
    this.end();
    this.queue = [];
    this.queuedBytes = 0;
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
