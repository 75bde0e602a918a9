// A warm sandbox: fully built (namespaces, root, limits, seccomp) with sandbox-init waiting on its
// control pipe. Handing it a command costs one pipe write instead of a sandbox creation, which
// takes the spawn off the request's critical path. Single use: one command, then it is gone.
//
// A primed one also has its language runtime started (interpreter loaded, bootstrap waiting on
// its release pipe): releasing it with the execution's environment takes the interpreter's
// start-up off the critical path too. It can still run any other command instead (sandbox-init
// kills the primed runtime first).
import { closeSync } from 'node:fs';
import type { Backend } from './backend.js';
import { loadNative, type NetworkHandle } from './native-addon.js';
import type { Command, Policy } from './policy.js';
import { killSandbox, SandboxRun, spawnSandbox, type RunOptions, type SpawnedSandbox } from './sandbox-run.js';

/** Commands travel through the pipe buffer in one write; larger ones run cold instead. */
const MAX_COMMAND_BYTES = 60 * 1024;

/** sandbox-init's framing: u32 LE length, then NUL-terminated cpu_soft cpu_hard cwd argc argv.. envc env.. */
export function encodeCommand(command: Command, cpuSeconds: number): Buffer {
  const env = Object.entries(command.env).map(([k, v]) => `${k}=${v}`);
  const fields = [String(cpuSeconds), String(cpuSeconds + 1), command.cwd, String(command.argv.length), ...command.argv, String(env.length), ...env];
  const payload = Buffer.from(fields.map((f) => `${f}\0`).join(''), 'utf8');
  const header = Buffer.alloc(4);
  header.writeUInt32LE(payload.length);
  return Buffer.concat([header, payload]);
}

export class WarmSandbox {
  private used = false;

  private constructor(
    readonly backend: Backend,
    readonly policy: Policy,
    private readonly sandbox: SpawnedSandbox,
    /** the runtime started in it, held until released */
    readonly primed: Command | null,
  ) {}

  /**
   * Throws SandboxSpawnError when its pipes cannot even be made; a failure to build it comes with
   * its exit, after which it is no longer usable (and a command already handed to it fails with
   * that SandboxSpawnError).
   */
  static create(backend: Backend, policy: Policy, primed: Command | null = null, network?: NetworkHandle): WarmSandbox {
    const held = primed ? { ...primed, primed: true } : null;
    // cloned on the addon's spawner thread: warm sandboxes are made while other sandboxes run
    return new WarmSandbox(backend, policy, spawnSandbox(backend, policy, held, true, network), held);
  }

  get usable(): boolean {
    return !this.used && !this.sandbox.exited();
  }

  /** Starts the command here, or returns undefined when this sandbox cannot take it. */
  run(command: Command, options: RunOptions, cpuSeconds: number): SandboxRun | undefined {
    if (!this.usable) return undefined;
    return this.send(encodeCommand(this.backend.adapt?.(this.policy, command) ?? command, cpuSeconds), command, options);
  }

  /**
   * Lets the primed runtime go on with `extraEnv` added to the environment it started with;
   * undefined when there is no primed runtime to release.
   */
  release(extraEnv: Record<string, string>, options: RunOptions, cpuSeconds: number): SandboxRun | undefined {
    if (!this.usable || !this.primed) return undefined;
    const releasing: Command = { argv: [], env: extraEnv, cwd: this.primed.cwd };
    const frame = encodeCommand(this.backend.adapt?.(this.policy, releasing) ?? releasing, cpuSeconds);
    return this.send(frame, { ...this.primed, env: { ...this.primed.env, ...extraEnv } }, options);
  }

  private send(frame: Buffer, command: Command, options: RunOptions): SandboxRun | undefined {
    if (frame.length > MAX_COMMAND_BYTES || !loadNative().addon.sendCommand(this.sandbox.childId, frame)) return undefined;
    this.used = true;
    return new SandboxRun(this.backend, this.policy, command, options, { ...this.sandbox, spawnMs: 0 });
  }

  /** Ends an unused warm sandbox and releases its pipes. */
  discard(): void {
    if (this.used) return;
    this.used = true;
    for (const fd of this.sandbox.fds) if (fd >= 0) closeSync(fd);
    if (!this.sandbox.exited()) killSandbox(this.sandbox);
  }
}
