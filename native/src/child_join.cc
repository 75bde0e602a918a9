// The joining process of a sandbox made in a prepared network (prepared_network.h).
#include <errno.h>
#include <sched.h>

#include "child_recipe.h"
#include "raw_syscall.h"

namespace sandbox {
namespace {

// The spawning thread then makes the sandbox the direct way (spawn.cc), from now on.
[[noreturn]] void give_up(ChildContext& ctx, long negative_errno) {
  ctx.join_error = (int)-negative_errno;
  sys(SYS_exit, 0);
  __builtin_unreachable();
}

}  // namespace

// Runs in a CLONE_VM | CLONE_VFORK | CLONE_FILES child of the spawning thread: joins the prepared
// user and network namespaces, takes the sandbox's ids there (so that the sandbox's own user
// namespace, nested in that one, can map them itself), and clones the sandbox's first process
// with the other namespaces, as a child of the spawning thread (CLONE_PARENT). Raw system calls
// (the parent's memory); the pid comes back in the context, the pidfd in the shared fd table.
int join_prepared_network(void* context) {
  ChildContext& ctx = *static_cast<ChildContext*>(context);
  long r;
  if ((r = sys(SYS_setns, ctx.join_user_fd, CLONE_NEWUSER)) < 0) give_up(ctx, r);
  if ((r = sys(SYS_setns, ctx.join_net_fd, CLONE_NEWNET)) < 0) give_up(ctx, r);
  if ((r = sys(SYS_setresgid, ctx.inside_gid, ctx.inside_gid, ctx.inside_gid)) < 0) give_up(ctx, r);
  if ((r = sys(SYS_setresuid, ctx.inside_uid, ctx.inside_uid, ctx.inside_uid)) < 0) give_up(ctx, r);
  // we ran on the spawning thread's CPU (see clone_into_prepared_network); the sandbox may run anywhere
  sys(SYS_sched_setaffinity, 0, sizeof ctx.join_cpus, &ctx.join_cpus);
  // glibc's clone() is a register shuffle around the system call; on failure it sets errno in the
  // spawning thread's TLS (that thread is suspended until we exit, and reads the context instead)
  pid_t pid = clone(child_main, ctx.sandbox_stack_top, ctx.clone_flags | CLONE_PARENT, &ctx, &ctx.joined_pidfd);
  if (pid < 0) give_up(ctx, -errno);
  ctx.joined_pid = pid;
  sys(SYS_exit, 0);
  return 0;
}

}  // namespace sandbox
