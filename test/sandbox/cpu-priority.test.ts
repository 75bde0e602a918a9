// The executor stays above the code it runs on the CPU (src/sandbox/cpu-priority.ts,
// native/init/cpu_priority.c): every process of a sandbox runs at the configured nice value, none
// can lower it or raise its scheduling group above the executor's, and nothing a sandbox does to
// its own group reaches the executor's.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DEFAULT_SERVER_AUTOGROUP_NICE, ownAutogroupNice, raiseOwnPriority } from '../../src/sandbox/cpu-priority.js';
import { BACKENDS, describeRun, python, SandboxFixture, SERVER_IS_ROOT } from '../helpers/sandbox-host.js';

const fixture = await SandboxFixture.start();

/** Prints one line per probe: the nice values of the command and of a child, then what each attempt to climb did. */
const CLIMB = `
import os, resource, subprocess
print('command', os.getpriority(os.PRIO_PROCESS, 0))
print('child', subprocess.run(['/usr/bin/python3', '-c', 'import os; print(os.getpriority(os.PRIO_PROCESS, 0))'], capture_output=True, text=True).stdout.strip())
def attempt(name, action):
    try:
        action()
        print(name, 'ALLOWED')
    except OSError as e:
        print(name, 'refused', e.errno)
attempt('setpriority-0', lambda: os.setpriority(os.PRIO_PROCESS, 0, 0))
attempt('setpriority-9', lambda: os.setpriority(os.PRIO_PROCESS, 0, 9))
def autogroup_below_zero():
    with open('/proc/self/autogroup', 'w') as f:
        f.write('-5')
attempt('autogroup--5', autogroup_below_zero)
attempt('fifo', lambda: os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1)))
print('rtprio', *resource.getrlimit(resource.RLIMIT_RTPRIO))
print('after', os.getpriority(os.PRIO_PROCESS, 0))
`;

describe('CPU priority', () => {
  after(() => fixture.close());

  for (const backend of BACKENDS) {
    describe(backend, { skip: fixture.unavailable(backend) ?? false }, () => {
      it('runs every process at the configured nice value, which none can lower, and no group can go above the executor', async () => {
        const r = await fixture.run(backend, { argv: python(CLIMB), limits: { nice: 10 } });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.match(r.out, /^command 10$/m, describeRun(r));
        assert.match(r.out, /^child 10$/m, describeRun(r));
        assert.match(r.out, /^setpriority-0 refused \d+$/m, describeRun(r));
        assert.match(r.out, /^setpriority-9 refused \d+$/m, describeRun(r));
        assert.match(r.out, /^autogroup--5 refused \d+$/m, describeRun(r));
        // RLIMIT_RTPRIO 0 set by the launcher: on this host the server's own is 0 too, so this
        // holds either way here; it matters where the host gives the server a real-time limit
        assert.match(r.out, /^fifo refused \d+$/m, describeRun(r));
        assert.match(r.out, /^rtprio 0 0$/m, describeRun(r));
        assert.match(r.out, /^after 10$/m, describeRun(r));
      });
    });
  }

  it("raises the executor's own autogroup where it may, and no sandbox's autogroup is the executor's", async (t) => {
    const priority = fixture.host.cpuPriority;
    assert.equal(priority.sandbox_nice, 10);
    if (!priority.autogroups) return t.skip('kernel.sched_autogroup_enabled is 0 here');
    const before = ownAutogroupNice();
    // a sandbox may lower its own session's group: were that the executor's, it would move
    for (const backend of BACKENDS.filter((b) => !fixture.unavailable(b))) {
      // the kernel allows unprivileged writes ten times a second machine-wide: retry on EAGAIN
      const lower = 'for i in $(seq 50); do echo 19 2>/dev/null > /proc/self/autogroup && break; sleep 0.1; done; cat /proc/self/autogroup';
      const r = await fixture.run(backend, { argv: ['/bin/sh', '-c', lower] });
      assert.equal(r.exitCode, 0, describeRun(r));
      assert.match(r.out, /nice 19/, describeRun(r));
    }
    const now = ownAutogroupNice();
    assert.equal(now, before);
    assert.equal(now, priority.server_autogroup_nice);
    // a process in the kernel's first session (a runner's pid 1 lineage) has no autogroup to raise
    if (now === null) return t.diagnostic('the executor has no autogroup of its own here (the kernel root group)');
    if (SERVER_IS_ROOT) assert.equal(now, DEFAULT_SERVER_AUTOGROUP_NICE, 'a root executor raises its autogroup to SERVER_AUTOGROUP_NICE (-20 by default)');
    // a smaller raise, or none (SERVER_AUTOGROUP_NICE=0), never lowers a group that is already higher
    for (const asked of [0, -5]) assert.equal(raiseOwnPriority(10, asked).server_autogroup_nice, now);
    assert.equal(ownAutogroupNice(), now);
  });
});
