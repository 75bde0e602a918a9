// Network namespaces made ahead of the sandboxes that use them.
//
// A new network namespace is the costliest part of a sandbox's clone (0.3 ms on a 2-vCPU VM: the
// kernel registers every per-namespace table). So they are made in the background, on the
// spawner thread, each with a user namespace of its own that owns it (mapping the sandbox's ids
// to the outside ones) and its loopback already up, and kept as two fds. A sandbox takes one,
// joins it (spawn.cc) and creates its own user namespace inside that one, and every other
// namespace, as before. One per sandbox, never shared, never reused: it ends with the sandbox.
// Where the host refuses (setns denied, say), sandboxes make their own network namespace as
// before.
#pragma once

#include <napi.h>

#include <memory>

#include "parent/id_maps.h"

namespace sandbox {

struct PreparedNetwork {
  int user_fd = -1;  // a user namespace mapping identity's inside ids to its outside ones
  int net_fd = -1;   // a network namespace it owns, with `lo` up
  SandboxIdentity identity{};
  PreparedNetwork* next = nullptr;  // while it travels from the spawner thread
  ~PreparedNetwork() { close_namespaces(); }
  void close_namespaces();  // both fds, -1 after (one with no fds could not be made)
};

// On the loop thread: a prepared network for this identity, or nullptr (none ready, or not used
// on this host). Asks the spawner thread for more, to keep a few in reserve. Normally joined by
// one sandbox; a session's warm sandboxes may share one (network_handle.h).
std::shared_ptr<PreparedNetwork> take_prepared_network(Napi::Env env, const SandboxIdentity& identity);

// On the loop thread, at start-up: one made now (nullptr, and no more made, when the host
// refuses), for a probe sandbox to join.
std::shared_ptr<PreparedNetwork> prepare_network_now(const SandboxIdentity& identity);

// The spawning thread (any), after a sandbox tried to join one. A refusal (EPERM, EACCES, ENOSYS,
// EINVAL: setns denied by a container's profile, say) means no join will ever work here, and so
// do kMaxJoinFailuresInARow failures of any other kind in a row: sandboxes make their own network
// from then on. A single transient failure (ENOMEM, or ENOSPC from a full per-user namespace
// count) costs that sandbox the detour only.
constexpr int kMaxJoinFailuresInARow = 3;
void network_joined();
void network_join_failed(int error);
// False once making one failed, or joining was refused or failed kMaxJoinFailuresInARow times in
// a row.
bool preparing_networks();

}  // namespace sandbox
