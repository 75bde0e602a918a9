// renameat2(RENAME_EXCHANGE): swaps two paths in one step. Needed once, when the image's template
// directory at DEPENDENCY_PATH becomes a symlink: rename() cannot put a symlink over a directory,
// and removing the directory first would leave an instant with no dependency directory at all.
// Node has no binding for it, so the sandboxes' Python calls libc through ctypes (a fixed
// script, the two paths as argv, no shell).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SANDBOX_PYTHON } from '../runtimes/runtime.js';

const EXCHANGE_SCRIPT = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
if libc.renameat2(AT_FDCWD, os.fsencode(sys.argv[1]), AT_FDCWD, os.fsencode(sys.argv[2]), RENAME_EXCHANGE) != 0:
    err = ctypes.get_errno()
    sys.stderr.write(os.strerror(err))
    sys.exit(3 if err in (22, 38, 95) else 1)  # EINVAL, ENOSYS, EOPNOTSUPP: not supported here
`;

export class ExchangeUnsupportedError extends Error {}

/** Atomically exchanges `a` and `b` (both must exist, on one filesystem). */
export async function exchangePaths(a: string, b: string): Promise<void> {
  try {
    await promisify(execFile)(SANDBOX_PYTHON, ['-I', '-c', EXCHANGE_SCRIPT, a, b], { env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' }, timeout: 10_000 });
  } catch (error) {
    const failure = error as { code?: number | string; stderr?: string; message: string };
    const reason = failure.stderr?.trim() || failure.message;
    if (failure.code === 3) throw new ExchangeUnsupportedError(`renameat2(RENAME_EXCHANGE) is not supported here: ${reason}`);
    throw new Error(`could not exchange ${a} and ${b}: ${reason}`);
  }
}
