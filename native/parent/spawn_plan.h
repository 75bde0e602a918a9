// What one spawn needs, as the binding hands it over. The parent turns it into the child's
// frozen context (child/context.h) before clone().
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "child/context.h"
#include "parent/id_maps.h"

namespace sandbox {

struct PreparedNetwork;

// One step of building the sandbox's root filesystem. Paths are already absolute in the
// child's staging view: sources under /oldroot (the host), targets under /newroot.
struct MountOp {
  using Kind = MountKind;
  Kind kind;
  std::string source;  // Bind: host path; Symlink: link text
  std::string target;
  std::string data;  // Tmpfs: mount options
  bool read_only = true;
  unsigned long flags = 0;  // extra MS_* flags (nosuid, nodev, noexec)
};

// How a child fd is provided.
enum class FdKind { Null, PipeFromChild, PipeToChild };

struct SpawnPlan {
  // Namespaces + fresh root + identity change. False: a plain process (the bwrap launcher, or the
  // explicitly configured unsandboxed mode), still with rlimits, a new session and parent-death kill.
  bool sandboxed = false;
  bool new_network = true;
  // with new_network: join a network namespace made ahead (prepared_network.h) when one is ready
  bool prepared_network = true;
  // with new_network: join this one (a session's, network_handle.h) rather than one of the reserve
  std::shared_ptr<PreparedNetwork> network;
  std::string exec_path;  // plain mode: what to execve; sandboxed mode: unused (init fd)
  std::vector<std::string> argv;
  std::vector<std::string> envp;
  std::string cwd;  // inside the sandbox (sandboxed) or on the host (plain)
  std::string hostname;
  std::vector<MountOp> mounts;
  std::vector<RlimitSetting> rlimits;
  unsigned max_processes = 0;  // per-pid-namespace pid_max; 0 = not set
  // The sandbox's own user namespace limits (/proc/sys/user/<name>): its per-user kernel counts
  // (inotify, fanotify, namespaces), set while it still holds capabilities there.
  std::vector<std::pair<std::string, std::string>> user_namespace_limits;
  uid_t inside_uid = 1000;
  gid_t inside_gid = 1000;
  uid_t outside_uid = 0;
  gid_t outside_gid = 0;
  bool deny_setgroups = true;  // required when the parent is not privileged
  // Plain mode only: run as outside_uid/outside_gid (a root server never runs bwrap as root).
  bool run_as_outside_user = false;
  bool apply_seccomp = false;
  std::vector<FdKind> fds;  // child fds 0..n-1
  bool with_init = true;    // pass REPORT_FD and CONTROL_FD to sandbox-init

  SandboxIdentity identity() const { return {inside_uid, inside_gid, outside_uid, outside_gid, deny_setgroups}; }
};

}  // namespace sandbox
