// CPU time and memory of one process, read from /proc. utime+stime count the process's own threads
// only, never its reaped children: the sandboxes' CPU stays out of the server's figure.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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

/** User + system CPU milliseconds of the process (all its threads), excluding children. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the command name (field 2) may contain spaces and parentheses: count fields after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]); // field 14 overall
  const stime = Number(fields[12]); // field 15 overall
  return ((utime + stime) * 1000) / clockTicks();
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
