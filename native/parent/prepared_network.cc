#include "parent/prepared_network.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cstdio>
#include <vector>

#include "child/raw_clone.h"
#include "child/recipe.h"
#include "parent/namespace_owner.h"
#include "parent/spawn_error.h"
#include "parent/spawner.h"
#include "parent/take_all_stack.h"

namespace sandbox {
namespace {

// Refilled in batches, when it runs low: a network namespace being made delays another sandbox's
// unmount of the host's tree (their RCU grace periods queue up: 35 µs became 150-400 µs,
// measured), so a few grouped refills disturb fewer sandboxes than one after each take. Each
// idle one holds a user and a network namespace (a few hundred KiB of kernel memory).
constexpr int kReserve = 16;
constexpr int kRefillBelow = 5;
constexpr size_t kHelperStackSize = 64 * 1024;

struct Pool {
  TakeAllStack<PreparedNetwork> made;  // the spawner thread's, until the loop collects them
  std::atomic<bool> stopped{false};
  std::atomic<int> join_failures_in_a_row{0};
  // loop thread only:
  std::vector<std::shared_ptr<PreparedNetwork>> ready;
  int in_flight = 0;                    // asked for, not collected yet
  std::vector<SandboxIdentity> to_ask;  // asked for once the loop is about to wait
  uv_prepare_t before_wait;
  bool before_wait_armed = false;
  Napi::Env env = nullptr;
};

Pool& pool() {
  static Pool* instance = new Pool();  // never freed: the spawner thread may still push at exit
  return *instance;
}

int open_namespace(pid_t pid, const char* name) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, name);
  return open(path, O_RDONLY | O_CLOEXEC);
}

// On the spawner thread. A PreparedNetwork with no fds when it could not be made.
PreparedNetwork* make_prepared_network(const SandboxIdentity& identity) {
  static thread_local void* stack =
      mmap(nullptr, kHelperStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  auto* made = new PreparedNetwork{};
  made->identity = identity;
  int go[2];
  if (stack == MAP_FAILED || pipe2(go, O_CLOEXEC) != 0) return made;
  PreparedNetworkHelper ctx{go[0], go[1], -ECHILD};
  // no exit signal: reaped below with __WALL, and Node's SIGCHLD handling never sees it. Created
  // as the sandbox's host uid: the sandboxes' per-user counts are charged to that uid, not to a
  // root server (namespace_owner.h).
  pid_t pid = -1;
  {
    CreateNamespacesAs owner(identity.outside_uid, identity.outside_gid);
    if (owner.error() == 0) {
      pid = raw_clone(CLONE_VM | CLONE_NEWUSER | CLONE_NEWNET, static_cast<char*>(stack) + kHelperStackSize, nullptr,
                      bring_up_prepared_network, &ctx);
    }
  }
  if (pid > 0) {
    try {
      write_id_maps(pid, identity);
      made->user_fd = open_namespace(pid, "user");
      made->net_fd = open_namespace(pid, "net");
      (void)!write(go[1], "g", 1);
    } catch (const SpawnError&) {
      // the helper reads EOF below and exits
    }
  }
  close(go[1]);
  if (pid > 0) {
    while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
    }
  }
  close(go[0]);
  if (pid <= 0 || ctx.result != 0 || made->user_fd < 0 || made->net_fd < 0) made->close_namespaces();
  return made;
}

void make_one_in_background(void* arg) {
  auto* identity = static_cast<SandboxIdentity*>(arg);
  pool().made.push(make_prepared_network(*identity));
  delete identity;
}

// The spawner thread is woken for more only when the loop is about to wait for events: never in
// the middle of the spawn that took one, where its clone would compete with the loop for a CPU.
void ask_before_waiting(uv_prepare_t* handle) {
  Pool& p = pool();
  uv_prepare_stop(handle);
  p.before_wait_armed = false;
  for (const SandboxIdentity& identity : p.to_ask)
    run_in_background(p.env, make_one_in_background, new SandboxIdentity(identity));
  p.to_ask.clear();
}

void ask_for_more(Napi::Env env, const SandboxIdentity& identity) {
  Pool& p = pool();
  if (p.env == nullptr) {
    p.env = env;
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    uv_prepare_init(loop, &p.before_wait);
    uv_unref(reinterpret_cast<uv_handle_t*>(&p.before_wait));
  }
  p.in_flight++;
  p.to_ask.push_back(identity);
  if (!p.before_wait_armed) {
    uv_prepare_start(&p.before_wait, ask_before_waiting);
    p.before_wait_armed = true;
  }
}

}  // namespace

void PreparedNetwork::close_namespaces() {
  for (int* fd : {&user_fd, &net_fd}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

std::shared_ptr<PreparedNetwork> take_prepared_network(Napi::Env env, const SandboxIdentity& identity) {
  Pool& p = pool();
  for (PreparedNetwork* made = p.made.take_all(); made != nullptr;) {
    PreparedNetwork* next = made->next;
    p.in_flight--;
    // one that could not be made: this host does not allow it, stop trying
    if (made->net_fd < 0) p.stopped = true;
    p.ready.emplace_back(made);  // owned from here on
    made = next;
  }
  if (p.stopped) {
    p.ready.clear();
    return nullptr;
  }
  std::shared_ptr<PreparedNetwork> taken;
  while (!taken && !p.ready.empty()) {
    std::shared_ptr<PreparedNetwork> candidate = std::move(p.ready.back());
    p.ready.pop_back();
    if (candidate->identity == identity) taken = std::move(candidate);  // others were made for another identity
  }
  if ((int)p.ready.size() + p.in_flight < kRefillBelow) {
    while ((int)p.ready.size() + p.in_flight < kReserve) ask_for_more(env, identity);
  }
  return taken;
}

std::shared_ptr<PreparedNetwork> prepare_network_now(const SandboxIdentity& identity) {
  if (pool().stopped) return nullptr;
  std::shared_ptr<PreparedNetwork> made(make_prepared_network(identity));
  if (made->net_fd >= 0) return made;
  pool().stopped = true;
  return nullptr;
}

void network_joined() { pool().join_failures_in_a_row = 0; }

void network_join_failed(int error) {
  bool refused = error == EPERM || error == EACCES || error == ENOSYS || error == EINVAL;
  if (refused || ++pool().join_failures_in_a_row >= kMaxJoinFailuresInARow) pool().stopped = true;
}

bool preparing_networks() { return !pool().stopped; }

}  // namespace sandbox
