// What a `pip install --target` directory holds, read from the installed metadata
// (`*.dist-info/METADATA`, or `*.egg-info/PKG-INFO` for old template installs) without running
// any Python: importing the packages would run their code in the server.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { normalizeProjectName } from './requirement-spec.js';

export interface InstalledDistribution {
  name: string;
  version: string;
  /** normalized name (PEP 503) */
  project: string;
  /** the dist-info (or egg-info) directory's name */
  metadataDir: string;
  /** the files its RECORD lists, relative to the directory (paths leaving it, such as ../../bin, left out) */
  recordedFiles: string[];
  /** when the metadata directory was written */
  installedAt: Date;
}

const METADATA_DIR = /^(.+)\.(dist-info|egg-info)$/;

export function readInstalledDistributions(dir: string): InstalledDistribution[] {
  const found: InstalledDistribution[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return found;
  }
  for (const entry of entries) {
    const match = METADATA_DIR.exec(entry);
    if (!match) continue;
    const metadataPath = path.join(dir, entry);
    const headers = readHeaders(path.join(metadataPath, match[2] === 'dist-info' ? 'METADATA' : 'PKG-INFO'));
    const name = headers.get('name');
    const version = headers.get('version');
    if (!name || !version) continue;
    found.push({
      name,
      version,
      project: normalizeProjectName(name),
      metadataDir: entry,
      recordedFiles: recordedFiles(path.join(metadataPath, 'RECORD')),
      installedAt: statSync(metadataPath).mtime,
    });
  }
  return found.sort((a, b) => a.project.localeCompare(b.project));
}

/** RFC 822-style headers up to the first blank line (the description follows it). */
function readHeaders(file: string): Map<string, string> {
  const headers = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return headers;
  }
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0 || line.startsWith(' ') || line.startsWith('\t')) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(key)) headers.set(key, line.slice(colon + 1).trim());
  }
  return headers;
}

function recordedFiles(recordFile: string): string[] {
  let text: string;
  try {
    text = readFileSync(recordFile, 'utf8');
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    // a RECORD row is "path,hash,size"; a path containing a comma is quoted
    const filePath = line.startsWith('"') ? line.slice(1, line.indexOf('"', 1)) : line.split(',')[0]!;
    const normalized = path.posix.normalize(filePath);
    if (!filePath || normalized.startsWith('../') || normalized === '..' || path.posix.isAbsolute(normalized)) continue;
    files.push(normalized);
  }
  return files;
}
