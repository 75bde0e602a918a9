// The image's template packages under a freshly installed set. The sandbox sees one directory,
// so every set carries the template's files too, except those of a distribution pip installed
// again (the newer install wins, its old files would only shadow or confuse it) and any file
// pip already wrote. Directories are merged, so namespace packages (google/, azure/) shared by
// template and new distributions keep both. Files are hard links when the filesystem allows
// (no copy, and sets are never modified in place), copies otherwise.
import { constants } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { InstalledDistribution } from './installed-distributions.js';

/**
 * Adds the template's files to `setDir` and returns the template distributions it now carries.
 * `installedProjects`: normalized names pip installed into `setDir`.
 */
export async function overlayTemplate(templateDir: string, templateDistributions: InstalledDistribution[], setDir: string, installedProjects: Set<string>): Promise<InstalledDistribution[]> {
  const replaced = templateDistributions.filter((d) => installedProjects.has(d.project));
  const carried = templateDistributions.filter((d) => !installedProjects.has(d.project));
  const skipFiles = new Set(replaced.flatMap((d) => d.recordedFiles));
  const skipDirs = new Set(replaced.map((d) => d.metadataDir));
  await mergeTree(templateDir, setDir, '', skipFiles, skipDirs);
  return carried;
}

async function mergeTree(fromRoot: string, toRoot: string, relative: string, skipFiles: Set<string>, skipDirs: Set<string>): Promise<void> {
  const entries = await readdir(path.join(fromRoot, relative), { withFileTypes: true });
  for (const entry of entries) {
    const rel = relative ? `${relative}/${entry.name}` : entry.name;
    const from = path.join(fromRoot, rel);
    const to = path.join(toRoot, rel);
    if (entry.isDirectory()) {
      if (skipDirs.has(rel)) continue;
      await mergeTree(fromRoot, toRoot, rel, skipFiles, skipDirs);
      continue;
    }
    if (skipFiles.has(rel) || (await exists(to))) continue;
    // directories are made only for files that land in them: no empty package directory appears
    await mkdir(path.dirname(to), { recursive: true, mode: 0o755 });
    if (entry.isSymbolicLink()) await symlink(await readlink(from), to);
    else if (entry.isFile()) await linkOrCopy(from, to);
    // sockets, fifos and devices have no place in a package directory: left out
  }
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    // another filesystem, or fs.protected_hardlinks refusing a file we do not own
    await copyFile(from, to, constants.COPYFILE_EXCL);
    await chmod(to, (await lstat(from)).mode & 0o777);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}
