// Limits of one sandbox, from configuration and the execution's own timeout.
import type { Config } from '../config.js';
import type { KernelCounts, Limits } from './policy.js';

const MiB = 1024 * 1024;

/**
 * Small per-sandbox values: what an interpreter and its usual libraries use (no POSIX timers or
 * message queues, a file watcher or two), far below what the host gives each user (here: 128
 * inotify instances per user, 96k pending signals, 800 KiB of message queues, 8 MiB locked).
 */
export const KERNEL_COUNTS: KernelCounts = {
  pendingSignals: 128,
  messageQueueBytes: 256 * 1024,
  lockedMemoryBytes: 64 * 1024,
  inotifyInstances: 16,
  inotifyWatches: 4096,
  fanotifyGroups: 4,
  fanotifyMarks: 1024,
  userNamespaces: 0,
};

export function limitsFromConfig(config: Config, timeoutSeconds: number, memoryMb = config.limits.memoryMb): Limits {
  return {
    // the wall timeout already bounds CPU; a configured CPU budget can only tighten it
    cpuSeconds: config.limits.cpuSeconds > 0 ? Math.min(config.limits.cpuSeconds, timeoutSeconds) : timeoutSeconds,
    memoryBytes: memoryMb * MiB,
    fileSizeBytes: config.limits.fileSizeMb * MiB,
    openFiles: config.limits.openFiles,
    stackBytes: 8 * MiB,
    maxProcesses: config.limits.maxProcesses,
    kernelCounts: KERNEL_COUNTS,
    storageMaxBytes: config.limits.workspaceMb * MiB,
    storageMaxFiles: config.limits.workspaceFiles,
    nice: config.limits.sandboxNice,
  };
}
