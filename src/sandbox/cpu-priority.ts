// The executor above the code it runs, on the CPU. Every sandbox runs at nice SANDBOX_NICE
// (sandbox-init: native/init/cpu_priority.c), which is all it takes where the executor and its
// sandboxes share one scheduling group (a container's cpu cgroup). On a host that groups tasks by
// session (autogroup), each sandbox is a session, and so a group as heavy as the executor's whole
// one: sixteen busy sandboxes left the executor a seventeenth of the CPU and its acknowledgements
// waited 144 ms (docs/benchmarks.md). There the executor raises its own autogroup to
// SERVER_AUTOGROUP_NICE (-20 by default: at -10 the ack's p99 at c16 was still 34-52 ms, at -20
// 8-13 ms, and shell throughput rose), which takes CAP_SYS_NICE (a root server). An unprivileged
// executor on such a host stays one group among its sandboxes' (SECURITY.md, Known limits).
import { readFileSync, writeFileSync } from 'node:fs';

export interface CpuPriority {
  /** the nice value of every sandbox process (0: the executor's own) */
  sandbox_nice: number;
  /** the kernel groups tasks by session (kernel.sched_autogroup_enabled) */
  autogroups: boolean;
  /**
   * the executor's own autogroup's nice value; null without autogroups, or where the executor has
   * no autogroup of its own (its session is the kernel's first one, as under some container and CI
   * runners: it then competes thread by thread in the root group and there is nothing to raise)
   */
  server_autogroup_nice: number | null;
}

const AUTOGROUP_SWITCH = '/proc/sys/kernel/sched_autogroup_enabled';
const OWN_AUTOGROUP = '/proc/self/autogroup';

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** "/autogroup-46084 nice 0" → 0; the kernel's first session's group prints nothing → null */
export function ownAutogroupNice(): number | null {
  const match = /\bnice (-?\d+)/.exec(readOrNull(OWN_AUTOGROUP) ?? '');
  return match ? Number(match[1]) : null;
}

/**
 * Raises the executor's autogroup (its whole session's) to `serverAutogroupNice` where autogroups
 * are on and it may; says what holds. 0 writes nothing, and a group already at or above the value
 * stays as it is: this never lowers a group.
 */
export function raiseOwnPriority(sandboxNice: number, serverAutogroupNice: number): CpuPriority {
  const autogroups = readOrNull(AUTOGROUP_SWITCH)?.trim() === '1';
  if (!autogroups) return { sandbox_nice: sandboxNice, autogroups, server_autogroup_nice: null };
  const current = ownAutogroupNice();
  if (serverAutogroupNice < 0 && current !== null && serverAutogroupNice < current) {
    try {
      writeFileSync(OWN_AUTOGROUP, String(serverAutogroupNice));
    } catch {
      // EPERM without CAP_SYS_NICE (EAGAIN for a root without CAP_SYS_ADMIN past the kernel's ten
      // writes a second): reported as is (server_autogroup_nice)
    }
  }
  return { sandbox_nice: sandboxNice, autogroups, server_autogroup_nice: ownAutogroupNice() };
}
