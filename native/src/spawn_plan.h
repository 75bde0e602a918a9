// What one spawn needs, fully prepared by the parent before clone().
//
// Between clone(CLONE_VM) and execve the child may not allocate or lock, so every string,
// array and compiled filter it touches lives here, built in the parent and kept alive until the
// child has exec'd (or failed).
#pragma once

#include <linux/filter.h>
#include <sched.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "id_maps.h"

namespace sandbox {

struct PreparedNetwork;

// One step of building the sandbox's root filesystem. Paths are already absolute in the
// child's staging view: sources under /oldroot (the host), targets under /newroot.
struct MountOp {
  enum class Kind { Dir, File, Bind, Tmpfs, Proc, Symlink, Remount };
  Kind kind;
  std::string source;  // Bind: host path; Symlink: link text
  std::string target;
  std::string data;    // Tmpfs: mount options
  bool read_only = true;
  unsigned long flags = 0;  // extra MS_* flags (nosuid, nodev, noexec)
};

struct RlimitSetting {
  int resource;
  unsigned long long soft;
  unsigned long long hard;  // above soft for RLIMIT_CPU: SIGXCPU first says why it ended
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

// The frozen, pointer-only form the child reads. Built from a SpawnPlan in the parent.
struct ChildMount {
  MountOp::Kind kind;
  const char* source;
  const char* target;
  const char* data;
  unsigned long flags;
  bool read_only;
};

struct ChildFdMove {
  int source;  // fd in the parent's table (inherited by the child's copy)
  int target;  // fd number in the child
  bool cloexec;
};

constexpr int kMaxFdMoves = 16;
constexpr int kMaxRlimits = 16;

struct ChildSysctl {
  const char* path;
  const char* text;
};

struct ChildContext {
  bool sandboxed;
  int clone_flags;
  int sync_read_fd;   // child waits here until the parent wrote the uid/gid maps
  int sync_write_fd;  // the child's copy must be closed so that a dead parent reads as EOF
  int error_write_fd; // child reports {step, errno} here; close-on-exec, so EOF = exec'd
  int error_fd_target; // where error_write_fd lives after the fds are arranged
  const ChildMount* mounts;
  int mount_count;
  const RlimitSetting* rlimits;
  int rlimit_count;
  ChildFdMove fd_moves[kMaxFdMoves];
  int fd_move_count;
  int fd_high_base;   // above every source and target fd
  int keep_fds_below; // close everything from here up
  int exec_fd;        // >= 0: execveat(exec_fd, "", AT_EMPTY_PATH)
  const char* exec_path;
  char* const* argv;
  char* const* envp;
  const char* cwd;
  const char* hostname;
  const char* pid_max_path;
  const char* pid_max_text;
  const ChildSysctl* user_namespace_limits;
  int user_namespace_limit_count;
  bool switch_identity;  // setgroups/setresgid/setresuid to the ids below before anything else
  uid_t inside_uid;
  gid_t inside_gid;
  bool may_setgroups;
  bool apply_seccomp;
  const sock_fprog* seccomp_program;
  void* sandbox_stack_top;
  // Joining a prepared network (prepared_network.h): the namespaces' fds, the maps the child
  // writes for itself, and what the joining process reports back.
  int join_user_fd;
  int join_net_fd;
  bool write_own_id_maps;
  bool undumpable_after_maps;  // our host uid is not the server's
  char own_uid_map[32];
  char own_gid_map[32];
  cpu_set_t join_cpus;  // the spawning thread's CPUs, given back to the sandbox
  int join_error;
  pid_t joined_pid;
  int joined_pidfd;
};

}  // namespace sandbox
