// The dependency sets on disk, and the one atomic step that changes which set the sandboxes see.
//
//   DEPENDENCY_PATH                 a symlink: what every execution resolves (realpath) and binds
//        │                          read-only at /opt/sandbox-venv when its sandbox is created
//        ▼
//   <swap point>.d/set-<time>-<id>  one complete `pip install --target` layout per sync
//   <swap point>.d/template         the image's template set (a real directory found at
//                                   DEPENDENCY_PATH at the first sync, moved here by the swap
//                                   itself; or a symlink to the directory DEPENDENCY_PATH pointed at)
//   <swap point>.d/.staging-…       a set being built; .scratch-… pip's HOME and TMPDIR
//
// The swap point is DEPENDENCY_PATH when its directory is writable by the server; otherwise the
// first link of DEPENDENCY_PATH's symlink chain that lives in a writable directory (so an image
// whose /opt is root-owned can point /opt/sandbox-venv at a link under a directory the
// unprivileged server owns). A sync builds a new set beside the others, then renames a new
// symlink over the swap point: an execution resolves either the old set or the new one.
// Sets are never changed once published; retired sets are deleted only when no execution is
// running, because a running sandbox may still have one bound.
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, lstatSync, mkdirSync, readlinkSync, realpathSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { ExchangeUnsupportedError, exchangePaths } from './exchange-paths.js';

const SET_PREFIX = 'set-';
const TEMPLATE = 'template';
/** Leftovers of interrupted syncs, never bound by a sandbox: deleted at any time outside a sync. */
const SCRATCH_PREFIXES = ['.staging-', '.scratch-', '.swap-'];
/** A replaced template directory: a sandbox started before the replacement may still have it bound. */
const TRASH_PREFIX = '.trash-';
const MAX_LINK_HOPS = 40;

export class DependencyStoreError extends Error {}

/** Where the swap happens and what is there now. */
export interface StoreLayout {
  swapPoint: string;
  storeDir: string;
  /** the directory whose packages every set carries (is_from_template), if any */
  templateDir: string | undefined;
  /** the template is still the real directory at the swap point: the next publish moves it */
  adoptTemplateOnPublish: boolean;
}

export interface StagedSet {
  id: string;
  /** pip's --target, later renamed to the set's final name */
  stagingDir: string;
  /** pip's HOME and TMPDIR (same filesystem as the set: pip moves, not copies, into it) */
  scratchDir: string;
}

export class DependencyStore {
  constructor(readonly dependencyPath: string) {}

  /** Finds the swap point and the template; creates the store directory. Call at each sync. */
  prepare(): StoreLayout {
    const swapPoint = findSwapPoint(this.dependencyPath);
    const storeDir = `${swapPoint}.d`;
    // sandboxes of a root server run as another uid: they traverse it to reach their set (umask aside)
    if (mkdirSync(storeDir, { recursive: true, mode: 0o755 }) !== undefined) chmodSync(storeDir, 0o755);
    const stat = lstatOrUndefined(swapPoint);
    if (stat && !stat.isDirectory() && !stat.isSymbolicLink()) {
      throw new DependencyStoreError(`${swapPoint} is neither a directory nor a symlink: remove it, or point DEPENDENCY_PATH elsewhere`);
    }
    if (stat?.isDirectory()) return { swapPoint, storeDir, templateDir: swapPoint, adoptTemplateOnPublish: true };
    const target = stat?.isSymbolicLink() ? realpathOrUndefined(swapPoint) : undefined;
    const realStore = realpathSync(storeDir);
    if (target && path.dirname(target) !== realStore && target !== realStore) {
      // DEPENDENCY_PATH points at a directory we did not make (an operator's template): keep
      // a link to it, so that it stays the template after the swap point points at our sets
      return { swapPoint, storeDir, templateDir: target, adoptTemplateOnPublish: false };
    }
    const template = realpathOrUndefined(path.join(storeDir, TEMPLATE));
    return { swapPoint, storeDir, templateDir: template, adoptTemplateOnPublish: false };
  }

  async stage(layout: StoreLayout): Promise<StagedSet> {
    const id = `${new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
    const stagingDir = path.join(layout.storeDir, `.staging-${id}`);
    const scratchDir = path.join(layout.storeDir, `.scratch-${id}`);
    await mkdir(stagingDir, { mode: 0o755 });
    await chmod(stagingDir, 0o755);
    await mkdir(scratchDir, { mode: 0o700 });
    return { id, stagingDir, scratchDir };
  }

  /** Makes the staged set readable by every sandbox uid and gives it its final name. */
  async seal(layout: StoreLayout, staged: StagedSet): Promise<string> {
    await makeWorldReadable(staged.stagingDir);
    const setDir = path.join(layout.storeDir, `${SET_PREFIX}${staged.id}`);
    await rename(staged.stagingDir, setDir);
    return setDir;
  }

  /** The atomic step: the swap point now leads to `setDir`. */
  async publish(layout: StoreLayout, setDir: string): Promise<void> {
    const target = path.resolve(setDir);
    const templateLink = path.join(layout.storeDir, TEMPLATE);
    if (layout.templateDir && !layout.adoptTemplateOnPublish && realpathOrUndefined(templateLink) !== layout.templateDir) {
      // the operator's template directory (DEPENDENCY_PATH pointed at it): remember it
      if (lstatOrUndefined(templateLink)?.isDirectory()) await moveToTrash(templateLink, layout.storeDir);
      await replaceWithSymlink(templateLink, layout.templateDir, layout.storeDir);
    }
    if (!layout.adoptTemplateOnPublish) {
      await replaceWithSymlink(layout.swapPoint, target, layout.storeDir);
      return;
    }
    // The swap point is the template directory itself. Its replacement link is made at
    // <store>/template, and the two are exchanged: the link lands on the swap point and the
    // template directory at <store>/template, in one step (and a crash leaves either state).
    if (lstatOrUndefined(templateLink)) await moveToTrash(templateLink, layout.storeDir);
    await symlink(target, templateLink);
    try {
      await exchangePaths(templateLink, layout.swapPoint);
    } catch (error) {
      if (!(error instanceof ExchangeUnsupportedError)) throw error;
      // Two renames instead: executions that start in the instant between them find no
      // dependency directory. Only on filesystems without RENAME_EXCHANGE, only once.
      await rm(templateLink);
      await rename(layout.swapPoint, templateLink);
      await replaceWithSymlink(layout.swapPoint, target, layout.storeDir);
    }
  }

  /** The set the swap point leads to now (a real path), if it is one of ours. */
  currentSet(layout: Pick<StoreLayout, 'swapPoint' | 'storeDir'>): string | undefined {
    const target = realpathOrUndefined(layout.swapPoint);
    return target && path.basename(target).startsWith(SET_PREFIX) && path.dirname(target) === realpathOrUndefined(layout.storeDir) ? target : undefined;
  }

  /** Deletes interrupted syncs' leftovers, and retired sets when `idle` (no execution running). Call between syncs only. */
  async collect(layout: Pick<StoreLayout, 'swapPoint' | 'storeDir'>, idle: boolean): Promise<{ retiredLeft: number }> {
    const current = this.currentSet(layout);
    const currentName = current && path.basename(current);
    let retiredLeft = 0;
    let entries: string[];
    try {
      entries = await readdir(layout.storeDir);
    } catch {
      return { retiredLeft };
    }
    for (const entry of entries) {
      const full = path.join(layout.storeDir, entry);
      if (SCRATCH_PREFIXES.some((prefix) => entry.startsWith(prefix))) {
        await rm(full, { recursive: true, force: true });
      } else if ((entry.startsWith(SET_PREFIX) && entry !== currentName) || entry.startsWith(TRASH_PREFIX)) {
        if (idle) await rm(full, { recursive: true, force: true });
        else retiredLeft++;
      }
    }
    return { retiredLeft };
  }
}

/** The path to replace: DEPENDENCY_PATH, or the first link on its chain in a writable directory. */
function findSwapPoint(dependencyPath: string): string {
  let candidate = path.resolve(dependencyPath);
  for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
    const parent = path.dirname(candidate);
    if (!lstatOrUndefined(parent)) {
      try {
        mkdirSync(parent, { recursive: true, mode: 0o755 });
      } catch {
        // not ours to create: reported below as not writable
      }
    }
    if (writable(parent)) return candidate;
    const stat = lstatOrUndefined(candidate);
    if (!stat?.isSymbolicLink()) break;
    candidate = path.resolve(parent, readlinkSync(candidate));
  }
  throw new DependencyStoreError(
    `cannot swap dependency sets: the directory of DEPENDENCY_PATH (${path.dirname(path.resolve(dependencyPath))}) is not writable by uid ${process.getuid?.()}, ` +
      'and no symlink on its chain leads into a writable directory: make DEPENDENCY_PATH (or a symlink it points at) live in a directory the server may write (see docs/dependencies.md)',
  );
}

/** A new symlink renamed over `where`: atomic for whoever resolves `where`. */
async function replaceWithSymlink(where: string, target: string, storeDir: string): Promise<void> {
  const temporary = path.join(storeDir, `.swap-${randomBytes(4).toString('hex')}`);
  await symlink(target, temporary);
  await rename(temporary, where);
}

async function moveToTrash(file: string, storeDir: string): Promise<void> {
  await rename(file, path.join(storeDir, `${TRASH_PREFIX}${randomBytes(4).toString('hex')}`));
}

/** a+r on files, a+rx on directories: a root server's sandboxes run as another uid (SANDBOX_HOST_UID). */
async function makeWorldReadable(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await ensureMode(full, 0o555);
      await makeWorldReadable(full);
    } else if (entry.isFile()) {
      const mode = (await lstat(full)).mode;
      await ensureMode(full, mode & 0o100 ? 0o555 : 0o444);
    }
  }
  await ensureMode(dir, 0o555);
}

async function ensureMode(file: string, bits: number): Promise<void> {
  const mode = (await lstat(file)).mode & 0o7777;
  if ((mode & bits) === bits) return;
  try {
    await chmod(file, mode | bits);
  } catch {
    // a template file hard-linked from a file we do not own: it is the template's to be readable
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function lstatOrUndefined(file: string) {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

function realpathOrUndefined(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}
