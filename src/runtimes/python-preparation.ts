// What the server asks of the python interpreter once, outside any sandbox, so that no execution
// pays for it again (each would, in CPU, every time):
//  - the directories python's `site` module adds to sys.path. Sandboxed python starts with -S:
//    site's start-up (every .pth file of the system's dist-packages, which may import modules, and
//    sitecustomize) cost ~6 ms of a ~27 ms start here; the bootstrap appends these directories
//    itself, in site's order, so user code imports what it did before;
//  - the bootstrap compiled to bytecode: a script given by name is compiled on every start
//    (python never caches __main__), ~3.5 ms here; a .pyc given by name runs as it is.
// Both hold for this interpreter as it is now: after upgrading python, restart the server.
import { chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface PreparedPython {
  siteDirs: string[];
  /** host path of the compiled bootstrap, next to the staged source */
  compiledBootstrap: string;
}

// -I: no environment, no user site, no script directory; -S: site not yet run, so the path before
// and after site.main() differ by exactly what site adds (paths compared the way site makes them).
// argv: SOURCE COMPILED SANDBOX_NAME (the name the bytecode carries, for tracebacks).
const PREPARE = [
  'import os, py_compile, sys',
  'source, compiled, name = sys.argv[1:4]',
  'py_compile.compile(source, cfile=compiled, dfile=name, doraise=True)',
  'before = {os.path.abspath(p) for p in sys.path}',
  'import site',
  'site.main()',
  "sys.stdout.write('\\0'.join(p for p in sys.path if p not in before))",
].join('\n');

/**
 * Prepares `interpreter` for the staged bootstrap `stagedSource` (at `sandboxPath` inside
 * sandboxes). When the interpreter cannot be asked (missing, failing), returns why: python then
 * starts as before, with site and the source.
 */
export function preparePython(interpreter: string, stagedSource: string, sandboxPath: string): PreparedPython | { failed: string } {
  const compiledBootstrap = `${stagedSource}c`;
  try {
    const out = execFileSync(interpreter, ['-I', '-S', '-c', PREPARE, stagedSource, compiledBootstrap, sandboxPath], {
      cwd: '/',
      env: {},
      timeout: 20_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    // py_compile takes the server's umask; sandboxes may run as another uid (like stageFile's 0644)
    chmodSync(compiledBootstrap, 0o644);
    return { siteDirs: out === '' ? [] : out.split('\0'), compiledBootstrap };
  } catch (error) {
    // the error's first line (ENOENT, exit status, timeout) and python's last words, if any
    const reason = (error as Error).message.split('\n')[0]!;
    const lastLines = String((error as { stderr?: unknown }).stderr ?? '')
      .trim()
      .split('\n')
      .slice(-3)
      .join(' | ');
    return { failed: lastLines ? `${reason}: ${lastLines}` : reason };
  }
}
