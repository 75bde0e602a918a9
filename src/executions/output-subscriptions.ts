// Who listens to which execution's output (?stream=true connections): a typed subscription per
// execution. Output is published synchronously as the sandbox's pipes deliver it; an execution
// nobody streams costs one map lookup per chunk.

export interface OutputEvent {
  stream: 'stdout' | 'stderr';
  text: string;
}

export type OutputListener = (event: OutputEvent) => void;

export class OutputSubscriptions {
  private readonly listeners = new Map<string, Set<OutputListener>>();

  /** Listens to the execution's output from now on; returns the unsubscribe. */
  subscribe(executionId: string, listener: OutputListener): () => void {
    let set = this.listeners.get(executionId);
    if (!set) {
      set = new Set();
      this.listeners.set(executionId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(executionId) === set) this.listeners.delete(executionId);
    };
  }

  publish(executionId: string, event: OutputEvent): void {
    const set = this.listeners.get(executionId);
    if (set) for (const listener of set) listener(event);
  }

  /** How many listen to the execution's output now. */
  count(executionId: string): number {
    return this.listeners.get(executionId)?.size ?? 0;
  }
}
