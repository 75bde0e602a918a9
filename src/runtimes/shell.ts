import { bind } from '../sandbox/index.js';
import { bootstrapFile, inputPaths, PRIMED_FLAG, RUNTIME_DIR, SANDBOX_BASH, type Runtime } from './runtime.js';

export function shellRuntime(stagingDir: string, bash = SANDBOX_BASH): Runtime {
  const bootstrap = `${RUNTIME_DIR}/bootstrap.sh`;
  const input = inputPaths('main.sh');
  return {
    language: 'shell',
    codeFileName: 'main.sh',
    readsContext: false,
    resultChannel: false,
    binds: [bind(bootstrapFile('bootstrap.sh', stagingDir), bootstrap)!],
    command: (_memoryMb, primed = false) => ({ argv: [bash, bootstrap, ...(primed ? [PRIMED_FLAG] : []), input.code, input.event], env: {} }),
  };
}
