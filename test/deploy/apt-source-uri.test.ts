// The container test takes its Debian mirror from the host's apt configuration (no mirror is
// named in the repository): both source formats, disabled entries skipped, a clear failure when
// nothing serves the suite.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../test/container/apt-source-uri.py', import.meta.url));
const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function hostWith(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'apt-sources-'));
  roots.push(root);
  mkdirSync(path.join(root, 'etc/apt/sources.list.d'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(root, 'etc/apt', name), text);
  return root;
}

function uriFor(suite: string, root: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync('python3', [SCRIPT, suite, root], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout.trim(), stderr: run.stderr.trim() };
}

describe("apt-source-uri.py (the container test's Debian mirror)", () => {
  it('reads one-line sources, options included, skipping deb-src and comments', () => {
    const root = hostWith({
      'sources.list': [
        '# deb http://commented.example/debian bookworm main',
        'deb-src http://source.example/debian bookworm main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://mirror.example/debian/ bookworm main',
        'deb http://mirror.example/debian-security bookworm-security main',
      ].join('\n'),
    });
    assert.deepEqual(uriFor('bookworm', root), { status: 0, stdout: 'http://mirror.example/debian', stderr: '' });
    assert.equal(uriFor('bookworm-security', root).stdout, 'http://mirror.example/debian-security');
  });

  it('reads deb822 .sources files, skipping disabled stanzas and other suites', () => {
    const root = hostWith({
      'sources.list.d/other.sources': 'Types: deb\nURIs: http://vendor.example/apt\nSuites: nodistro\nComponents: main\n',
      'sources.list.d/debian.sources': [
        'Types: deb\nURIs: http://disabled.example/debian\nSuites: bookworm\nComponents: main\nEnabled: no',
        'Types: deb deb-src\n# a comment inside\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main',
      ].join('\n\n'),
      'sources.list.d/ignored.list.disabled': 'deb http://ignored.example/debian bookworm main\n',
    });
    assert.deepEqual(uriFor('bookworm', root), { status: 0, stdout: 'http://mirror.example/debian', stderr: '' });
  });

  it('fails with a message naming the files when no source serves the suite', () => {
    const root = hostWith({ 'sources.list.d/other.sources': 'Types: deb\nURIs: http://vendor.example/apt\nSuites: nodistro\n' });
    const run = uriFor('bookworm', root);
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /no enabled apt source for suite bookworm in .*etc\/apt\/sources.list or sources.list.d\//);
  });
});
