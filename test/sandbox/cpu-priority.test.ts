// The executor stays above the code it runs on the CPU (src/sandbox/cpu-priority.ts,
// native/init/cpu_priority.c): every process of a sandbox runs at the configured nice value, none
// can lower it or raise its scheduling group above the executor's, and nothing a sandbox does to
// its own group reaches the executor's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { DEFAULT_SERVER_AUTOGROUP_NICE } from '../../src/config.js';
import { ownAutogroupNice } from '../../src/sandbox/cpu-priority.js';
import { BACKENDS, describeRun, python, SandboxFixture } from '../helpers/sandbox-host.js';

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

  it("no sandbox's autogroup is the executor's", async (t) => {
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
  });

  // Each check in a session of its own (a fresh autogroup at nice 0): the test runner's session may
  // already have been raised by an earlier test file, which would hide a raise that did not happen.
  it('raises its session to SERVER_AUTOGROUP_NICE where it may, never lowers it, and 0 writes nothing', async (t) => {
    if (!fixture.host.cpuPriority.autogroups) return t.skip('kernel.sched_autogroup_enabled is 0 here');
    const may = mayRaiseAutogroup();
    const expect = (asked: number, from: number) => (may ? Math.min(asked, from) : from);
    assert.deepEqual(await raisesInFreshSession([DEFAULT_SERVER_AUTOGROUP_NICE]), [expect(-20, 0)]);
    // asked one after the other in one session: 0 and a smaller raise leave a higher group as it is
    assert.deepEqual(await raisesInFreshSession([0, -7, -5, 0, -20, -7]), [0, expect(-7, 0), expect(-7, 0), expect(-7, 0), expect(-20, 0), expect(-20, 0)]);
    // a group below normal (any process may do that to its own), asked 0: untouched
    assert.deepEqual(await raisesInFreshSession([0], 5), [5]);
    if (!may) t.diagnostic('this process may not raise an autogroup (no CAP_SYS_NICE over the host): each stayed at its start');
  });
});

/** CAP_SYS_NICE in the initial user namespace: what a negative autogroup nice value takes. */
function mayRaiseAutogroup(): boolean {
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  const initialUserNamespace = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ') === '0 0 4294967295';
  return initialUserNamespace && (BigInt(`0x${capEff}`) & (1n << 23n)) !== 0n;
}

/**
 * In a child that is a session of its own (spawn's detached: setsid), optionally first lowers the
 * new group to `startAt`, then calls raiseOwnPriority with each value in turn; the group's nice
 * value after each call.
 */
async function raisesInFreshSession(asks: number[], startAt?: number): Promise<number[]> {
  const moduleUrl = new URL('../../src/sandbox/cpu-priority.js', import.meta.url).href;
  const script = `
    import { writeFileSync } from 'node:fs';
    const { raiseOwnPriority } = await import(${JSON.stringify(moduleUrl)});
    const startAt = ${JSON.stringify(startAt ?? null)};
    // unprivileged writes are limited to ten a second machine-wide: retry on EAGAIN
    for (let i = 0; startAt !== null; i++) {
      try { writeFileSync('/proc/self/autogroup', String(startAt)); break; } catch (e) { if (i > 50) throw e; await new Promise((r) => setTimeout(r, 100)); }
    }
    console.log(JSON.stringify(${JSON.stringify(asks)}.map((asked) => raiseOwnPriority(10, asked).server_autogroup_nice)));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, out);
  return JSON.parse(out) as number[];
}
