// What every backend is: a renderer of the one Policy into something the addon spawns. Spawning,
// output, timeouts and exit handling are shared (sandbox-run.ts), so the backends differ only in
// how the policy is enforced.
import type { FdKind, NativeSpawnPlan, NetworkHandle } from './native-addon.js';
import type { Command, Limits, Policy } from './policy.js';

export type BackendName = 'native' | 'bwrap' | 'none';

/** How "at most N processes" is enforced on this host by this backend. */
export type ProcessLimitMechanism = 'pid_namespace_pid_max' | 'rlimit_nproc_per_uid' | 'none';

export interface RenderedSpawn {
  plan: NativeSpawnPlan;
  /** bytes to write into 'pipe-in' fds, by child fd number */
  inputs: Map<number, Buffer>;
}

export interface Backend {
  readonly name: BackendName;
  readonly processLimit: ProcessLimitMechanism;
  /**
   * fds: the command's fds 0..n-1 (the backend may append its own after them).
   * command null: a warm sandbox, whose sandbox-init waits for the command on its control pipe;
   * command.primed: a warm sandbox whose runtime is started and held (see WarmSandbox).
   * network: a network namespace to join instead of a new one (takeNetwork), when the backend can.
   */
  render(policy: Policy, command: Command | null, fds: FdKind[], network?: NetworkHandle | null): RenderedSpawn;
  /**
   * A network namespace (loopback only) several sandboxes can join, for a session's sandboxes:
   * undefined when the backend has none to give. Release it with releaseNetwork.
   */
  takeNetwork?(): NetworkHandle | undefined;
  /** the network goes once the sandboxes that joined it have ended */
  releaseNetwork?(network: NetworkHandle): void;
  /** the command as a warm sandbox's init must receive it (paths the backend translates) */
  adapt?(policy: Policy, command: Command): Command;
}

/**
 * sandbox-init's arguments after its two fds: its options (initOptions), then run the
 * command now, wait for it, or prime it.
 */
export function initTail(command: Command | null, options: string[] = []): string[] {
  if (!command) return [...options, '--wait'];
  return [...options, ...(command.primed ? ['--prime'] : []), '--', ...command.argv];
}

/** sandbox-init's options: the nice value the whole sandbox runs at, then the watchdog's limits. */
export function initOptions(policy: Policy): string[] {
  return [...niceOption(policy), ...watchdogArgs(policy)];
}

/** The nice value every process of the sandbox runs at (native/init/cpu_priority.c). */
export function niceOption(policy: Policy): string[] {
  return ['--nice', String(policy.limits.nice)];
}

/**
 * What sandbox-init's watchdog bounds (native/init/watchdog.c): the memory of the whole sandbox,
 * including its Unix sockets' buffers when its network namespace is its own, and the storage
 * quota over every writable directory bound in. Only for sandboxes with their own pid namespace
 * and /proc: the watchdog measures every process it sees.
 */
export function watchdogArgs(policy: Policy): string[] {
  const storage = policy.filesystem.filter((e) => e.kind === 'bind' && e.writable && e.type === 'dir').map((e) => e.target);
  const { memoryBytes, storageMaxBytes, storageMaxFiles } = policy.limits;
  return [
    '--memory-max',
    String(memoryBytes),
    '--count-sockets',
    policy.network ? '0' : '1',
    ...storage.flatMap((target) => ['--disk', target]),
    '--disk-max-bytes',
    String(storageMaxBytes),
    '--disk-max-files',
    String(storageMaxFiles),
  ];
}

export function envList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}

/** The rlimits both sandboxed backends apply (RLIMIT_NPROC only where it is the process cap). */
export function rlimitsFor(limits: Limits, processLimit: ProcessLimitMechanism): NativeSpawnPlan['rlimits'] {
  const same = (soft: number) => ({ soft, hard: soft });
  const rlimits: NativeSpawnPlan['rlimits'] = [
    // hard one second above soft: SIGXCPU arrives first and says why the process ended
    { resource: 'cpu', soft: limits.cpuSeconds, hard: limits.cpuSeconds + 1 },
    { resource: 'data', ...same(limits.memoryBytes) },
    { resource: 'fsize', ...same(limits.fileSizeBytes) },
    { resource: 'nofile', ...same(limits.openFiles) },
    { resource: 'core', ...same(0) },
    // no process of the sandbox may lower its nice value below the one sandbox-init sets, nor take a
    // real-time policy (whatever the server's own limit is: a host may give it one)
    { resource: 'nice', ...same(0) },
    { resource: 'rtprio', ...same(0) },
    { resource: 'stack', ...same(limits.stackBytes) },
    { resource: 'sigpending', ...same(limits.kernelCounts.pendingSignals) },
    { resource: 'msgqueue', ...same(limits.kernelCounts.messageQueueBytes) },
    { resource: 'memlock', ...same(limits.kernelCounts.lockedMemoryBytes) },
  ];
  if (processLimit === 'rlimit_nproc_per_uid') rlimits.push({ resource: 'nproc', ...same(limits.maxProcesses) });
  return rlimits;
}

/**
 * /proc/sys/user files the sandbox's own user namespace gets, in the order sandbox-init reports
 * them (init_report.h). No max_mnt_namespaces and friends: without a user namespace of its own, a
 * process without capabilities can make no namespace of any kind (each needs CAP_SYS_ADMIN), and
 * each write costs about 6 µs of every sandbox's start.
 */
export const USER_NAMESPACE_LIMIT_FILES = ['max_inotify_instances', 'max_inotify_watches', 'max_fanotify_groups', 'max_fanotify_marks', 'max_user_namespaces'] as const;

/** The sandbox's own user namespace limits, every file of USER_NAMESPACE_LIMIT_FILES. */
export function userNamespaceLimitsFor(limits: Limits): { name: string; value: number }[] {
  const counts = limits.kernelCounts;
  const values: Record<(typeof USER_NAMESPACE_LIMIT_FILES)[number], number> = {
    max_inotify_instances: counts.inotifyInstances,
    max_inotify_watches: counts.inotifyWatches,
    max_fanotify_groups: counts.fanotifyGroups,
    max_fanotify_marks: counts.fanotifyMarks,
    max_user_namespaces: counts.userNamespaces,
  };
  return USER_NAMESPACE_LIMIT_FILES.map((name) => ({ name, value: values[name] }));
}
