// One Policy's filesystem, rendered by each backend: the native mount steps (renderMountSteps)
// and bwrap's arguments (renderBwrapFilesystem). No sandbox is built: what is checked is the
// plan each backend hands on. The /dev entry's rendering is compared by the sandbox tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderBwrapFilesystem } from '../../src/sandbox/backends/bwrap.js';
import { renderMountSteps } from '../../src/sandbox/backends/native.js';
import type { FsEntry } from '../../src/sandbox/policy.js';

const FILESYSTEM: FsEntry[] = [
  { kind: 'bind', source: '/usr', target: '/usr', type: 'dir', writable: false },
  { kind: 'symlink', target: '/bin', linkText: 'usr/bin' },
  { kind: 'bind', source: '/host/etc/passwd', target: '/etc/passwd', type: 'file', writable: false },
  { kind: 'bind', source: '/host/etc/ssl', target: '/etc/ssl', type: 'dir', writable: false },
  { kind: 'bind', source: '/srv/sessions/s-1', target: '/workspace', type: 'dir', writable: true },
  { kind: 'tmpfs', target: '/run/deep/scratch', sizeBytes: 1048576, mode: 0o1777 },
  { kind: 'proc', target: '/proc' },
];

describe('renderMountSteps (native backend)', () => {
  const steps = renderMountSteps(FILESYSTEM);

  it('starts from an empty tmpfs root and ends by making it read-only', () => {
    assert.deepEqual(steps[0], { kind: 'tmpfs', target: '/', data: 'mode=0755,size=1m' });
    assert.deepEqual(steps.at(-1), { kind: 'remount', target: '/' });
  });

  it('creates every mount point and its parents before the mount, each once', () => {
    const made = new Set<string>(['/']);
    const parent = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';
    for (const step of steps.slice(1, -1)) {
      if (step.kind === 'dir' || step.kind === 'file') {
        assert.ok(!made.has(step.target), `${step.target} made twice`);
        assert.ok(made.has(parent(step.target)), `${step.target} made before its parent`);
        made.add(step.target);
      } else if (step.kind !== 'remount') {
        assert.ok(made.has(step.target) || step.kind === 'symlink', `${step.kind} on ${step.target} before its mount point exists`);
        assert.ok(made.has(parent(step.target)), `${step.kind} at ${step.target} before its parent exists`);
      }
    }
    assert.deepEqual(
      steps.filter((s) => s.kind === 'dir').map((s) => s.target),
      ['/usr', '/etc', '/etc/ssl', '/workspace', '/run', '/run/deep', '/run/deep/scratch', '/proc'],
    );
  });

  it('binds read-only unless writable, always nosuid and nodev; a file bind gets a file mount point', () => {
    const binds = steps.filter((s) => s.kind === 'bind');
    assert.deepEqual(
      binds.map((b) => [b.source, b.target, b.readOnly, b.flags]),
      [
        ['/usr', '/usr', true, ['nosuid', 'nodev']],
        ['/host/etc/passwd', '/etc/passwd', true, ['nosuid', 'nodev']],
        ['/host/etc/ssl', '/etc/ssl', true, ['nosuid', 'nodev']],
        ['/srv/sessions/s-1', '/workspace', false, ['nosuid', 'nodev']],
      ],
    );
    const passwd = steps.findIndex((s) => s.kind === 'bind' && s.target === '/etc/passwd');
    assert.deepEqual(steps[passwd - 1], { kind: 'file', target: '/etc/passwd' });
  });

  it('sizes a tmpfs and gives its mode in octal; links and proc as given', () => {
    assert.ok(steps.some((s) => s.kind === 'tmpfs' && s.target === '/run/deep/scratch' && s.data === 'mode=1777,size=1048576'));
    assert.ok(steps.some((s) => s.kind === 'symlink' && s.target === '/bin' && s.source === 'usr/bin'));
    assert.ok(steps.some((s) => s.kind === 'proc' && s.target === '/proc'));
  });
});

describe('renderBwrapFilesystem (bwrap backend)', () => {
  it('renders each entry in policy order as bwrap options', () => {
    assert.deepEqual(renderBwrapFilesystem(FILESYSTEM), [
      '--ro-bind',
      '/usr',
      '/usr',
      '--symlink',
      'usr/bin',
      '/bin',
      '--ro-bind',
      '/host/etc/passwd',
      '/etc/passwd',
      '--ro-bind',
      '/host/etc/ssl',
      '/etc/ssl',
      '--bind',
      '/srv/sessions/s-1',
      '/workspace',
      '--perms',
      '1777',
      '--size',
      '1048576',
      '--tmpfs',
      '/run/deep/scratch',
      '--proc',
      '/proc',
    ]);
  });

  it('pads a tmpfs mode to four octal digits', () => {
    assert.deepEqual(renderBwrapFilesystem([{ kind: 'tmpfs', target: '/tmp', sizeBytes: 4096, mode: 0o755 }]), ['--perms', '0755', '--size', '4096', '--tmpfs', '/tmp']);
  });
});
