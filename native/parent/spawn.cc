// Parent side of a spawn: prepare everything, clone, write the id maps and release the child.
// The child's {step, errno}, if its setup fails, is read when it is reaped (setup_failure).
#include "parent/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "child/raw_clone.h"
#include "child/recipe.h"
#include "child/steps.h"
#include "parent/id_maps.h"
#include "parent/namespace_owner.h"
#include "parent/prepared_network.h"
#include "parent/step_names.h"

namespace sandbox {
namespace {

constexpr size_t kChildStackSize = 256 * 1024;

// Owns fds until released, so every early throw closes what it opened.
struct FdSet {
  std::vector<int> fds;
  int add(int fd) {
    fds.push_back(fd);
    return fd;
  }
  void close_one(int& fd) {
    if (fd < 0) return;
    auto it = std::find(fds.begin(), fds.end(), fd);
    if (it != fds.end()) fds.erase(it);
    ::close(fd);
    fd = -1;
  }
  void release(int fd) {
    auto it = std::find(fds.begin(), fds.end(), fd);
    if (it != fds.end()) fds.erase(it);
  }
  ~FdSet() {
    for (int fd : fds) ::close(fd);
  }
};

struct Pipe {
  int read = -1, write = -1;
};

Pipe make_pipe(FdSet& owned, const char* what) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) throw SpawnError{std::string("pipe2(") + what + ")", errno};
  return Pipe{owned.add(ends[0]), owned.add(ends[1])};
}

int dev_null() {
  static int fd = -1;
  if (fd < 0) {
    fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) throw SpawnError{"open(/dev/null)", errno};
  }
  return fd;
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Child stacks are kept for the next children instead of unmapped: munmap in a process with
// many threads (Node's) shoots down TLB entries on every CPU that runs one of them, and a reused
// stack's pages are already resident. Taken and returned on the loop thread.
std::vector<void*>& spare_stacks() {
  static std::vector<void*> stacks;
  return stacks;
}
constexpr size_t kMaxSpareStacks = 32;

void* take_stack() {
  std::vector<void*>& spare = spare_stacks();
  if (!spare.empty()) {
    void* stack = spare.back();
    spare.pop_back();
    return stack;
  }
  return mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
}

void give_back_stack(void* stack) {
  if (spare_stacks().size() < kMaxSpareStacks)
    spare_stacks().push_back(stack);
  else
    munmap(stack, kChildStackSize);
}

constexpr size_t kJoinStackSize = 64 * 1024;

// The short-lived process that joins a prepared network (prepared_network.h), on a stack of the
// thread that spawns (that thread waits for it: CLONE_VFORK).
void* join_stack() {
  static thread_local void* stack =
      mmap(nullptr, kJoinStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  return stack;
}

void reap_failed(pid_t pid) {
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
  }
}

}  // namespace

struct PreparedChild {
  SpawnPlan plan;
  std::vector<ChildMount> mounts;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string pid_max_text;
  std::vector<std::string> user_namespace_limit_paths;
  std::vector<ChildSysctl> user_namespace_limits;
  ChildContext ctx{};
  void* stack = MAP_FAILED;
  // Until the launch: the child's ends of its pipes (it gets copies at clone) and the release pipe.
  std::vector<int> child_side_fds;
  int sync_write_fd = -1;
  int sync_read_fd = -1;                     // the child waits on it unless it joins a prepared network
  std::shared_ptr<PreparedNetwork> network;  // joined by the child when present
  ~PreparedChild() {
    if (stack != MAP_FAILED) give_back_stack(stack);  // the child has exec'd or exited
    for (int fd : child_side_fds) close(fd);
    if (sync_write_fd >= 0) close(sync_write_fd);
  }
};

void release_prepared(PreparedChild* prepared) { delete prepared; }

bool setup_failure(const SpawnedChild& child, SpawnError* failure) {
  ChildError error{0, 0, -1};
  if (child.error_fd < 0 || read(child.error_fd, &error, sizeof error) != (ssize_t)sizeof error) return false;
  std::string step = step_name(error.step);
  const std::vector<MountOp>& mounts = child.prepared->plan.mounts;
  const auto& user_limits = child.prepared->plan.user_namespace_limits;
  if (error.step == (int)Step::SetUserNamespaceLimit) {
    if (error.mount_index >= 0 && error.mount_index < (int)user_limits.size())
      step += "/" + user_limits[error.mount_index].first;
  } else if (error.mount_index >= 0 && error.mount_index < (int)mounts.size()) {
    const MountOp& op = mounts[error.mount_index];
    // name the sandbox path, not the staging one
    step += " " + (op.target.rfind("/newroot", 0) == 0 ? op.target.substr(8) : op.target);
    if (op.kind == MountOp::Kind::Bind) step += " from " + op.source.substr(8);
  }
  *failure = SpawnError{step, error.error};
  return true;
}

namespace {

// The plan's strings and arrays as the pointers the child reads (child/context.h).
void freeze_plan(PreparedChild& prepared, const sock_fprog* seccomp_program) {
  const SpawnPlan& plan = prepared.plan;
  ChildContext& ctx = prepared.ctx;
  ctx.sandboxed = plan.sandboxed;
  for (const MountOp& op : plan.mounts) {
    prepared.mounts.push_back(ChildMount{op.kind, op.source.c_str(), op.target.c_str(),
                                         op.data.empty() ? nullptr : op.data.c_str(), op.flags, op.read_only});
  }
  ctx.mounts = prepared.mounts.data();
  ctx.mount_count = (int)prepared.mounts.size();
  if (plan.rlimits.size() > (size_t)kMaxRlimits) throw SpawnError{"plan(rlimits)", E2BIG};
  ctx.rlimits = plan.rlimits.data();
  ctx.rlimit_count = (int)plan.rlimits.size();

  prepared.argv = c_strings(plan.argv);
  prepared.envp = c_strings(plan.envp);
  ctx.argv = prepared.argv.data();
  ctx.envp = prepared.envp.data();
  ctx.cwd = plan.cwd.c_str();
  ctx.hostname = plan.hostname.c_str();
  prepared.pid_max_text = std::to_string(plan.max_processes);
  ctx.pid_max_path = plan.sandboxed && plan.max_processes > 0 ? "/proc/sys/kernel/pid_max" : nullptr;
  ctx.pid_max_text = prepared.pid_max_text.c_str();
  if (plan.sandboxed) {
    for (const auto& limit : plan.user_namespace_limits)
      prepared.user_namespace_limit_paths.push_back("/proc/sys/user/" + limit.first);
    // pointers into the paths only once they are all in place (the vector no longer moves them)
    for (size_t i = 0; i < plan.user_namespace_limits.size(); i++) {
      prepared.user_namespace_limits.push_back(
          ChildSysctl{prepared.user_namespace_limit_paths[i].c_str(), plan.user_namespace_limits[i].second.c_str()});
    }
  }
  ctx.user_namespace_limits = prepared.user_namespace_limits.data();
  ctx.user_namespace_limit_count = (int)prepared.user_namespace_limits.size();
  // Sandboxed: become the inside ids (mapped by the parent). Plain: optionally drop to the outside ids.
  ctx.switch_identity = plan.sandboxed || plan.run_as_outside_user;
  ctx.inside_uid = plan.sandboxed ? plan.inside_uid : plan.outside_uid;
  ctx.inside_gid = plan.sandboxed ? plan.inside_gid : plan.outside_gid;
  ctx.may_setgroups = plan.sandboxed ? !plan.deny_setgroups : plan.run_as_outside_user;
  ctx.apply_seccomp = plan.apply_seccomp;
  ctx.seccomp_program = seccomp_program;
  ctx.exec_path = plan.exec_path.c_str();
  ctx.exec_fd = -1;
}

// The child's fd table: 0..n-1 as planned, then REPORT_FD and CONTROL_FD for sandbox-init,
// then (sandboxed) the init binary itself, executed by fd because it is not inside the new root,
// then the error pipe. Every pipe is closed again if one cannot be made; the parent's ends go
// to the result, the child's to prepared.child_side_fds (closed once the child has its copies),
// handed over at the end, when nothing can throw any more.
void plan_fds(PreparedChild& prepared, SpawnedChild& result, int init_exec_fd) {
  FdSet owned;
  const SpawnPlan& plan = prepared.plan;
  ChildContext& ctx = prepared.ctx;
  const int planned = (int)plan.fds.size();
  int extra = (plan.with_init ? 2 : 0) + (plan.sandboxed ? 1 : 0) + 1;
  if (planned + extra > kMaxFdMoves) throw SpawnError{"plan(fds)", E2BIG};
  std::vector<int> child_ends;
  auto move = [&](int source, int target, bool cloexec) {
    ctx.fd_moves[ctx.fd_move_count++] = ChildFdMove{source, target, cloexec};
  };
  for (int target = 0; target < planned; target++) {
    int source = -1;
    switch (plan.fds[target]) {
      case FdKind::Null:
        source = dev_null();
        result.parent_fds.push_back(-1);
        break;
      case FdKind::PipeFromChild: {
        Pipe p = make_pipe(owned, "output");
        source = p.write;
        child_ends.push_back(p.write);
        result.parent_fds.push_back(p.read);
        break;
      }
      case FdKind::PipeToChild: {
        Pipe p = make_pipe(owned, "input");
        source = p.read;
        child_ends.push_back(p.read);
        result.parent_fds.push_back(p.write);
        break;
      }
    }
    move(source, target, false);
  }
  int next_target = planned;
  if (plan.with_init) {
    Pipe report = make_pipe(owned, "report");
    Pipe control = make_pipe(owned, "control");
    child_ends.push_back(report.write);
    child_ends.push_back(control.read);
    result.report_fd = report.read;
    result.control_fd = control.write;
    move(report.write, next_target++, false);
    move(control.read, next_target++, false);
  }
  if (plan.sandboxed) {
    ctx.exec_fd = next_target;
    move(init_exec_fd, next_target++, true);
  }
  Pipe errors = make_pipe(owned, "errors");
  if (fcntl(errors.read, F_SETFL, O_NONBLOCK) < 0) throw SpawnError{"fcntl(errors)", errno};
  child_ends.push_back(errors.write);
  result.error_fd = errors.read;
  ctx.error_write_fd = errors.write;
  ctx.error_fd_target = next_target;
  move(errors.write, next_target++, true);
  ctx.keep_fds_below = next_target;

  // The release pipe: the child waits on it until the parent has written its id maps.
  Pipe sync;
  if (plan.sandboxed) sync = make_pipe(owned, "sync");
  if (sync.read >= 0) child_ends.push_back(sync.read);
  ctx.sync_read_fd = sync.read;
  ctx.sync_write_fd = sync.write;

  int highest = std::max({next_target, sync.read, sync.write});
  for (int i = 0; i < ctx.fd_move_count; i++) highest = std::max(highest, ctx.fd_moves[i].source);
  ctx.fd_high_base = highest + 1;

  prepared.child_side_fds = std::move(child_ends);
  prepared.sync_read_fd = sync.read;
  prepared.sync_write_fd = sync.write;
  owned.fds.clear();  // every fd now belongs to result or to prepared
}

// The namespaces the child creates; in a prepared network, the ones it joins instead.
void plan_namespaces(PreparedChild& prepared, std::shared_ptr<PreparedNetwork> network) {
  const SpawnPlan& plan = prepared.plan;
  ChildContext& ctx = prepared.ctx;
  int flags = CLONE_VM | CLONE_PIDFD | SIGCHLD;
  if (plan.sandboxed) {
    flags |= CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
    if (plan.new_network) flags |= CLONE_NEWNET;
  }
  ctx.clone_flags = flags;
  ctx.join_user_fd = ctx.join_net_fd = -1;
  ctx.joined_pid = -1;
  ctx.joined_pidfd = -1;
  if (!network || !plan.sandboxed || !plan.new_network) return;
  // The child's user namespace nests in the prepared one, which maps the inside ids already:
  // the child maps them one to one itself (no round trip through the parent), and setgroups is
  // denied there, as an unprivileged writer must.
  ctx.join_user_fd = network->user_fd;
  ctx.join_net_fd = network->net_fd;
  ctx.clone_flags = flags & ~CLONE_NEWNET;
  ctx.write_own_id_maps = true;
  ctx.undumpable_after_maps = plan.outside_uid != geteuid();
  ctx.may_setgroups = false;
  ctx.sync_read_fd = -1;  // nothing to wait for
  snprintf(ctx.own_uid_map, sizeof ctx.own_uid_map, "%u %u 1\n", plan.inside_uid, plan.inside_uid);
  snprintf(ctx.own_gid_map, sizeof ctx.own_gid_map, "%u %u 1\n", plan.inside_gid, plan.inside_gid);
  prepared.network = std::move(network);
}

}  // namespace

SpawnedChild prepare_child(const SpawnPlan& plan, int init_exec_fd, const sock_fprog* seccomp_program,
                           std::shared_ptr<PreparedNetwork> network) {
  SpawnedChild result;
  std::shared_ptr<PreparedChild> prepared(new PreparedChild{}, PreparedChildDeleter{});
  prepared->plan = plan;
  freeze_plan(*prepared, seccomp_program);
  // A stack per child: several may be in their setup at once, and none is waited for.
  prepared->stack = take_stack();
  if (prepared->stack == MAP_FAILED) throw SpawnError{"mmap(child stack)", errno};
  prepared->ctx.sandbox_stack_top = static_cast<char*>(prepared->stack) + kChildStackSize;
  plan_fds(*prepared, result, init_exec_fd);
  plan_namespaces(*prepared, std::move(network));
  result.prepared = std::move(prepared);
  return result;
}

namespace {

// The child as the parent clones it: directly, with every namespace; its id maps written here.
// A root server creates them as the sandbox's host uid (namespace_owner.h).
pid_t clone_directly(PreparedChild& prepared, int* pidfd, int* clone_errno) {
  const SpawnPlan& plan = prepared.plan;
  CreateNamespacesAs owner(plan.sandboxed ? plan.outside_uid : 0, plan.outside_gid);
  if (owner.error() != 0) {
    *clone_errno = owner.error();
    return -1;
  }
  long pid = raw_clone(prepared.ctx.clone_flags, prepared.ctx.sandbox_stack_top, pidfd, child_main, &prepared.ctx);
  if (pid < 0) {
    *clone_errno = (int)-pid;
    return -1;
  }
  return (pid_t)pid;
}

// The child through join_prepared_network; -1 with *clone_errno set when it could not be done.
pid_t clone_into_prepared_network(PreparedChild& prepared, int* pidfd, int* clone_errno) {
  ChildContext& ctx = prepared.ctx;
  ctx.join_error = 0;
  void* stack = join_stack();
  if (stack == MAP_FAILED) {
    *clone_errno = ENOMEM;
    return -1;
  }
  // The joiner runs on this thread's CPU, while this thread waits for it (CLONE_VFORK): a new
  // task would otherwise start on an idle CPU, and the two hand-offs across CPUs (there and back)
  // cost as much as the network namespace saved (measured on a 2-vCPU VM).
  bool pinned = false;
  int cpu = sched_getcpu();
  if (cpu >= 0 && sched_getaffinity(0, sizeof ctx.join_cpus, &ctx.join_cpus) == 0) {
    cpu_set_t here;
    CPU_ZERO(&here);
    CPU_SET(cpu, &here);
    pinned = sched_setaffinity(0, sizeof here, &here) == 0;
  }
  long joiner = raw_clone(CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, static_cast<char*>(stack) + kJoinStackSize,
                          nullptr, join_prepared_network, &ctx);
  if (pinned) sched_setaffinity(0, sizeof ctx.join_cpus, &ctx.join_cpus);
  if (joiner < 0) {
    *clone_errno = (int)-joiner;
    return -1;
  }
  while (waitpid((pid_t)joiner, nullptr, __WALL) < 0 && errno == EINTR) {
  }
  if (ctx.join_error != 0 || ctx.joined_pid <= 0) {
    *clone_errno = ctx.join_error != 0 ? ctx.join_error : ECHILD;
    return -1;
  }
  *pidfd = ctx.joined_pidfd;
  return ctx.joined_pid;
}

// Back to the direct way, for a child whose prepared network could not be joined.
void forget_prepared_network(PreparedChild& prepared) {
  ChildContext& ctx = prepared.ctx;
  ctx.join_user_fd = ctx.join_net_fd = -1;
  ctx.clone_flags |= CLONE_NEWNET;
  ctx.write_own_id_maps = false;
  ctx.may_setgroups = !prepared.plan.deny_setgroups;
  ctx.sync_read_fd = prepared.sync_read_fd;
  prepared.network.reset();
}

}  // namespace

void launch_child(SpawnedChild& child) {
  PreparedChild& prepared = *child.prepared;
  // No Node signal handler may run in the child before it resets them: block all around clone.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int pidfd = -1, clone_errno = 0;
  pid_t pid = -1;
  if (prepared.network) {
    pid = clone_into_prepared_network(prepared, &pidfd, &clone_errno);
    if (pid < 0) {
      // make the network with the sandbox instead (and, if this host keeps refusing the joins,
      // from now on)
      network_join_failed(clone_errno);
      forget_prepared_network(prepared);
    } else {
      network_joined();
    }
  }
  if (pid < 0 && !prepared.network) pid = clone_directly(prepared, &pidfd, &clone_errno);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  bool joined = prepared.network != nullptr;
  prepared.network.reset();  // joined by the child (or given up): our fds go
  for (int fd : prepared.child_side_fds) close(fd);
  prepared.child_side_fds.clear();
  int sync_write = prepared.sync_write_fd;
  prepared.sync_write_fd = -1;
  if (pid < 0) {
    if (sync_write >= 0) close(sync_write);
    throw SpawnError{"clone", clone_errno};
  }

  if (prepared.plan.sandboxed && !joined) {
    try {
      write_id_maps(pid, prepared.plan.identity());
    } catch (...) {
      close(sync_write);
      reap_failed(pid);
      close(pidfd);
      throw;
    }
    char go = 1;
    ssize_t wrote = write(sync_write, &go, 1);
    int err = errno;
    close(sync_write);
    if (wrote != 1) {
      reap_failed(pid);
      close(pidfd);
      throw SpawnError{"release child", err};
    }
  } else if (sync_write >= 0) {
    close(sync_write);
  }
  child.pid = pid;
  child.pidfd = pidfd;
}

void close_parent_side(SpawnedChild& child) {
  for (int fd : child.parent_fds) {
    if (fd >= 0) close(fd);
  }
  for (int fd : {child.report_fd, child.control_fd, child.error_fd}) {
    if (fd >= 0) close(fd);
  }
  child.parent_fds.clear();
  child.report_fd = child.control_fd = child.error_fd = -1;
}

SpawnedChild spawn_child(const SpawnPlan& plan, int init_exec_fd, const sock_fprog* seccomp_program,
                         std::shared_ptr<PreparedNetwork> network) {
  SpawnedChild child = prepare_child(plan, init_exec_fd, seccomp_program, std::move(network));
  try {
    launch_child(child);
  } catch (...) {
    close_parent_side(child);
    throw;
  }
  return child;
}

}  // namespace sandbox
