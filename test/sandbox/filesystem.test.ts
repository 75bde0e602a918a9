// What a sandbox sees of the host's files: nothing but the system directories (read-only), a
// minimal /etc, a fresh /proc and /dev, its own /tmp and the workspace. Host secrets (home
// directories, the checkout, /etc/shadow, the executor's state) do not exist inside, and every
// write outside the workspace and /tmp fails with EROFS, not just with a permission error.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { bind } from '../../src/sandbox/policy.js';
import { pollFor } from '../helpers/processes.js';
import { BACKENDS, describeRun, python, SandboxFixture, sh } from '../helpers/sandbox-host.js';

const EROFS = 30;
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const fixture = await SandboxFixture.start();

/** Prints "PATH visible|hidden" for each argument, from inside. */
const VISIBILITY = `
import os, sys
for p in sys.argv[1:]:
    seen = os.path.lexists(p)
    try:
        os.listdir(p) if os.path.isdir(p) else open(p, 'rb').read(1)
        readable = True
    except OSError:
        readable = False
    print(p, 'visible' if seen or readable else 'hidden')
`;

/** Tries each write and prints "WHAT ok" or "WHAT ERRNO". */
const WRITES = `
import os, sys
def attempt(what, action):
    try:
        action(); print(what, 'ok')
    except OSError as e:
        print(what, e.errno)
for target in sys.argv[1:]:
    attempt('create ' + target, lambda: open(target, 'w').write('x'))
    attempt('mkdir ' + target + '.d', lambda: os.mkdir(target + '.d'))
`;

function lines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const space = line.lastIndexOf(' ');
    if (space > 0) out.set(line.slice(0, space), line.slice(space + 1));
  }
  return out;
}

describe('filesystem view', () => {
  after(() => fixture.close());

  for (const backend of BACKENDS) {
    describe(backend, { skip: fixture.unavailable(backend) ?? false }, () => {
      it('hides the host: /root, /home, the checkout, /etc/shadow, the state dir, other workspaces', async () => {
        const otherWorkspace = fixture.workspace();
        writeFileSync(path.join(otherWorkspace, 'other-tenant.txt'), 'not yours');
        const secrets = [
          '/root',
          '/home',
          projectRoot,
          '/etc/shadow',
          '/etc/gshadow',
          '/etc/sudoers',
          fixture.stateDir,
          path.join(fixture.stateDir, 'sandbox-etc'),
          otherWorkspace,
          path.join(otherWorkspace, 'other-tenant.txt'),
          fixture.root,
          '/var',
          '/run',
          '/sys',
          '/boot',
          '/opt',
          '/srv',
          '/mnt',
        ];
        // the control: what the sandbox must see is seen by the same script
        const expected = ['/usr/bin/python3', '/etc/passwd', '/workspace', '/proc/self', '/dev/null'];
        const r = await fixture.run(backend, { argv: python(VISIBILITY, ...secrets, ...expected) });
        assert.equal(r.exitCode, 0, describeRun(r));
        const seen = lines(r.out);
        for (const p of secrets) assert.equal(seen.get(p), 'hidden', `${p} is visible inside the sandbox`);
        for (const p of expected) assert.equal(seen.get(p), 'visible', `${p} is missing inside the sandbox`);
        // the host really has what was hidden (so "hidden" is not a typo's doing)
        for (const p of ['/etc/shadow', projectRoot, fixture.stateDir, otherWorkspace]) assert.ok(existsSync(p), p);
      });

      it('has only the planned entries at / and in /etc', async () => {
        const r = await fixture.run(backend, { argv: sh('ls -A /; echo ---; ls -A /etc') });
        assert.equal(r.exitCode, 0, describeRun(r));
        const [root = '', etc = ''] = r.out.split('---\n');
        const rootEntries = root.split('\n').filter(Boolean);
        // bwrap cannot execute sandbox-init by fd: it is bound at /.sandbox-init
        const allowedRoot = new Set(['bin', 'dev', 'etc', 'lib', 'lib32', 'lib64', 'libx32', 'proc', 'sbin', 'tmp', 'usr', 'workspace', ...(backend === 'bwrap' ? ['.sandbox-init'] : [])]);
        for (const entry of rootEntries) assert.ok(allowedRoot.has(entry), `unexpected /${entry} inside the sandbox`);
        for (const entry of ['usr', 'etc', 'proc', 'dev', 'tmp', 'workspace']) assert.ok(rootEntries.includes(entry), `/${entry} missing`);
        const allowedEtc = new Set(['passwd', 'group', 'hosts', 'nsswitch.conf', 'resolv.conf', 'ssl', 'ca-certificates', 'localtime', 'ld.so.cache', 'alternatives', 'mime.types']);
        for (const entry of etc.split('\n').filter(Boolean)) assert.ok(allowedEtc.has(entry), `unexpected /etc/${entry} inside the sandbox`);
      });

      it("sees the generated /etc/passwd, not the host's", async () => {
        const r = await fixture.run(backend, { argv: ['/bin/cat', '/etc/passwd'] });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.match(r.out, /^sandbox:x:1000:1000:/m);
        assert.notEqual(r.out, readFileSync('/etc/passwd', 'utf8'));
        assert.equal(r.out.trim().split('\n').length, 3, r.out);
      });

      it('cannot write /usr, /, /etc or a read-only bind it owns: EROFS', async () => {
        // a directory the sandbox's own host uid owns, bound read-only: only the mount stops writes
        const ownedButReadOnly = fixture.workspace();
        const targets = ['/usr/sbtest', '/usr/bin/sbtest', '/sbtest', '/etc/sbtest', '/owned-ro/sbtest'];
        const r = await fixture.run(backend, { argv: python(WRITES, ...targets), extra: [bind(ownedButReadOnly, '/owned-ro')!] });
        assert.equal(r.exitCode, 0, describeRun(r));
        const results = lines(r.out);
        for (const target of targets) {
          assert.equal(results.get(`create ${target}`), String(EROFS), `create ${target}: ${results.get(`create ${target}`)}`);
          assert.equal(results.get(`mkdir ${target}.d`), String(EROFS), `mkdir ${target}.d: ${results.get(`mkdir ${target}.d`)}`);
        }
        assert.ok(!existsSync(path.join(ownedButReadOnly, 'sbtest')));
      });

      it('writes to /workspace land in the host directory, and only there', async () => {
        const r = await fixture.run(backend, { argv: sh('echo "written inside" > /workspace/out.txt && mkdir /workspace/sub && echo deep > /workspace/sub/f && cat /workspace/out.txt') });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.equal(readFileSync(path.join(r.workspace, 'out.txt'), 'utf8'), 'written inside\n');
        assert.equal(readFileSync(path.join(r.workspace, 'sub/f'), 'utf8'), 'deep\n');
        assert.equal(r.out, 'written inside\n');
      });

      it('has a private /tmp: empty at start, invisible to the host and to a concurrent sandbox', async () => {
        const marker = `private-${process.pid}-${Date.now()}`;
        const first = fixture.start(backend, {
          argv: sh(`ls -A /tmp > /workspace/initial-tmp; echo secret > /tmp/${marker} && cat /tmp/${marker} > /workspace/own-view && touch /workspace/ready && sleep 30`),
        });
        try {
          const ready = await pollFor(() => (existsSync(path.join(first.workspace, 'ready')) ? true : undefined), 10_000);
          assert.ok(ready, 'the first sandbox never got ready');
          assert.equal(readFileSync(path.join(first.workspace, 'initial-tmp'), 'utf8'), '', '/tmp was not empty at start');
          assert.equal(readFileSync(path.join(first.workspace, 'own-view'), 'utf8'), 'secret\n', 'a sandbox must see its own /tmp');
          const second = await fixture.run(backend, { argv: sh(`ls -A /tmp; test -e /tmp/${marker} && echo VISIBLE || echo absent`) });
          assert.equal(second.exitCode, 0, describeRun(second));
          assert.equal(second.out, 'absent\n');
          assert.ok(!existsSync(`/tmp/${marker}`), 'the sandbox /tmp file appeared in the host /tmp');
        } finally {
          first.run.kill('timeout');
          await first.run.result;
        }
      });

      it('has a minimal /dev: the five safe character devices work, no host device is there', async () => {
        const r = await fixture.run(backend, {
          argv: sh('ls -A /dev; echo ---; head -c 4 /dev/zero | od -An -tx1; head -c 16 /dev/urandom | wc -c; echo x > /dev/null && echo null-ok; echo x > /dev/full 2>/dev/null || echo full-enospc'),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        const [listing = '', checks = ''] = r.out.split('---\n');
        // DEV (policy.ts), in both backends: no pts, ptmx or core link (test/sandbox/dev-parity.test.ts)
        assert.deepEqual(listing.split('\n').filter(Boolean).sort(), ['fd', 'full', 'null', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
        assert.match(checks, /00 00 00 00/);
        assert.match(checks, /^16$/m);
        assert.match(checks, /^null-ok$/m);
        assert.match(checks, /^full-enospc$/m);
      });

      it('cannot fill host memory through its tmpfs mounts: /dev/shm and /tmp stop at their size, /dev is read-only', async () => {
        // tmpfs pages are not counted by RLIMIT_DATA: only the mount's size bounds them
        const r = await fixture.run(backend, {
          timeoutMs: 60_000,
          argv: python(
            `
import os, sys
chunk = b'x' * (1 << 20)
for where in sys.argv[1:]:
    total, error = 0, None
    try:
        for n in range(12):  # files of 16 MiB, below RLIMIT_FSIZE
            with open('%s/fill-%d' % (where, n), 'wb') as f:
                for _ in range(16):
                    f.write(chunk); f.flush(); total += len(chunk)
    except OSError as e:
        error = e.errno
    print(where, total, error)
`,
            '/dev/shm',
            '/tmp',
            '/dev',
          ),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        const filled = new Map([...r.out.matchAll(/^(\S+) (\d+) (\S+)$/gm)].map((m) => [m[1], { bytes: Number(m[2]), errno: m[3] }]));
        for (const where of ['/dev/shm', '/tmp']) {
          const f = filled.get(where);
          assert.ok(f, r.out);
          assert.equal(f.errno, '28', `${where}: ${JSON.stringify(f)}`); // ENOSPC
          assert.ok(f.bytes <= 64 * 1024 * 1024, `${where} took ${f.bytes} bytes`);
        }
        const dev = filled.get('/dev');
        assert.deepEqual(dev, { bytes: 0, errno: String(EROFS) }, r.out); // read-only in every backend
      });

      it('cannot reach host devices by creating nodes (mknod fails)', async () => {
        const r = await fixture.run(backend, {
          argv: python(`
import os, stat
for where in ['/tmp/sda', '/workspace/mem']:
    try:
        os.mknod(where, 0o600 | stat.S_IFCHR, os.makedev(1, 1)); print(where, 'CREATED')
    except OSError as e:
        print(where, e.errno)
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.doesNotMatch(r.out, /CREATED/);
        assert.match(r.out, /^\/tmp\/sda 1$/m); // EPERM: no CAP_MKNOD
      });
    });
  }
});
