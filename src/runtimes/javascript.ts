import path from 'node:path';
import { realpathSync } from 'node:fs';
import { bind, type FsEntry } from '../sandbox/index.js';
import { bootstrapFile, inputPaths, PRIMED_FLAG, RUNTIME_DIR, type Runtime } from './runtime.js';

/** The host's node; bound in when it lives outside /usr (e.g. /opt/node). */
export function javascriptRuntime(stagingDir: string, nodeBinary = realpathSync(process.execPath)): Runtime {
  const bootstrap = `${RUNTIME_DIR}/bootstrap.cjs`;
  const input = inputPaths('main.js');
  const binds: FsEntry[] = [bind(bootstrapFile('bootstrap.cjs', stagingDir), bootstrap)!];
  const installDir = path.dirname(path.dirname(nodeBinary));
  if (!nodeBinary.startsWith('/usr/')) binds.push(bind(installDir, installDir)!);
  return {
    language: 'javascript',
    codeFileName: 'main.js',
    readsContext: true,
    resultChannel: true,
    binds,
    command: (memoryMb, primed = false) => ({
      // V8 learns the memory limit, so it fails with a JS heap error instead of hitting RLIMIT_DATA
      argv: [nodeBinary, `--max-old-space-size=${Math.max(16, Math.floor(memoryMb * 0.75))}`, bootstrap, ...(primed ? [PRIMED_FLAG] : []), input.code, input.event, input.context],
      env: { NODE_PATH: '/workspace/node_modules' },
    }),
  };
}
