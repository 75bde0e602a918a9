// The bwrap fallback: the same policy as bubblewrap arguments, with the same seccomp program
// (from the addon, through --seccomp FD). What bwrap lacks itself (rlimits, wall-clock tree kill,
// exact rusage) comes from the shared launcher: rlimits are set before bwrap starts, and
// sandbox-init runs inside as the command's parent.
import type { Backend, ProcessLimitMechanism, RenderedSpawn } from '../backend.js';
import { envList, initOptions, initTail, rlimitsFor, userNamespaceLimitsFor } from '../backend.js';
import type { HostIdentity } from '../host-identity.js';
import type { FdKind } from '../native-addon.js';
import { DEV, type FsEntry, type Policy, type Command } from '../policy.js';

/** sandbox-init's user namespace limits under bwrap (native/init/user_namespace_limits.h). */
const USER_NAMESPACE_LIMITS_ENV = 'SANDBOX_USER_NAMESPACE_LIMITS';

/** Where sandbox-init is bound inside a bwrap sandbox (bwrap cannot execute by fd). */
export const BWRAP_INIT_PATH = '/.sandbox-init';

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

export function renderBwrapFilesystem(filesystem: FsEntry[]): string[] {
  const args: string[] = [];
  for (const entry of filesystem) {
    switch (entry.kind) {
      case 'bind':
        args.push(entry.writable ? '--bind' : '--ro-bind', entry.source, entry.target);
        break;
      case 'tmpfs':
        args.push('--perms', octal(entry.mode), '--size', String(entry.sizeBytes), '--tmpfs', entry.target);
        break;
      case 'proc':
        args.push('--proc', entry.target);
        break;
      case 'dev': {
        // DEV (policy.ts), built from bwrap's primitives as the native backend builds it: not bwrap's
        // --dev, which adds a devpts and ptmx, and whose tmpfs has no size.
        const dev = entry.target;
        args.push('--perms', octal(DEV.tmpfs.mode), '--size', String(DEV.tmpfs.sizeBytes), '--tmpfs', dev);
        for (const [name, source] of DEV.devices) args.push('--dev-bind', source, `${dev}/${name}`);
        for (const [name, link] of DEV.links) args.push('--symlink', link, `${dev}/${name}`);
        args.push('--dir', `${dev}/${DEV.shm.name}`, '--remount-ro', dev);
        args.push('--perms', octal(DEV.shm.mode), '--size', String(entry.shmBytes), '--tmpfs', `${dev}/${DEV.shm.name}`);
        break;
      }
      case 'symlink':
        args.push('--symlink', entry.linkText, entry.target);
        break;
    }
  }
  return args;
}

export class BwrapBackend implements Backend {
  readonly name = 'bwrap' as const;
  readonly processLimit: ProcessLimitMechanism = 'rlimit_nproc_per_uid';

  constructor(
    private readonly bwrapPath: string,
    private readonly initPath: string,
    private readonly identity: HostIdentity,
    private readonly seccompProgram: Buffer,
  ) {}

  render(policy: Policy, command: Command | null, fds: FdKind[]): RenderedSpawn {
    const seccompFd = fds.length;
    const reportFd = seccompFd + 1;
    const argv = [
      this.bwrapPath,
      '--unshare-all',
      ...(policy.network ? ['--share-net'] : []),
      '--die-with-parent',
      // sandbox-init is the pid namespace's pid 1, not a child of bwrap's own init there: the
      // kernel drops signals sent to pid 1 from inside its namespace that it has no handler for,
      // SIGSTOP and SIGKILL included, so the command can neither stop nor kill it (and there is no
      // bwrap process inside whose /proc/1 the command could open: sandbox-init is not dumpable)
      '--as-pid-1',
      '--new-session',
      // bwrap cannot set the sandbox's own user namespace limits itself: sandbox-init does, with
      // these two capabilities, and drops every capability before it runs anything
      // (native/init/user_namespace_limits.c)
      '--cap-drop',
      'ALL',
      '--cap-add',
      'CAP_SYS_RESOURCE',
      '--cap-add',
      'CAP_SETPCAP',
      '--setenv',
      USER_NAMESPACE_LIMITS_ENV,
      userNamespaceLimitsFor(policy.limits)
        .map(({ name, value }) => `${name}=${value}`)
        .join(' '),
      '--uid',
      String(policy.uid),
      '--gid',
      String(policy.gid),
      '--hostname',
      policy.hostname,
      ...renderBwrapFilesystem(policy.filesystem),
      '--ro-bind',
      this.initPath,
      BWRAP_INIT_PATH,
      '--remount-ro',
      '/',
      '--chdir',
      command?.cwd ?? '/',
      '--seccomp',
      String(seccompFd),
      '--',
      BWRAP_INIT_PATH,
      String(reportFd),
      String(reportFd + 1),
      ...initTail(command, initOptions(policy)),
    ];
    return {
      inputs: new Map([[seccompFd, this.seccompProgram]]),
      plan: {
        sandboxed: false,
        newNetwork: false,
        initPath: this.initPath,
        execPath: this.bwrapPath,
        argv,
        env: envList(command?.env ?? {}),
        cwd: '/',
        hostname: '',
        mounts: [],
        rlimits: rlimitsFor(policy.limits, this.processLimit),
        maxProcesses: 0,
        userNamespaceLimits: [],
        insideUid: policy.uid,
        insideGid: policy.gid,
        outsideUid: this.identity.uid,
        outsideGid: this.identity.gid,
        denySetgroups: true,
        // a root server runs bwrap as the unprivileged sandbox uid, so root is never mapped in
        runAsOutsideUser: this.identity.serverIsRoot,
        seccomp: false,
        withInit: true,
        fds: [...fds, 'pipe-in'],
      },
    };
  }
}
