// The addon's whole surface (typed as NativeAddon in src/sandbox/native-addon.ts):
//   spawn(plan, onExit, background?) -> { id, fds }    signal(id, signo)    killTree(id)    sendCommand(id, buf)
//   readOutputs(fds, onChunk) -> id    stopOutputs(id)    seccompProgram() -> Buffer    seccompDenied() -> string[]
//   takeNetwork(identity) -> handle | null     releaseNetwork(handle)
//   prepareNetworkNow(identity) -> handle | null   preparingNetworks() -> boolean
//   scanWorkspace(root, limits, since?) -> Promise<{ snapshot, incomplete, changed }>   openArtifact(root, path)
//   lockDirectory(path) -> fd | null           unlockDirectory(fd)
#include <fcntl.h>
#include <napi.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <unordered_map>

#include "binding/child_handle.h"
#include "binding/network_handle.h"
#include "binding/output_reader.h"
#include "binding/plan_from_js.h"
#include "binding/workspace_scan_js.h"
#include "parent/prepared_network.h"
#include "parent/seccomp_policy.h"
#include "parent/spawn.h"

namespace sandbox {
namespace {

// Failures in the parent (pipes, clone, uid maps) are thrown here; failures of the child's own
// setup arrive with its exit (setupError), since spawn does not wait for the child.
Napi::Error spawn_error(Napi::Env env, const SpawnError& e) {
  const char* name = strerrorname_np(e.error);
  std::string errno_name = name ? name : "E" + std::to_string(e.error);
  Napi::Error error = Napi::Error::New(env, e.step + ": " + errno_name + " (" + strerror(e.error) + ")");
  error.Set("code", "ESANDBOXSPAWN");
  error.Set("step", e.step);
  error.Set("errno", errno_name);
  return error;
}

// The init binary is executed by fd (it is not inside the sandbox's root); opened once per path.
int init_exec_fd(Napi::Env env, const std::string& path) {
  static std::unordered_map<std::string, int> opened;
  auto it = opened.find(path);
  if (it != opened.end()) return it->second;
  int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) throw spawn_error(env, SpawnError{"open(" + path + ")", errno});
  opened[path] = fd;
  return fd;
}

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "spawn(plan, onExit, background?) expects an object and a function");
  }
  // background: clone on the spawner thread (spawner.h); a failure to launch then arrives as the
  // exit's setupError instead of being thrown here
  bool background = info.Length() > 2 && info[2].ToBoolean().Value();
  Napi::Object js_plan = info[0].As<Napi::Object>();
  SpawnPlan plan = plan_from_js(js_plan);
  int init_fd = plan.sandboxed ? init_exec_fd(env, js_plan.Get("initPath").ToString().Utf8Value()) : -1;
  const sock_fprog* program = nullptr;
  if (plan.apply_seccomp) {
    const SeccompPolicy& policy = seccomp_policy();
    if (!policy.error.empty()) throw Napi::Error::New(env, "seccomp filter: " + policy.error);
    program = &policy.program;
  }
  std::shared_ptr<PreparedNetwork> network;
  if (plan.sandboxed && plan.new_network) {
    if (plan.network && plan.network->identity == plan.identity())
      network = plan.network;
    else if (plan.prepared_network)
      network = take_prepared_network(env, plan.identity());
  }
  SpawnedChild child;
  try {
    child = background ? prepare_child(plan, init_fd, program, std::move(network))
                       : spawn_child(plan, init_fd, program, std::move(network));
  } catch (const SpawnError& e) {
    throw spawn_error(env, e);
  }
  Napi::Function on_exit = info[1].As<Napi::Function>();
  uint32_t id =
      background ? ChildHandle::start_in_background(env, child, on_exit) : ChildHandle::start(env, child, on_exit);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", id);
  Napi::Array fds = Napi::Array::New(env, child.parent_fds.size());
  for (uint32_t i = 0; i < child.parent_fds.size(); i++) fds.Set(i, child.parent_fds[i]);
  out.Set("fds", fds);
  return out;
}

ChildHandle* handle_arg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a child id");
  return ChildHandle::find(info[0].As<Napi::Number>().Uint32Value());
}

Napi::Value Signal(const Napi::CallbackInfo& info) {
  ChildHandle* handle = handle_arg(info);
  if (info.Length() < 2 || !info[1].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a signal number");
  return Napi::Boolean::New(info.Env(), handle != nullptr && handle->signal(info[1].As<Napi::Number>().Int32Value()));
}

Napi::Value KillTree(const Napi::CallbackInfo& info) {
  ChildHandle* handle = handle_arg(info);
  return Napi::Boolean::New(info.Env(), handle != nullptr && handle->kill_tree());
}

Napi::Value SendCommand(const Napi::CallbackInfo& info) {
  ChildHandle* handle = handle_arg(info);
  if (info.Length() < 2 || !info[1].IsBuffer()) throw Napi::TypeError::New(info.Env(), "expected a Buffer");
  Napi::Buffer<uint8_t> data = info[1].As<Napi::Buffer<uint8_t>>();
  return Napi::Boolean::New(info.Env(), handle != nullptr && handle->send_command(data.Data(), data.Length()));
}

Napi::Value ReadOutputs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "readOutputs(fds, onChunk) expects an array of fds and a function");
  }
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<int> fds;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value fd = list.Get(i);
    if (!fd.IsNumber()) throw Napi::TypeError::New(env, "readOutputs: fds must be numbers (-1 for none)");
    fds.push_back(fd.As<Napi::Number>().Int32Value());
  }
  return Napi::Number::New(env, OutputReader::start(env, fds, info[1].As<Napi::Function>()));
}

Napi::Value StopOutputs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(info.Env(), "stopOutputs(id) expects the id readOutputs returned");
  OutputReader::stop(info[0].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

SandboxIdentity identity_arg(const Napi::CallbackInfo& info, const char* function) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    throw Napi::TypeError::New(env, std::string(function) + "(identity) expects an object");
  Napi::Object o = info[0].As<Napi::Object>();
  auto id = [&](const char* key) {
    Napi::Value v = o.Get(key);
    if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(function) + ": " + key + " must be a number");
    return v.As<Napi::Number>().Uint32Value();
  };
  return SandboxIdentity{id("insideUid"), id("insideGid"), id("outsideUid"), id("outsideGid"),
                         o.Get("denySetgroups").ToBoolean().Value()};
}

// takeNetwork({insideUid, insideGid, outsideUid, outsideGid, denySetgroups}) -> handle | null
Napi::Value TakeNetwork(const Napi::CallbackInfo& info) {
  return network_handle(info.Env(), take_prepared_network(info.Env(), identity_arg(info, "takeNetwork")));
}

// prepareNetworkNow(identity) -> handle | null: made on this thread, for the start-up probe
Napi::Value PrepareNetworkNow(const Napi::CallbackInfo& info) {
  return network_handle(info.Env(), prepare_network_now(identity_arg(info, "prepareNetworkNow")));
}

Napi::Value PreparingNetworks(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), preparing_networks());
}

Napi::Value ReleaseNetwork(const Napi::CallbackInfo& info) {
  if (info.Length() < 1) throw Napi::TypeError::New(info.Env(), "releaseNetwork(handle) expects a handle");
  release_network_handle(info[0]);
  return info.Env().Undefined();
}

Napi::Value SeccompProgram(const Napi::CallbackInfo& info) {
  const SeccompPolicy& policy = seccomp_policy();
  if (!policy.error.empty()) throw Napi::Error::New(info.Env(), "seccomp filter: " + policy.error);
  return Napi::Buffer<uint8_t>::Copy(info.Env(), reinterpret_cast<const uint8_t*>(policy.filter.data()),
                                     policy.filter.size() * sizeof(sock_filter));
}

Napi::Value SeccompDenied(const Napi::CallbackInfo& info) {
  const SeccompPolicy& policy = seccomp_policy();
  Napi::Array out = Napi::Array::New(info.Env(), policy.denied.size());
  for (uint32_t i = 0; i < policy.denied.size(); i++) out.Set(i, policy.denied[i]);
  return out;
}

Napi::Error errno_error(Napi::Env env, const std::string& what, int error) {
  const char* name = strerrorname_np(error);
  std::string errno_name = name ? name : "E" + std::to_string(error);
  Napi::Error out = Napi::Error::New(env, what + ": " + errno_name + " (" + strerror(error) + ")");
  out.Set("code", errno_name);
  return out;
}

// lockDirectory(path) -> fd | null: an exclusive flock(2) on the directory itself, so no file in
// it can be deleted or swapped to get around the lock. The lock belongs to this open file, not to
// the process (a POSIX lock would drop at any close of any fd on it), and goes with its fd:
// unlockDirectory(fd), or the process ending however it ends. No sandbox keeps it: a native
// sandbox's child closes every fd it is not given before it execs (close_range in the recipe),
// and O_CLOEXEC covers every other exec (bwrap, pip). null when another open file holds it.
Napi::Value LockDirectory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "lockDirectory(path) expects a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw errno_error(env, "open(" + path + ")", errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    close(fd);
    if (error == EWOULDBLOCK) return env.Null();
    throw errno_error(env, "flock(" + path + ")", error);
  }
  return Napi::Number::New(env, fd);
}

Napi::Value UnlockDirectory(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(info.Env(), "unlockDirectory(fd) expects a number");
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

}  // namespace
}  // namespace sandbox

static Napi::Object InitSandboxAddon(Napi::Env env, Napi::Object exports) {
  using namespace sandbox;
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  exports.Set("signal", Napi::Function::New(env, Signal, "signal"));
  exports.Set("killTree", Napi::Function::New(env, KillTree, "killTree"));
  exports.Set("sendCommand", Napi::Function::New(env, SendCommand, "sendCommand"));
  exports.Set("readOutputs", Napi::Function::New(env, ReadOutputs, "readOutputs"));
  exports.Set("stopOutputs", Napi::Function::New(env, StopOutputs, "stopOutputs"));
  exports.Set("takeNetwork", Napi::Function::New(env, TakeNetwork, "takeNetwork"));
  exports.Set("releaseNetwork", Napi::Function::New(env, ReleaseNetwork, "releaseNetwork"));
  exports.Set("prepareNetworkNow", Napi::Function::New(env, PrepareNetworkNow, "prepareNetworkNow"));
  exports.Set("preparingNetworks", Napi::Function::New(env, PreparingNetworks, "preparingNetworks"));
  exports.Set("seccompProgram", Napi::Function::New(env, SeccompProgram, "seccompProgram"));
  exports.Set("seccompDenied", Napi::Function::New(env, SeccompDenied, "seccompDenied"));
  exports.Set("scanWorkspace", Napi::Function::New(env, ScanWorkspace, "scanWorkspace"));
  exports.Set("openArtifact", Napi::Function::New(env, OpenArtifact, "openArtifact"));
  exports.Set("lockDirectory", Napi::Function::New(env, LockDirectory, "lockDirectory"));
  exports.Set("unlockDirectory", Napi::Function::New(env, UnlockDirectory, "unlockDirectory"));
  return exports;
}

NODE_API_MODULE(sandbox_native, InitSandboxAddon)
