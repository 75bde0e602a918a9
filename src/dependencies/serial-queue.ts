// One dependency sync at a time: each waits for the one before it (the control plane always
// sends the complete list, so running them in arrival order leaves the last one's set), and a
// bounded number may wait, so a flood of syncs cannot queue work for hours.

export class QueueFullError extends Error {}

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waitingOrRunning = 0;

  constructor(private readonly maxWaitingOrRunning: number) {}

  get size(): number {
    return this.waitingOrRunning;
  }

  /** Runs `task` after every task queued before it. Throws QueueFullError when the bound is reached. */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.waitingOrRunning >= this.maxWaitingOrRunning) throw new QueueFullError(`${this.waitingOrRunning} tasks are running or waiting`);
    this.waitingOrRunning++;
    return this.chain(task).finally(() => this.waitingOrRunning--);
  }

  /** Like run(), for the queue's own housekeeping: neither refused nor counted. */
  enqueue<T>(task: () => Promise<T>): Promise<T> {
    return this.chain(task);
  }

  private chain<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
