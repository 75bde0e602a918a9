// The native addon's whole surface, typed in one place (native/binding/addon.cc implements it).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type MountKind = 'dir' | 'file' | 'bind' | 'tmpfs' | 'proc' | 'symlink' | 'remount';
export type MountFlag = 'nosuid' | 'nodev' | 'noexec';
export type RlimitResource = 'cpu' | 'data' | 'fsize' | 'nofile' | 'core' | 'stack' | 'nproc' | 'as' | 'sigpending' | 'msgqueue' | 'memlock' | 'nice' | 'rtprio';
export type FdKind = 'null' | 'pipe-out' | 'pipe-in';

/** One step of the fresh root, executed literally and in order by the child. */
export interface MountStep {
  kind: MountKind;
  target: string;
  source?: string;
  data?: string;
  readOnly?: boolean;
  flags?: MountFlag[];
}

export interface NativeSpawnPlan {
  /** namespaces + fresh root + sandbox-init, or a plain process (bwrap launcher, `none`) */
  sandboxed: boolean;
  newNetwork: boolean;
  /** with newNetwork: join a network namespace the addon made ahead, when one is ready (default true) */
  preparedNetwork?: boolean;
  /** with newNetwork: join this one (a session's, shared by its sandboxes) */
  network?: NetworkHandle | null;
  initPath: string;
  execPath: string;
  argv: string[];
  env: string[];
  cwd: string;
  hostname: string;
  mounts: MountStep[];
  rlimits: { resource: RlimitResource; soft: number; hard: number }[];
  maxProcesses: number;
  /** files of /proc/sys/user the sandbox sets in its own user namespace (sandboxed plans only) */
  userNamespaceLimits: { name: string; value: number }[];
  insideUid: number;
  insideGid: number;
  outsideUid: number;
  outsideGid: number;
  denySetgroups: boolean;
  runAsOutsideUser: boolean;
  seccomp: boolean;
  withInit: boolean;
  fds: FdKind[];
}

export interface InitReport {
  end: 'exited' | 'signaled' | 'exec_failed' | 'killed' | 'unknown';
  exitCode: number;
  termSignal: number;
  execErrno: number;
  execError: string;
  processesReaped: number;
  userCpuUs: number;
  systemCpuUs: number;
  peakRssKb: number;
  ioReadBytes: number;
  ioWriteBytes: number;
  /** the watchdog's limit that made sandbox-init kill the tree (native/init/watchdog.h) */
  limitExceeded: 'memory' | 'disk' | 'files' | null;
  /** the watchdog: how often it measured the whole sandbox's memory (0: not watched), the largest measure */
  memorySamples: number;
  /** the memory watchdog was armed as the command started: it samples from then on */
  memoryWatched: boolean;
  sandboxPeakKb: number;
  /** the session's storage at the watchdog's last walk */
  storageKb: number;
  storageFiles: number;
  attested: {
    uid: number;
    gid: number;
    capEffective: bigint;
    capBounding: bigint;
    noNewPrivs: number;
    seccompMode: number;
    /** user mnt pid net ipc uts cgroup */
    namespaceInodes: number[];
    /** cpu data fsize nofile core stack nproc sigpending msgqueue memlock; -1 = unlimited */
    rlimits: number[];
    /** /proc/sys/user: inotify instances, watches, fanotify groups, marks, user namespaces; -1 = absent */
    userNamespaceLimits: number[];
  };
}

export interface NativeExit {
  exitCode: number | null;
  signal: string | null;
  /** what wait4 saw for the first process (includes the spawning mm's peak: prefer the report) */
  wait4: { userCpuUs: number; systemCpuUs: number; maxRssKb: number };
  report: InitReport | null;
  /** the child failed before execve (spawn does not wait for it: the failure comes with the exit) */
  setupError: { step: string; errno: string; message: string } | null;
}

export interface NativeChild {
  id: number;
  /** parent's end per planned child fd; -1 for 'null' */
  fds: number[];
}

/** Thrown by spawn() for failures in the parent (clone, uid maps); the child's own arrive as setupError. */
export interface NativeSpawnError extends Error {
  code: 'ESANDBOXSPAWN';
  step: string;
  errno: string;
}

/** A network namespace made ahead by the addon (loopback only), held until released. */
export type NetworkHandle = { readonly __networkHandle: unique symbol };

export interface NativeAddon {
  /**
   * background: clone on the addon's spawner thread instead of this one (0.6 ms off the event
   * loop); a failure to launch then arrives as the exit's setupError instead of being thrown.
   */
  spawn(plan: NativeSpawnPlan, onExit: (exit: NativeExit) => void, background?: boolean): NativeChild;
  signal(id: number, signal: number): boolean;
  killTree(id: number): boolean;
  /** a warm sandbox's command (see warm-sandbox.ts for the framing); false if not all written */
  sendCommand(id: number, command: Buffer): boolean;
  /** reads the pipes on the event loop: chunks, then null at each one's end (its fd is then closed); an id for stopOutputs */
  readOutputs(fds: number[], onChunk: (index: number, chunk: Buffer | null) => void): number;
  /** reads what the pipes hold now, then ends and closes each (the sandbox has exited) */
  stopOutputs(id: number): void;
  seccompProgram(): Buffer;
  seccompDenied(): string[];
  /** one of the addon's prepared networks for these ids, or null when none is ready */
  takeNetwork(identity: { insideUid: number; insideGid: number; outsideUid: number; outsideGid: number; denySetgroups: boolean }): NetworkHandle | null;
  /** the handle's network goes once the sandboxes that joined it have ended */
  releaseNetwork(handle: NetworkHandle): void;
  /** one made now on this thread (the start-up probe), or null when the host refuses */
  prepareNetworkNow(identity: { insideUid: number; insideGid: number; outsideUid: number; outsideGid: number; denySetgroups: boolean }): NetworkHandle | null;
  /** false once making or joining one failed: sandboxes then make their own network namespace */
  preparingNetworks(): boolean;
  /**
   * A snapshot of the regular files under a session workspace, walked by fd (never following a
   * symlink) with its budgets enforced inside the walk: on this thread up to synchronousEntries,
   * else on a pool thread. With `since`, also the paths new or changed since that snapshot.
   */
  scanWorkspace(root: string, limits: { maxEntries: number; maxMillis: number; synchronousEntries: number }, since?: { snapshot: WorkspaceSnapshot; maxChanged: number }): Promise<NativeWorkspaceScan>;
  /** root/relativePath opened by fd from root, if a regular file (never blocks); the caller closes fd */
  openArtifact(root: string, relativePath: string): { fd: number; size: number } | null;
  /** an exclusive flock on the directory, held by an fd of its own (see directory-lock.ts); null when held elsewhere */
  lockDirectory(path: string): number | null;
  unlockDirectory(fd: number): void;
}

/** A workspace's files with their identities (inode, size, mtime, ctime), held by the addon. */
export type WorkspaceSnapshot = { readonly __workspaceSnapshot: unique symbol };

export interface NativeWorkspaceScan {
  snapshot: WorkspaceSnapshot;
  /** which budget cut the walk short, null when it saw everything */
  incomplete: 'entry_budget' | 'time_budget' | 'depth_limit' | null;
  /** with `since`: new or changed paths, sorted by code point, at most maxChanged */
  changed: string[];
  changedTruncated: boolean;
  /** changed paths left out of `changed`: not UTF-8 (no JS string names them faithfully) */
  changedNotUtf8: number;
}

export function isNativeSpawnError(error: unknown): error is NativeSpawnError {
  return error instanceof Error && (error as { code?: unknown }).code === 'ESANDBOXSPAWN';
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// cmake-js builds into build-cmake/, node-gyp into build/: whichever exists (cmake-js first).
const buildDirs = [process.env.SANDBOX_NATIVE_BUILD_DIR, path.join(projectRoot, 'build-cmake/Release'), path.join(projectRoot, 'build/Release')].filter(
  (dir): dir is string => typeof dir === 'string' && dir.length > 0,
);

export interface NativeBuild {
  addon: NativeAddon;
  initPath: string;
  buildDir: string;
}

let loaded: NativeBuild | undefined;

export function loadNative(): NativeBuild {
  if (loaded) return loaded;
  const buildDir = buildDirs.find((dir) => existsSync(path.join(dir, 'sandbox_native.node')));
  if (!buildDir) {
    throw new Error(`native addon not built (looked in ${buildDirs.join(', ')}): run scripts/setup.sh or npm run build`);
  }
  const initPath = path.join(buildDir, 'sandbox-init');
  if (!existsSync(initPath)) throw new Error(`${initPath} is missing: rebuild the addon (npm run build:native)`);
  const addon = createRequire(import.meta.url)(path.join(buildDir, 'sandbox_native.node')) as NativeAddon;
  loaded = { addon, initPath, buildDir };
  return loaded;
}
