import { bind } from '../sandbox/index.js';
import { bootstrapFile, DEPENDENCY_DIR, inputPaths, PRIMED_FLAG, RUNTIME_DIR, type Runtime } from './runtime.js';

export function pythonRuntime(stagingDir: string, interpreter = '/usr/bin/python3'): Runtime {
  const bootstrap = `${RUNTIME_DIR}/bootstrap.py`;
  const input = inputPaths('main.py');
  return {
    language: 'python',
    codeFileName: 'main.py',
    readsContext: true,
    resultChannel: true,
    binds: [bind(bootstrapFile('bootstrap.py', stagingDir), bootstrap)!],
    command: (_memoryMb, primed = false) => ({
      // -s: no user site-packages; -B: no .pyc written into the read-only tree
      argv: [interpreter, '-s', '-B', bootstrap, ...(primed ? [PRIMED_FLAG] : []), input.code, input.event, input.context],
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
