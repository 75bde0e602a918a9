// Every bound on what one sandbox may take from the host, with its value, unit and the mechanism
// that enforces it. /info lists them as configured; each result's `sandbox` attestation lists them
// as they were in force inside that very run (read back by sandbox-init).
import type { ProcessLimitMechanism } from './backend.js';
import type { Limits } from './policy.js';

export type BoundMechanism = 'cgroup' | 'watchdog' | 'rlimit' | 'userns-limit' | 'pid-namespace' | 'seccomp' | 'sysctl';

export interface Bound {
  resource: string;
  /** null: not bounded by this mechanism here */
  limit: number | null;
  unit: string;
  mechanism: BoundMechanism;
}

/** The values bounds are made of, by name; null = unlimited (or not seen). */
export interface BoundValues {
  cpu_seconds: number | null;
  data_bytes: number | null;
  file_size_bytes: number | null;
  open_files: number | null;
  core_bytes: number | null;
  stack_bytes: number | null;
  processes: number | null;
  pending_signals: number | null;
  message_queue_bytes: number | null;
  locked_memory_bytes: number | null;
  inotify_instances: number | null;
  inotify_watches: number | null;
  fanotify_groups: number | null;
  fanotify_marks: number | null;
  user_namespaces: number | null;
  /** sandbox-init's watchdog (native/init/watchdog.c): the whole sandbox's memory, the session's storage */
  sandbox_memory_bytes: number | null;
  storage_bytes: number | null;
  storage_entries: number | null;
  /** memfd, SysV and shared anonymous memory: refused by seccomp (0), so only tmpfs holds shared memory */
  shared_memory_outside_tmpfs_bytes: number | null;
}

export function configuredValues(limits: Limits, processLimit: ProcessLimitMechanism): BoundValues {
  const counts = limits.kernelCounts;
  return {
    cpu_seconds: limits.cpuSeconds,
    data_bytes: limits.memoryBytes,
    file_size_bytes: limits.fileSizeBytes,
    open_files: limits.openFiles,
    core_bytes: 0,
    stack_bytes: limits.stackBytes,
    processes: processLimit === 'none' ? null : limits.maxProcesses,
    pending_signals: counts.pendingSignals,
    message_queue_bytes: counts.messageQueueBytes,
    locked_memory_bytes: counts.lockedMemoryBytes,
    inotify_instances: counts.inotifyInstances,
    inotify_watches: counts.inotifyWatches,
    fanotify_groups: counts.fanotifyGroups,
    fanotify_marks: counts.fanotifyMarks,
    user_namespaces: counts.userNamespaces,
    sandbox_memory_bytes: limits.memoryBytes,
    storage_bytes: limits.storageMaxBytes || null,
    storage_entries: limits.storageMaxFiles || null,
    shared_memory_outside_tmpfs_bytes: 0,
  };
}

const PROCESS_MECHANISM: Record<ProcessLimitMechanism, BoundMechanism> = {
  pid_namespace_pid_max: 'pid-namespace',
  rlimit_nproc_per_uid: 'rlimit',
  none: 'rlimit',
};

export function sandboxBounds(v: BoundValues, processLimit: ProcessLimitMechanism): Bound[] {
  // Open files of the whole sandbox: no kernel count exists per sandbox, so the product of its
  // process cap and RLIMIT_NOFILE is the bound (README: MAX_PROCESSES, MAX_OPEN_FILES).
  const fileTable = v.processes !== null && v.open_files !== null ? v.processes * v.open_files : null;
  return [
    { resource: 'cpu_time_per_process', limit: v.cpu_seconds, unit: 'seconds', mechanism: 'rlimit' },
    { resource: 'memory_per_process', limit: v.data_bytes, unit: 'bytes', mechanism: 'rlimit' },
    { resource: 'file_size', limit: v.file_size_bytes, unit: 'bytes', mechanism: 'rlimit' },
    { resource: 'open_files_per_process', limit: v.open_files, unit: 'files', mechanism: 'rlimit' },
    { resource: 'open_files', limit: fileTable, unit: 'files', mechanism: PROCESS_MECHANISM[processLimit] },
    { resource: 'processes', limit: v.processes, unit: 'processes', mechanism: PROCESS_MECHANISM[processLimit] },
    { resource: 'core_dump', limit: v.core_bytes, unit: 'bytes', mechanism: 'rlimit' },
    { resource: 'stack_per_process', limit: v.stack_bytes, unit: 'bytes', mechanism: 'rlimit' },
    { resource: 'pending_signals_and_posix_timers', limit: v.pending_signals, unit: 'signals', mechanism: 'rlimit' },
    { resource: 'posix_message_queues', limit: v.message_queue_bytes, unit: 'bytes', mechanism: 'rlimit' },
    { resource: 'locked_memory', limit: v.locked_memory_bytes, unit: 'bytes', mechanism: 'rlimit' },
    { resource: 'inotify_instances', limit: v.inotify_instances, unit: 'instances', mechanism: 'userns-limit' },
    { resource: 'inotify_watches', limit: v.inotify_watches, unit: 'watches', mechanism: 'userns-limit' },
    { resource: 'fanotify_groups', limit: v.fanotify_groups, unit: 'groups', mechanism: 'userns-limit' },
    { resource: 'fanotify_marks', limit: v.fanotify_marks, unit: 'marks', mechanism: 'userns-limit' },
    { resource: 'user_namespaces', limit: v.user_namespaces, unit: 'namespaces', mechanism: 'userns-limit' },
    { resource: 'sandbox_memory', limit: v.sandbox_memory_bytes, unit: 'bytes', mechanism: 'watchdog' },
    { resource: 'session_storage', limit: v.storage_bytes, unit: 'bytes', mechanism: 'watchdog' },
    { resource: 'session_storage_entries', limit: v.storage_entries, unit: 'entries', mechanism: 'watchdog' },
    { resource: 'shared_memory_outside_tmpfs', limit: v.shared_memory_outside_tmpfs_bytes, unit: 'bytes', mechanism: 'seccomp' },
  ];
}
