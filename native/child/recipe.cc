// The child's recipe: one ordered list of named steps (kRecipe below), run from clone to execve.
// It reads like the threat model:
//   signals to their defaults -> die with the server -> wait for the uid/gid maps (or, in a
//   prepared network, write our own) -> new session -> uid/gid -> fresh root (mounts, pivot_root)
//   -> hostname -> loopback up -> process cap -> user namespace limits -> fds -> rlimits -> cwd ->
//   drop capabilities -> no_new_privs + seccomp -> unblock signals -> execve.
// A step that fails reports {step, errno} to the parent and the child exits; steps that go
// through several system calls name the one that failed (child/steps.h). Everything it reads was
// prepared by the parent (parent/spawn.cc); see raw_syscall.h for why only raw system calls are
// made here.
#include "child/recipe.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "child/raw_syscall.h"
#include "child/steps.h"

namespace sandbox {
namespace {

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
    long r = sys(SYS_rt_sigaction, sig, &action, nullptr, sizeof(unsigned long));
    if (r < 0) return r;
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

long length_of(const char* text) {
  long length = 0;
  while (text[length] != '\0') length++;
  return length;
}

long write_small_file(const char* path, const char* text) {
  long fd = sys(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  long r = sys(SYS_write, fd, text, length_of(text));
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
long write_own_id_maps(const ChildContext& ctx, int* step) {
  long r;
  if ((r = write_own_proc_file("/proc/self/setgroups", "deny")) < 0) return r;
  if ((r = write_own_proc_file("/proc/self/uid_map", ctx.own_uid_map)) < 0) return r;
  if ((r = write_own_proc_file("/proc/self/gid_map", ctx.own_gid_map)) < 0) return r;
  if (!ctx.undumpable_after_maps) return 0;
  *step = (int)Step::MakeUndumpable;
  return sys(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
}

// What one run of the recipe carries from step to step.
struct Run {
  const ChildContext& ctx;
  int error_fd;  // moves to ctx.error_fd_target once the fds are arranged
  int step;      // the step (or, within it, the system call) running: reported if it fails
  int index;     // which mount or user namespace limit, or -1
};

[[noreturn]] void report_and_exit(const Run& run, long negative_errno) {
  ChildError error{run.step, (int)-negative_errno, run.index};
  sys(SYS_write, run.error_fd, &error, sizeof error);
  sys(SYS_exit_group, 127);
  __builtin_unreachable();
}

// The parent thread (Node's main thread, or the addon's spawner thread) is alive as long as the
// process. A credential change clears the signal: take_identity arms it again.
long die_with_parent(Run&) { return sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); }

long wait_for_parent(Run& run) {
  sys(SYS_close, run.ctx.sync_write_fd);
  char go = 0;
  long r = sys(SYS_read, run.ctx.sync_read_fd, &go, 1);
  if (r != 1) return r < 0 ? r : -ECHILD;  // the parent died or gave up
  return sys(SYS_close, run.ctx.sync_read_fd);
}

long take_identity(Run& run) {
  long r = take_sandbox_identity(run.ctx, &run.step);
  if (r < 0) return r;
  run.step = (int)Step::DieWithParent;
  return die_with_parent(run);
}

long set_hostname(Run& run) { return sys(SYS_sethostname, run.ctx.hostname, length_of(run.ctx.hostname)); }

// Needs CAP_SYS_RESOURCE in our user namespace, which we hold until the capabilities go.
long set_user_namespace_limits(Run& run) {
  for (run.index = 0; run.index < run.ctx.user_namespace_limit_count; run.index++) {
    const ChildSysctl& limit = run.ctx.user_namespace_limits[run.index];
    long r = write_small_file(limit.path, limit.text);
    if (r < 0) return r;
  }
  run.index = -1;
  return 0;
}

// fds before rlimits: the server may hold more fds than RLIMIT_NOFILE allows the sandbox, and
// the moves go above the server's highest one. Errors go to the moved error fd from here on.
long move_fds(Run& run) {
  long r = arrange_fds(run.ctx, &run.step);
  if (r >= 0) run.error_fd = run.ctx.error_fd_target;
  return r;
}

long exec_init(Run& run) {
  const ChildContext& ctx = run.ctx;
  if (ctx.exec_fd >= 0) return sys(SYS_execveat, ctx.exec_fd, "", ctx.argv, ctx.envp, AT_EMPTY_PATH);
  return sys(SYS_execve, ctx.exec_path, ctx.argv, ctx.envp);
}

bool always(const ChildContext&) { return true; }
bool sandboxed(const ChildContext& ctx) { return ctx.sandboxed; }
bool released_by_parent(const ChildContext& ctx) { return ctx.sync_read_fd >= 0; }
bool in_prepared_network(const ChildContext& ctx) { return ctx.write_own_id_maps; }
bool switching_identity(const ChildContext& ctx) { return ctx.switch_identity; }
bool own_network(const ChildContext& ctx) { return ctx.sandboxed && (ctx.clone_flags & CLONE_NEWNET); }
bool capping_processes(const ChildContext& ctx) { return ctx.sandboxed && ctx.pid_max_path != nullptr; }
bool filtering(const ChildContext& ctx) { return ctx.apply_seccomp; }

struct RecipeStep {
  Step step;
  bool (*applies)(const ChildContext&);
  long (*run)(Run&);  // 0 or a negative errno; may name a finer step in run.step
};

// No controlling terminal (the new session): TIOCSTI and job-control signals cannot reach the
// server's session. Signal handlers are Node's (copied at clone) until the first step; the parent
// blocked every signal before clone, and they are unblocked only just before execve.
constexpr RecipeStep kRecipe[] = {
    {Step::ResetSignalHandlers, always, [](Run&) { return reset_signal_dispositions(); }},
    {Step::DieWithParent, always, die_with_parent},
    {Step::WaitForParent, released_by_parent, wait_for_parent},
    {Step::WriteOwnIdMaps, in_prepared_network, [](Run& run) { return write_own_id_maps(run.ctx, &run.step); }},
    {Step::NewSession, always, [](Run&) { return sys(SYS_setsid); }},
    {Step::SetGroups, switching_identity, take_identity},
    {Step::MakeMountsPrivate, sandboxed,
     [](Run& run) -> long { return build_root_filesystem(run.ctx, &run.step, &run.index); }},
    {Step::SetHostname, sandboxed, set_hostname},
    {Step::BringUpLoopback, own_network, [](Run& run) -> long { return bring_up_loopback(&run.step); }},
    {Step::SetPidMax, capping_processes,
     [](Run& run) { return write_small_file(run.ctx.pid_max_path, run.ctx.pid_max_text); }},
    {Step::SetUserNamespaceLimit, sandboxed, set_user_namespace_limits},
    {Step::MoveFds, always, move_fds},
    {Step::SetRlimit, always, [](Run& run) { return set_rlimits(run.ctx); }},
    {Step::ChangeDirectory, always, [](Run& run) { return sys(SYS_chdir, run.ctx.cwd); }},
    {Step::DropBoundingSet, sandboxed, [](Run& run) -> long { return drop_all_capabilities(&run.step); }},
    {Step::NoNewPrivs, filtering, [](Run&) { return sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }},
    {Step::Seccomp, filtering,
     [](Run& run) { return sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, run.ctx.seccomp_program); }},
    {Step::UnblockSignals, always, [](Run&) { return unblock_all_signals(); }},
    {Step::Exec, always, exec_init},  // returns only on failure
};

}  // namespace

int child_main(void* context) {
  Run run{*static_cast<const ChildContext*>(context), static_cast<const ChildContext*>(context)->error_write_fd, 0, -1};
  for (const RecipeStep& step : kRecipe) {
    if (!step.applies(run.ctx)) continue;
    run.step = (int)step.step;
    long r = step.run(run);
    if (r < 0) report_and_exit(run, r);
  }
  report_and_exit(run, -ENOEXEC);  // execve returned without an error
}

}  // namespace sandbox
