// The sandboxes of this host: probes each backend by really running a sandbox with the full
// policy, selects one (ISOLATION=auto|native|bwrap|none), and builds policies and runs on it.
// A backend that cannot enforce the whole policy is never used.
import { accessSync, chownSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SERVER_AUTOGROUP_NICE } from '../config.js';
import type { Backend, BackendName, ProcessLimitMechanism } from './backend.js';
import { attest, missingProtections, type Attestation } from './attestation.js';
import { BwrapBackend } from './backends/bwrap.js';
import { type CpuPriority, raiseOwnPriority } from './cpu-priority.js';
import { hostIdentity, type HostIdentity } from './host-identity.js';
import { loadNative, type InitReport, type NetworkHandle } from './native-addon.js';
import { NativeBackend } from './backends/native.js';
import { NoneBackend } from './backends/none.js';
import { bind, etcEntries, SANDBOX_GID, SANDBOX_UID, systemDirectories, type FsEntry, type Limits, type Policy, type Command } from './policy.js';
import { SandboxRun, SandboxSpawnError, spawnSandbox, type RunOptions } from './sandbox-run.js';
import { prepareStateDir, STATE_DIR_MODE, stageFile, writeSandboxEtc } from './system-files.js';
import { WarmSandbox } from './warm-sandbox.js';

/**
 * A network namespace (loopback only) a session's sandboxes share: opaque outside sandbox/, taken
 * from and given back to the host (SessionNetworks).
 */
export type SessionNetwork = NetworkHandle;

/** Where a session's shared network comes from and goes back to (the native backend only). */
export interface SessionNetworks {
  takeNetwork(): SessionNetwork | undefined;
  /** the network goes once the sandboxes that joined it have ended */
  releaseNetwork(network: SessionNetwork): void;
}

export type Isolation = 'auto' | BackendName;

export interface SandboxHostOptions {
  isolation: Isolation;
  disableBwrap: boolean;
  network: boolean;
  stateDir: string;
  rootServerUid: number;
  rootServerGid: number;
  /** the limits probes verify */
  limits: Limits;
  /** SERVER_AUTOGROUP_NICE (cpu-priority.ts); its default (config.ts) when absent */
  serverAutogroupNice?: number;
  /** probe every candidate even after one works (probe command, benchmarks); else stop at the first */
  probeAll?: boolean;
}

export interface BackendProbe {
  backend: BackendName;
  available: boolean;
  /** why not, and how to fix it */
  reason: string | null;
  protections: Attestation | null;
  spawn_ms: number | null;
  /**
   * native: whether its sandboxes join network namespaces made ahead (README, "Architecture"),
   * which takes setns; without it each makes its own (slower, as safe)
   */
  prepared_networks?: boolean;
}

export class NoUsableBackendError extends Error {
  constructor(
    readonly probes: BackendProbe[],
    why: string,
  ) {
    super(why);
    this.name = 'NoUsableBackendError';
  }
}

const PRIVATE_DIR_MODE = 0o700;

/** Turns a failed probe into advice for the operator. */
function hint(error: SandboxSpawnError | Error): string {
  if (!(error instanceof SandboxSpawnError)) return '';
  const { step, errno } = error;
  if (step === 'clone' || /uid_map|gid_map|setgroups/.test(step ?? '')) {
    return " — unprivileged user namespaces are not allowed here: enable them (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces>0; on Ubuntu 23.10+ kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for the executor); in a container, use deploy/seccomp/executor.json (Docker's default seccomp profile blocks unshare/clone)";
  }
  if (step?.startsWith('mount(proc)') && errno === 'EPERM') {
    return ' — the container runtime masks /proc, so a fresh procfs cannot be mounted: run with --security-opt systempaths=unconfined (Docker), --security-opt unmask=ALL (podman) or procMount: Unmasked (Kubernetes)';
  }
  if (/pivot_root/.test(step ?? '') && errno === 'EPERM') {
    return ' — a seccomp profile refuses pivot_root (Docker\'s default does, even with CAP_SYS_ADMIN): use deploy/seccomp/executor.json (--security-opt seccomp=FILE; where a control plane creates the container, the Docker daemon\'s default profile, "seccomp-profile" in daemon.json)';
  }
  if (step === 'write pid_max') return ' — this kernel has no per-namespace pid_max (Linux 6.14+)';
  return '';
}

export class SandboxHost {
  private constructor(
    readonly backend: Backend,
    /** every backend that passed its probe (benchmarks compare them) */
    readonly usable: Partial<Record<BackendName, Backend>>,
    readonly probes: BackendProbe[],
    readonly protections: Attestation | null,
    readonly identity: HostIdentity,
    private readonly baseFilesystem: FsEntry[],
    private readonly options: SandboxHostOptions,
    /** how the executor stays above its sandboxes on the CPU (cpu-priority.ts) */
    readonly cpuPriority: CpuPriority,
  ) {}

  static async start(options: SandboxHostOptions): Promise<SandboxHost> {
    const { addon, initPath } = loadNative();
    const identity = hostIdentity(options.rootServerUid, options.rootServerGid);
    const cpuPriority = raiseOwnPriority(options.limits.nice, options.serverAutogroupNice ?? DEFAULT_SERVER_AUTOGROUP_NICE);
    prepareStateDir(options.stateDir);
    const etcDir = writeSandboxEtc(options.stateDir);
    const baseFilesystem = [...systemDirectories(), ...etcEntries(etcDir)];
    const probeDir = path.join(options.stateDir, 'probe-workspace');
    mkdirSync(probeDir, { recursive: true });
    if (identity.serverIsRoot) chownSync(probeDir, identity.uid, identity.gid);

    const candidates: (() => Promise<{ probe: BackendProbe; backend?: Backend }>)[] = [];
    const tryBackend = async (backend: Backend) => {
      const policy = SandboxHost.policyOf(baseFilesystem, [bind(probeDir, '/workspace', { writable: true })!], options);
      return { probe: await probe(backend, policy), backend };
    };
    const probeNative = async () => {
      let found = await tryBackend(new NativeBackend(initPath, identity, 'pid_namespace_pid_max'));
      if (!found.probe.available && /pid_max/.test(found.probe.reason ?? '')) {
        // Older kernels: the per-uid process rlimit is the cap (shared by sandboxes of one uid).
        found = await tryBackend(new NativeBackend(initPath, identity, 'rlimit_nproc_per_uid'));
      }
      if (found.probe.available && found.backend instanceof NativeBackend) {
        const policy = SandboxHost.policyOf(baseFilesystem, [bind(probeDir, '/workspace', { writable: true })!], options);
        found.probe.prepared_networks = await probePreparedNetworks(found.backend, policy);
      }
      return found;
    };
    const bwrapPath = findExecutable('bwrap');
    const probeBwrap = async () => {
      if (!bwrapPath) {
        return { probe: unavailable('bwrap', 'bwrap is not installed (apt-get install bubblewrap, or run scripts/setup.sh)') };
      }
      // bwrap binds sandbox-init by path as the sandbox uid: the staged copy is reachable for it
      return tryBackend(new BwrapBackend(bwrapPath, stageFile(initPath, options.stateDir, 'sandbox-init', 0o755), identity, addon.seccompProgram()));
    };

    const wanted = options.isolation;
    if (wanted === 'bwrap' && options.disableBwrap) {
      throw new NoUsableBackendError([], 'ISOLATION=bwrap contradicts DISABLE_BWRAP=true: unset one of them');
    }
    if (wanted === 'none') {
      const backend = new NoneBackend(initPath);
      const probes = [unavailable('native', 'not probed: ISOLATION=none'), { backend: 'none' as const, available: true, reason: null, protections: null, spawn_ms: null }];
      return new SandboxHost(backend, { none: backend }, probes, null, identity, baseFilesystem, options, cpuPriority);
    }
    if (wanted === 'auto' || wanted === 'native') candidates.push(probeNative);
    if (wanted === 'bwrap' || (wanted === 'auto' && !options.disableBwrap)) candidates.push(probeBwrap);

    const probes: BackendProbe[] = [];
    const usable: Partial<Record<BackendName, Backend>> = {};
    let chosen: Backend | undefined;
    let chosenProtections: Attestation | null = null;
    for (const candidate of candidates) {
      if (chosen && !options.probeAll) break;
      const { probe: result, backend } = await candidate();
      probes.push(result);
      if (result.available && backend) usable[backend.name] = backend;
      if (result.available && !chosen && backend) {
        chosen = backend;
        chosenProtections = result.protections;
      }
    }
    if (wanted === 'auto' && options.disableBwrap) probes.push(unavailable('bwrap', 'disabled by DISABLE_BWRAP=true'));
    if (!chosen) {
      const reasons = probes.map((p) => `${p.backend}: ${p.reason}`).join('; ');
      throw new NoUsableBackendError(probes, `no sandbox backend can enforce the policy on this host (${reasons}). ISOLATION=none runs code unsandboxed and is for development only.`);
    }
    return new SandboxHost(chosen, usable, probes, chosenProtections, identity, baseFilesystem, options, cpuPriority);
  }

  private static policyOf(baseFilesystem: FsEntry[], extra: FsEntry[], options: Pick<SandboxHostOptions, 'network' | 'limits'>, limits?: Limits): Policy {
    return {
      filesystem: [...baseFilesystem, { kind: 'proc', target: '/proc' }, { kind: 'dev', target: '/dev', shmBytes: 64 * 1024 * 1024 }, ...extra],
      network: options.network,
      hostname: 'sandbox',
      uid: SANDBOX_UID,
      gid: SANDBOX_GID,
      limits: limits ?? options.limits,
    };
  }

  /** The standard policy plus this execution's binds (workspace, /tmp, runtime files, ...). */
  policy(extra: FsEntry[], limits?: Limits): Policy {
    return SandboxHost.policyOf(this.baseFilesystem, extra, this.options, limits);
  }

  run(policy: Policy, command: Command, options: RunOptions): SandboxRun {
    return new SandboxRun(this.backend, policy, command, options);
  }

  /**
   * A sandbox built now that waits for its command (see WarmSandbox), its runtime started when
   * `primed` is given, in the session's network when one is given.
   */
  warm(policy: Policy, primed: Command | null, network?: SessionNetwork): WarmSandbox {
    return WarmSandbox.create(this.backend, policy, primed, network);
  }

  /** Session networks when the backend has them to give (native), else undefined. */
  get sessionNetworks(): SessionNetworks | undefined {
    const { backend } = this;
    return backend.takeNetwork && backend.releaseNetwork ? (backend as SessionNetworks) : undefined;
  }

  /** The system calls the seccomp filter refuses (the probe command reports them). */
  seccompDeniedSyscalls(): string[] {
    return loadNative().addon.seccompDenied();
  }

  /** What this run enforced, from its own report; null when it ended without one. */
  attestation(run: { report: InitReport | null }, limits: Limits): Attestation | null {
    if (!run.report || this.backend.name === 'none') return null;
    return attest(this.backend.name, run.report, this.backend.processLimit, limits);
  }

  /** Makes a host directory the sandbox may write, owned by the uid sandboxes run as. */
  prepareWritableDir(dir: string, mode = PRIVATE_DIR_MODE): void {
    if (!existsSync(dir)) {
      // parents: traversable by the sandbox uid (which binds the dir as itself), not listable
      mkdirSync(path.dirname(dir), { recursive: true, mode: STATE_DIR_MODE });
      mkdirSync(dir, { mode });
    }
    // an existing dir too (the CLI's mkdtemp): a root-owned 0700 dir would fail the sandbox's chdir
    if (this.identity.serverIsRoot && statSync(dir).uid !== this.identity.uid) chownSync(dir, this.identity.uid, this.identity.gid);
  }
}

function unavailable(backend: BackendName, reason: string): BackendProbe {
  return { backend, available: false, reason, protections: null, spawn_ms: null };
}

const PROBE_COMMAND = { argv: ['/bin/sh', '-c', 'exit 0'], env: { PATH: '/usr/bin:/bin' }, cwd: '/workspace' };
const PROBE_RUN = { timeoutMs: 10_000, captureBytesPerStream: 4096, maxTotalOutputBytes: 1 << 20, resultChannel: false };

/** A probe sandbox in a network made ahead: true when it joined it (the addon keeps making them). */
async function probePreparedNetworks(backend: NativeBackend, policy: Policy): Promise<boolean> {
  const { addon } = loadNative();
  const network = backend.prepareNetworkNow();
  if (!network) return false;
  try {
    const spawned = spawnSandbox(backend, policy, PROBE_COMMAND, false, network);
    const result = await new SandboxRun(backend, policy, PROBE_COMMAND, PROBE_RUN, spawned).result;
    return result.exitCode === 0 && addon.preparingNetworks(); // a failed join made its own, and said so
  } catch {
    return false;
  } finally {
    backend.releaseNetwork(network);
  }
}

async function probe(backend: Backend, policy: Policy): Promise<BackendProbe> {
  try {
    const run = new SandboxRun(backend, policy, PROBE_COMMAND, PROBE_RUN);
    const result = await run.result;
    if (!result.report) return unavailable(backend.name, `the probe sandbox ended without a report (exit ${result.exitCode}, signal ${result.signal}): ${result.stderr.head.toString('utf8').trim()}`);
    if (result.exitCode !== 0) return unavailable(backend.name, `the probe command failed (exit ${result.exitCode}): ${result.stderr.head.toString('utf8').trim() || result.execError}`);
    const protections = attest(backend.name, result.report, backend.processLimit, policy.limits);
    const missing = missingProtections(protections, policy);
    if (missing.length > 0) return { ...unavailable(backend.name, `cannot enforce: ${missing.join(', ')}`), protections };
    return { backend: backend.name, available: true, reason: null, protections, spawn_ms: Math.round(result.spawnMs * 1000) / 1000 };
  } catch (error) {
    return unavailable(backend.name, `${(error as Error).message}${hint(error as Error)}`);
  }
}

function findExecutable(name: string): string | undefined {
  for (const dir of ['/usr/bin', '/bin', '/usr/local/bin', ...(process.env.PATH ?? '').split(':')]) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export type { ProcessLimitMechanism };
