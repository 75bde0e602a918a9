// The line a run stopped by sandbox-init's watchdog gets on stderr: which limit, what the sandbox
// held when it was measured, and what the user can do about it.
import type { InitReport } from './native-addon.js';
import type { Limits } from './policy.js';
import type { KilledBy } from './sandbox-run.js';

const MiB = 1024 * 1024;

function mib(bytes: number): string {
  return `${Math.round((bytes / MiB) * 10) / 10} MiB`;
}

export function watchdogNotice(killedBy: KilledBy, report: InitReport, limits: Limits): string | null {
  switch (killedBy) {
    case 'memory':
      return `killed: the sandbox held ${mib(report.sandboxPeakKb * 1024)}, over the memory limit of ${mib(limits.memoryBytes)} (every process, files in /dev/shm and socket buffers together)`;
    case 'disk':
      return `killed: the session's storage (/workspace and /tmp) reached ${mib(report.storageKb * 1024)}, over its quota of ${mib(limits.storageMaxBytes)}; what was written stays: delete files to get under the quota, the session cannot grow until then`;
    case 'files':
      return `killed: the session's storage (/workspace and /tmp) reached ${report.storageFiles} files and directories, over its quota of ${limits.storageMaxFiles}; what was written stays: delete files to get under the quota, the session cannot grow until then`;
    default:
      return null;
  }
}
