// What the cloned child reads, and nothing else: the frozen, pointer-only form of a spawn plan.
//
// Between clone(CLONE_VM) and execve the child may not allocate or lock, so every string,
// array and compiled filter it touches is built by the parent (parent/spawn.cc) and kept alive
// until the child has exec'd (or failed). Types only: this header is shared by both sides.
#pragma once

#include <linux/filter.h>
#include <sched.h>
#include <sys/types.h>

namespace sandbox {

enum class MountKind { Dir, File, Bind, Tmpfs, Proc, Symlink, Remount };

struct RlimitSetting {
  int resource;
  unsigned long long soft;
  unsigned long long hard;  // above soft for RLIMIT_CPU: SIGXCPU first says why it ended
};

struct ChildMount {
  MountKind kind;
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
  int sync_read_fd;     // child waits here until the parent wrote the uid/gid maps
  int sync_write_fd;    // the child's copy must be closed so that a dead parent reads as EOF
  int error_write_fd;   // child reports {step, errno} here; close-on-exec, so EOF = exec'd
  int error_fd_target;  // where error_write_fd lives after the fds are arranged
  const ChildMount* mounts;
  int mount_count;
  const RlimitSetting* rlimits;
  int rlimit_count;
  ChildFdMove fd_moves[kMaxFdMoves];
  int fd_move_count;
  int fd_high_base;    // above every source and target fd
  int keep_fds_below;  // close everything from here up
  int exec_fd;         // >= 0: execveat(exec_fd, "", AT_EMPTY_PATH)
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
