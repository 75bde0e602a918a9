import { bind } from '../sandbox/index.js';
import { preparePython } from './python-preparation.js';
import { bootstrapFile, DEPENDENCY_DIR, inputPaths, PRIMED_FLAG, RUNTIME_DIR, SANDBOX_PYTHON, type Runtime } from './runtime.js';

const SITE_DIR_FLAG = '--site-dir';

/** warn: told when the interpreter could not be prepared (python then starts the slower way). */
export function pythonRuntime(stagingDir: string, interpreter = SANDBOX_PYTHON, warn: (message: string) => void = () => {}): Runtime {
  const sandboxSource = `${RUNTIME_DIR}/bootstrap.py`;
  const stagedSource = bootstrapFile('bootstrap.py', stagingDir);
  // once, when the runtime is made: site's directories and the compiled bootstrap (python-preparation.ts)
  const prepared = preparePython(interpreter, stagedSource, sandboxSource);
  const binds = [bind(stagedSource, sandboxSource)!]; // the source too: tracebacks through the bootstrap show its lines
  let startArgs = [sandboxSource];
  if ('failed' in prepared) {
    warn(`python could not be prepared (${prepared.failed}): it starts with site and compiles the bootstrap each time`);
  } else {
    const sandboxCompiled = `${sandboxSource}c`;
    binds.push(bind(prepared.compiledBootstrap, sandboxCompiled)!);
    // -S: site's start-up skipped, its directories handed to the bootstrap instead
    startArgs = ['-S', sandboxCompiled, ...prepared.siteDirs.flatMap((dir) => [SITE_DIR_FLAG, dir])];
  }
  const input = inputPaths('main.py');
  return {
    language: 'python',
    codeFileName: 'main.py',
    readsContext: true,
    resultChannel: true,
    binds,
    command: (_memoryMb, primed = false) => ({
      // -s: no user site-packages; -B: no .pyc written into the read-only tree
      argv: [interpreter, '-s', '-B', ...startArgs, ...(primed ? [PRIMED_FLAG] : []), input.code, input.event, input.context],
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
