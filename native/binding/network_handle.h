// A prepared network held by JavaScript: a session's warm sandboxes share one (loopback only,
// like a single sandbox's), instead of each making and tearing down a network namespace.
#pragma once

#include <napi.h>

#include <memory>

#include "parent/prepared_network.h"

namespace sandbox {

// An opaque handle (a tagged external) for a network of the reserve; null when none is ready.
Napi::Value network_handle(Napi::Env env, std::shared_ptr<PreparedNetwork> network);
// The network of a handle made above (still held, or nullptr once released); TypeError otherwise.
std::shared_ptr<PreparedNetwork> network_of_handle(const Napi::Value& handle);
// Lets the handle's network go (its sandboxes keep it until they end).
void release_network_handle(const Napi::Value& handle);

}  // namespace sandbox
