#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "spawn_plan.h"

namespace sandbox {

struct SpawnError {
  std::string step;  // "pivot_root", "uid_map", ...
  int error;         // errno
};

struct SpawnedChild {
  pid_t pid = -1;
  int pidfd = -1;
  std::vector<int> parent_fds;  // parent's end per child fd (-1 for Null)
  int report_fd = -1;           // read end: sandbox-init's report
  int control_fd = -1;          // write end: a byte (or closing it) kills the tree
};

// Clones the child described by the plan and returns once it has exec'd. The Node process is
// never copied (CLONE_VM), so the cost does not grow with the server's heap. Throws SpawnError.
SpawnedChild spawn_child(const SpawnPlan& plan, int init_exec_fd, const sock_fprog* seccomp_program);

}  // namespace sandbox
