// The joining process of a sandbox made in a prepared network (prepared_network.h).
#include <sched.h>

#include "child/raw_clone.h"
#include "child/raw_syscall.h"
#include "child/recipe.h"

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
  long pid = raw_clone(ctx.clone_flags | CLONE_PARENT, ctx.sandbox_stack_top, &ctx.joined_pidfd, child_main, &ctx);
  if (pid < 0) give_up(ctx, pid);
  ctx.joined_pid = (pid_t)pid;
  sys(SYS_exit, 0);
  return 0;
}

}  // namespace sandbox
