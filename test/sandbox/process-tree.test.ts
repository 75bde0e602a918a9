// The sandbox's processes: it sees only its own, cannot signal the host's, and every process it
// starts dies with it: on the wall-clock timeout, when the command exits leaving orphans behind,
// on an explicit kill, and when the server itself is SIGKILLed. "Dies" is checked the hard way,
// by scanning the host's /proc for a marker carried in the argv of every process of the tree.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { escapingTreeArgv, killMarked, pollFor, processesWithMarker, survivorsAfter, uniqueMarker } from '../helpers/processes.js';
import { BACKENDS, describeRun, EXPECTED_HOST_GID, EXPECTED_HOST_UID, python, SandboxFixture, SERVER_IS_ROOT, sh } from '../helpers/sandbox-host.js';

const SERVER_CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '../helpers/sandbox-server-child.js');
/** How long the host may take to see a killed tree disappear. */
const SURVIVOR_GRACE_MS = 5000;

const fixture = await SandboxFixture.start();

/** Waits until both the tree's orphan and its main process run (so "no survivor" means something). */
async function treeRunning(marker: string, mode: 'stay' | 'leave'): Promise<boolean> {
  const seen = await pollFor(() => {
    const names = processesWithMarker(marker).map((p) => p.cmdline);
    const orphan = names.some((c) => c.startsWith(`${marker}-orphan `));
    const main = mode === 'leave' || names.some((c) => c.startsWith(`${marker}-main `));
    return orphan && main ? true : undefined;
  }, 15_000);
  return seen === true;
}

describe('process tree', () => {
  after(() => fixture.close());

  for (const backend of BACKENDS) {
    describe(backend, { skip: fixture.unavailable(backend) ?? false }, () => {
      it('sees only its own processes in /proc', async () => {
        const r = await fixture.run(backend, {
          argv: sh(`ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '; echo; cat /proc/1/cmdline | tr '\\0' ' '; echo; test -e /proc/${process.pid} && echo SERVER-VISIBLE || echo server-hidden`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        const [pidLine = '', pid1 = '', server = ''] = r.out.split('\n');
        const pids = pidLine.trim().split(/\s+/).map(Number);
        // init, sh, ls, grep, tr: a handful of small pids, never the host's
        assert.ok(pids.length >= 2 && pids.length <= 8, `pids inside: ${pidLine}`);
        assert.ok(
          pids.every((pid) => pid < 100),
          `pids inside: ${pidLine}`,
        );
        assert.ok(pids.includes(1));
        // under bwrap too (--as-pid-1): no bwrap process inside
        assert.match(pid1, /^(sandbox-init|\/\.sandbox-init) /, `pid 1 is ${pid1}`);
        assert.equal(server, 'server-hidden');
      });

      it('cannot signal host processes, even ones running as its own host uid', async () => {
        // Without a pid namespace, a process of the same host uid could be killed: make one.
        const victim = spawn('sleep', ['120'], { stdio: 'ignore', ...(SERVER_IS_ROOT ? { uid: EXPECTED_HOST_UID, gid: EXPECTED_HOST_GID } : {}) });
        try {
          const pids = [victim.pid!, process.pid];
          const r = await fixture.run(backend, {
            argv: sh(
              pids
                .map(
                  (pid) =>
                    `kill -0 ${pid} 2>/dev/null && echo "signal0 ${pid} SENT" || echo "signal0 ${pid} failed"; kill -9 ${pid} 2>/dev/null && echo "kill ${pid} SENT" || echo "kill ${pid} failed"`,
                )
                .join('; ') + '; kill -0 $$ && echo self-ok',
            ),
          });
          assert.equal(r.exitCode, 0, describeRun(r));
          assert.doesNotMatch(r.out, /SENT/, r.out);
          assert.match(r.out, /^self-ok$/m, 'signalling itself must work (the control)');
          assert.equal(victim.exitCode, null);
          assert.doesNotThrow(() => process.kill(victim.pid!, 0), 'the host process died');
        } finally {
          victim.kill('SIGKILL');
        }
      });

      it("cannot reach sandbox-init's private pipes (report, control) through /proc", async () => {
        // A command that could write init's report pipe would forge its own result and attestation;
        // one that could write the control pipe could pass itself off as the executor.
        const r = await fixture.run(backend, {
          argv: python(`
import os
init = next(pid for pid in sorted(filter(str.isdigit, os.listdir('/proc')), key=int)
            if b'sandbox-init' in open('/proc/%s/cmdline' % pid, 'rb').read().split(b'\\0')[0])
print('init', init)
try:
    print('fds', os.listdir('/proc/%s/fd' % init))
except OSError as e:
    print('fd dir', e.errno)
for fd in range(3, 12):
    try:
        os.open('/proc/%s/fd/%d' % (init, fd), os.O_WRONLY); print('OPENED', fd)
    except OSError as e:
        pass
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.match(r.out, /^init \d+$/m, 'sandbox-init not found');
        assert.match(r.out, /^fd dir 13$/m, r.out); // EACCES: init is not dumpable
        assert.doesNotMatch(r.out, /OPENED/);
      });

      it('cannot stop or kill sandbox-init, nor open /proc/1 for writing: the run ends on time with its report', async () => {
        // A stopped sandbox-init would hide the tree's CPU and memory and hold the run until its
        // timeout; a killed one would take the report with it. pid 1 of a pid namespace ignores
        // both signals from inside (under bwrap too: --as-pid-1).
        const r = await fixture.run(backend, {
          timeoutMs: 20_000,
          argv: sh(`
kill -STOP $PPID; echo "stop $?"
kill -KILL $PPID; echo "kill $?"
sleep 0.2
for what in mem environ; do
  if (exec 3>>/proc/1/$what) 2>/dev/null; then echo "OPENED /proc/1/$what"; else echo "refused /proc/1/$what"; fi
done
echo alive`),
        });
        assert.equal(r.killedBy, null, describeRun(r));
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.match(r.out, /^alive$/m, describeRun(r));
        assert.doesNotMatch(r.out, /OPENED/, describeRun(r));
        assert.ok(r.report, 'sandbox-init sent no report');
        assert.equal(r.report.end, 'exited');
        // the tree's usage, reaped by sandbox-init
        assert.ok(r.report.peakRssKb > 0 && r.report.userCpuUs + r.report.systemCpuUs > 0, `usage ${r.report.peakRssKb} KiB ${r.report.userCpuUs} us`);
      });

      it("wall-clock timeout kills the whole tree: double-forked, setsid'd, SIGTERM-ignoring", async () => {
        const marker = uniqueMarker(`timeout-${backend}`);
        const timeoutMs = 4000;
        const { run } = fixture.start(backend, { argv: escapingTreeArgv(marker, 'stay'), timeoutMs });
        try {
          assert.ok(await treeRunning(marker, 'stay'), `the tree never ran: ${JSON.stringify(processesWithMarker(marker))}`);
          const r = await run.result;
          assert.equal(r.killedBy, 'timeout', describeRun(r));
          assert.ok(r.wallMs < timeoutMs + 5000, `ended after ${r.wallMs} ms`);
          assert.match(r.stdout.head.toString(), /orphan running/);
          assert.deepEqual(await survivorsAfter(marker, SURVIVOR_GRACE_MS), []);
        } finally {
          killMarked(marker);
        }
      });

      it('kills orphans the command leaves behind when it exits', async () => {
        const marker = uniqueMarker(`orphan-${backend}`);
        const { run } = fixture.start(backend, { argv: escapingTreeArgv(marker, 'leave'), timeoutMs: 30_000 });
        try {
          const r = await run.result;
          assert.equal(r.exitCode, 0, describeRun(r));
          assert.equal(r.killedBy, null);
          assert.match(r.stdout.head.toString(), /orphan running/, 'the orphan never ran');
          assert.deepEqual(await survivorsAfter(marker, SURVIVOR_GRACE_MS), []);
        } finally {
          killMarked(marker);
        }
      });

      it('kill() ends the whole tree and says why', async () => {
        const marker = uniqueMarker(`kill-${backend}`);
        const { run } = fixture.start(backend, { argv: escapingTreeArgv(marker, 'stay'), timeoutMs: 60_000 });
        try {
          assert.ok(await treeRunning(marker, 'stay'), 'the tree never ran');
          const asked = Date.now();
          run.kill('shutdown');
          const r = await run.result;
          assert.equal(r.killedBy, 'shutdown', describeRun(r));
          assert.ok(Date.now() - asked < 5000, `took ${Date.now() - asked} ms to end`);
          assert.deepEqual(await survivorsAfter(marker, SURVIVOR_GRACE_MS), []);
        } finally {
          killMarked(marker);
        }
      });

      it('leaves no survivor when the server is SIGKILLed', async () => {
        const marker = uniqueMarker(`server-${backend}`);
        const server = spawn(process.execPath, [SERVER_CHILD], {
          env: { ...process.env, SANDBOX_TEST_CHILD_MARKER: marker, SANDBOX_TEST_CHILD_BACKEND: backend },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        server.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        server.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        let root: string | undefined;
        try {
          root = await pollFor(() => /^READY (\S+)$/m.exec(out)?.[1], 30_000);
          assert.ok(root, `the server child never got ready: ${out}\n${err}`);
          const before = processesWithMarker(marker);
          assert.ok(before.length >= 3, `expected init, main and orphan: ${JSON.stringify(before)}`);
          const exited = new Promise((resolve) => server.once('exit', resolve));
          server.kill('SIGKILL');
          await exited;
          assert.deepEqual(await survivorsAfter(marker, SURVIVOR_GRACE_MS), []);
        } finally {
          server.kill('SIGKILL');
          killMarked(marker);
          if (root) rmSync(root, { recursive: true, force: true });
        }
      });
    });
  }
});
