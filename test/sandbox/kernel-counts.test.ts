// What the kernel counts per user rather than per process (inotify instances, POSIX timers and
// queued signals, ...) is the sandbox's own: a sandbox that takes all it can gets its own small
// share, and the host's users (root under a root server, the server's uid otherwise) keep theirs.
// The user namespaces a sandbox lives in are owned by its host uid, never root, so nothing it holds
// is charged to root. Both backends; as root and as an unprivileged server.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Backend } from '../../src/sandbox/backend.js';
import { KERNEL_COUNTS } from '../../src/sandbox/limits.js';
import type { NativeBackend } from '../../src/sandbox/backends/native.js';
import { bind } from '../../src/sandbox/policy.js';
import { SandboxRun } from '../../src/sandbox/sandbox-run.js';
import { compileC } from '../helpers/compile.js';
import { pollFor } from '../helpers/processes.js';
import { BACKENDS, DEFAULT_ENV, describeRun, EXPECTED_HOST_UID, SandboxFixture, sh, TEST_LIMITS } from '../helpers/sandbox-host.js';

/**
 *   counts hold     takes every inotify instance and POSIX timer it can (bounded loops), prints
 *                   how many, creates /workspace/ready and holds them until /workspace/release
 *   counts host     one inotify instance and one POSIX timer: "host inotify=OK timer=OK" or errno
 *   counts owners P the owner uid of P's user namespace and of each ancestor below the caller's
 *                   own, innermost first
 */
const COUNTS_SOURCE = String.raw`
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/nsfs.h>

static int take_inotify(int most) {
  int n = 0;
  while (n < most && inotify_init1(IN_CLOEXEC) >= 0) n++;
  return n;
}
static int take_timers(int most) {
  int n = 0;
  timer_t timer;
  while (n < most && timer_create(CLOCK_MONOTONIC, NULL, &timer) == 0) n++;
  return n;
}
int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "hold") == 0) {
    int inotify = take_inotify(100000);
    int inotify_errno = errno;
    int timers = take_timers(200000);
    printf("inotify=%d (%s) timers=%d (%s)\n", inotify, strerror(inotify_errno), timers, strerror(errno));
    fflush(stdout);
    close(open("/workspace/ready", O_CREAT | O_WRONLY, 0644));
    for (int i = 0; i < 6000 && access("/workspace/release", F_OK) != 0; i++) usleep(10000);
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "host") == 0) {
    int fd = inotify_init1(IN_CLOEXEC);
    printf("host inotify=%s", fd >= 0 ? "OK" : strerror(errno));
    timer_t timer;
    printf(" timer=%s\n", timer_create(CLOCK_MONOTONIC, NULL, &timer) == 0 ? "OK" : strerror(errno));
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "owners") == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/ns/user", argv[2]);
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); return 1; }
    struct stat own;
    if (stat("/proc/self/ns/user", &own) != 0) { perror("own user namespace"); return 1; }
    printf("owners");
    for (int depth = 0; fd >= 0 && depth < 32; depth++) {
      struct stat ns;
      if (fstat(fd, &ns) == 0 && ns.st_ino == own.st_ino) break;  /* ours (and above): not the sandbox's */
      uid_t owner;
      if (ioctl(fd, NS_GET_OWNER_UID, &owner) != 0) { perror("NS_GET_OWNER_UID"); return 1; }
      printf(" %u", (unsigned)owner);
      int parent = ioctl(fd, NS_GET_PARENT);
      close(fd);
      fd = parent;
    }
    printf("\n");
    return 0;
  }
  fprintf(stderr, "usage: counts hold|host|owners PID\n");
  return 2;
}
`;

const fixture = await SandboxFixture.start();
const toolsDir = fixture.readOnlyDir();
const counts = compileC(COUNTS_SOURCE, toolsDir, 'counts');
const tools = bind(toolsDir, '/tools')!;

/** The backends to try: native both joining a network made ahead and making its own. */
function variants(): { name: string; backend: Backend | undefined; skip: string | boolean }[] {
  const native = fixture.host.usable.native as NativeBackend | undefined;
  return [
    ...BACKENDS.map((name) => ({ name, backend: fixture.host.usable[name], skip: fixture.unavailable(name) ?? false })),
    { name: 'native, its own network namespace', backend: native?.withoutPreparedNetworks(), skip: false },
  ];
}

/** Host pids of the sandboxed "counts hold" processes (the test's host sees every pid). */
function holders(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1') === '/tools/counts\0hold\0') found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

describe('per-user kernel counts', () => {
  after(() => fixture.close());

  for (const { name, backend, skip } of variants()) {
    describe(name, { skip }, () => {
      it("a sandbox gets its own inotify instances and POSIX timers, the host's uid keeps its own, and no user namespace of it is root's", async () => {
        const workspace = fixture.workspace();
        const policy = fixture.host.policy([bind(workspace, '/workspace', { writable: true })!, tools], TEST_LIMITS);
        const command = { argv: ['/tools/counts', 'hold'], env: { ...DEFAULT_ENV }, cwd: '/workspace' };
        const run = new SandboxRun(backend!, policy, command, { timeoutMs: 120_000, captureBytesPerStream: 65536, maxTotalOutputBytes: 1 << 20, resultChannel: false });
        let host: string;
        let owners: string;
        try {
          const ready = await pollFor(() => existsSync(path.join(workspace, 'ready')) || undefined, 90_000);
          assert.ok(ready, 'the sandbox did not get ready');
          // as the test's own uid: host root under a root server, the server's uid otherwise
          host = execFileSync(counts, ['host'], { encoding: 'utf8' });
          const [pid] = holders();
          assert.ok(pid, 'the sandboxed holder is not visible from the host');
          owners = execFileSync(counts, ['owners', String(pid)], { encoding: 'utf8' });
        } finally {
          writeFileSync(path.join(workspace, 'release'), '');
        }
        const r = await run.result;
        const out = r.stdout.head.toString();
        assert.equal(r.exitCode, 0, describeRun(r));
        const taken = /inotify=(\d+) .* timers=(\d+)/.exec(out);
        assert.ok(taken, out);
        assert.equal(Number(taken[1]), KERNEL_COUNTS.inotifyInstances, `inotify instances the sandbox got: ${out}`);
        assert.equal(Number(taken[2]), KERNEL_COUNTS.pendingSignals, `POSIX timers the sandbox got: ${out}`);
        assert.equal(host.trim(), 'host inotify=OK timer=OK', 'the host uid lost its own while the sandbox held its');
        const chain = owners.trim().split(' ').slice(1).map(Number);
        assert.ok(chain.length >= 1, owners);
        assert.deepEqual(
          chain,
          chain.map(() => EXPECTED_HOST_UID),
          `owners of the sandbox's user namespaces: ${owners}`,
        );
      });

      it('cannot raise its own limits: not with capabilities (none), not through the environment sandbox-init reads under bwrap', async () => {
        const policy = fixture.host.policy([], TEST_LIMITS);
        const command = {
          argv: sh('echo 100000 > /proc/sys/user/max_inotify_instances; echo "wrote $?"; cat /proc/sys/user/max_inotify_instances /proc/sys/user/max_user_namespaces'),
          env: { ...DEFAULT_ENV, SANDBOX_USER_NAMESPACE_LIMITS: 'max_inotify_instances=100000 max_user_namespaces=100' },
          cwd: '/',
        };
        const r = await new SandboxRun(backend!, policy, command, { timeoutMs: 30_000, captureBytesPerStream: 4096, maxTotalOutputBytes: 1 << 20, resultChannel: false }).result;
        assert.equal(r.exitCode, 0, describeRun(r));
        assert.deepEqual(r.stdout.head.toString().trim().split('\n').slice(-2), [String(KERNEL_COUNTS.inotifyInstances), '0'], describeRun(r));
        assert.doesNotMatch(r.stdout.head.toString(), /wrote 0/);
      });
    });
  }
});
