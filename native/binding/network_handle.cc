#include "binding/network_handle.h"

namespace sandbox {
namespace {

using Held = std::shared_ptr<PreparedNetwork>;

// Tells our externals apart from any other a caller could pass.
constexpr napi_type_tag kNetworkHandleTag = {0x6e6574776f726b5fULL, 0x68616e646c653031ULL};

Held* held_of(const Napi::Value& handle) {
  Napi::Env env = handle.Env();
  bool ours = false;
  if (handle.IsExternal()) napi_check_object_type_tag(env, handle, &kNetworkHandleTag, &ours);
  if (!ours) throw Napi::TypeError::New(env, "network: expected a handle from takeNetwork()");
  return handle.As<Napi::External<Held>>().Data();
}

}  // namespace

Napi::Value network_handle(Napi::Env env, std::shared_ptr<PreparedNetwork> network) {
  if (!network) return env.Null();
  auto handle =
      Napi::External<Held>::New(env, new Held(std::move(network)), [](Napi::Env, Held* held) { delete held; });
  napi_type_tag_object(env, handle, &kNetworkHandleTag);
  return handle;
}

std::shared_ptr<PreparedNetwork> network_of_handle(const Napi::Value& handle) { return *held_of(handle); }

void release_network_handle(const Napi::Value& handle) { held_of(handle)->reset(); }

}  // namespace sandbox
