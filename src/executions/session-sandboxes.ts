// Where a session's executions run: its host directories (workspace, /tmp, computed once per
// execution), the input directory each sandbox gets, the policy every sandbox of the session
// shares, and its warm sandboxes and network (WarmPool). The execute pipeline acquires one
// SessionSandbox per execution and releases it after the result has gone out.
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { DEPENDENCY_DIR, INPUT_DIR, type Language, type Runtime, type RuntimeCommand } from '../runtimes/runtime.js';
import { bind, limitsFromConfig, type Limits, type Policy, type SandboxHost, type SessionNetwork } from '../sandbox/index.js';
import { InputDirectories } from './input-directories.js';
import { sessionPaths, type SessionPaths } from './session-paths.js';
import { WarmPool, type WarmEntry } from './warm-pool.js';

/** The longest timeout a request may ask for: a warm sandbox's limits, each command lowers them. */
export const MAX_TIMEOUT_SECONDS = 3600;
/** Warm sandbox policies kept for reuse (sessions x input directories). */
const MAX_WARM_POLICIES = 512;

/** One execution's place in its session: a warm sandbox waiting for it, or what a cold one needs. */
export interface SessionSandbox {
  readonly paths: SessionPaths;
  /** a warm sandbox of the session that was ready, if any */
  readonly warm: WarmEntry | undefined;
  /** host directory bound at /run/execution: the execution's code and event go here */
  readonly inputDir: string;
  /** writes the execution's input files (code, event, context) */
  writeInputs(files: Record<string, string>): void;
  /** the policy of the sandbox to use: the warm one's, else one for a sandbox created now */
  policy(limits: Limits): Policy;
  /** after the result has gone out: the input directory is emptied, off the request path */
  release(): void;
}

export interface SessionSandboxesDeps {
  config: Config;
  host: SandboxHost;
  runtimes: Record<Language, Runtime>;
  logger: Logger;
}

export class SessionSandboxes {
  private readonly pool: WarmPool;
  private readonly inputs: InputDirectories;
  private readonly warmPolicies = new Map<string, Policy>();

  constructor(private readonly deps: SessionSandboxesDeps) {
    const inputRoot = path.join(deps.config.stateDir, 'executions');
    mkdirSync(inputRoot, { recursive: true, mode: 0o755 });
    this.inputs = new InputDirectories(realpathSync.native(inputRoot));
    this.pool = new WarmPool(
      deps.config.warmSandboxesPerSession,
      deps.config.warmSessions,
      deps.config.warmIdleSeconds * 1000,
      (sessionId, language, network) => this.createWarm(sessionId, language, network),
      deps.logger,
      deps.host.sessionNetworks,
    );
  }

  /** The session's sandbox for one execution: a warm one primed for `language` first. */
  acquire(sessionId: string, language: Language): SessionSandbox {
    const paths = this.pathsOf(sessionId);
    const warm = this.pool.take(sessionId, language);
    const inputDir = warm?.inputDir ?? this.prepare(sessionId, paths);
    return {
      paths,
      warm,
      inputDir,
      writeInputs: (files) => this.inputs.write(inputDir, files),
      policy: (limits) => warm?.warm.policy ?? this.policyFor(paths, inputDir, limits),
      release: () => {
        // after the result has gone out: emptying the input directory is not on the request's path
        setImmediate(() => {
          warm?.warm.discard(); // when it could not take the command after all
          if (warm) warm.release();
          else this.inputs.giveBack(inputDir);
        });
        this.pool.refill(sessionId, language);
      },
    };
  }

  /**
   * While a command runs: tops the session's warm sandboxes up only when none for `language` is
   * left, so that its next execution does not start cold (or warm). With one still waiting, the
   * top-up waits for release(): a runtime starting beside the command takes CPU from it (a primed
   * python `return 1` ran 10.7 ms beside one, 7.2 ms alone; docs/benchmarks.md, "Refills wait for
   * the execution").
   */
  refillIfNoneWaiting(sessionId: string, language: Language): void {
    if (this.pool.waiting(sessionId, language) === 0) this.pool.refill(sessionId, language);
  }

  /** Drops what the session holds here: its warm sandboxes, their policies, its network. */
  releaseSession(sessionId: string): void {
    this.pool.releaseSession(sessionId);
    this.inputs.forget(sessionId);
    const prefix = `${sessionId}\n`;
    for (const key of [...this.warmPolicies.keys()]) if (key.startsWith(prefix)) this.warmPolicies.delete(key);
  }

  /** Warm sandboxes waiting for their sessions' next executions. */
  warmCount(): number {
    return this.pool.size;
  }

  /** Warm sandboxes hold the dependency set they were built with: drop them when it changes. */
  invalidateWarm(): void {
    this.pool.clear();
  }

  /** No more warm sandboxes (shutdown). */
  close(): void {
    this.pool.close();
  }

  private pathsOf(sessionId: string): SessionPaths {
    const { config } = this.deps;
    return sessionPaths(config.workspaceRoot, config.stateDir, sessionId, config.workspaceLayout);
  }

  /** The session's workspace and /tmp exist, and a fresh input directory; returns the latter. */
  private prepare(sessionId: string, paths: SessionPaths): string {
    this.deps.host.prepareWritableDir(paths.workspace);
    this.deps.host.prepareWritableDir(paths.tmp);
    return this.inputs.take(sessionId);
  }

  /** One view for every execution of a session, cold or warm: every runtime's files are bound. */
  private policyFor(paths: SessionPaths, inputDir: string, limits: Limits, dependencies = resolvedDependencyDir(this.deps.config.dependencyDir)): Policy {
    const { host, runtimes } = this.deps;
    return host.policy(
      [
        bind(paths.workspace, '/workspace', { writable: true })!,
        bind(paths.tmp, '/tmp', { writable: true })!,
        bind(inputDir, INPUT_DIR)!,
        ...Object.values(runtimes).flatMap((r) => r.binds),
        // resolved once per sandbox: a sync swapping the set (a symlink rename) never shows half of it
        ...(dependencies ? [bind(dependencies, DEPENDENCY_DIR)!] : []),
      ],
      limits,
    );
  }

  /**
   * A warm sandbox's policy: the same object for the same session, input directory (they are
   * reused) and dependency set, so that its mount plan is rendered and converted once.
   */
  private warmPolicyFor(sessionId: string, paths: SessionPaths, inputDir: string): Policy {
    const { config } = this.deps;
    const dependencies = resolvedDependencyDir(config.dependencyDir);
    const key = `${sessionId}\n${inputDir}\n${dependencies ?? ''}`;
    let policy = this.warmPolicies.get(key);
    if (!policy) {
      // the longest a request may ask for: each command lowers it to its own timeout
      policy = this.policyFor(paths, inputDir, limitsFromConfig(config, MAX_TIMEOUT_SECONDS), dependencies);
      if (this.warmPolicies.size >= MAX_WARM_POLICIES) this.warmPolicies.delete(this.warmPolicies.keys().next().value!);
      this.warmPolicies.set(key, policy);
    }
    return policy;
  }

  private createWarm(sessionId: string, language: Language, network: SessionNetwork | undefined): WarmEntry {
    const { config, host, runtimes } = this.deps;
    const paths = this.pathsOf(sessionId);
    const inputDir = this.prepare(sessionId, paths);
    const release = () => this.inputs.giveBack(inputDir);
    try {
      const policy = this.warmPolicyFor(sessionId, paths, inputDir);
      const command = runtimes[language].command(config.limits.memoryMb, true);
      const primed = { argv: command.argv, env: runtimeEnvironment(command), cwd: '/workspace' };
      return { warm: host.warm(policy, primed, network), language, inputDir, release };
    } catch (error) {
      release();
      throw error;
    }
  }
}

/** What every execution's environment starts from; the request's env_vars go on top. */
export function runtimeEnvironment(command: RuntimeCommand): Record<string, string> {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/workspace', TMPDIR: '/tmp', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', ...command.env };
}

/** The dependency set's directory as it is now (the configured path is a symlink), if there is one. */
function resolvedDependencyDir(dependencyDir: string): string | undefined {
  return existsSync(dependencyDir) ? realpathSync.native(dependencyDir) : undefined;
}
