// A language runtime: how the code and event reach a real bootstrap file inside the sandbox, and
// whether a return value comes back on the result channel (fd 3).
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FsEntry } from '../sandbox/policy.js';

export type Language = 'python' | 'javascript' | 'shell';
export const LANGUAGES: readonly Language[] = ['python', 'javascript', 'shell'];

/** Sandbox paths every runtime uses. */
export const RUNTIME_DIR = '/opt/sandbox-runtime';
export const INPUT_DIR = '/run/execution';
export const DEPENDENCY_DIR = '/opt/sandbox-venv';

export interface RuntimeCommand {
  argv: string[];
  env: Record<string, string>;
}

export interface Runtime {
  language: Language;
  /** file name of the code inside INPUT_DIR (also what tracebacks show) */
  codeFileName: string;
  resultChannel: boolean;
  /** read-only binds this runtime needs besides the standard ones (its bootstrap, its interpreter) */
  binds: FsEntry[];
  command(memoryMb: number): RuntimeCommand;
}

/** The bootstrap files ship as source files next to this module's source (src/runtimes/). */
export function bootstrapFile(name: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // compiled: dist/src/runtimes -> ../../../src/runtimes; from source: the same directory
  for (const candidate of [path.resolve(here, '../../../src/runtimes', name), path.join(here, name)]) {
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  throw new Error(`runtime bootstrap ${name} is missing next to ${here}`);
}

export function inputPaths(codeFileName: string) {
  return {
    code: `${INPUT_DIR}/${codeFileName}`,
    event: `${INPUT_DIR}/event.json`,
    context: `${INPUT_DIR}/context.json`,
  };
}
