#include "binding/plan_from_js.h"

#include "binding/network_handle.h"

#include <sys/mount.h>
#include <sys/resource.h>

#include <unordered_map>

namespace sandbox {
namespace {

[[noreturn]] void bad(const Napi::Env& env, const std::string& field, const std::string& why) {
  throw Napi::TypeError::New(env, "spawn plan: " + field + " " + why);
}

std::string get_string(const Napi::Object& o, const char* key, bool required = true) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() && !required) return "";
  if (!v.IsString()) bad(o.Env(), key, "must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) bad(o.Env(), key, "must not contain NUL");
  return s;
}

bool get_bool(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) bad(o.Env(), key, "must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

double get_number(const Napi::Object& o, const char* key, double min, double max) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) bad(o.Env(), key, "must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max)) bad(o.Env(), key, "is out of range");
  return d;
}

std::vector<std::string> get_strings(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) bad(o.Env(), key, "must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value item = a.Get(i);
    if (!item.IsString()) bad(o.Env(), key, "must be an array of strings");
    std::string s = item.As<Napi::String>().Utf8Value();
    if (s.find('\0') != std::string::npos) bad(o.Env(), key, "must not contain NUL");
    out.push_back(std::move(s));
  }
  return out;
}

MountOp::Kind mount_kind(const Napi::Env& env, const std::string& name) {
  static const std::unordered_map<std::string, MountOp::Kind> kinds = {
      {"dir", MountOp::Kind::Dir},        {"file", MountOp::Kind::File}, {"bind", MountOp::Kind::Bind},
      {"tmpfs", MountOp::Kind::Tmpfs},    {"proc", MountOp::Kind::Proc}, {"symlink", MountOp::Kind::Symlink},
      {"remount", MountOp::Kind::Remount}};
  auto it = kinds.find(name);
  if (it == kinds.end()) bad(env, "mounts[].kind", "'" + name + "' is unknown");
  return it->second;
}

unsigned long mount_flags(const Napi::Env& env, const std::vector<std::string>& names) {
  unsigned long flags = 0;
  for (const std::string& name : names) {
    if (name == "nosuid")
      flags |= MS_NOSUID;
    else if (name == "nodev")
      flags |= MS_NODEV;
    else if (name == "noexec")
      flags |= MS_NOEXEC;
    else
      bad(env, "mounts[].flags", "'" + name + "' is unknown");
  }
  return flags;
}

int rlimit_resource(const Napi::Env& env, const std::string& name) {
  static const std::unordered_map<std::string, int> resources = {
      {"cpu", RLIMIT_CPU},           {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},
      {"nofile", RLIMIT_NOFILE},     {"core", RLIMIT_CORE},       {"stack", RLIMIT_STACK},
      {"nproc", RLIMIT_NPROC},       {"as", RLIMIT_AS},           {"sigpending", RLIMIT_SIGPENDING},
      {"msgqueue", RLIMIT_MSGQUEUE}, {"memlock", RLIMIT_MEMLOCK}, {"nice", RLIMIT_NICE},
      {"rtprio", RLIMIT_RTPRIO}};
  auto it = resources.find(name);
  if (it == resources.end()) bad(env, "rlimits[].resource", "'" + name + "' is unknown");
  return it->second;
}

FdKind fd_kind(const Napi::Env& env, const std::string& name) {
  if (name == "null") return FdKind::Null;
  if (name == "pipe-out") return FdKind::PipeFromChild;
  if (name == "pipe-in") return FdKind::PipeToChild;
  bad(env, "fds[]", "'" + name + "' is unknown");
}

std::string under(const char* staging, const std::string& path, const Napi::Env& env, const char* field) {
  if (path.empty() || path[0] != '/') bad(env, field, "must be an absolute path");
  return staging + path;
}

std::vector<MountOp> convert_mounts(const Napi::Array& list) {
  Napi::Env env = list.Env();
  std::vector<MountOp> out;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsObject()) bad(env, "mounts[]", "must be objects");
    Napi::Object m = item.As<Napi::Object>();
    MountOp op;
    op.kind = mount_kind(env, get_string(m, "kind"));
    op.target = under("/newroot", get_string(m, "target"), env, "mounts[].target");
    std::string source = get_string(m, "source", false);
    if (op.kind == MountOp::Kind::Bind)
      op.source = under("/oldroot", source, env, "mounts[].source");
    else
      op.source = source;  // symlink text, kept as given
    op.data = get_string(m, "data", false);
    Napi::Value read_only = m.Get("readOnly");
    op.read_only = read_only.IsBoolean() ? read_only.As<Napi::Boolean>().Value() : true;
    if (m.Has("flags")) op.flags = mount_flags(env, get_strings(m, "flags"));
    out.push_back(std::move(op));
  }
  return out;
}

// Converted once per JS array and kept on it (napi_wrap): the executor renders a policy's mount
// list once and passes that same frozen array for each of its sandboxes, and converting its ~60
// steps costs more than the rest of the plan.
std::vector<MountOp> mounts_from_js(const Napi::Array& list) {
  napi_env env = list.Env();
  void* kept = nullptr;
  if (napi_unwrap(env, list, &kept) == napi_ok && kept != nullptr) return *static_cast<std::vector<MountOp>*>(kept);
  std::vector<MountOp> mounts = convert_mounts(list);
  bool frozen = false;
  Napi::Value is_frozen = list.Env().Global().Get("Object").As<Napi::Object>().Get("isFrozen");
  if (is_frozen.IsFunction()) frozen = is_frozen.As<Napi::Function>().Call({list}).ToBoolean().Value();
  if (frozen) {  // an array that may still change is converted every time
    auto* copy = new std::vector<MountOp>(mounts);
    auto release = [](napi_env, void* data, void*) { delete static_cast<std::vector<MountOp>*>(data); };
    if (napi_wrap(env, list, copy, release, nullptr, nullptr) != napi_ok) delete copy;
  }
  return mounts;
}

}  // namespace

SpawnPlan plan_from_js(const Napi::Object& o) {
  Napi::Env env = o.Env();
  SpawnPlan plan;
  plan.sandboxed = get_bool(o, "sandboxed");
  plan.new_network = get_bool(o, "newNetwork");
  plan.prepared_network =
      !o.Has("preparedNetwork") || o.Get("preparedNetwork").IsUndefined() || get_bool(o, "preparedNetwork");
  Napi::Value network = o.Get("network");
  if (!network.IsUndefined() && !network.IsNull()) plan.network = network_of_handle(network);
  plan.exec_path = get_string(o, "execPath");
  plan.argv = get_strings(o, "argv");
  if (plan.argv.empty()) bad(env, "argv", "must not be empty");
  plan.envp = get_strings(o, "env");
  plan.cwd = get_string(o, "cwd");
  plan.hostname = get_string(o, "hostname");
  plan.max_processes = (unsigned)get_number(o, "maxProcesses", 0, 4194304);
  plan.inside_uid = (uid_t)get_number(o, "insideUid", 0, 4294967294.0);
  plan.inside_gid = (gid_t)get_number(o, "insideGid", 0, 4294967294.0);
  plan.outside_uid = (uid_t)get_number(o, "outsideUid", 0, 4294967294.0);
  plan.outside_gid = (gid_t)get_number(o, "outsideGid", 0, 4294967294.0);
  plan.deny_setgroups = get_bool(o, "denySetgroups");
  plan.apply_seccomp = get_bool(o, "seccomp");
  plan.run_as_outside_user = get_bool(o, "runAsOutsideUser");
  plan.with_init = get_bool(o, "withInit");
  for (const std::string& kind : get_strings(o, "fds")) plan.fds.push_back(fd_kind(env, kind));

  Napi::Value mounts = o.Get("mounts");
  if (!mounts.IsArray()) bad(env, "mounts", "must be an array");
  plan.mounts = mounts_from_js(mounts.As<Napi::Array>());

  Napi::Value rlimits = o.Get("rlimits");
  if (!rlimits.IsArray()) bad(env, "rlimits", "must be an array");
  Napi::Array limits = rlimits.As<Napi::Array>();
  for (uint32_t i = 0; i < limits.Length(); i++) {
    Napi::Value item = limits.Get(i);
    if (!item.IsObject()) bad(env, "rlimits[]", "must be objects");
    Napi::Object l = item.As<Napi::Object>();
    RlimitSetting setting;
    setting.resource = rlimit_resource(env, get_string(l, "resource"));
    setting.soft = (unsigned long long)get_number(l, "soft", 0, 9007199254740991.0);
    setting.hard = (unsigned long long)get_number(l, "hard", 0, 9007199254740991.0);
    if (setting.hard < setting.soft) bad(env, "rlimits[].hard", "must not be below soft");
    plan.rlimits.push_back(setting);
  }

  Napi::Value user_limits = o.Get("userNamespaceLimits");
  if (!user_limits.IsArray()) bad(env, "userNamespaceLimits", "must be an array");
  Napi::Array user_limit_list = user_limits.As<Napi::Array>();
  for (uint32_t i = 0; i < user_limit_list.Length(); i++) {
    Napi::Value item = user_limit_list.Get(i);
    if (!item.IsObject()) bad(env, "userNamespaceLimits[]", "must be objects");
    Napi::Object l = item.As<Napi::Object>();
    std::string name = get_string(l, "name");
    // a file name in /proc/sys/user, nothing else
    if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
      bad(env, "userNamespaceLimits[].name", "must be a /proc/sys/user file name");
    }
    plan.user_namespace_limits.emplace_back(name, std::to_string((long long)get_number(l, "value", 0, 2147483647.0)));
  }
  return plan;
}

}  // namespace sandbox
