import type { Language, Runtime } from './runtime.js';
import { javascriptRuntime } from './javascript.js';
import { pythonRuntime } from './python.js';
import { shellRuntime } from './shell.js';

export type { Language, Runtime };
export { LANGUAGES } from './runtime.js';

export function createRuntimes(): Record<Language, Runtime> {
  return { python: pythonRuntime(), javascript: javascriptRuntime(), shell: shellRuntime() };
}
