// The seccomp filter, from inside real sandboxes: every system call the issue lists is denied with
// EPERM (clone3 with ENOSYS, so libc falls back to an inspectable clone), the harmless personality
// query still works, and the x32 ABI and i386 `int 0x80` (where the kernel has that entry) kill the process with SIGSYS.
//
// A sandboxed process has no capabilities, so the kernel itself would refuse some of these calls
// with EPERM too. To prove the filter is what answers, the probe passes arguments that a kernel
// without the filter answers differently (a bad pointer -> EFAULT, a bad fd -> EBADF, or success),
// and the same probe runs on the host twice: unfiltered with the most privilege the test has (root,
// or root of a fresh user+mount namespace when the suite runs unprivileged), where no answer may be
// EPERM, and with the exact program the sandboxes load, where every answer must be the filter's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadNative } from '../../src/sandbox/native-addon.js';
import { bind } from '../../src/sandbox/policy.js';
import { compileC } from '../helpers/compile.js';
import { BACKENDS, describeRun, SandboxFixture, SERVER_IS_ROOT } from '../helpers/sandbox-host.js';

const EPERM = 1;
const ENOSYS = 38;

/**
 * One line per call: "NAME RC ERRNO", each call in a child of its own (a call that succeeds
 * unfiltered, such as unshare(CLONE_NEWUSER), must not change what the next call sees).
 * Every argument is chosen so that, should the call get through, it does nothing: bad pointers,
 * bad fds, invalid flags, or an operation on the probe's own throw-away child.
 */
const PROBE_SOURCE = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define BAD 1L /* an address nothing is mapped at: EFAULT wherever the kernel reads it */

static long clone_flags(unsigned long flags) {
  long r = syscall(SYS_clone, flags | SIGCHLD, 0L, 0L, 0L, 0L);
  if (r == 0) _exit(0);
  if (r > 0) waitpid((pid_t)r, NULL, 0);
  return r;
}
static long t_mount(void) { return syscall(SYS_mount, 0L, BAD, BAD, 0L, 0L); }
static long t_umount2(void) { return syscall(SYS_umount2, BAD, 0L); }
static long t_pivot_root(void) { return syscall(SYS_pivot_root, BAD, BAD); }
static long t_chroot(void) { return syscall(SYS_chroot, BAD); }
static long t_move_mount(void) { return syscall(SYS_move_mount, -1L, "", -1L, "", 0xffffff00L); }
static long t_open_tree(void) { return syscall(SYS_open_tree, (long)AT_FDCWD, "/", 0L); }
static long t_fsopen(void) { return syscall(SYS_fsopen, BAD, 0L); }
static long t_fsconfig(void) { return syscall(SYS_fsconfig, -1L, 0L, 0L, 0L, 0L); }
static long t_fsmount(void) { return syscall(SYS_fsmount, -1L, 0L, 0L); }
static long t_fspick(void) { return syscall(SYS_fspick, (long)AT_FDCWD, BAD, 0L); }
static long t_mount_setattr(void) { return syscall(SYS_mount_setattr, (long)AT_FDCWD, BAD, 0L, BAD, 0L); }
static long t_unshare_user(void) { return syscall(SYS_unshare, (long)CLONE_NEWUSER); }
static long t_unshare_user_mount(void) { return syscall(SYS_unshare, (long)(CLONE_NEWUSER | CLONE_NEWNS)); }
static long t_unshare_user_net(void) { return syscall(SYS_unshare, (long)(CLONE_NEWUSER | CLONE_NEWNET)); }
static long t_setns(void) { return syscall(SYS_setns, -1L, 0L); }
static long t_clone_user(void) { return clone_flags(CLONE_NEWUSER); }
static long t_clone_user_pid(void) { return clone_flags(CLONE_NEWUSER | CLONE_NEWPID); }
static long t_clone_user_mount(void) { return clone_flags(CLONE_NEWUSER | CLONE_NEWNS); }
static long t_clone_user_net(void) { return clone_flags(CLONE_NEWUSER | CLONE_NEWNET); }
static long t_clone_user_ipc_uts(void) { return clone_flags(CLONE_NEWUSER | CLONE_NEWIPC | CLONE_NEWUTS); }
static long t_clone_user_cgroup(void) { return clone_flags(CLONE_NEWUSER | CLONE_NEWCGROUP); }
/* the kernel only reads the low 32 bits of clone's flags: junk above them must not hide a flag */
static long t_clone_user_high_bits(void) { return clone_flags(0xffff000000000000UL | CLONE_NEWUSER); }
static long t_clone3(void) { return syscall(SYS_clone3, 0L, 0L); }
static long t_ptrace(void) { return syscall(SYS_ptrace, 2L /* PEEKDATA */, 0x3fffffffL, 0L, 0L); }
static long t_process_vm_readv(void) {
  char from[8] = "secret", to[8];
  struct iovec local = {to, sizeof to}, remote = {from, sizeof from};
  return syscall(SYS_process_vm_readv, (long)getpid(), &local, 1L, &remote, 1L, 0L);
}
static long t_process_vm_writev(void) {
  char from[8] = "secret", to[8];
  struct iovec local = {from, sizeof from}, remote = {to, sizeof to};
  return syscall(SYS_process_vm_writev, (long)getpid(), &local, 1L, &remote, 1L, 0L);
}
static long t_pidfd_getfd(void) { return syscall(SYS_pidfd_getfd, -1L, 0L, 0L); }
static long t_keyctl(void) { return syscall(SYS_keyctl, 9999L, 0L, 0L, 0L, 0L); }
static long t_add_key(void) { return syscall(SYS_add_key, BAD, BAD, 0L, 0L, -1L); }
static long t_request_key(void) { return syscall(SYS_request_key, BAD, BAD, 0L, 0L); }
static long t_bpf(void) { return syscall(SYS_bpf, 9999L, 0L, 0L); }
static long t_perf_event_open(void) { return syscall(SYS_perf_event_open, BAD, 0L, -1L, -1L, 0L); }
static long t_userfaultfd(void) { return syscall(SYS_userfaultfd, 1L /* UFFD_USER_MODE_ONLY */ | O_CLOEXEC); }
static long t_io_uring_setup(void) { return syscall(SYS_io_uring_setup, 1L, BAD); }
static long t_io_uring_enter(void) { return syscall(SYS_io_uring_enter, -1L, 0L, 0L, 0L, 0L, 0L); }
static long t_io_uring_register(void) { return syscall(SYS_io_uring_register, -1L, 0L, 0L, 0L); }
static long t_kexec_load(void) { return syscall(SYS_kexec_load, 0L, 0L, 0L, 0xdead0000L); }
static long t_kexec_file_load(void) { return syscall(SYS_kexec_file_load, -1L, -1L, 0L, 0L, 0xdead0000L); }
static long t_init_module(void) { return syscall(SYS_init_module, 0L, 0L, ""); }
static long t_finit_module(void) { return syscall(SYS_finit_module, -1L, "", 0L); }
static long t_delete_module(void) { return syscall(SYS_delete_module, BAD, 0L); }
static long t_reboot(void) { return syscall(SYS_reboot, 0L, 0L, 0L, 0L); /* bad magic */ }
static long t_swapon(void) { return syscall(SYS_swapon, BAD, 0L); }
static long t_swapoff(void) { return syscall(SYS_swapoff, BAD); }
static long t_acct(void) { return syscall(SYS_acct, BAD); }
static long t_quotactl(void) { return syscall(SYS_quotactl, 0xffL /* no such quota type */, 0L, 0L, 0L); }
static long t_open_by_handle_at(void) { return syscall(SYS_open_by_handle_at, (long)AT_FDCWD, BAD, (long)O_RDONLY); }
static long t_name_to_handle_at(void) {
  union { struct file_handle h; char room[sizeof(struct file_handle) + 128]; } handle;
  int mount_id;
  handle.h.handle_bytes = 128;
  return syscall(SYS_name_to_handle_at, (long)AT_FDCWD, "/proc/self/exe", &handle.h, &mount_id, 0L);
}
static long t_settimeofday(void) { return syscall(SYS_settimeofday, BAD, 0L); }
static long t_clock_settime(void) { return syscall(SYS_clock_settime, 0L /* REALTIME */, BAD); }
static long t_clock_adjtime(void) { return syscall(SYS_clock_adjtime, 0L, BAD); }
static long t_adjtimex(void) { return syscall(SYS_adjtimex, BAD); }
static long t_personality_no_randomize(void) { return syscall(SYS_personality, 0x0040000L); }
static long t_personality_read_implies_exec(void) { return syscall(SYS_personality, 0x0400000L); }
static long t_personality_compat_layout(void) { return syscall(SYS_personality, 0x0200000L); }
static long t_personality_page_zero(void) { return syscall(SYS_personality, 0x0100000L); }
/* bit 31 is how the filter tells the query apart: it must not smuggle a weakening bit through */
static long t_personality_top_bit_no_randomize(void) { return syscall(SYS_personality, 0x80040000L); }
static long t_iopl(void) { return syscall(SYS_iopl, 0L); }
static long t_ioperm(void) { return syscall(SYS_ioperm, 0x10000L, 1L, 0L); }
static long t_ioctl_tiocsti(void) { char c = 'x'; return syscall(SYS_ioctl, 0L, 0x5412L /* TIOCSTI */, &c); }
/* allowed: must keep working under the filter */
static long t_personality_query(void) { return syscall(SYS_personality, 0xffffffffL); }
static long t_personality_linux(void) { return syscall(SYS_personality, 0L /* PER_LINUX */); }
static long t_personality_linux32(void) { return syscall(SYS_personality, 0x0008L /* PER_LINUX32 */); }
static long t_plain_fork(void) { return clone_flags(0); }
static long t_getpid(void) { return syscall(SYS_getpid); }

static const struct { const char *name; long (*call)(void); } CALLS[] = {
  {"mount", t_mount}, {"umount2", t_umount2}, {"pivot_root", t_pivot_root}, {"chroot", t_chroot},
  {"move_mount", t_move_mount}, {"open_tree", t_open_tree}, {"fsopen", t_fsopen}, {"fsconfig", t_fsconfig},
  {"fsmount", t_fsmount}, {"fspick", t_fspick}, {"mount_setattr", t_mount_setattr},
  {"unshare(CLONE_NEWUSER)", t_unshare_user}, {"unshare(CLONE_NEWUSER|CLONE_NEWNS)", t_unshare_user_mount},
  {"unshare(CLONE_NEWUSER|CLONE_NEWNET)", t_unshare_user_net}, {"setns", t_setns},
  {"clone(CLONE_NEWUSER)", t_clone_user}, {"clone(CLONE_NEWUSER|CLONE_NEWPID)", t_clone_user_pid},
  {"clone(CLONE_NEWUSER|CLONE_NEWNS)", t_clone_user_mount}, {"clone(CLONE_NEWUSER|CLONE_NEWNET)", t_clone_user_net},
  {"clone(CLONE_NEWUSER|CLONE_NEWIPC|CLONE_NEWUTS)", t_clone_user_ipc_uts},
  {"clone(CLONE_NEWUSER|CLONE_NEWCGROUP)", t_clone_user_cgroup}, {"clone(high bits|CLONE_NEWUSER)", t_clone_user_high_bits},
  {"clone3", t_clone3}, {"ptrace", t_ptrace}, {"process_vm_readv", t_process_vm_readv},
  {"process_vm_writev", t_process_vm_writev}, {"pidfd_getfd", t_pidfd_getfd}, {"keyctl", t_keyctl},
  {"add_key", t_add_key}, {"request_key", t_request_key}, {"bpf", t_bpf}, {"perf_event_open", t_perf_event_open},
  {"userfaultfd", t_userfaultfd}, {"io_uring_setup", t_io_uring_setup}, {"io_uring_enter", t_io_uring_enter},
  {"io_uring_register", t_io_uring_register}, {"kexec_load", t_kexec_load}, {"kexec_file_load", t_kexec_file_load},
  {"init_module", t_init_module}, {"finit_module", t_finit_module}, {"delete_module", t_delete_module},
  {"reboot", t_reboot}, {"swapon", t_swapon}, {"swapoff", t_swapoff}, {"acct", t_acct}, {"quotactl", t_quotactl},
  {"open_by_handle_at", t_open_by_handle_at}, {"name_to_handle_at", t_name_to_handle_at},
  {"settimeofday", t_settimeofday}, {"clock_settime", t_clock_settime}, {"clock_adjtime", t_clock_adjtime},
  {"adjtimex", t_adjtimex}, {"personality(ADDR_NO_RANDOMIZE)", t_personality_no_randomize},
  {"personality(READ_IMPLIES_EXEC)", t_personality_read_implies_exec},
  {"personality(ADDR_COMPAT_LAYOUT)", t_personality_compat_layout}, {"personality(MMAP_PAGE_ZERO)", t_personality_page_zero},
  {"personality(bit 31|ADDR_NO_RANDOMIZE)", t_personality_top_bit_no_randomize},
  {"iopl", t_iopl}, {"ioperm", t_ioperm}, {"ioctl(TIOCSTI)", t_ioctl_tiocsti},
  {"personality(query)", t_personality_query}, {"personality(PER_LINUX)", t_personality_linux},
  {"personality(PER_LINUX32)", t_personality_linux32},
  {"clone(plain fork)", t_plain_fork}, {"getpid", t_getpid},
};

static void load_filter(const char *file) {
  static struct sock_filter program[4096];
  FILE *f = fopen(file, "rb");
  if (!f) { perror("open filter"); exit(2); }
  size_t n = fread(program, sizeof program[0], sizeof program / sizeof program[0], f);
  fclose(f);
  struct sock_fprog prog = {(unsigned short)n, program};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("no_new_privs"); exit(2); }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0L, &prog) != 0) { perror("seccomp"); exit(2); }
}

static int table(void) {
  for (size_t i = 0; i < sizeof CALLS / sizeof CALLS[0]; i++) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
      setsid(); /* no controlling terminal for the calls to touch */
      errno = 0;
      long rc = CALLS[i].call();
      printf("%s %ld %d\n", CALLS[i].name, rc, rc < 0 ? errno : 0);
      fflush(stdout);
      _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    if (WIFSIGNALED(status)) printf("%s killed %d\n", CALLS[i].name, WTERMSIG(status));
  }
  return 0;
}

/* getpid through the x32 ABI: the x86-64 syscall instruction with bit 30 set in the number. */
static int x32(void) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(0x40000000L | 39L) : "rcx", "r11", "memory");
  printf("x32 getpid returned %ld\n", ret);
  return 0;
}

/* getpid (20) through the i386 ABI: int 0x80 from a 64-bit process. */
static int int80(void) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
  printf("int80 getpid returned %ld\n", ret);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int i = 1;
  if (argc > 2 && strcmp(argv[1], "--filter") == 0) { load_filter(argv[2]); i = 3; }
  if (i < argc && strcmp(argv[i], "table") == 0) return table();
  if (i < argc && strcmp(argv[i], "x32") == 0) return x32();
  if (i < argc && strcmp(argv[i], "int80") == 0) return int80();
  fprintf(stderr, "usage: probe [--filter FILE] table|x32|int80\n");
  return 2;
}
`;

/** Calls the filter must deny, with the errno it answers. */
const DENIED: Record<string, number> = Object.fromEntries(
  [
    'mount',
    'umount2',
    'pivot_root',
    'chroot',
    'move_mount',
    'open_tree',
    'fsopen',
    'fsconfig',
    'fsmount',
    'fspick',
    'mount_setattr',
    'unshare(CLONE_NEWUSER)',
    'unshare(CLONE_NEWUSER|CLONE_NEWNS)',
    'unshare(CLONE_NEWUSER|CLONE_NEWNET)',
    'setns',
    'clone(CLONE_NEWUSER)',
    'clone(CLONE_NEWUSER|CLONE_NEWPID)',
    'clone(CLONE_NEWUSER|CLONE_NEWNS)',
    'clone(CLONE_NEWUSER|CLONE_NEWNET)',
    'clone(CLONE_NEWUSER|CLONE_NEWIPC|CLONE_NEWUTS)',
    'clone(CLONE_NEWUSER|CLONE_NEWCGROUP)',
    'clone(high bits|CLONE_NEWUSER)',
    'ptrace',
    'process_vm_readv',
    'process_vm_writev',
    'pidfd_getfd',
    'keyctl',
    'add_key',
    'request_key',
    'bpf',
    'perf_event_open',
    'userfaultfd',
    'io_uring_setup',
    'io_uring_enter',
    'io_uring_register',
    'kexec_load',
    'kexec_file_load',
    'init_module',
    'finit_module',
    'delete_module',
    'reboot',
    'swapon',
    'swapoff',
    'acct',
    'quotactl',
    'open_by_handle_at',
    'name_to_handle_at',
    'settimeofday',
    'clock_settime',
    'clock_adjtime',
    'adjtimex',
    'personality(ADDR_NO_RANDOMIZE)',
    'personality(READ_IMPLIES_EXEC)',
    'personality(ADDR_COMPAT_LAYOUT)',
    'personality(MMAP_PAGE_ZERO)',
    'personality(bit 31|ADDR_NO_RANDOMIZE)',
    'iopl',
    'ioperm',
    'ioctl(TIOCSTI)',
  ].map((name) => [name, EPERM]),
);
DENIED.clone3 = ENOSYS;

const ALLOWED = ['personality(query)', 'personality(PER_LINUX)', 'personality(PER_LINUX32)', 'clone(plain fork)', 'getpid'];

/**
 * Calls only the initial user namespace's root may make: without it the kernel answers EPERM before
 * looking at the arguments, so an unprivileged control run cannot tell the filter's EPERM from the
 * kernel's. (Where this kernel lacks the feature, it answers ENOSYS and the proof works anyway.)
 */
const NEEDS_HOST_ROOT = new Set(['kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'reboot', 'swapon', 'swapoff', 'acct']);

interface Outcome {
  rc: number;
  errno: number;
  killedBy?: number;
}

function parseTable(text: string): Map<string, Outcome> {
  const outcomes = new Map<string, Outcome>();
  for (const line of text.split('\n')) {
    const killed = /^(.+) killed (\d+)$/.exec(line);
    if (killed) {
      outcomes.set(killed[1]!, { rc: NaN, errno: NaN, killedBy: Number(killed[2]) });
      continue;
    }
    const m = /^(.+) (-?\d+) (\d+)$/.exec(line);
    if (m) outcomes.set(m[1]!, { rc: Number(m[2]), errno: Number(m[3]) });
  }
  return outcomes;
}

const show = (o: Outcome | undefined) => (o === undefined ? 'no answer' : o.killedBy ? `killed by signal ${o.killedBy}` : o.rc < 0 ? `errno ${o.errno}` : `success (${o.rc})`);

const fixture = await SandboxFixture.start();
const probeDir = fixture.readOnlyDir();
const probe = compileC(PROBE_SOURCE, probeDir, 'syscall-probe');
const filterFile = path.join(probeDir, 'filter.bpf');
writeFileSync(filterFile, loadNative().addon.seccompProgram());

/**
 * Runs the probe on the host, outside any sandbox, with the most privilege this test has: root
 * itself, or root of a new user and mount namespace (CAP_SYS_ADMIN over them) when unprivileged.
 */
function onHost(args: string[]): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const [file, argv] = SERVER_IS_ROOT ? [probe, args] : ['unshare', ['--user', '--map-root-user', '--mount', '--', probe, ...args]];
  const r = spawnSync(file, argv, { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Some kernels have no i386 entry at all (IA32 emulation off, or a paravirtualised guest such as
 * this project's CI VMs): `int 0x80` then faults with SIGSEGV before any system call or filter
 * runs. The i386 probe proves the filter only where the host control shows the entry exists.
 */
const INT80_ABSENT = onHost(['int80']).signal === 'SIGSEGV' ? 'this kernel has no i386 system-call entry (int 0x80 faults with SIGSEGV unfiltered): no i386 call can run, filter or not' : undefined;

describe('seccomp filter', () => {
  after(() => fixture.close());

  describe("host controls (the arguments are meaningful, the program is the sandboxes')", () => {
    it(`unfiltered, ${SERVER_IS_ROOT ? 'as root' : 'as root of a user namespace'}, no listed call fails with EPERM`, () => {
      const r = onHost(['table']);
      assert.equal(r.status, 0, r.stderr);
      const outcomes = parseTable(r.stdout);
      const proven: string[] = [];
      for (const name of [...Object.keys(DENIED), ...ALLOWED]) {
        const o = outcomes.get(name);
        assert.ok(o && o.killedBy === undefined, `${name}: ${show(o)}`);
        if (!SERVER_IS_ROOT && NEEDS_HOST_ROOT.has(name)) continue;
        assert.ok(o.rc >= 0 || o.errno !== EPERM, `${name} answers EPERM even without the filter: this probe cannot tell the filter's answer apart`);
        proven.push(name);
      }
      for (const name of ALLOWED) assert.ok(outcomes.get(name)!.rc >= 0, `${name} fails unfiltered: ${show(outcomes.get(name))}`);
      assert.ok(proven.length >= Object.keys(DENIED).length - NEEDS_HOST_ROOT.size, `proven: ${proven.join(', ')}`);
    });

    it("with the exported program loaded, a host process gets the filter's answer for every listed call", () => {
      const r = onHost(['--filter', filterFile, 'table']);
      assert.equal(r.status, 0, r.stderr);
      const outcomes = parseTable(r.stdout);
      for (const [name, errno] of Object.entries(DENIED)) {
        const o = outcomes.get(name);
        assert.ok(o && o.rc === -1 && o.errno === errno, `${name}: expected errno ${errno}, got ${show(o)}`);
      }
      for (const name of ALLOWED) assert.ok((outcomes.get(name)?.rc ?? -1) >= 0, `${name} should work: ${show(outcomes.get(name))}`);
    });

    it("unfiltered, the x32 and int 0x80 probes are not killed (so SIGSYS below is the filter's)", () => {
      for (const mode of INT80_ABSENT ? ['x32'] : ['x32', 'int80']) {
        const r = onHost([mode]);
        assert.equal(r.signal, null, `${mode} killed by ${r.signal} without a filter`);
        assert.match(r.stdout, new RegExp(`^${mode} getpid returned -?\\d+$`, 'm'));
      }
    });
  });

  for (const backend of BACKENDS) {
    describe(backend, { skip: fixture.unavailable(backend) ?? false }, () => {
      const inSandbox = (mode: string) => fixture.run(backend, { argv: ['/probe/syscall-probe', mode], extra: [bind(probeDir, '/probe')!], timeoutMs: 60_000 });

      it('denies every listed system call (EPERM; clone3: ENOSYS)', async () => {
        const r = await inSandbox('table');
        assert.equal(r.exitCode, 0, describeRun(r));
        const outcomes = parseTable(r.out);
        const wrong: string[] = [];
        for (const [name, errno] of Object.entries(DENIED)) {
          const o = outcomes.get(name);
          if (!(o && o.rc === -1 && o.errno === errno)) wrong.push(`${name}: expected errno ${errno}, got ${show(o)}`);
        }
        assert.deepEqual(wrong, []);
      });

      it('still allows the personality query, PER_LINUX, PER_LINUX32, a plain fork and getpid', async () => {
        const r = await inSandbox('table');
        const outcomes = parseTable(r.out);
        for (const name of ALLOWED) assert.ok((outcomes.get(name)?.rc ?? -1) >= 0, `${name}: ${show(outcomes.get(name))}`);
        // and ASLR is still on: the query reports no ADDR_NO_RANDOMIZE (0x0040000)
        assert.equal(outcomes.get('personality(query)')!.rc & 0x0040000, 0);
      });

      for (const mode of ['x32', 'int80']) {
        const skip = mode === 'int80' ? (INT80_ABSENT ?? false) : false;
        it(`kills a process making a ${mode === 'x32' ? 'x32-ABI system call' : 'i386 int 0x80 system call'} with SIGSYS`, { skip }, async () => {
          const r = await inSandbox(mode);
          assert.equal(r.signal, 'SIGSYS', describeRun(r));
          assert.doesNotMatch(r.out, /returned/);
        });
      }
    });
  }
});
