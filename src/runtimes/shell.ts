import { bind } from '../sandbox/policy.js';
import { bootstrapFile, inputPaths, RUNTIME_DIR, type Runtime } from './runtime.js';

export function shellRuntime(stagingDir: string, bash = '/bin/bash'): Runtime {
  const bootstrap = `${RUNTIME_DIR}/bootstrap.sh`;
  const input = inputPaths('main.sh');
  return {
    language: 'shell',
    codeFileName: 'main.sh',
    resultChannel: false,
    binds: [bind(bootstrapFile('bootstrap.sh', stagingDir), bootstrap)!],
    command: () => ({ argv: [bash, bootstrap, input.code, input.event], env: {} }),
  };
}
