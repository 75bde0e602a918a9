// What one ?stream=true connection has not sent yet. The execution emits its output synchronously
// and never waits for a reader, so a reader that falls behind cannot slow it down; instead the
// relay keeps at most STREAM_BUFFER_BYTES of output (and its bookkeeping) per connection and only
// counts what does not fit: the reader gets a `gap` item saying how many bytes of which stream it missed, in place.
import type { OutputEvent, OutputListener } from '../executions/output-subscriptions.js';

/** Output kept per stream connection; beyond it output is counted, not kept. */
export const STREAM_BUFFER_BYTES = 1024 * 1024;
/**
 * What an item costs beyond its text (its objects): code that prints one byte per write must not
 * fit a million items in the budget.
 */
const ITEM_OVERHEAD_BYTES = 64;

export type RelayItem = { kind: 'output'; event: OutputEvent; cost: number } | { kind: 'gap'; droppedBytes: Record<OutputEvent['stream'], number>; cost: number };

export class OutputRelay {
  private queue: RelayItem[] = [];
  private queuedCost = 0;
  private ended = false;
  private wake: (() => void) | undefined;
  private readonly unsubscribe: () => void;

  /**
   * Subscribes to the execution's output at once (subscribe: e.g. ExecutionService.output's, for
   * one execution): nothing printed from now on is missed.
   */
  constructor(
    subscribe: (listener: OutputListener) => () => void,
    private readonly capacityBytes = STREAM_BUFFER_BYTES,
  ) {
    this.unsubscribe = subscribe(this.onOutput);
  }

  private readonly onOutput = (event: OutputEvent) => {
    const bytes = Buffer.byteLength(event.text);
    if (this.queuedCost + bytes + ITEM_OVERHEAD_BYTES <= this.capacityBytes) {
      this.enqueue({ kind: 'output', event, cost: bytes + ITEM_OVERHEAD_BYTES });
    } else {
      // consecutive drops share one gap item: the queue never holds more gaps than outputs + 1
      const last = this.queue.at(-1);
      const gap = last?.kind === 'gap' ? last : this.enqueue({ kind: 'gap', droppedBytes: { stdout: 0, stderr: 0 }, cost: ITEM_OVERHEAD_BYTES });
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
    if (item) this.queuedCost -= item.cost;
    return item;
  }

  private enqueue<T extends RelayItem>(item: T): T {
    this.queue.push(item);
    this.queuedCost += item.cost;
    return item;
  }

  /** The execution has finished: no more output will come; what is queued is still delivered. */
  end(): void {
    this.unsubscribe();
    this.ended = true;
    this.wakeReader();
  }

  /** The reader is gone: unsubscribe and drop what is queued. */
  close(): void {
    this.end();
    this.queue = [];
    this.queuedCost = 0;
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
