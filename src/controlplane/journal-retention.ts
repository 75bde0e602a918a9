// Keeps the journal bounded: finished executions whose result is settled (delivered,
// undeliverable, or standalone and never to be sent) are dropped once untouched for
// RESULT_RETENTION_HOURS, at start-up and then periodically. A result still waiting for the
// control plane is never dropped, however old.
import type { Journal } from '../executions/journal.js';
import type { Logger } from '../logger.js';

const PRUNE_INTERVAL_MS = 10 * 60_000;

export function startJournalRetention(journal: Journal, retentionHours: number, logger: Logger, intervalMs = PRUNE_INTERVAL_MS): { stop(): void } {
  const prune = () => {
    const removed = journal.prune(retentionHours * 3_600_000);
    if (removed > 0) logger.info({ removed, retention_hours: retentionHours }, 'journal pruned');
  };
  prune();
  const timer = setInterval(prune, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
