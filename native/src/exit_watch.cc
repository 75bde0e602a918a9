#include "exit_watch.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <unordered_map>

#include "../init/init_report.h"

namespace sandbox {
namespace {

std::unordered_map<uint32_t, ExitWatch*>& live_children() {
  static std::unordered_map<uint32_t, ExitWatch*> children;
  return children;
}

double microseconds(const timeval& tv) { return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec; }

Napi::Value report_to_js(Napi::Env env, int report_fd) {
  sandbox_report report;
  ssize_t got = report_fd >= 0 ? read(report_fd, &report, sizeof report) : -1;
  if (got != (ssize_t)sizeof report || report.magic != SANDBOX_REPORT_MAGIC) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  static const char* const ends[] = {"", "exited", "signaled", "exec_failed", "killed"};
  out.Set("end", report.end >= 1 && report.end <= 4 ? ends[report.end] : "unknown");
  out.Set("exitCode", report.exit_code);
  out.Set("termSignal", report.term_signal);
  out.Set("execErrno", report.exec_errno);
  out.Set("execError", report.exec_errno != 0 ? strerrorname_np(report.exec_errno) : "");
  out.Set("processesReaped", report.processes_started);
  out.Set("userCpuUs", (double)report.user_cpu_us);
  out.Set("systemCpuUs", (double)report.system_cpu_us);
  out.Set("peakRssKb", (double)report.peak_rss_kb);
  out.Set("ioReadBytes", (double)report.io_read_bytes);
  out.Set("ioWriteBytes", (double)report.io_write_bytes);
  Napi::Object seen = Napi::Object::New(env);
  seen.Set("uid", report.uid);
  seen.Set("gid", report.gid);
  seen.Set("capEffective", Napi::BigInt::New(env, (uint64_t)report.cap_effective));
  seen.Set("capBounding", Napi::BigInt::New(env, (uint64_t)report.cap_bounding));
  seen.Set("noNewPrivs", report.no_new_privs);
  seen.Set("seccompMode", report.seccomp_mode);
  Napi::Array ns = Napi::Array::New(env, SANDBOX_NS_COUNT);
  for (uint32_t i = 0; i < SANDBOX_NS_COUNT; i++) ns.Set(i, (double)report.ns_inode[i]);
  seen.Set("namespaceInodes", ns);
  Napi::Array limits = Napi::Array::New(env, SANDBOX_RLIMIT_COUNT);
  for (uint32_t i = 0; i < SANDBOX_RLIMIT_COUNT; i++) {
    limits.Set(i, report.rlimit_cur[i] == (uint64_t)RLIM_INFINITY ? -1.0 : (double)report.rlimit_cur[i]);
  }
  seen.Set("rlimits", limits);
  out.Set("attested", seen);
  return out;
}

}  // namespace

ExitWatch::ExitWatch(Napi::Env env, const SpawnedChild& child, Napi::Function on_exit)
    : env_(env), child_(child), on_exit_(Napi::Persistent(on_exit)), async_context_(env, "sandbox-exit") {
  static uint32_t next_id = 1;
  id_ = next_id++;
}

ExitWatch* ExitWatch::start(Napi::Env env, const SpawnedChild& child, Napi::Function on_exit) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* watch = new ExitWatch(env, child, on_exit);
  if (watch->child_.report_fd >= 0) fcntl(watch->child_.report_fd, F_SETFL, O_NONBLOCK);
  if (watch->child_.control_fd >= 0) fcntl(watch->child_.control_fd, F_SETFL, O_NONBLOCK);
  uv_poll_init(loop, &watch->poll_, child.pidfd);
  watch->poll_.data = watch;
  uv_poll_start(&watch->poll_, UV_READABLE, on_readable);
  live_children()[watch->id_] = watch;
  return watch;
}

ExitWatch* ExitWatch::find(uint32_t id) {
  auto it = live_children().find(id);
  return it == live_children().end() ? nullptr : it->second;
}

bool ExitWatch::signal(int signal_number) const {
  return syscall(SYS_pidfd_send_signal, child_.pidfd, signal_number, nullptr, 0) == 0;
}

bool ExitWatch::kill_tree() {
  if (child_.control_fd < 0) return signal(SIGKILL);
  // sandbox-init kills every process of the sandbox, reaps them and reports exact usage.
  char kill_all = 'k';
  return write(child_.control_fd, &kill_all, 1) == 1;
}

bool ExitWatch::send_command(const uint8_t* data, size_t length) {
  if (child_.control_fd < 0) return false;
  // The pipe is empty (the warm sandbox has read nothing yet) and commands are far below its
  // capacity, so a non-blocking write either takes everything or fails.
  return write(child_.control_fd, data, length) == (ssize_t)length;
}

void ExitWatch::on_readable(uv_poll_t* handle, int, int) { static_cast<ExitWatch*>(handle->data)->reap(); }

void ExitWatch::reap() {
  int status = 0;
  struct rusage usage {};
  pid_t reaped = wait4(child_.pid, &status, WNOHANG | __WALL, &usage);
  if (reaped == 0) return;  // not yet (spurious wake-up)

  Napi::HandleScope scope(env_);
  Napi::Object result = Napi::Object::New(env_);
  if (reaped > 0 && WIFEXITED(status)) {
    result.Set("exitCode", WEXITSTATUS(status));
    result.Set("signal", env_.Null());
  } else if (reaped > 0 && WIFSIGNALED(status)) {
    result.Set("exitCode", env_.Null());
    result.Set("signal", sigabbrev_np(WTERMSIG(status)) ? std::string("SIG") + sigabbrev_np(WTERMSIG(status)) : "SIGUNKNOWN");
  } else {
    result.Set("exitCode", env_.Null());
    result.Set("signal", env_.Null());
  }
  Napi::Object waited = Napi::Object::New(env_);
  waited.Set("userCpuUs", microseconds(usage.ru_utime));
  waited.Set("systemCpuUs", microseconds(usage.ru_stime));
  waited.Set("maxRssKb", (double)usage.ru_maxrss);
  result.Set("wait4", waited);
  result.Set("report", report_to_js(env_, child_.report_fd));
  SpawnError failure;
  if (setup_failure(child_, &failure)) {
    Napi::Object setup = Napi::Object::New(env_);
    const char* name = strerrorname_np(failure.error);
    setup.Set("step", failure.step);
    setup.Set("errno", name ? name : "E" + std::to_string(failure.error));
    setup.Set("message", failure.step + ": " + (name ? name : "errno " + std::to_string(failure.error)) + " (" + strerror(failure.error) + ")");
    result.Set("setupError", setup);
  } else {
    result.Set("setupError", env_.Null());
  }

  live_children().erase(id_);
  uv_poll_stop(&poll_);
  for (int fd : {child_.report_fd, child_.control_fd, child_.error_fd}) {
    if (fd >= 0) close(fd);
  }
  Napi::FunctionReference callback = std::move(on_exit_);
  try {
    callback.MakeCallback(env_.Global(), {result}, async_context_);
  } catch (const Napi::Error&) {
    // Node has already routed the exception to 'uncaughtException'.
  }
  // The pidfd stays open until the poll handle is closed: libuv still refers to it.
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), [](uv_handle_t* handle) {
    auto* self = static_cast<ExitWatch*>(handle->data);
    close(self->child_.pidfd);
    delete self;
  });
}

}  // namespace sandbox
