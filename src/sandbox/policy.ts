// The one description of a sandbox. Both backends render exactly this: the native addon as mount
// steps and a spawn plan (backends/native.ts), bwrap as arguments (backends/bwrap.ts).
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';

export type FsEntry =
  | { kind: 'bind'; source: string; target: string; type: 'dir' | 'file'; writable: boolean }
  | { kind: 'tmpfs'; target: string; sizeBytes: number; mode: number }
  | { kind: 'proc'; target: string }
  /** the devices of DEV, read-only, and a private /dev/shm of shmBytes */
  | { kind: 'dev'; target: string; shmBytes: number }
  | { kind: 'symlink'; target: string; linkText: string };

/**
 * What a sandbox's /dev holds, the same for every backend: a small read-only tmpfs with these host
 * devices bound in (the device nodes themselves stay writable: /dev/null takes writes), these
 * links, and a writable tmpfs /dev/shm of the entry's shmBytes. Nothing else: no
 * devpts or ptmx (no pseudo-terminals, one kernel subsystem less to reach), and no tty but
 * /dev/tty, which the sandbox cannot open (it has no controlling terminal: ENXIO).
 * /dev/zero is the host's /dev/full: it reads as zeros, but cannot be mapped, where a shared
 * mapping of /dev/zero would be shared memory outside every tmpfs, which the watchdog could not
 * count (native/init/watchdog.c).
 */
export const DEV = {
  tmpfs: { mode: 0o755, sizeBytes: 64 * 1024 },
  devices: [
    ['null', '/dev/null'],
    ['zero', '/dev/full'],
    ['full', '/dev/full'],
    ['random', '/dev/random'],
    ['urandom', '/dev/urandom'],
    ['tty', '/dev/tty'],
  ],
  links: [
    ['fd', '/proc/self/fd'],
    ['stdin', '/proc/self/fd/0'],
    ['stdout', '/proc/self/fd/1'],
    ['stderr', '/proc/self/fd/2'],
  ],
  shm: { name: 'shm', mode: 0o1777 },
} as const;

export interface Limits {
  cpuSeconds: number;
  /** RLIMIT_DATA, not RLIMIT_AS: V8 reserves far more address space than it uses */
  memoryBytes: number;
  fileSizeBytes: number;
  openFiles: number;
  stackBytes: number;
  /** processes alive at once in one sandbox */
  maxProcesses: number;
  /**
   * The session's storage quota: every writable directory bound into the sandbox (/workspace,
   * /tmp) together, in allocated bytes and entries; 0: none. sandbox-init's watchdog enforces it
   * with the memory of the whole sandbox (memoryBytes), see native/init/watchdog.c.
   */
  storageMaxBytes: number;
  storageMaxFiles: number;
  /** per-user kernel counts, held by each sandbox on its own (see KernelCounts) */
  kernelCounts: KernelCounts;
  /**
   * The nice value of every process of the sandbox (RLIMIT_NICE 0: none can lower it): the server's
   * event loop is not starved by the code it runs (cpu-priority.ts says where nice falls short).
   */
  nice: number;
}

/**
 * What the kernel counts per user rather than per process, bounded for each sandbox. The rlimits
 * count per (user namespace, real uid): every sandbox has a user namespace of its own, so the
 * count is the sandbox's. The /proc/sys/user limits are those of the sandbox's user namespace.
 * Both are charged again, up the chain of user namespaces, to the sandbox's host uid (never root:
 * native/parent/namespace_owner.h), where the host's own per-user limits apply.
 */
export interface KernelCounts {
  /** RLIMIT_SIGPENDING: queued signals and POSIX timers */
  pendingSignals: number;
  /** RLIMIT_MSGQUEUE: bytes of POSIX message queues */
  messageQueueBytes: number;
  /** RLIMIT_MEMLOCK: mlock, SHM_LOCK, memfd_secret */
  lockedMemoryBytes: number;
  inotifyInstances: number;
  inotifyWatches: number;
  fanotifyGroups: number;
  fanotifyMarks: number;
  /** user namespaces it may make (and so namespaces of any kind; seccomp denies making them too) */
  userNamespaces: number;
}

export interface Policy {
  /** in order; the root itself is an empty read-only tmpfs */
  filesystem: FsEntry[];
  /** false: a new network namespace with only `lo` */
  network: boolean;
  hostname: string;
  uid: number;
  gid: number;
  limits: Limits;
}

export interface Command {
  /** argv[0] is an absolute path inside the sandbox */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** a warm sandbox's runtime: started at once, held until released (sandbox-init --prime) */
  primed?: boolean;
}

export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;

/**
 * A bind of a host path, typed by what the host has there now. The source is resolved through
 * symlinks here: the native backend mounts it from under /oldroot, where an absolute link
 * (/etc/localtime -> /usr/share/zoneinfo/...) would otherwise point into the staging root.
 * Returns undefined when an optional source is missing.
 */
export function bind(source: string, target: string, options: { writable?: boolean; optional?: boolean } = {}): FsEntry | undefined {
  let type: 'dir' | 'file';
  try {
    source = realpathSync(source);
    type = statSync(source).isDirectory() ? 'dir' : 'file';
  } catch (error) {
    if (options.optional) return undefined;
    throw new Error(`bind source ${source} is not usable: ${(error as Error).message}`);
  }
  return { kind: 'bind', source, target, type, writable: options.writable ?? false };
}

/**
 * The host's system directories, read-only. On merged-/usr hosts /bin, /sbin and /lib* are
 * symlinks into /usr: they become the same symlinks, not second binds.
 */
export function systemDirectories(): FsEntry[] {
  const entries: FsEntry[] = [];
  for (const dir of ['/usr', '/lib', '/lib64', '/lib32', '/bin', '/sbin']) {
    let isLink: boolean;
    try {
      isLink = lstatSync(dir).isSymbolicLink();
    } catch {
      continue; // the host lacks it
    }
    if (isLink) entries.push({ kind: 'symlink', target: dir, linkText: readlinkSync(dir) });
    else entries.push(bind(dir, dir)!);
  }
  return entries;
}

/**
 * A minimal /etc: passwd and group naming uid 1000 (generated, see system-files.ts), and the
 * host's name resolution, certificates, time zone and loader cache when it has them.
 */
export function etcEntries(generatedEtcDir: string): FsEntry[] {
  const generated = ['passwd', 'group', 'hosts', 'nsswitch.conf'].map((name) => bind(`${generatedEtcDir}/${name}`, `/etc/${name}`)!);
  const host = ['/etc/resolv.conf', '/etc/ssl', '/etc/ca-certificates', '/etc/localtime', '/etc/ld.so.cache', '/etc/alternatives', '/etc/mime.types']
    .map((p) => bind(p, p, { optional: true }))
    .filter((e): e is FsEntry => e !== undefined);
  return [...generated, ...host];
}
