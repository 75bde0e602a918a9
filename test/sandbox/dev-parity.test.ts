// One /dev for every backend (DEV in src/sandbox/policy.ts): the same Policy, run through each
// backend, shows the same entries inside the sandbox: names, types, modes, owners, device numbers,
// link targets, what can be written, and the mounts' flags and sizes.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BACKENDS, describeRun, python, SandboxFixture } from '../helpers/sandbox-host.js';

const fixture = await SandboxFixture.start();
after(() => fixture.close());

/** One line per /dev entry (and /dev/shm's own mount), sorted, as seen from inside. */
const LIST_DEV = `
import errno, os, stat
def write_result(path, st):
    try:
        if stat.S_ISDIR(st.st_mode):
            probe = os.path.join(path, '.probe')
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)); os.unlink(probe)
        else:
            os.close(os.open(path, os.O_WRONLY))
        return 'ok'
    except OSError as e:
        return errno.errorcode[e.errno]
def mount_of(path):
    v = os.statvfs(path)
    flags = [name for name, bit in (('ro', os.ST_RDONLY), ('nosuid', os.ST_NOSUID), ('nodev', os.ST_NODEV), ('noexec', os.ST_NOEXEC)) if v.f_flag & bit]
    return 'mount %s %s bytes=%d' % (path, ','.join(flags), v.f_blocks * v.f_frsize)
lines = []
for name in ['.'] + sorted(os.listdir('/dev')):
    path = os.path.normpath('/dev/' + name)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        lines.append('%s link -> %s' % (path, os.readlink(path)))
        continue
    kind = 'char %d:%d' % (os.major(st.st_rdev), os.minor(st.st_rdev)) if stat.S_ISCHR(st.st_mode) else 'dir' if stat.S_ISDIR(st.st_mode) else 'other'
    lines.append('%s %s %o %d:%d write=%s' % (path, kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, write_result(path, st)))
print('\\n'.join(lines))
print(mount_of('/dev'))
print(mount_of('/dev/shm'))
`;

/** What DEV says, in LIST_DEV's terms (device numbers and owners compared between backends only). */
const EXPECTED: [entry: string, pattern: RegExp][] = [
  ['/dev', /^\/dev dir 755 \d+:\d+ write=EROFS$/],
  ['/dev/fd', /^\/dev\/fd link -> \/proc\/self\/fd$/],
  ['/dev/full', /^\/dev\/full char 1:7 666 \d+:\d+ write=ok$/],
  ['/dev/null', /^\/dev\/null char 1:3 666 \d+:\d+ write=ok$/],
  ['/dev/random', /^\/dev\/random char 1:8 666 \d+:\d+ write=ok$/],
  ['/dev/shm', /^\/dev\/shm dir 1777 \d+:\d+ write=ok$/],
  ['/dev/stderr', /^\/dev\/stderr link -> \/proc\/self\/fd\/2$/],
  ['/dev/stdin', /^\/dev\/stdin link -> \/proc\/self\/fd\/0$/],
  ['/dev/stdout', /^\/dev\/stdout link -> \/proc\/self\/fd\/1$/],
  ['/dev/tty', /^\/dev\/tty char 5:0 666 \d+:\d+ write=ENXIO$/], // no controlling terminal
  ['/dev/urandom', /^\/dev\/urandom char 1:9 666 \d+:\d+ write=ok$/],
  ['/dev/zero', /^\/dev\/zero char 1:7 666 \d+:\d+ write=ok$/], // the host's /dev/full: cannot be mapped
  ['mount /dev', /^mount \/dev ro,nosuid,nodev bytes=65536$/],
  ['mount /dev/shm', new RegExp(`^mount /dev/shm nosuid,nodev bytes=${64 * 1024 * 1024}$`)],
];

describe('/dev is the same in every backend', () => {
  const listings = new Map<string, string>();

  for (const backend of BACKENDS) {
    it(`${backend}: /dev holds exactly what DEV says`, { skip: fixture.unavailable(backend) ?? false }, async () => {
      const r = await fixture.run(backend, { argv: python(LIST_DEV), cwd: '/' });
      assert.equal(r.exitCode, 0, describeRun(r));
      const lines = r.out.trim().split('\n');
      assert.deepEqual(
        lines.map((line) => EXPECTED.find(([entry]) => line === entry || line.startsWith(`${entry} `))?.[0] ?? line),
        EXPECTED.map(([entry]) => entry),
        r.out,
      );
      for (const [i, [, pattern]] of EXPECTED.entries()) assert.match(lines[i]!, pattern);
      listings.set(backend, r.out);
    });
  }

  it('every backend shows the same /dev, owners and device numbers included', (t) => {
    if (listings.size < BACKENDS.length) return t.skip(`listed in ${[...listings.keys()].join(', ')} only`);
    const [first, ...others] = [...listings.entries()];
    for (const [backend, listing] of others) assert.equal(listing, first![1], `${backend} differs from ${first![0]}`);
  });
});
