// ISOLATION=none: no sandbox at all, for development on hosts without user namespaces. Only
// ever used when configured explicitly; every execution logs a warning. Sandbox paths in the
// command (/workspace, /tmp, the runtime files) are translated to the host paths bound there.
import path from 'node:path';
import type { Backend, ProcessLimitMechanism, RenderedSpawn } from '../backend.js';
import { envList, initTail, niceOption, rlimitsFor } from '../backend.js';
import type { FdKind } from '../native-addon.js';
import type { Policy, Command } from '../policy.js';

function hostPathOf(policy: Policy, value: string): string {
  let best: { target: string; source: string } | undefined;
  for (const entry of policy.filesystem) {
    if (entry.kind !== 'bind') continue;
    const inside = value === entry.target || value.startsWith(`${entry.target}/`);
    if (inside && (!best || entry.target.length > best.target.length)) best = entry;
  }
  return best ? path.join(best.source, value.slice(best.target.length)) : value;
}

export class NoneBackend implements Backend {
  readonly name = 'none' as const;
  readonly processLimit: ProcessLimitMechanism = 'none';

  constructor(private readonly initPath: string) {}

  /** Sandbox paths in a command, translated to the host paths bound there. */
  static translate(policy: Policy, command: Command): Command {
    const path = (value: string) => (value.startsWith('/') ? hostPathOf(policy, value) : value);
    return {
      argv: command.argv.map(path),
      env: Object.fromEntries(Object.entries(command.env).map(([k, v]) => [k, v.split(':').map(path).join(':')])),
      cwd: path(command.cwd),
      primed: command.primed,
    };
  }

  adapt(policy: Policy, command: Command): Command {
    return NoneBackend.translate(policy, command);
  }

  render(policy: Policy, command: Command | null, fds: FdKind[]): RenderedSpawn {
    const translated = command ? NoneBackend.translate(policy, command) : null;
    const reportFd = fds.length;
    return {
      inputs: new Map(),
      plan: {
        sandboxed: false,
        newNetwork: false,
        initPath: this.initPath,
        execPath: this.initPath,
        argv: ['sandbox-init', String(reportFd), String(reportFd + 1), ...initTail(translated, niceOption(policy))],
        env: envList(translated?.env ?? {}),
        cwd: translated?.cwd ?? '/',
        hostname: '',
        mounts: [],
        rlimits: rlimitsFor(policy.limits, this.processLimit).filter((l) => l.resource !== 'nproc'),
        maxProcesses: 0,
        userNamespaceLimits: [],
        insideUid: policy.uid,
        insideGid: policy.gid,
        outsideUid: 0,
        outsideGid: 0,
        denySetgroups: true,
        runAsOutsideUser: false,
        seccomp: false,
        withInit: true,
        fds,
      },
    };
  }
}
