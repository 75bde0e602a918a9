import { bind } from '../sandbox/index.js';
import { preparePython } from './python-preparation.js';
import { bootstrapFile, DEPENDENCY_DIR, inputPaths, PRIMED_FLAG, RUNTIME_DIR, type Runtime } from './runtime.js';

const SITE_DIR_FLAG = '--site-dir';

export function pythonRuntime(stagingDir: string, interpreter = '/usr/bin/python3'): Runtime {
  const source = `${RUNTIME_DIR}/bootstrap.py`;
  const staged = bootstrapFile('bootstrap.py', stagingDir);
  const prepared = preparePython(interpreter, staged, source); // once, when the runtime is made
  const bootstrap = prepared ? `${source}c` : source;
  // -S and the site directories for the bootstrap to add (src/runtimes/python-preparation.ts)
  const site = prepared ? ['-S', bootstrap, ...prepared.siteDirs.flatMap((dir) => [SITE_DIR_FLAG, dir])] : [bootstrap];
  const input = inputPaths('main.py');
  return {
    language: 'python',
    codeFileName: 'main.py',
    readsContext: true,
    resultChannel: true,
    binds: [bind(prepared?.compiledBootstrap ?? staged, bootstrap)!],
    command: (_memoryMb, primed = false) => ({
      // -s: no user site-packages; -B: no .pyc written into the read-only tree
      argv: [interpreter, '-s', '-B', ...site, ...(primed ? [PRIMED_FLAG] : []), input.code, input.event, input.context],
      env: {
        PYTHONPATH: DEPENDENCY_DIR,
        // unbuffered: output printed before a timeout is not lost, and streams as it happens
        PYTHONUNBUFFERED: '1',
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONIOENCODING: 'utf-8',
      },
    }),
  };
}
