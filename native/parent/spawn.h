#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "parent/spawn_error.h"
#include "parent/spawn_plan.h"

namespace sandbox {

struct PreparedNetwork;

// Everything the child reads between clone and execve (plan, argv/envp arrays, mount list,
// context, stack). It must outlive that window, which the parent does not wait for: it is kept
// until the child is reaped.
struct PreparedChild;
void release_prepared(PreparedChild* prepared);
struct PreparedChildDeleter {
  void operator()(PreparedChild* prepared) const { release_prepared(prepared); }
};

struct SpawnedChild {
  pid_t pid = -1;
  int pidfd = -1;
  std::vector<int> parent_fds;  // parent's end per child fd (-1 for Null)
  int report_fd = -1;           // read end: sandbox-init's report
  int control_fd = -1;          // write end: a byte (or closing it) kills the tree
  int error_fd = -1;            // read end: {step, errno} if the child failed before execve
  std::shared_ptr<PreparedChild> prepared;
};

// Clones the child described by the plan and returns as soon as it is released (after the
// uid/gid maps are written), without waiting for its setup: the event loop is never held while
// a sandbox is built. A setup failure is read from error_fd when the child is reaped (see
// setup_failure). The Node process is never copied (CLONE_VM), so the cost does not grow with the
// server's heap. Throws SpawnError for failures in the parent.
// network: a prepared network namespace for the child to join (prepared_network.h), or nullptr to
// create one with it.
SpawnedChild spawn_child(const SpawnPlan& plan, int init_exec_fd, const sock_fprog* seccomp_program,
                         std::shared_ptr<PreparedNetwork> network);

// spawn_child in two halves, for launching on another thread (spawner.h):
//   prepare_child: pipes, the child's context and stack (fds and pid unknown until launched);
//   launch_child: clone, uid/gid maps, release; sets pid and pidfd, throws SpawnError.
SpawnedChild prepare_child(const SpawnPlan& plan, int init_exec_fd, const sock_fprog* seccomp_program,
                           std::shared_ptr<PreparedNetwork> network);
void launch_child(SpawnedChild& child);

// After the child exited: the step and errno it failed with before execve, if it did.
bool setup_failure(const SpawnedChild& child, SpawnError* failure);

}  // namespace sandbox
