// Limits of one sandbox, from configuration and the execution's own timeout.
import type { Config } from '../config.js';
import type { Limits } from './policy.js';

const MiB = 1024 * 1024;

export function limitsFromConfig(config: Config, timeoutSeconds: number, memoryMb = config.limits.memoryMb): Limits {
  return {
    // the wall timeout already bounds CPU; a configured CPU budget can only tighten it
    cpuSeconds: config.limits.cpuSeconds > 0 ? Math.min(config.limits.cpuSeconds, timeoutSeconds) : timeoutSeconds,
    memoryBytes: memoryMb * MiB,
    fileSizeBytes: config.limits.fileSizeMb * MiB,
    openFiles: config.limits.openFiles,
    stackBytes: 8 * MiB,
    maxProcesses: config.limits.maxProcesses,
  };
}
