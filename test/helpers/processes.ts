// The host's view of processes, read from its /proc: how the tests prove that nothing a sandbox
// started is still alive, and which host uid a sandbox process really runs as.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

export interface HostProcess {
  pid: number;
  /** argv joined with spaces */
  cmdline: string;
}

/** A marker no other process on the machine carries in its argv. */
export function uniqueMarker(label: string): string {
  return `sbxtest-${label}-${randomUUID()}`;
}

/** Every live (non-zombie) process on the host whose argv contains marker. */
export function processesWithMarker(marker: string): HostProcess[] {
  const found: HostProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let cmdline: string;
    try {
      // a zombie's cmdline is empty: it has ended already, only its exit status is left
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1').replace(/\0/g, ' ').trim();
    } catch {
      continue; // it ended while we looked
    }
    if (cmdline.includes(marker)) found.push({ pid, cmdline });
  }
  return found;
}

/**
 * Host pids of primed runtimes (sandbox-init --prime starts them with --primed); with serverPid,
 * only those of sandboxes that server started (the runtime's parent is sandbox-init, its child).
 */
export function primedRuntimes(serverPid?: number): number[] {
  const parentOf = (pid: string) => Number(/^\S+ \(.*\) \S (\d+)/s.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1]);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!argv.includes('--primed') || !argv.some((a) => a.startsWith('/opt/sandbox-runtime/bootstrap'))) continue;
      if (serverPid === undefined || parentOf(String(parentOf(entry))) === serverPid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until check() returns a value that is not undefined; undefined after timeoutMs. */
export async function pollFor<T>(check: () => T | undefined, timeoutMs: number, intervalMs = 50): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

/** Waits until no process carries marker; returns the survivors still there after timeoutMs. */
export async function survivorsAfter(marker: string, timeoutMs: number): Promise<HostProcess[]> {
  const gone = await pollFor(() => (processesWithMarker(marker).length === 0 ? true : undefined), timeoutMs);
  return gone ? [] : processesWithMarker(marker);
}

/** Fields of /proc/PID/status, e.g. status(pid).Uid === '1000\t1000\t1000\t1000'; undefined when gone. */
export function procStatus(pid: number): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return fields;
}

/** The four ids (real, effective, saved, fs) of a status Uid:/Gid: line. */
export function ids(line: string | undefined): number[] {
  return (line ?? '').split(/\s+/).filter(Boolean).map(Number);
}

/** SIGKILLs whatever carries marker (cleanup after a failed assertion; never a broad pattern). */
export function killMarked(marker: string): void {
  for (const p of processesWithMarker(marker)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/**
 * A process tree built to outlive its sandbox: SIGTERM/SIGHUP/SIGINT ignored, a double fork into a
 * new session (an orphan no longer the command's child), argv[0]s carrying marker. 'stay': the
 * command itself becomes `MARKER-main sleep`; 'leave': the command exits 0 as soon as the orphan
 * runs (printing "orphan running"), leaving it behind.
 */
export function escapingTreeArgv(marker: string, mode: 'stay' | 'leave'): string[] {
  const script = `
import os, signal, sys, time
marker, mode = sys.argv[1], sys.argv[2]
for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(s, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv('/bin/sleep', [marker + '-orphan', '3600'])
    os._exit(0)
os.wait()
def orphan_running():
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            if open('/proc/%s/cmdline' % pid, 'rb').read().startswith((marker + '-orphan').encode()):
                return True
        except OSError:
            pass
    return False
while not orphan_running():
    time.sleep(0.01)
print('orphan running', flush=True)
if mode == 'stay':
    os.execv('/bin/sleep', [marker + '-main', '3600'])
`;
  return ['/usr/bin/python3', '-c', script, marker, mode];
}
