// Files the sandbox's /etc is made of, generated once per start in the state directory (which
// no sandbox sees as such: only these files are bound, read-only).
import { randomBytes } from 'node:crypto';
import { chmodSync, constants, copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SANDBOX_GID, SANDBOX_UID } from './policy.js';

/** The state dir is traversable (not listable) by sandbox uids: they reach the bound files in it. */
export const STATE_DIR_MODE = 0o711;

/** Makes the state directory (and its parents) with STATE_DIR_MODE, or gives an existing one that mode. */
export function prepareStateDir(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: STATE_DIR_MODE });
  try {
    chmodSync(stateDir, STATE_DIR_MODE);
  } catch {
    // a volume's root owned by someone else (emptyDir, bind mount): its mode is the operator's
  }
}

/**
 * Writes `text` beside `target` under a name no other writer uses (two containers on one volume
 * may both be pid 1; O_EXCL) and renames it over: a reader, or a sandbox binding it, never sees
 * it cut short, and a symlink planted under the name is replaced, never followed.
 */
export function replaceFile(target: string, text: string, mode: number): void {
  const temporary = temporaryBeside(target);
  try {
    writeFileSync(temporary, text, { mode, flag: 'wx' });
    chmodSync(temporary, mode);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

export function writeSandboxEtc(stateDir: string): string {
  const dir = path.join(stateDir, 'sandbox-etc');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const files: Record<string, string> = {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:${SANDBOX_UID}:${SANDBOX_GID}:sandbox:/workspace:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\nsandbox:x:${SANDBOX_GID}:\nnogroup:x:65534:\n`,
    hosts: '127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n',
    'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files dns\n',
  };
  // `probe` or `run` on a live server's STATE_PATH writes them again while its sandboxes bind them
  for (const [name, text] of Object.entries(files)) replaceFile(path.join(dir, name), text, 0o644);
  return dir;
}

/**
 * Copies a file the sandboxes bind (a bootstrap, sandbox-init) into the state directory, which
 * the sandbox uid may traverse while the checkout or image directory may not be. Written beside
 * and renamed over: a sandbox that has the previous copy bound keeps an intact file.
 */
export function stageFile(source: string, directory: string, name: string, mode: number): string {
  mkdirSync(directory, { recursive: true, mode: 0o755 });
  const target = path.join(directory, name);
  const temporary = temporaryBeside(target);
  copyFileSync(source, temporary, constants.COPYFILE_EXCL);
  chmodSync(temporary, mode);
  renameSync(temporary, target);
  return target;
}

/** A name no other writer uses (two containers on one volume may both be pid 1): written with O_EXCL. */
function temporaryBeside(target: string): string {
  return `${target}.${randomBytes(6).toString('hex')}.tmp`;
}
