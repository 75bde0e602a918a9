// Keeps the journal bounded, in age and in size. Finished executions whose result is settled
// (delivered, undeliverable, or standalone and never to be sent) are dropped once untouched for
// RESULT_RETENTION_HOURS, at start-up and then periodically; and whenever the journal holds more
// than JOURNAL_MAX_MB (checked after every result, measured only when it may be so), the least recently touched of them go first
// until it fits. A result still waiting for the control plane is never dropped, however old or
// however full the journal: over the cap with nothing left to drop is logged, not enforced.
import type { Journal } from '../executions/journal.js';
import type { Logger } from '../logger.js';

const PRUNE_INTERVAL_MS = 10 * 60_000;
const MiB = 1024 * 1024;

export interface RetentionPolicy {
  retentionHours: number;
  maxBytes: number;
}

export interface JournalRetention {
  /** Prunes by size if the journal is over its cap (call after a result was committed). */
  enforceSizeCap(): void;
  stop(): void;
}

export function startJournalRetention(journal: Journal, policy: RetentionPolicy, logger: Logger, intervalMs = PRUNE_INTERVAL_MS): JournalRetention {
  let overCapReported = false;
  const enforceSizeCap = () => {
    const removed = journal.pruneToSize(policy.maxBytes);
    if (removed > 0) logger.info({ removed, journal_max_mb: policy.maxBytes / MiB }, 'journal pruned to its size cap, oldest settled results first');
    const overCap = journal.mayHoldMoreThan(policy.maxBytes);
    if (overCap && !overCapReported) {
      logger.warn(
        { used_mb: Math.round(journal.usedBytes() / MiB), journal_max_mb: policy.maxBytes / MiB },
        'the journal is over JOURNAL_MAX_MB with only results waiting for the control plane: they are kept',
      );
    }
    overCapReported = overCap;
  };
  const prune = () => {
    const removed = journal.prune(policy.retentionHours * 3_600_000);
    if (removed > 0) logger.info({ removed, retention_hours: policy.retentionHours }, 'journal pruned');
    enforceSizeCap();
  };
  // a delete writes too: on a full disk it fails, and is tried again at the next result or interval
  const logged = (what: string, step: () => void) => () => {
    try {
      step();
    } catch (error) {
      logger.error({ error: (error as Error).message }, `the journal could not be pruned (${what}): tried again later`);
    }
  };
  logged('retention', prune)();
  const timer = setInterval(logged('retention', prune), intervalMs);
  timer.unref();
  return { enforceSizeCap: logged('size cap', enforceSizeCap), stop: () => clearInterval(timer) };
}
