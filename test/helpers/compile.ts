// Small C programs the tests compile on the fly: raw system calls, inline assembly and rlimit
// probes that no interpreter in the sandbox can make. Linked statically, so they run in any
// sandbox whatever its /lib holds. The sources live in the tests as strings because the test
// suite runs from dist/ (and, unprivileged, from a copy that holds no test sources).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** Compiles source into dir/name (world-readable and executable); returns the binary's path. */
export function compileC(source: string, dir: string, name: string): string {
  const sourcePath = path.join(dir, `${name}.c`);
  const binary = path.join(dir, name);
  writeFileSync(sourcePath, source, { mode: 0o644 });
  try {
    execFileSync('gcc', ['-O1', '-static', '-Wall', '-o', binary, sourcePath], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`gcc failed for ${name} (install gcc and libc6-dev, as scripts/setup.sh does):\n${stderr}`);
  }
  return binary;
}
