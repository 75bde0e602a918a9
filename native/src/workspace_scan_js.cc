#include "workspace_scan_js.h"

#include "workspace_scan.h"

namespace sandbox {
namespace {

Napi::Object scan_to_js(Napi::Env env, const WorkspaceScan& scan) {
  Napi::Array files = Napi::Array::New(env, scan.files.size());
  Napi::Array identities = Napi::Array::New(env, scan.files.size());
  for (uint32_t i = 0; i < scan.files.size(); i++) {
    files.Set(i, scan.files[i].path);
    identities.Set(i, scan.files[i].identity);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("files", files);
  out.Set("identities", identities);
  out.Set("incomplete", scan.incomplete ? Napi::String::New(env, scan.incomplete) : env.Null());
  return out;
}

// The whole walk on a libuv pool thread: the event loop only converts its bounded result.
class ScanWorker : public Napi::AsyncWorker {
 public:
  ScanWorker(Napi::Env env, std::string root, WorkspaceScanLimits limits)
      : Napi::AsyncWorker(env, "sandbox-workspace-scan"), deferred_(env), root_(std::move(root)), limits_(limits) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override { scan_ = scan_workspace(root_, limits_); }
  void OnOK() override { deferred_.Resolve(scan_to_js(Env(), scan_)); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string root_;
  WorkspaceScanLimits limits_;
  WorkspaceScan scan_;
};

uint64_t count_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber() || info[i].As<Napi::Number>().DoubleValue() < 0) {
    throw Napi::TypeError::New(info.Env(), std::string("scanWorkspace: ") + what + " must be a number >= 0");
  }
  return uint64_t(info[i].As<Napi::Number>().DoubleValue());
}

std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* function) {
  if (info.Length() <= i || !info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(function) + ": expected a path string");
  return info[i].As<Napi::String>().Utf8Value();
}

}  // namespace

Napi::Value ScanWorkspace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string root = string_arg(info, 0, "scanWorkspace");
  WorkspaceScanLimits limits{count_arg(info, 1, "maxEntries"), int64_t(count_arg(info, 2, "maxMillis"))};
  uint64_t synchronous_entries = count_arg(info, 3, "synchronousEntries");
  // Most workspaces are small: walked right here they cost less of the loop's time than a pool
  // round trip. One that is not small is walked again, whole, on a pool thread.
  if (synchronous_entries > 0) {
    WorkspaceScan scan = scan_workspace(root, {std::min(synchronous_entries, limits.max_entries), limits.max_millis});
    if (scan.incomplete == nullptr || synchronous_entries >= limits.max_entries) {
      Napi::Promise::Deferred done(env);
      done.Resolve(scan_to_js(env, scan));
      return done.Promise();
    }
  }
  auto* worker = new ScanWorker(env, std::move(root), limits);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value OpenArtifact(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  OpenedArtifact opened = open_artifact(string_arg(info, 0, "openArtifact"), string_arg(info, 1, "openArtifact"));
  if (opened.fd < 0) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", opened.fd);
  out.Set("size", double(opened.size));
  return out;
}

}  // namespace sandbox
