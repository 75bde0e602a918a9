import type { Language, Runtime } from './runtime.js';
import { javascriptRuntime } from './javascript.js';
import { pythonRuntime } from './python.js';
import { shellRuntime } from './shell.js';

export type { Language, Runtime };
export { LANGUAGES } from './runtime.js';

/** stagingDir: where bootstrap files are copied for binding (the state directory); warn: what could not be prepared. */
export function createRuntimes(stagingDir: string, warn?: (message: string) => void): Record<Language, Runtime> {
  return { python: pythonRuntime(stagingDir, undefined, warn), javascript: javascriptRuntime(stagingDir), shell: shellRuntime(stagingDir) };
}
