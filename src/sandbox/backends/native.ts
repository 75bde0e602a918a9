// The native backend: the policy as literal mount steps plus a plan for the addon, which builds
// the sandbox itself with clone/mount/pivot_root/seccomp (native/child/recipe.cc).
import path from 'node:path';
import type { Backend, ProcessLimitMechanism, RenderedSpawn } from '../backend.js';
import { envList, initOptions, initTail, rlimitsFor, userNamespaceLimitsFor } from '../backend.js';
import type { HostIdentity } from '../host-identity.js';
import { loadNative, type FdKind, type MountStep, type NetworkHandle } from '../native-addon.js';
import { DEV, SANDBOX_GID, SANDBOX_UID, type Command, type FsEntry, type Policy } from '../policy.js';

/** Mount steps for the policy's filesystem, creating every mount point (and its parents) first. */
export function renderMountSteps(filesystem: FsEntry[]): MountStep[] {
  const steps: MountStep[] = [{ kind: 'tmpfs', target: '/', data: 'mode=0755,size=1m' }];
  const made = new Set<string>(['/']);
  const mkdirs = (dir: string) => {
    if (made.has(dir)) return;
    mkdirs(path.posix.dirname(dir));
    made.add(dir);
    steps.push({ kind: 'dir', target: dir });
  };
  const mountPoint = (target: string, type: 'dir' | 'file') => {
    mkdirs(path.posix.dirname(target));
    if (type === 'dir') mkdirs(target);
    else steps.push({ kind: 'file', target });
  };
  for (const entry of filesystem) {
    switch (entry.kind) {
      case 'bind':
        mountPoint(entry.target, entry.type);
        steps.push({ kind: 'bind', source: entry.source, target: entry.target, readOnly: !entry.writable, flags: ['nosuid', 'nodev'] });
        break;
      case 'tmpfs':
        mountPoint(entry.target, 'dir');
        steps.push({ kind: 'tmpfs', target: entry.target, data: `mode=${entry.mode.toString(8)},size=${entry.sizeBytes}` });
        break;
      case 'proc':
        mountPoint(entry.target, 'dir');
        steps.push({ kind: 'proc', target: entry.target });
        break;
      case 'dev': {
        // DEV (policy.ts): the same /dev as the bwrap backend's
        const dev = entry.target;
        mountPoint(dev, 'dir');
        steps.push({ kind: 'tmpfs', target: dev, data: `mode=${DEV.tmpfs.mode.toString(8)},size=${DEV.tmpfs.sizeBytes}` });
        for (const [name, source] of DEV.devices) {
          steps.push({ kind: 'file', target: `${dev}/${name}` });
          // device nodes keep their own mount's flags; binding them is how a user namespace gets them
          steps.push({ kind: 'bind', source, target: `${dev}/${name}`, readOnly: false });
        }
        for (const [name, link] of DEV.links) steps.push({ kind: 'symlink', source: link, target: `${dev}/${name}` });
        made.add(dev);
        mkdirs(`${dev}/${DEV.shm.name}`);
        steps.push({ kind: 'remount', target: dev });
        steps.push({ kind: 'tmpfs', target: `${dev}/${DEV.shm.name}`, data: `mode=${DEV.shm.mode.toString(8)},size=${entry.shmBytes}` });
        break;
      }
      case 'symlink':
        mkdirs(path.posix.dirname(entry.target));
        steps.push({ kind: 'symlink', source: entry.linkText, target: entry.target });
        break;
    }
  }
  steps.push({ kind: 'remount', target: '/' });
  return steps;
}

/**
 * The policy's steps, rendered once per filesystem list and frozen: the addon converts a frozen
 * list once and keeps the result on it (reused policies then cost nothing to render again).
 */
const renderedMounts = new WeakMap<FsEntry[], readonly MountStep[]>();

function mountStepsOf(filesystem: FsEntry[]): MountStep[] {
  let steps = renderedMounts.get(filesystem);
  if (!steps) {
    steps = Object.freeze(renderMountSteps(filesystem).map((step) => Object.freeze(step)));
    renderedMounts.set(filesystem, steps);
  }
  return steps as MountStep[];
}

export class NativeBackend implements Backend {
  readonly name = 'native' as const;

  constructor(
    private readonly initPath: string,
    private readonly identity: HostIdentity,
    readonly processLimit: ProcessLimitMechanism,
    /** join network namespaces the addon makes ahead (off: each sandbox creates its own) */
    private readonly preparedNetworks = true,
  ) {}

  /** The same backend, each sandbox creating its network namespace as it starts (for comparison). */
  withoutPreparedNetworks(): NativeBackend {
    return new NativeBackend(this.initPath, this.identity, this.processLimit, false);
  }

  takeNetwork(): NetworkHandle | undefined {
    const { addon } = loadNative();
    if (!this.preparedNetworks || !addon.preparingNetworks()) return undefined;
    return addon.takeNetwork(this.networkIdentity()) ?? undefined;
  }

  releaseNetwork(network: NetworkHandle): void {
    loadNative().addon.releaseNetwork(network);
  }

  /** At start-up: a network made now, for the probe sandbox to join (null when the host refuses). */
  prepareNetworkNow(): NetworkHandle | null {
    return loadNative().addon.prepareNetworkNow(this.networkIdentity());
  }

  /** The ids prepared networks map: the sandboxes' own (see render), or the addon ignores them. */
  private networkIdentity() {
    return { insideUid: SANDBOX_UID, insideGid: SANDBOX_GID, ...this.outsideIds() };
  }

  /** Whom the sandbox's ids map to outside (a root server never maps them to root). */
  private outsideIds() {
    return { outsideUid: this.identity.uid, outsideGid: this.identity.gid, denySetgroups: !this.identity.serverIsRoot };
  }

  render(policy: Policy, command: Command | null, fds: FdKind[], network?: NetworkHandle | null): RenderedSpawn {
    const reportFd = fds.length;
    return {
      inputs: new Map(),
      plan: {
        sandboxed: true,
        newNetwork: !policy.network,
        preparedNetwork: this.preparedNetworks,
        network: network ?? null,
        initPath: this.initPath,
        execPath: '',
        argv: ['sandbox-init', String(reportFd), String(reportFd + 1), ...initTail(command, initOptions(policy))],
        env: envList(command?.env ?? {}),
        cwd: command?.cwd ?? '/',
        hostname: policy.hostname,
        mounts: mountStepsOf(policy.filesystem),
        rlimits: rlimitsFor(policy.limits, this.processLimit),
        maxProcesses: this.processLimit === 'pid_namespace_pid_max' ? policy.limits.maxProcesses : 0,
        userNamespaceLimits: userNamespaceLimitsFor(policy.limits),
        insideUid: policy.uid,
        insideGid: policy.gid,
        ...this.outsideIds(),
        runAsOutsideUser: false,
        seccomp: true,
        withInit: true,
        fds,
      },
    };
  }
}
