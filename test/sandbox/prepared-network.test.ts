// Network namespaces the addon makes ahead (native backend): one held by a handle is joined by
// every sandbox given it (a session's), one taken from the reserve by one sandbox only, and the
// handle API refuses what it did not make.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { compileC } from '../helpers/compile.js';
import { loadNative, type NetworkHandle } from '../../src/sandbox/native-addon.js';
import type { NativeBackend } from '../../src/sandbox/backends/native.js';
import { SandboxRun, spawnSandbox } from '../../src/sandbox/sandbox-run.js';
import { pollFor } from '../helpers/processes.js';
import { describeRun, SandboxFixture, sh, TEST_LIMITS } from '../helpers/sandbox-host.js';

const fixture = await SandboxFixture.start();
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

/**
 * Runs a program whose setns(2) fails with `errno` (a seccomp filter): EPERM as some container
 * profiles refuse it, ENOMEM as a transient failure would.
 */
const setnsFailingWith = (errno: 'EPERM' | 'ENOMEM'): string => `
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  struct sock_filter code[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setns, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ${errno}),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {sizeof code / sizeof code[0], code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program)) { perror("seccomp"); return 111; }
  execv(argv[1], argv + 1);
  perror("execv");
  return 112;
}
`;
const native = fixture.host.usable.native as NativeBackend;

/** The network namespace a sandbox sees (its /proc/self/ns/net link). */
async function networkOf(network?: NetworkHandle, then = ''): Promise<string> {
  const policy = fixture.host.policy([], TEST_LIMITS);
  const command = { argv: sh(`readlink /proc/self/ns/net${then}`), env: { PATH: '/usr/bin:/bin' }, cwd: '/' };
  const spawned = spawnSandbox(native, policy, command, false, network);
  const r = await new SandboxRun(native, policy, command, { timeoutMs: 10_000, captureBytesPerStream: 4096, maxTotalOutputBytes: 1 << 20, resultChannel: false }, spawned).result;
  assert.equal(r.exitCode, 0, describeRun(r));
  return r.stdout.head.toString().trim();
}

describe('prepared network namespaces (native)', () => {
  after(() => fixture.close());

  it('a handle is joined by every sandbox given it; other sandboxes each get one of their own', async () => {
    const handle = await pollFor(() => native.takeNetwork() ?? undefined, 10_000);
    assert.ok(handle, 'the addon made no network namespace ahead within 10 s');
    try {
      const shared = [await networkOf(handle), await networkOf(handle)];
      const own = [await networkOf(), await networkOf()];
      assert.match(shared[0]!, /^net:\[\d+\]$/);
      assert.equal(shared[0], shared[1], 'two sandboxes given one handle are in one network namespace');
      assert.equal(new Set([shared[0], ...own]).size, 3, `without the handle each sandbox has its own: ${[...shared, ...own].join(' ')}`);
    } finally {
      loadNative().addon.releaseNetwork(handle);
    }
    // Released: sandboxes given the handle still run, but each in a network namespace of its own.
    // Two alive at once (the sleep keeps the first while the second starts; both are spawned in
    // this turn): distinct namespaces then have distinct inodes, which a freed one could reuse.
    const afterRelease = await Promise.all([networkOf(handle, '; sleep 1'), networkOf(handle, '; sleep 1')]);
    assert.match(afterRelease[0]!, /^net:\[\d+\]$/);
    assert.notEqual(afterRelease[0], afterRelease[1], 'a released handle is no longer joined');
  });

  it('where setns is refused, sandboxes make their own network namespace, and the probe says so', { skip: process.arch !== 'x64' ? 'the filter is written for x86_64' : false }, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-test-nosetns-'));
    chmodSync(dir, 0o711);
    try {
      const wrapper = compileC(setnsFailingWith('EPERM'), dir, 'without-setns');
      const env = { ...process.env, STATE_PATH: path.join(dir, 'state') };
      const probe = JSON.parse(execFileSync(wrapper, [process.execPath, MAIN, 'probe'], { env, encoding: 'utf8' })) as {
        backends: { backend: string; available: boolean; prepared_networks?: boolean }[];
      };
      const native = probe.backends.find((b) => b.backend === 'native');
      assert.equal(native?.available, true, JSON.stringify(probe.backends));
      assert.equal(native?.prepared_networks, false, JSON.stringify(native));
      const run = JSON.parse(execFileSync(wrapper, [process.execPath, MAIN, 'run', '--json', '--', '/bin/sh', '-c', 'readlink /proc/self/ns/net'], { env, encoding: 'utf8' })) as {
        status: string;
        stdout: string;
      };
      assert.equal(run.status, 'success', JSON.stringify(run));
      assert.match(run.stdout, /^net:\[\d+\]$/m);
      assert.notEqual(run.stdout.trim(), execFileSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }).trim(), 'the sandbox has a network namespace of its own');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('one join that fails for a transient reason does not turn prepared networks off', { skip: process.arch !== 'x64' ? 'the filter is written for x86_64' : false }, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-test-setns-enomem-'));
    chmodSync(dir, 0o711);
    try {
      const wrapper = compileC(setnsFailingWith('ENOMEM'), dir, 'setns-enomem');
      const env = { ...process.env, STATE_PATH: path.join(dir, 'state') };
      // the probe's sandbox fails to join its prepared network (ENOMEM), makes its own and runs
      const probe = JSON.parse(execFileSync(wrapper, [process.execPath, MAIN, 'probe'], { env, encoding: 'utf8' })) as {
        backends: { backend: string; available: boolean; prepared_networks?: boolean }[];
      };
      const native = probe.backends.find((b) => b.backend === 'native');
      assert.equal(native?.available, true, JSON.stringify(probe.backends));
      assert.equal(native?.prepared_networks, true, JSON.stringify(native));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a handle it did not make', () => {
    const { plan } = native.render(fixture.host.policy([], TEST_LIMITS), { argv: ['/bin/true'], env: {}, cwd: '/' }, ['null', 'null', 'null'], {} as NetworkHandle);
    assert.throws(
      () => loadNative().addon.spawn(plan, () => {}),
      (e: Error) => e instanceof TypeError && /network: expected a handle from takeNetwork\(\)/.test(e.message),
    );
    assert.throws(() => loadNative().addon.releaseNetwork({} as NetworkHandle), TypeError);
  });
});
