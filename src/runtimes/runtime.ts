// A language runtime: how the code and event reach a real bootstrap file inside the sandbox, and
// whether a return value comes back on the result channel (fd 3).
import { existsSync } from 'node:fs';
import { stageFile, type FsEntry } from '../sandbox/index.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type Language = 'python' | 'javascript' | 'shell';
export const LANGUAGES: readonly Language[] = ['python', 'javascript', 'shell'];

/** Sandbox paths every runtime uses. */
export const RUNTIME_DIR = '/opt/sandbox-runtime';
export const INPUT_DIR = '/run/execution';
export const DEPENDENCY_DIR = '/opt/sandbox-venv';
/** The python the sandboxes run, and the one pip installs their dependencies for (the wheels must match it). */
export const SANDBOX_PYTHON = '/usr/bin/python3';
/** The bash the shell runtime runs. */
export const SANDBOX_BASH = '/bin/bash';

export interface RuntimeCommand {
  argv: string[];
  env: Record<string, string>;
}

export interface Runtime {
  language: Language;
  /** file name of the code inside INPUT_DIR (also what tracebacks show) */
  codeFileName: string;
  resultChannel: boolean;
  /** the bootstrap reads context.json (the handler's context argument) */
  readsContext: boolean;
  /** read-only binds this runtime needs besides the standard ones (its bootstrap, its interpreter) */
  binds: FsEntry[];
  /**
   * primed: the bootstrap waits on fd 4 (sandbox-init's PRIMED_GO_FD) for the execution's
   * environment before it reads the input (a runtime started in a warm sandbox before its
   * execution was known).
   */
  command(memoryMb: number, primed?: boolean): RuntimeCommand;
}

/**
 * Environment variables an interpreter reads while it starts (module paths, hash seeds, locale,
 * the loader, options): a primed runtime has started without them, so an execution that sets one
 * of them gets a runtime started for it. Any other variable is applied when the runtime is released.
 */
const READ_AT_START_UP = /^(PYTHON|NODE_|UV_|LD_|LC_|MALLOC_|GLIBC_|BASH|LANG$|LANGUAGE$|TZ$|ENV$|SHELLOPTS$|POSIXLY_CORRECT$)/;
/** what bash can export (an execve environment may carry any other name, a shell variable not) */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function primedRuntimeCanTake(envVars: Record<string, string>): boolean {
  return Object.keys(envVars).every((name) => SHELL_NAME.test(name) && !READ_AT_START_UP.test(name));
}

export const PRIMED_FLAG = '--primed';

/**
 * A bootstrap file, copied into `stagingDir` (the state directory). The sandbox binds it as the
 * sandbox's own uid, which may not traverse the directories of the checkout or the image; the
 * state directory is made traversable for it.
 */
export function bootstrapFile(name: string, stagingDir: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // compiled: dist/src/runtimes -> ../../../src/runtimes; from source: the same directory
  const source = [path.resolve(here, '../../../src/runtimes', name), path.join(here, name)].find((f) => existsSync(f));
  if (!source) throw new Error(`runtime bootstrap ${name} is missing next to ${here}`);
  return stageFile(source, path.join(stagingDir, 'sandbox-runtime'), name, 0o644);
}

export function inputPaths(codeFileName: string) {
  return {
    code: `${INPUT_DIR}/${codeFileName}`,
    event: `${INPUT_DIR}/event.json`,
    context: `${INPUT_DIR}/context.json`,
  };
}
