// CPU time and memory of one process, read from /proc. utime+stime count the process's own threads
// only, never its reaped children: the sandboxes' CPU stays out of the server's figure.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime (fields 14, 15) of statFields: the process's own threads. */
const ownTicks = (fields: string[]) => Number(fields[11]) + Number(fields[12]);
/** cutime + cstime (fields 16, 17): the reaped children's. */
const reapedTicks = (fields: string[]) => Number(fields[13]) + Number(fields[14]);
const ticksToMs = (ticks: number) => (ticks * 1000) / clockTicks();

/** User + system CPU milliseconds of the process (all its threads), excluding children. */
export function cpuMs(pid: number): number {
  return ticksToMs(ownTicks(statFields(pid)));
}

/** CPU milliseconds of the process and of the children it has reaped (one read: no walk of /proc). */
export function cpuWithReapedMs(pid: number): number {
  const fields = statFields(pid);
  return ticksToMs(ownTicks(fields) + reapedTicks(fields));
}

export interface CpuTotals {
  /** the process itself: utime + stime (cpuMs) */
  self_ms: number;
  /** the process and all its descendants, alive or already reaped */
  tree_ms: number;
}

/**
 * CPU of a process, and of it with all its descendants, from one pass over /proc (both from the
 * same reading of the process, so that the tree never shows less than the process). For each
 * process of the tree: utime + stime + cutime + cstime (fields 14-17; what a process reaped moves
 * into its parent's cutime, so nothing counts twice). Sandboxes still alive (warm and primed ones
 * made for later executions) are counted too, with their interpreters' start-up.
 */
export function cpuTotals(pid: number): CpuTotals {
  let selfTicks = 0;
  let treeTicks = 0;
  // the stat each process had when the tree was read (one that ended since is counted as it was)
  for (const { pid: current, stat } of processTree(pid)) {
    if (current === pid) selfTicks = ownTicks(stat);
    treeTicks += ownTicks(stat) + reapedTicks(stat);
  }
  return { self_ms: ticksToMs(selfTicks), tree_ms: ticksToMs(treeTicks) };
}

/** /proc/PID/stat from field 3 on: the command name (field 2) may hold spaces and parentheses. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

export interface Memory {
  /** resident set size now */
  rss_mb: number;
  /** the peak resident set size since the process started */
  hwm_mb: number;
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss_mb: round(kb('VmRSS') / 1024), hwm_mb: round(kb('VmHWM') / 1024) };
}

/** Samples RSS every intervalMs until stopped: peak and mean over a load. */
export function sampleRss(pid: number, intervalMs = 50): { stop(): { peak_mb: number; mean_mb: number; samples: number } } {
  const samples: number[] = [];
  const take = () => {
    try {
      samples.push(memory(pid).rss_mb);
    } catch {
      // the process is gone: the samples so far stand
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      const peak = Math.max(...samples);
      const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length);
      return { peak_mb: round(peak), mean_mb: round(mean), samples: samples.length };
    },
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

export interface TreeMemory {
  /** the process and every descendant (sandboxes, their runtimes) */
  processes: number;
  /** proportional set size summed: shared pages counted once overall */
  pss_mb: number;
}

/** Memory of a process and all its descendants, from /proc/<pid>/smaps_rollup (VmRSS where unreadable). */
export function treeMemory(pid: number): TreeMemory {
  let processes = 0;
  let kb = 0;
  for (const { pid: current } of processTree(pid)) {
    try {
      kb += pssKb(current);
      processes++;
    } catch {
      // gone meanwhile
    }
  }
  return { processes, pss_mb: round(kb / 1024) };
}

interface ProcessStat {
  pid: number;
  /** statFields as read while finding the tree */
  stat: string[];
}

/** The process and every descendant alive now (sandboxes run in pid namespaces but are in /proc). */
function processTree(pid: number): ProcessStat[] {
  const stats = new Map<number, string[]>();
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = statFields(Number(entry));
      stats.set(Number(entry), stat);
      const parent = Number(stat[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree: ProcessStat[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop()!;
    const stat = stats.get(current);
    if (stat) tree.push({ pid: current, stat });
    pending.push(...(children.get(current) ?? []));
  }
  return tree;
}

function pssKb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return memory(pid).rss_mb * 1024; // not ours to read (an unprivileged bench, a non-dumpable sandbox)
  }
}
