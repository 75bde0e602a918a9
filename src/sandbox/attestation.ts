// What a sandbox really enforced, from sandbox-init's view inside it (not from configuration).
import { statSync } from 'node:fs';
import { USER_NAMESPACE_LIMIT_FILES, type BackendName, type ProcessLimitMechanism } from './backend.js';
import { configuredValues, sandboxBounds, type Bound, type BoundValues } from './bounds.js';
import type { InitReport } from './native-addon.js';
import type { Limits, Policy } from './policy.js';

const NAMESPACES = ['user', 'mount', 'pid', 'network', 'ipc', 'uts', 'cgroup'] as const;
const NS_FILES = ['user', 'mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup'];
const RLIMITS = ['cpu_seconds', 'data_bytes', 'file_size_bytes', 'open_files', 'core_bytes', 'stack_bytes', 'processes', 'pending_signals', 'message_queue_bytes', 'locked_memory_bytes'] as const;

export interface Attestation {
  backend: BackendName;
  namespaces: Record<(typeof NAMESPACES)[number], boolean>;
  uid: number;
  gid: number;
  capabilities_dropped: boolean;
  no_new_privs: boolean;
  seccomp: boolean;
  /** values in force inside; null = unlimited */
  rlimits: Record<(typeof RLIMITS)[number], number | null>;
  process_limit: { mechanism: ProcessLimitMechanism; max: number | null };
  /** every bound on what this run could take from the host, with the values in force inside */
  bounds: Bound[];
}

let serverNamespaces: number[] | undefined;

/** The server's own namespace inodes: a sandbox's differ wherever it has a namespace of its own. */
function ownNamespaces(): number[] {
  serverNamespaces ??= NS_FILES.map((name) => {
    try {
      return statSync(`/proc/self/ns/${name}`).ino;
    } catch {
      return -1;
    }
  });
  return serverNamespaces;
}

export function attest(backend: BackendName, report: InitReport, processLimit: ProcessLimitMechanism, limits: Limits): Attestation {
  const own = ownNamespaces();
  const seen = report.attested;
  const namespaces = Object.fromEntries(NAMESPACES.map((name, i) => [name, seen.namespaceInodes[i]! > 0 && seen.namespaceInodes[i] !== own[i]])) as Attestation['namespaces'];
  const rlimits = Object.fromEntries(RLIMITS.map((name, i) => [name, seen.rlimits[i]! < 0 ? null : seen.rlimits[i]!])) as Attestation['rlimits'];
  const processMax = processLimit === 'none' ? null : limits.maxProcesses;
  return {
    backend,
    namespaces,
    uid: seen.uid,
    gid: seen.gid,
    capabilities_dropped: seen.capEffective === 0n && seen.capBounding === 0n,
    no_new_privs: seen.noNewPrivs === 1,
    seccomp: seen.seccompMode === 2,
    rlimits,
    process_limit: { mechanism: processLimit, max: processMax },
    bounds: sandboxBounds({ ...seenValues(rlimits, seen.userNamespaceLimits, processMax), ...watchedValues(report, limits) }, processLimit),
  };
}

/**
 * The bounds' values as sandbox-init saw them. The process cap is not visible from inside
 * (a pid namespace's pid_max reads as the host's): it is the configured one, attested by the
 * backend's probe.
 */
function seenValues(rlimits: Attestation['rlimits'], userNamespaceLimits: number[], processes: number | null): Omit<BoundValues, keyof WatchedValues> {
  const file = (name: (typeof USER_NAMESPACE_LIMIT_FILES)[number]) => {
    const value = userNamespaceLimits[USER_NAMESPACE_LIMIT_FILES.indexOf(name)] ?? -1;
    return value < 0 ? null : value;
  };
  return {
    ...rlimits,
    processes,
    inotify_instances: file('max_inotify_instances'),
    inotify_watches: file('max_inotify_watches'),
    fanotify_groups: file('max_fanotify_groups'),
    fanotify_marks: file('max_fanotify_marks'),
    user_namespaces: file('max_user_namespaces'),
  };
}

type WatchedValues = Pick<BoundValues, 'sandbox_memory_bytes' | 'storage_bytes' | 'storage_entries' | 'shared_memory_outside_tmpfs_bytes'>;

/**
 * The watchdog's bounds when sandbox-init's report shows it watched the sandbox (armed as the
 * command starts, first measure 10 ms later: a shorter run is never sampled), and the shared
 * memory the seccomp filter refuses.
 */
function watchedValues(report: InitReport, limits: Limits): WatchedValues {
  const watched = report.memoryWatched;
  return {
    sandbox_memory_bytes: watched ? limits.memoryBytes : null,
    storage_bytes: watched ? limits.storageMaxBytes || null : null,
    storage_entries: watched ? limits.storageMaxFiles || null : null,
    shared_memory_outside_tmpfs_bytes: report.attested.seccompMode === 2 ? 0 : null,
  };
}

/** Everything the policy asks for that the attestation does not show; empty = fully enforced. */
export function missingProtections(a: Attestation, policy: Policy): string[] {
  const missing: string[] = [];
  for (const [name, isolated] of Object.entries(a.namespaces)) {
    if (name === 'network' && policy.network) continue;
    if (!isolated) missing.push(`${name} namespace`);
  }
  if (a.uid !== policy.uid || a.gid !== policy.gid) missing.push(`uid/gid ${policy.uid}/${policy.gid} (saw ${a.uid}/${a.gid})`);
  if (!a.capabilities_dropped) missing.push('capabilities dropped');
  if (!a.no_new_privs) missing.push('no_new_privs');
  if (!a.seccomp) missing.push('seccomp filter');
  // every bound but the process cap (not visible from inside) as configured
  const configured = sandboxBounds(configuredValues(policy.limits, 'none'), 'none');
  for (const bound of a.bounds) {
    const expected = configured.find((c) => c.resource === bound.resource)!;
    if (bound.resource === 'processes' || bound.resource === 'open_files') continue;
    if (bound.limit !== expected.limit) missing.push(`${bound.resource} ${bound.mechanism} ${expected.limit} (saw ${bound.limit})`);
  }
  return missing;
}
