// The syscall filter every sandbox runs under. Default allow, with a deny list of what lets code
// reach past its namespaces or the kernel's hardening: mount and namespace manipulation, tracing
// and other processes' memory, keyrings, bpf/perf/userfaultfd/io_uring (large attack surface),
// module, reboot, clock and quota administration, file handles (open_by_handle_at escapes bind
// mounts), and ASLR-weakening personalities. Foreign architectures and the x32 ABI kill the process.
#include "parent/seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <unistd.h>

#include <cstring>

namespace sandbox {
namespace {

const char* const kDenied[] = {
    // mounts and the new mount API
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    // namespaces
    "unshare",
    "setns",
    // other processes
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "kcmp",
    // keyrings
    "keyctl",
    "add_key",
    "request_key",
    // large kernel attack surface
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    // the machine itself
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "quotactl_fd",
    "syslog",
    "vhangup",
    "uselib",
    "lookup_dcookie",
    // file handles bypass the mount view
    "open_by_handle_at",
    "name_to_handle_at",
    // clocks
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    // raw port I/O
    "iopl",
    "ioperm",
};

// Namespace flags clone() may not carry. clone3 passes flags in memory that seccomp cannot read,
// so it answers ENOSYS and libc falls back to clone(), which we can inspect.
const unsigned long kNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWUSER, CLONE_NEWPID,   CLONE_NEWNET,
                                         CLONE_NEWIPC, CLONE_NEWUTS,  CLONE_NEWCGROUP};

// personality() bits that weaken ASLR or memory protections.
const unsigned long kWeakeningPersonality[] = {ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ADDR_COMPAT_LAYOUT,
                                               MMAP_PAGE_ZERO};

std::string build(SeccompPolicy& out) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return "seccomp_init failed";
  struct Release {
    scmp_filter_ctx ctx;
    ~Release() { seccomp_release(ctx); }
  } release{ctx};
  const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) return std::string("seccomp_attr_set(BADARCH): ") + strerror(-rc);
  // A binary search over syscall numbers keeps the per-syscall cost flat as the list grows.
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

  for (const char* name : kDenied) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not a syscall on this architecture
    if ((rc = seccomp_rule_add(ctx, deny, nr, 0)) != 0) return std::string("deny ") + name + ": " + strerror(-rc);
    out.denied.push_back(name);
  }
  if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) != 0) return "deny clone3";
  out.denied.push_back("clone3");
  for (unsigned long flag : kNamespaceFlags) {
    if ((rc = seccomp_rule_add(ctx, deny, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag))) != 0)
      return "deny clone with namespace flags";
  }
  out.denied.push_back("clone(namespace flags)");
  // personality(): a weakening bit set, unless the argument is the read-only query 0xffffffff.
  // libseccomp compares an argument once per rule, so the query is told apart by bit 31 (no
  // personality uses it): bit 31 clear and a weakening bit set is denied, one rule per bit; bit 31
  // set is denied unless every other bit is set too, one rule per other bit. 35 rules, where one
  // "some other bit clear" rule per weakening bit took 124 (and a quarter of the filter's load time).
  constexpr unsigned long kTopBit = 1UL << 31;
  for (unsigned long bit : kWeakeningPersonality) {
    rc = seccomp_rule_add(ctx, deny, SCMP_SYS(personality), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, bit | kTopBit, bit));
    if (rc != 0) return std::string("deny personality: ") + strerror(-rc);
  }
  for (int other = 0; other < 31; other++) {
    rc = seccomp_rule_add(ctx, deny, SCMP_SYS(personality), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, kTopBit | (1UL << other), kTopBit));
    if (rc != 0) return std::string("deny personality: ") + strerror(-rc);
  }
  out.denied.push_back("personality(ASLR-weakening)");
  // Shared memory outside every mount, which no measure from inside can see (a memfd written and
  // never mapped; a SysV segment detached; a shared anonymous mapping's pages once unmapped):
  // refused, so the sandbox's shared memory lives in its sized tmpfs mounts, where the watchdog
  // counts it (native/init/watchdog.c). memfd_create answers ENOSYS so libraries fall back to a
  // file; /dev/zero, whose shared mappings are the same memory, is not mappable (policy.ts).
  if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(memfd_create), 0)) != 0) return "deny memfd_create";
  if ((rc = seccomp_rule_add(ctx, deny, SCMP_SYS(shmget), 0)) != 0) return "deny shmget";
  constexpr unsigned long kSharedAnonymous = MAP_SHARED | MAP_ANONYMOUS;  // MAP_SHARED_VALIDATE has MAP_SHARED's bit
  if ((rc = seccomp_rule_add(ctx, deny, SCMP_SYS(mmap), 1,
                             SCMP_A3(SCMP_CMP_MASKED_EQ, kSharedAnonymous, kSharedAnonymous))) != 0)
    return "deny shared anonymous mmap";
  out.denied.insert(out.denied.end(), {"memfd_create", "shmget", "mmap(MAP_SHARED|MAP_ANONYMOUS)"});
  for (unsigned long request : {(unsigned long)TIOCSTI, (unsigned long)TIOCLINUX}) {
    if ((rc = seccomp_rule_add(ctx, deny, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, request))) != 0)
      return "deny ioctl";
  }
  out.denied.push_back("ioctl(TIOCSTI,TIOCLINUX)");

  int fd = memfd_create("sandbox-seccomp", MFD_CLOEXEC);
  if (fd < 0) return std::string("memfd_create: ") + strerror(errno);
  if ((rc = seccomp_export_bpf(ctx, fd)) != 0) {
    close(fd);
    return std::string("seccomp_export_bpf: ") + strerror(-rc);
  }
  off_t size = lseek(fd, 0, SEEK_END);
  out.filter.resize((size_t)size / sizeof(sock_filter));
  ssize_t got = pread(fd, out.filter.data(), (size_t)size, 0);
  close(fd);
  if (got != size || out.filter.empty()) return "seccomp_export_bpf: short program";
  out.program.len = (unsigned short)out.filter.size();
  out.program.filter = out.filter.data();
  return "";
}

}  // namespace

const SeccompPolicy& seccomp_policy() {
  static SeccompPolicy policy = [] {
    SeccompPolicy p{};
    p.error = build(p);
    return p;
  }();
  return policy;
}

}  // namespace sandbox
