// The child's recipe, in the order it runs. It reads like the threat model:
//   wait for the uid/gid maps (or, in a prepared network, write our own) -> new session -> uid/gid -> fresh root (mounts, pivot_root) -> hostname ->
//   loopback up -> process cap -> user namespace limits -> fds -> rlimits -> cwd -> drop capabilities -> no_new_privs + seccomp ->
//   default signals -> execve.
// Everything it reads was prepared by the parent (spawn.cc); see raw_syscall.h for why only raw
// system calls are made here.
#include "child/recipe.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "child/steps.h"
#include "child/raw_syscall.h"

namespace sandbox {
namespace {

[[noreturn]] void report_and_exit(int error_fd, int step, long negative_errno, int mount_index = -1) {
  ChildError error{step, (int)-negative_errno, mount_index};
  sys(SYS_write, error_fd, &error, sizeof error);
  sys(SYS_exit_group, 127);
  __builtin_unreachable();
}

// Signal handlers are Node's (copied at clone); none may run in this process. The parent
// blocked every signal before clone, so we reset dispositions first and unblock at the end.
long reset_signal_dispositions() {
  struct kernel_sigaction {
    void* handler;
    unsigned long flags;
    void* restorer;
    unsigned long mask;
  } action = {(void*)SIG_DFL, 0, nullptr, 0};
  for (int sig = 1; sig < 65; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sys(SYS_rt_sigaction, sig, &action, nullptr, sizeof(unsigned long));
  }
  return 0;
}

long unblock_all_signals() {
  unsigned long none = 0;
  return sys(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, sizeof none);
}

// Moves the fds the child keeps to their numbers, in two passes so that no move overwrites a
// source still to be moved, then closes everything else the Node process had open.
long arrange_fds(const ChildContext& ctx, int* step) {
  *step = (int)Step::MoveFds;
  int high[kMaxFdMoves];
  for (int i = 0; i < ctx.fd_move_count; i++) {
    long fd = sys(SYS_fcntl, ctx.fd_moves[i].source, F_DUPFD_CLOEXEC, ctx.fd_high_base);
    if (fd < 0) return fd;
    high[i] = (int)fd;
  }
  for (int i = 0; i < ctx.fd_move_count; i++) {
    long r = sys(SYS_dup3, high[i], ctx.fd_moves[i].target, ctx.fd_moves[i].cloexec ? O_CLOEXEC : 0);
    if (r < 0) return r;
  }
  *step = (int)Step::CloseFds;
  return sys(SYS_close_range, ctx.keep_fds_below, ~0U, 0);
}

long set_rlimits(const ChildContext& ctx) {
  for (int i = 0; i < ctx.rlimit_count; i++) {
    struct rlimit64_value {
      unsigned long long cur, max;
    } value = {ctx.rlimits[i].soft, ctx.rlimits[i].hard};
    long r = sys(SYS_prlimit64, 0, ctx.rlimits[i].resource, &value, nullptr);
    if (r < 0) return r;
  }
  return 0;
}

long write_small_file(const char* path, const char* text) {
  long fd = sys(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  long length = 0;
  while (text[length] != '\0') length++;
  long r = sys(SYS_write, fd, text, length);
  sys(SYS_close, fd);
  return r < 0 ? r : 0;
}

// Our memory is the server's until execve, and its dumpable flag (one per address space) was
// cleared when a joining process changed uid, maybe another sandbox's, at any moment: our /proc
// files then belong to root and cannot be opened. Set it and open again until the open succeeds.
long write_own_proc_file(const char* path, const char* text) {
  for (int attempt = 0;; attempt++) {
    sys(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0);
    long r = write_small_file(path, text);
    if (r != -EACCES || attempt == 1000) return r;
  }
}

// In a prepared network's user namespace we hold the sandbox's ids, and map them one to one into
// our own (nested) user namespace. When our host uid is not the server's (a root server), the
// address space goes back to not dumpable afterwards, as the uid change had left it: until exec
// it is the server's, and a dumpable one could be read through /proc/<pid>/mem by that uid.
long write_own_id_maps(const ChildContext& ctx) {
  long r;
  if ((r = write_own_proc_file("/proc/self/setgroups", "deny")) < 0) return r;
  if ((r = write_own_proc_file("/proc/self/uid_map", ctx.own_uid_map)) < 0) return r;
  r = write_own_proc_file("/proc/self/gid_map", ctx.own_gid_map);
  if (ctx.undumpable_after_maps) sys(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
  return r;
}

}  // namespace

int child_main(void* context) {
  const ChildContext& ctx = *static_cast<const ChildContext*>(context);
  int step = (int)Step::ResetSignals;
  int error_fd = ctx.error_write_fd;  // moves to ctx.error_fd_target once fds are arranged
  long r = reset_signal_dispositions();

  // Die with the server: the parent thread (Node's main thread, or the addon's spawner thread) is
  // alive as long as the process.
  sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
  if (ctx.sync_read_fd >= 0) {
    step = (int)Step::WaitForParent;
    sys(SYS_close, ctx.sync_write_fd);
    char go = 0;
    r = sys(SYS_read, ctx.sync_read_fd, &go, 1);
    if (r != 1) report_and_exit(error_fd, step, r < 0 ? r : -ECHILD);  // the parent died or gave up
    sys(SYS_close, ctx.sync_read_fd);
  }
  if (ctx.write_own_id_maps && (r = write_own_id_maps(ctx)) < 0) report_and_exit(error_fd, (int)Step::WriteOwnIdMaps, r);

  // No controlling terminal: TIOCSTI and job-control signals cannot reach the server's session.
  step = (int)Step::NewSession;
  if ((r = sys(SYS_setsid)) < 0) report_and_exit(error_fd, step, r);

  if (ctx.switch_identity) {
    if ((r = take_sandbox_identity(ctx, &step)) < 0) report_and_exit(error_fd, step, r);
    // A credential change clears the parent-death signal: arm it again.
    sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
  }
  if (ctx.sandboxed) {
    int mount_index = -1;
    if ((r = build_root_filesystem(ctx, &step, &mount_index)) < 0) report_and_exit(error_fd, step, r, mount_index);
    step = (int)Step::SetHostname;
    long length = 0;
    while (ctx.hostname[length] != '\0') length++;
    if ((r = sys(SYS_sethostname, ctx.hostname, length)) < 0) report_and_exit(error_fd, step, r);
    if ((ctx.clone_flags & CLONE_NEWNET) && (r = bring_up_loopback(&step)) < 0) report_and_exit(error_fd, step, r);
    if (ctx.pid_max_path != nullptr) {
      step = (int)Step::SetPidMax;
      if ((r = write_small_file(ctx.pid_max_path, ctx.pid_max_text)) < 0) report_and_exit(error_fd, step, r);
    }
    // Needs CAP_SYS_RESOURCE in our user namespace, which we hold until the capabilities go.
    step = (int)Step::SetUserNamespaceLimit;
    for (int i = 0; i < ctx.user_namespace_limit_count; i++) {
      const ChildSysctl& limit = ctx.user_namespace_limits[i];
      if ((r = write_small_file(limit.path, limit.text)) < 0) report_and_exit(error_fd, step, r, i);
    }
  }

  // fds first: the server may hold more fds than RLIMIT_NOFILE allows the sandbox, and the moves
  // go above the server's highest one.
  if ((r = arrange_fds(ctx, &step)) < 0) report_and_exit(error_fd, step, r);
  error_fd = ctx.error_fd_target;
  step = (int)Step::SetRlimit;
  if ((r = set_rlimits(ctx)) < 0) report_and_exit(error_fd, step, r);
  step = (int)Step::ChangeDirectory;
  if ((r = sys(SYS_chdir, ctx.cwd)) < 0) report_and_exit(error_fd, step, r);

  if (ctx.sandboxed) {
    if ((r = drop_all_capabilities(&step)) < 0) report_and_exit(error_fd, step, r);
  }
  if (ctx.apply_seccomp) {
    step = (int)Step::NoNewPrivs;
    if ((r = sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) < 0) report_and_exit(error_fd, step, r);
    step = (int)Step::Seccomp;
    if ((r = sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, ctx.seccomp_program)) < 0) report_and_exit(error_fd, step, r);
  }

  step = (int)Step::ResetSignals;
  if ((r = unblock_all_signals()) < 0) report_and_exit(error_fd, step, r);
  step = (int)Step::Exec;
  if (ctx.exec_fd >= 0) {
    r = sys(SYS_execveat, ctx.exec_fd, "", ctx.argv, ctx.envp, AT_EMPTY_PATH);
  } else {
    r = sys(SYS_execve, ctx.exec_path, ctx.argv, ctx.envp);
  }
  report_and_exit(error_fd, step, r);
}

}  // namespace sandbox
