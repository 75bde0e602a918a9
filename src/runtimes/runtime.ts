// A language runtime: how the code and event reach a real bootstrap file inside the sandbox, and
// whether a return value comes back on the result channel (fd 3).
import { existsSync } from 'node:fs';
import { stageFile } from '../sandbox/system-files.js';
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
