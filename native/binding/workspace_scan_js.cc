#include "binding/workspace_scan_js.h"

#include <algorithm>
#include <memory>
#include <string_view>

#include "parent/workspace_scan.h"

namespace sandbox {
namespace {

using Snapshot = std::shared_ptr<const WorkspaceScan>;

// Tells our externals apart from any other a caller could pass.
constexpr napi_type_tag kSnapshotTag = {0x776f726b73706163ULL, 0x655f736e61703031ULL};

Napi::Value snapshot_handle(Napi::Env env, Snapshot scan) {
  auto handle =
      Napi::External<Snapshot>::New(env, new Snapshot(std::move(scan)), [](Napi::Env, Snapshot* held) { delete held; });
  napi_type_tag_object(env, handle, &kSnapshotTag);
  return handle;
}

Snapshot snapshot_of(const Napi::Value& handle) {
  Napi::Env env = handle.Env();
  bool ours = false;
  if (handle.IsExternal()) napi_check_object_type_tag(env, handle, &kSnapshotTag, &ours);
  if (!ours) throw Napi::TypeError::New(env, "scanWorkspace: since.snapshot must be a snapshot from scanWorkspace()");
  return *handle.As<Napi::External<Snapshot>>().Data();
}

struct ScanRequest {
  std::string root;
  WorkspaceScanLimits limits;
  Snapshot since;  // null: no comparison
  size_t max_changed = 0;
};

struct ScanOutcome {
  Snapshot scan;
  ChangedFiles changed;
};

ScanOutcome run_scan(const ScanRequest& request, const WorkspaceScanLimits& limits) {
  auto scan = std::make_shared<WorkspaceScan>(scan_workspace(request.root, limits));
  ChangedFiles changed = request.since ? changed_files(*request.since, *scan, request.max_changed) : ChangedFiles{};
  return {std::move(scan), std::move(changed)};
}

// Well-formed UTF-8 (no overlong form, surrogate or code point past U+10FFFF): what a JS string
// holds without U+FFFD replacing bytes.
bool is_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = text[i];
    size_t more = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 4;
    if (more == 4 || (more > 0 && i + more >= text.size())) return false;  // no such lead, or cut short
    uint32_t code = more == 0 ? c : more == 1 ? (c & 0x1F) : more == 2 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k <= more; k++) {
      unsigned char next = text[i + k];
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    static constexpr uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[more] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += more + 1;
  }
  return true;
}

// A path that is not UTF-8 is left out (counted): as a JS string its bytes would become U+FFFD,
// two names could read the same, and opening it by that string would open another file.
Napi::Object outcome_to_js(Napi::Env env, const ScanOutcome& outcome) {
  Napi::Array changed = Napi::Array::New(env);
  uint32_t kept = 0, not_utf8 = 0;
  for (const std::string& path : outcome.changed.paths) {
    if (is_utf8(path))
      changed.Set(kept++, path);
    else
      not_utf8++;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("snapshot", snapshot_handle(env, outcome.scan));
  out.Set("incomplete", outcome.scan->incomplete ? Napi::String::New(env, outcome.scan->incomplete) : env.Null());
  out.Set("changed", changed);
  out.Set("changedTruncated", outcome.changed.truncated);
  out.Set("changedNotUtf8", not_utf8);
  return out;
}

// The walk and the comparison on a libuv pool thread.
class ScanWorker : public Napi::AsyncWorker {
 public:
  ScanWorker(Napi::Env env, ScanRequest request)
      : Napi::AsyncWorker(env, "sandbox-workspace-scan"), deferred_(env), request_(std::move(request)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override { outcome_ = run_scan(request_, request_.limits); }
  void OnOK() override { deferred_.Resolve(outcome_to_js(Env(), outcome_)); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  ScanRequest request_;
  ScanOutcome outcome_;
};

uint64_t count_of(const Napi::Object& object, const char* key) {
  Napi::Value value = object.Get(key);
  if (!value.IsNumber() || value.As<Napi::Number>().DoubleValue() < 0) {
    throw Napi::TypeError::New(object.Env(), std::string("scanWorkspace: ") + key + " must be a number >= 0");
  }
  return uint64_t(value.As<Napi::Number>().DoubleValue());
}

std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* function) {
  if (info.Length() <= i || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(function) + ": expected a path string");
  return info[i].As<Napi::String>().Utf8Value();
}

}  // namespace

Napi::Value ScanWorkspace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ScanRequest request;
  request.root = string_arg(info, 0, "scanWorkspace");
  if (info.Length() < 2 || !info[1].IsObject()) throw Napi::TypeError::New(env, "scanWorkspace: expected limits");
  Napi::Object limits = info[1].As<Napi::Object>();
  request.limits = {count_of(limits, "maxEntries"), int64_t(count_of(limits, "maxMillis"))};
  uint64_t synchronous_entries = std::min(count_of(limits, "synchronousEntries"), request.limits.max_entries);
  if (info.Length() > 2 && info[2].IsObject()) {
    Napi::Object since = info[2].As<Napi::Object>();
    request.since = snapshot_of(since.Get("snapshot"));
    request.max_changed = count_of(since, "maxChanged");
  }
  // Most workspaces are small: walked (and compared) right here they cost the loop less than a
  // pool round trip would. One that is not small is walked again, whole, on a pool thread.
  bool small_since = !request.since || request.since->files.size() <= synchronous_entries;
  if (synchronous_entries > 0 && small_since) {
    ScanOutcome outcome = run_scan(request, {synchronous_entries, request.limits.max_millis});
    bool out_of_entries = outcome.scan->incomplete && std::string_view(outcome.scan->incomplete) == "entry_budget";
    if (!out_of_entries || synchronous_entries == request.limits.max_entries) {
      Napi::Promise::Deferred done(env);
      done.Resolve(outcome_to_js(env, outcome));
      return done.Promise();
    }
  }
  auto* worker = new ScanWorker(env, std::move(request));
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
