// What a command inherits: exactly the environment it was given (nothing of the server's), the
// planned file descriptors only (none of the server's sockets, files or pipes), its cwd, and its
// argv byte for byte.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BACKENDS, describeRun, python, SandboxFixture } from '../helpers/sandbox-host.js';

const SERVER_SECRET_NAME = 'SANDBOX_TEST_SERVER_SECRET';
const SERVER_SECRET = `server-only-${process.pid}-${Date.now()}`;

const fixture = await SandboxFixture.start();

/**
 * `env`'s lines, sorted. bwrap's --chdir always exports PWD (the cwd, nothing of the server's), after
 * parsing its arguments, so not even --unsetenv removes it: tolerated there, and only as the cwd.
 */
function withoutBwrapPwd(backend: string, out: string): string[] {
  const lines = out.split('\n').filter(Boolean).sort();
  return backend === 'bwrap' ? lines.filter((line) => line !== 'PWD=/workspace') : lines;
}

describe('clean environment', () => {
  // A secret in the server's own environment, as INTERNAL_API_TOKEN would be.
  before(() => (process.env[SERVER_SECRET_NAME] = SERVER_SECRET));
  after(() => {
    delete process.env[SERVER_SECRET_NAME];
    fixture.close();
  });

  for (const backend of BACKENDS) {
    describe(backend, { skip: fixture.unavailable(backend) ?? false }, () => {
      it('sees exactly the environment it was given', async () => {
        const env = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', GIVEN: 'value with spaces = and ; chars' };
        const r = await fixture.run(backend, { argv: ['/usr/bin/env'], env });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.deepEqual(
          withoutBwrapPwd(backend, r.out),
          Object.entries(env)
            .map(([k, v]) => `${k}=${v}`)
            .sort(),
        );
      });

      it('an empty environment stays empty', async () => {
        const r = await fixture.run(backend, { argv: ['/usr/bin/env'], env: {} });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.deepEqual(withoutBwrapPwd(backend, r.out), []);
      });

      it("finds none of the server's environment anywhere in its /proc", async () => {
        const r = await fixture.run(backend, {
          argv: python(`
import os
for pid in sorted(filter(str.isdigit, os.listdir('/proc')), key=int):
    try:
        data = open('/proc/%s/environ' % pid, 'rb').read()
        print(pid, 'readable', len(data))
        if b'${SERVER_SECRET}' in data: print('LEAK in', pid)
    except OSError as e:
        print(pid, 'unreadable', e.errno)
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.doesNotMatch(r.out, /LEAK/);
        assert.match(r.out, /readable/, 'the scan read nothing');
      });

      it('has only fds 0-3 open: stdin /dev/null, stdout, stderr and the result pipe', async () => {
        const r = await fixture.run(backend, {
          argv: python(`
import os
for fd in sorted(int(f) for f in os.listdir('/proc/self/fd')):
    try:
        print(fd, os.readlink('/proc/self/fd/%d' % fd))
    except OSError:
        pass  # the directory listing's own fd, closed by now
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        const fds = new Map(
          r.out
            .split('\n')
            .filter(Boolean)
            .map((line) => [Number(line.split(' ')[0]), line.slice(line.indexOf(' ') + 1)]),
        );
        assert.deepEqual([...fds.keys()], [0, 1, 2, 3], r.out);
        assert.equal(fds.get(0), '/dev/null');
        for (const fd of [1, 2, 3]) assert.match(fds.get(fd)!, /^pipe:\[\d+\]$/);
      });

      it('gets its argv byte for byte and starts in the planned cwd', async () => {
        const args = ['plain', 'with space', 'quote\'"', '$(not expanded)', '*', '', 'ünïcödé'];
        const r = await fixture.run(backend, {
          argv: python(`import os, sys, json\nprint(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}))`, ...args),
          cwd: '/tmp',
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.deepEqual(JSON.parse(r.out), { argv: args, cwd: '/tmp' });
      });
    });
  }
});
