// What a sandbox really enforced, from sandbox-init's view inside it (not from configuration).
import { statSync } from 'node:fs';
import type { BackendName, ProcessLimitMechanism } from './backend.js';
import type { InitReport } from './native-addon.js';
import type { Limits, Policy } from './policy.js';

const NAMESPACES = ['user', 'mount', 'pid', 'network', 'ipc', 'uts', 'cgroup'] as const;
const NS_FILES = ['user', 'mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup'];
const RLIMITS = ['cpu_seconds', 'data_bytes', 'file_size_bytes', 'open_files', 'core_bytes', 'stack_bytes', 'processes'] as const;

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
  const namespaces = Object.fromEntries(
    NAMESPACES.map((name, i) => [name, seen.namespaceInodes[i]! > 0 && seen.namespaceInodes[i] !== own[i]]),
  ) as Attestation['namespaces'];
  const rlimits = Object.fromEntries(RLIMITS.map((name, i) => [name, seen.rlimits[i]! < 0 ? null : seen.rlimits[i]!])) as Attestation['rlimits'];
  return {
    backend,
    namespaces,
    uid: seen.uid,
    gid: seen.gid,
    capabilities_dropped: seen.capEffective === 0n && seen.capBounding === 0n,
    no_new_privs: seen.noNewPrivs === 1,
    seccomp: seen.seccompMode === 2,
    rlimits,
    process_limit: { mechanism: processLimit, max: processLimit === 'none' ? null : limits.maxProcesses },
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
  const expect: [keyof Attestation['rlimits'], number][] = [
    ['cpu_seconds', policy.limits.cpuSeconds],
    ['data_bytes', policy.limits.memoryBytes],
    ['file_size_bytes', policy.limits.fileSizeBytes],
    ['open_files', policy.limits.openFiles],
    ['core_bytes', 0],
  ];
  for (const [name, value] of expect) {
    if (a.rlimits[name] !== value) missing.push(`rlimit ${name}=${value} (saw ${a.rlimits[name]})`);
  }
  return missing;
}
