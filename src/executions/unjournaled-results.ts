// Results the journal could not store: its disk is full (SQLITE_FULL), or it fails to write.
// A sandbox can fill the disk the state directory is on (a session's /tmp lives there), and a
// failed commit used to end the server with every running execution. Such a result is kept here
// instead: its waiters get it, GET /executions/{id} reads it, and it is written again every
// RETRY_MS until the journal takes it (then the control plane's outbox sends it). Lost only if
// the server stops first: the next start records the execution as crashed, as any it did not
// finish.
import type { Logger } from '../logger.js';
import type { Journal } from './journal.js';

type Finished = Parameters<Journal['finish']>[0];

const RETRY_MS = 2_000;
/** Results kept at most: beyond, the oldest is given up (the disk stays full, results pile up). */
const MAX_KEPT = 256;

export class UnjournaledResults {
  private readonly kept = new Map<string, Finished>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly journal: Journal,
    private readonly logger: Logger,
    /** told of each result the journal took on a retry */
    private readonly onStored: (executionId: string) => void,
  ) {}

  /** Writes the result to the journal, or keeps it here when the journal cannot take it now. */
  store(result: Finished): void {
    try {
      this.journal.finish(result);
    } catch (error) {
      this.keep(result, error as Error);
    }
  }

  get(executionId: string): Finished | undefined {
    return this.kept.get(executionId);
  }

  /** A last try at writing what is kept (the server is stopping). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.retry(false);
  }

  private keep(result: Finished, error: Error): void {
    if (this.kept.size >= MAX_KEPT) {
      const [oldest] = this.kept.keys();
      this.kept.delete(oldest!);
      this.logger.error({ execution_id: oldest }, `more than ${MAX_KEPT} results wait for the journal: this one is given up (free the disk of STATE_PATH)`);
    }
    this.kept.set(result.execution_id, result);
    this.logger.error(
      { execution_id: result.execution_id, error: error.message, code: (error as { code?: string }).code, waiting: this.kept.size },
      'the journal could not store a result: kept in memory and written again when it can (is the disk of STATE_PATH full?)',
    );
    this.timer ??= setTimeout(() => this.retry(true), RETRY_MS).unref();
  }

  private retry(rearm: boolean): void {
    this.timer = undefined;
    for (const [executionId, result] of this.kept) {
      try {
        this.journal.finish(result);
      } catch {
        break; // still failing: the rest would too
      }
      this.kept.delete(executionId);
      this.logger.info({ execution_id: executionId, waiting: this.kept.size }, 'a result kept in memory is now in the journal');
      this.onStored(executionId);
    }
    if (rearm && this.kept.size > 0) this.timer = setTimeout(() => this.retry(true), RETRY_MS).unref();
  }
}
