// Resource limits, each enforced for real: memory (RLIMIT_DATA), file size (SIGXFSZ), CPU time
// (SIGXCPU), open files, core dumps, stack, the number of processes, and bounded output. Each test
// pairs the failure with a control below the limit, so the limit (not something else) is what bites.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { bind } from '../../src/sandbox/policy.js';
import { KERNEL_COUNTS } from '../../src/sandbox/limits.js';
import { compileC } from '../helpers/compile.js';
import { BACKENDS, describeRun, MiB, python, SandboxFixture, sh, TEST_LIMITS } from '../helpers/sandbox-host.js';

/** Touches KIB kibibytes of stack, 64 KiB per frame, then prints "deep KIB". */
const STACK_SOURCE = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int descend(int frames) {
  volatile char pad[64 * 1024];
  memset((char *)pad, frames, sizeof pad);
  return frames == 0 ? pad[0] : descend(frames - 1) + pad[1];
}
int main(int argc, char **argv) {
  int kib = argc > 1 ? atoi(argv[1]) : 0;
  int r = descend(kib / 64);
  printf("deep %d %d\n", kib, r & 1);
  return 0;
}
`;

const fixture = await SandboxFixture.start();

const toolsDir = fixture.readOnlyDir();
compileC(STACK_SOURCE, toolsDir, 'stack-depth');
const tools = bind(toolsDir, '/tools')!;

describe('resource limits', () => {
  after(() => fixture.close());

  for (const backend of BACKENDS) {
    describe(backend, { skip: fixture.unavailable(backend) ?? false }, () => {
      it('attests the limits it ran under (the report from inside matches the policy)', async () => {
        const limits = { ...TEST_LIMITS, cpuSeconds: 7, memoryBytes: 200 * MiB, fileSizeBytes: 3 * MiB, openFiles: 99, stackBytes: 2 * MiB };
        const r = await fixture.run(backend, { argv: ['/bin/true'], limits });
        assert.equal(r.exitCode, 0, describeRun(r));
        const attested = fixture.host.attestation(r, limits);
        assert.ok(attested, 'no report from sandbox-init');
        assert.deepEqual(
          { ...attested.rlimits, processes: undefined },
          {
            cpu_seconds: 7,
            data_bytes: 200 * MiB,
            file_size_bytes: 3 * MiB,
            open_files: 99,
            core_bytes: 0,
            stack_bytes: 2 * MiB,
            processes: undefined,
            pending_signals: KERNEL_COUNTS.pendingSignals,
            message_queue_bytes: KERNEL_COUNTS.messageQueueBytes,
            locked_memory_bytes: KERNEL_COUNTS.lockedMemoryBytes,
          },
        );
      });

      it('memory: allocating beyond the limit fails with MemoryError, below it works', async () => {
        const r = await fixture.run(backend, {
          limits: { memoryBytes: 128 * MiB },
          argv: python(`
small = bytearray(32 * 1024 * 1024)
print('32MiB ok')
try:
    big = bytearray(256 * 1024 * 1024)
    print('256MiB ALLOCATED')
except MemoryError:
    print('256MiB MemoryError')
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.match(r.out, /^32MiB ok$/m);
        assert.match(r.out, /^256MiB MemoryError$/m);
      });

      it('memory: shared anonymous mappings, outside RLIMIT_DATA, are refused (sandbox-memory.test.ts has the rest)', async () => {
        const r = await fixture.run(backend, {
          limits: { memoryBytes: 64 * MiB },
          argv: python(`
import mmap
try:
    m = mmap.mmap(-1, 256 << 20)  # MAP_SHARED | MAP_ANONYMOUS
    for i in range(0, 256 << 20, 4096): m[i] = 1
    print('256MiB shared TOUCHED')
except (OSError, MemoryError) as e:
    print('256MiB shared refused', e)
`),
        });
        assert.doesNotMatch(r.out, /TOUCHED/, `peak ${r.peakMemoryKb} KiB under a 64 MiB limit`);
        assert.match(r.out, /256MiB shared refused/);
      });

      it('file size: writing past the limit is stopped by SIGXFSZ (killedBy file_size), the file holds exactly the limit', async () => {
        const r = await fixture.run(backend, { limits: { fileSizeBytes: 1 * MiB }, argv: sh('exec head -c 3145728 /dev/zero > /workspace/big') });
        assert.equal(r.signal, 'SIGXFSZ', describeRun(r));
        assert.equal(r.killedBy, 'file_size');
        assert.equal(statSync(path.join(r.workspace, 'big')).size, 1 * MiB);
      });

      it('file size: a file below the limit is written whole', async () => {
        const r = await fixture.run(backend, { limits: { fileSizeBytes: 1 * MiB }, argv: sh('exec head -c 1048576 /dev/zero > /workspace/fits') });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.equal(r.killedBy, null);
        assert.equal(statSync(path.join(r.workspace, 'fits')).size, 1 * MiB);
      });

      it('CPU time: a busy loop is stopped by SIGXCPU (killedBy cpu) after about its CPU budget', async () => {
        const r = await fixture.run(backend, { limits: { cpuSeconds: 1 }, timeoutMs: 60_000, argv: python('while True: pass') });
        assert.equal(r.signal, 'SIGXCPU', describeRun(r));
        assert.equal(r.killedBy, 'cpu');
        // rusage reads some 10-15% below the clock the limit is checked against (on a VM)
        const cpuMs = r.userCpuMs + r.systemCpuMs;
        assert.ok(cpuMs >= 700 && cpuMs < 5000, `used ${cpuMs} ms of CPU`);
        assert.ok(r.wallMs < 60_000, 'the wall timeout, not the CPU limit, ended it');
      });

      it('CPU time: ignoring SIGXCPU does not help, the hard limit kills (still reported as cpu)', async () => {
        const r = await fixture.run(backend, {
          limits: { cpuSeconds: 1 },
          timeoutMs: 60_000,
          argv: python('import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True: pass'),
        });
        assert.equal(r.signal, 'SIGKILL', describeRun(r));
        // past the soft limit (SIGXCPU ignored) up to the hard one; rusage may read a little low
        const cpuMs = r.userCpuMs + r.systemCpuMs;
        assert.ok(cpuMs >= 1000 && cpuMs < 6000, `used ${cpuMs} ms of CPU`);
        assert.equal(r.killedBy, 'cpu', 'a CPU-limit SIGKILL must be attributed to the CPU limit');
      });

      it("open files: the soft and hard limit are the policy's and cannot be raised; opening past it fails with EMFILE", async () => {
        const r = await fixture.run(backend, {
          limits: { openFiles: 64 },
          argv: python(`
import os, resource
print('nofile', *resource.getrlimit(resource.RLIMIT_NOFILE))
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096)); print('RAISED')
except (ValueError, OSError) as e:
    print('raise refused')
fds = []
try:
    while True: fds.append(os.open('/dev/null', os.O_RDONLY))
except OSError as e:
    print('opened', len(fds), 'then errno', e.errno)
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.match(r.out, /^nofile 64 64$/m);
        assert.match(r.out, /^raise refused$/m);
        const opened = /^opened (\d+) then errno 24$/m.exec(r.out); // EMFILE
        assert.ok(opened, r.out);
        assert.ok(Number(opened[1]) >= 50 && Number(opened[1]) <= 61, `opened ${opened[1]} files under a limit of 64`);
      });

      it('core dumps: limit 0 that cannot be raised, and a crash leaves no core file', async () => {
        const r = await fixture.run(backend, {
          argv: python(`
import os, resource, signal
print('core', *resource.getrlimit(resource.RLIMIT_CORE))
try:
    resource.setrlimit(resource.RLIMIT_CORE, (1 << 30, 1 << 30)); print('RAISED')
except (ValueError, OSError):
    print('raise refused')
pid = os.fork()
if pid == 0:
    os.chdir('/workspace')
    os.kill(os.getpid(), signal.SIGSEGV)
_, status = os.waitpid(pid, 0)
print('child signal', os.WTERMSIG(status), 'core dumped', os.WCOREDUMP(status))
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.match(r.out, /^core 0 0$/m);
        assert.match(r.out, /^raise refused$/m);
        assert.match(r.out, /^child signal 11 core dumped False$/m);
        assert.deepEqual(
          readdirSync(r.workspace).filter((name) => name.startsWith('core')),
          [],
        );
      });

      it('stack: a deep stack within the limit works, past it the process gets SIGSEGV', async () => {
        const within = await fixture.run(backend, { limits: { stackBytes: 8 * MiB }, extra: [tools], argv: ['/tools/stack-depth', '4096'] });
        assert.equal(within.exitCode, 0, describeRun(within));
        assert.match(within.out, /^deep 4096 /);
        const beyond = await fixture.run(backend, { limits: { stackBytes: 1 * MiB }, extra: [tools], argv: ['/tools/stack-depth', '4096'] });
        assert.equal(beyond.signal, 'SIGSEGV', describeRun(beyond));
        const shown = await fixture.run(backend, { limits: { stackBytes: 1 * MiB }, argv: sh('ulimit -Ss; ulimit -Hs') });
        assert.equal(shown.out, '1024\n1024\n');
      });

      it('processes: forking stops at the process limit (EAGAIN)', async () => {
        const maxProcesses = 310;
        const r = await fixture.run(backend, {
          limits: { maxProcesses },
          timeoutMs: 60_000,
          argv: python(`
import os, signal, time
children = []
try:
    while len(children) < 2000:
        pid = os.fork()
        if pid == 0:
            time.sleep(60); os._exit(0)
        children.append(pid)
    print('forked', len(children), 'NO LIMIT')
except OSError as e:
    print('forked', len(children), 'then errno', e.errno)
for pid in children: os.kill(pid, signal.SIGKILL)
for pid in children: os.waitpid(pid, 0)
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        const forked = /^forked (\d+) then errno 11$/m.exec(r.out); // EAGAIN
        assert.ok(forked, r.out);
        // init, bwrap and the python parent count too; other processes of the same uid may as well
        assert.ok(Number(forked[1]) <= maxProcesses && Number(forked[1]) >= maxProcesses / 2, `forked ${forked[1]} under a limit of ${maxProcesses}`);
      });

      it("cannot raise its process cap (native: its pid namespace's pid_max, bwrap: RLIMIT_NPROC)", async () => {
        const r = await fixture.run(backend, {
          limits: { maxProcesses: 333 },
          argv: python(`
import resource
if '${backend}' == 'native':
    try:
        with open('/proc/sys/kernel/pid_max', 'w') as f: f.write('4194304')
        print('pid_max RAISED')
    except OSError as e:
        print('pid_max refused', e.errno)
    print('pid_max', open('/proc/sys/kernel/pid_max').read().strip())
else:
    print('nproc', *resource.getrlimit(resource.RLIMIT_NPROC))
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)); print('nproc RAISED')
    except (ValueError, OSError):
        print('nproc refused')
`),
        });
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.doesNotMatch(r.out, /RAISED/, r.out);
        if (backend === 'native') {
          assert.match(r.out, /^pid_max refused 13$/m); // EACCES
          assert.match(r.out, /^pid_max 333$/m);
        } else {
          assert.match(r.out, /^nproc 333 333$/m);
          assert.match(r.out, /^nproc refused$/m);
        }
      });

      it('output: past the total output limit the run is killed (killedBy output), capture stays bounded', async () => {
        const r = await fixture.run(backend, { argv: ['/usr/bin/yes', 'spam'], captureBytes: 4096, maxTotalOutputBytes: 1 * MiB, timeoutMs: 30_000 });
        assert.equal(r.killedBy, 'output', describeRun(r));
        assert.equal(r.stdout.head.length, 4096);
        assert.equal(r.stdout.truncated, true);
        assert.ok(r.stdout.totalBytes > 1 * MiB, `only ${r.stdout.totalBytes} bytes counted`);
        assert.ok(r.wallMs < 20_000);
      });
    });
  }
});
