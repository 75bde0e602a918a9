#include "binding/child_handle.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <unordered_map>

#include "parent/spawner.h"

namespace sandbox {
namespace {

std::unordered_map<uint32_t, ChildHandle*>& live_children() {
  static std::unordered_map<uint32_t, ChildHandle*> children;
  return children;
}

double microseconds(const timeval& tv) { return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec; }

Napi::Object report_to_js(Napi::Env env, const sandbox_report& report) {
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
  static const char* const limits_exceeded[] = {"", "memory", "disk", "files"};
  bool known_limit = report.limit_exceeded >= 1 && report.limit_exceeded <= 3;
  out.Set("limitExceeded",
          known_limit ? Napi::Value(Napi::String::New(env, limits_exceeded[report.limit_exceeded])) : env.Null());
  out.Set("memorySamples", report.memory_samples);
  out.Set("memoryWatched", report.memory_watched == 1);
  out.Set("sandboxPeakKb", (double)report.sandbox_peak_kb);
  out.Set("storageKb", (double)report.storage_kb);
  out.Set("storageFiles", (double)report.storage_files);
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
  Napi::Array userns = Napi::Array::New(env, SANDBOX_USERNS_LIMIT_COUNT);
  for (uint32_t i = 0; i < SANDBOX_USERNS_LIMIT_COUNT; i++) userns.Set(i, (double)report.userns_limit[i]);
  seen.Set("userNamespaceLimits", userns);
  out.Set("attested", seen);
  return out;
}

// The exit object the JS callback receives (typed as NativeExit in src/sandbox/native-addon.ts).
Napi::Object exit_object(Napi::Env env, Napi::Value exit_code, Napi::Value signal, const struct rusage& usage,
                         Napi::Value report, Napi::Value setup_error) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("exitCode", exit_code);
  result.Set("signal", signal);
  Napi::Object waited = Napi::Object::New(env);
  waited.Set("userCpuUs", microseconds(usage.ru_utime));
  waited.Set("systemCpuUs", microseconds(usage.ru_stime));
  waited.Set("maxRssKb", (double)usage.ru_maxrss);
  result.Set("wait4", waited);
  result.Set("report", report);
  result.Set("setupError", setup_error);
  return result;
}

Napi::Object setup_error_object(Napi::Env env, const SpawnError& error) {
  const char* name = strerrorname_np(error.error);
  std::string errno_name = name ? name : "E" + std::to_string(error.error);
  Napi::Object setup = Napi::Object::New(env);
  setup.Set("step", error.step);
  setup.Set("errno", errno_name);
  setup.Set("message", error.step + ": " + errno_name + " (" + strerror(error.error) + ")");
  return setup;
}

}  // namespace

ChildHandle::ChildHandle(Napi::Env env, const SpawnedChild& child, Napi::Function on_exit)
    : env_(env), child_(child), on_exit_(Napi::Persistent(on_exit)), async_context_(env, "sandbox-exit") {
  static uint32_t next_id = 1;
  id_ = next_id++;
  // send_command writes without blocking, from the moment the handle exists (a warm sandbox may
  // get its command before its launch is done). Should that fail, the control pipe is closed
  // instead, which ends the sandbox: its exit then carries this step as its setup error.
  if (child_.control_fd >= 0 && fcntl(child_.control_fd, F_SETFL, O_NONBLOCK) < 0) {
    watch_failure_ = SpawnError{"fcntl(control pipe)", errno};
    close(child_.control_fd);
    child_.control_fd = -1;
  }
}

uint32_t ChildHandle::start(Napi::Env env, const SpawnedChild& child, Napi::Function on_exit) {
  auto* handle = new ChildHandle(env, child, on_exit);
  uint32_t id = handle->id_;
  live_children()[id] = handle;
  handle->launched();  // may end it already (unwatchable)
  return id;
}

uint32_t ChildHandle::start_in_background(Napi::Env env, const SpawnedChild& child, Napi::Function on_exit) {
  auto* handle = new ChildHandle(env, child, on_exit);
  live_children()[handle->id_] = handle;
  handle->background_ = true;
  launch_in_background(env, handle);
  return handle->id_;
}

// On the spawner thread.
void ChildHandle::launch() {
  try {
    launch_child(child_);
  } catch (const SpawnError& error) {
    launch_error_ = error;
  }
}

void ChildHandle::launched() {
  if (background_ && launch_error_.error != 0) return launch_failed(launch_error_);
  launched_ = true;
  begin_polling();
  if (pending_signal_ != 0) signal(pending_signal_);
}

void ChildHandle::begin_polling() {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env_, &loop);
  int r = uv_poll_init(loop, &exit_poll_, child_.pidfd);
  if (r != 0) return unwatchable(SpawnError{"uv_poll_init(pidfd)", -r});
  exit_poll_.data = this;
  uv_poll_start(&exit_poll_, UV_READABLE, on_exit_readable);
  open_handles_ = 1;
  if (child_.report_fd < 0) return;
  // Without its report the sandbox's result would be incomplete: end it, and let its exit say why.
  if (fcntl(child_.report_fd, F_SETFL, O_NONBLOCK) < 0) {
    watch_failure_ = SpawnError{"fcntl(report pipe)", errno};
  } else if ((r = uv_poll_init(loop, &report_poll_, child_.report_fd)) != 0) {
    watch_failure_ = SpawnError{"uv_poll_init(report pipe)", -r};
  } else {
    report_poll_.data = this;
    uv_poll_start(&report_poll_, UV_READABLE, on_report_readable);
    watching_report_ = true;
    open_handles_ = 2;
    return;
  }
  syscall(SYS_pidfd_send_signal, child_.pidfd, SIGKILL, nullptr, 0);
}

// The child's exit cannot be watched: it is killed and reaped here (it has no way to block its
// end), and the failure is its setup error.
void ChildHandle::unwatchable(const SpawnError& error) {
  syscall(SYS_pidfd_send_signal, child_.pidfd, SIGKILL, nullptr, 0);
  while (waitpid(child_.pid, nullptr, __WALL) < 0 && errno == EINTR) {
  }
  close(child_.pidfd);
  launch_failed(error);
}

// Nothing was started: the exit says why, as a setup error, and the watch ends here.
void ChildHandle::launch_failed(const SpawnError& error) {
  live_children().erase(id_);
  Napi::HandleScope scope(env_);
  deliver(exit_object(env_, env_.Null(), env_.Null(), {}, env_.Null(), setup_error_object(env_, error)));
  for (int fd : {child_.report_fd, child_.control_fd, child_.error_fd}) {
    if (fd >= 0) close(fd);
  }
  delete this;
}

ChildHandle* ChildHandle::find(uint32_t id) {
  auto it = live_children().find(id);
  return it == live_children().end() ? nullptr : it->second;
}

bool ChildHandle::signal(int signal_number) {
  if (!launched_) {
    pending_signal_ = signal_number;
    return true;
  }
  return syscall(SYS_pidfd_send_signal, child_.pidfd, signal_number, nullptr, 0) == 0;
}

bool ChildHandle::kill_tree() {
  if (child_.report_fd < 0) return signal(SIGKILL);  // no sandbox-init
  if (child_.control_fd < 0) return true;            // already asked
  // sandbox-init kills every process of the sandbox, reaps them and reports exact usage.
  close(child_.control_fd);
  child_.control_fd = -1;
  return true;
}

bool ChildHandle::send_command(const uint8_t* data, size_t length) {
  if (child_.control_fd < 0) return false;
  // The pipe is empty (the warm sandbox has read nothing yet) and commands are far below its
  // capacity, so a non-blocking write either takes everything or fails.
  return write(child_.control_fd, data, length) == (ssize_t)length;
}

void ChildHandle::on_exit_readable(uv_poll_t* handle, int, int) { static_cast<ChildHandle*>(handle->data)->reap(); }

void ChildHandle::on_report_readable(uv_poll_t* handle, int, int) {
  auto* self = static_cast<ChildHandle*>(handle->data);
  self->read_report();
  if (!self->have_report_) return;
  Napi::Env env = self->env_;
  Napi::HandleScope scope(env);
  // init exits 0 right after its report; the command's own end is in the report
  self->deliver(
      exit_object(env, Napi::Number::New(env, 0), env.Null(), {}, report_to_js(env, self->report_), env.Null()));
}

// The report is written with one write() of less than PIPE_BUF bytes, so it arrives whole; EOF or
// anything else means there will be none (init died first) and the exit tells the rest.
void ChildHandle::read_report() {
  if (!watching_report_) return;
  ssize_t got;
  do got = read(child_.report_fd, &report_, sizeof report_);
  while (got < 0 && errno == EINTR);
  if (got < 0 && errno == EAGAIN) return;  // spurious wake-up
  have_report_ = got == (ssize_t)sizeof report_ && report_.magic == SANDBOX_REPORT_MAGIC;
  watching_report_ = false;
  uv_poll_stop(&report_poll_);
}

void ChildHandle::reap() {
  int status = 0;
  struct rusage usage {};
  pid_t reaped = wait4(child_.pid, &status, WNOHANG | __WALL, &usage);
  if (reaped == 0) return;  // not yet (spurious wake-up)
  uv_poll_stop(&exit_poll_);
  live_children().erase(id_);
  if (delivered_) {
    close_handles();
    return;
  }
  read_report();  // a report written just before the exit, not yet seen

  Napi::HandleScope scope(env_);
  Napi::Value exit_code = env_.Null(), signal = env_.Null();
  if (reaped > 0 && WIFEXITED(status)) {
    exit_code = Napi::Number::New(env_, WEXITSTATUS(status));
  } else if (reaped > 0 && WIFSIGNALED(status)) {
    const char* abbrev = sigabbrev_np(WTERMSIG(status));
    signal = Napi::String::New(env_, abbrev ? std::string("SIG") + abbrev : "SIGUNKNOWN");
  }
  Napi::Value report = have_report_ ? Napi::Value(report_to_js(env_, report_)) : env_.Null();
  SpawnError failure = watch_failure_;
  bool failed = failure.error != 0 || setup_failure(child_, &failure);
  Napi::Value setup_error = failed ? Napi::Value(setup_error_object(env_, failure)) : env_.Null();
  deliver(exit_object(env_, exit_code, signal, usage, report, setup_error));
  close_handles();
}

void ChildHandle::deliver(Napi::Object result) {
  delivered_ = true;
  if (watching_report_) {
    watching_report_ = false;
    uv_poll_stop(&report_poll_);
  }
  Napi::FunctionReference callback = std::move(on_exit_);
  try {
    callback.MakeCallback(env_.Global(), {result}, async_context_);
  } catch (const Napi::Error&) {
    // Node has already routed the exception to 'uncaughtException'.
  }
}

// After the reap: the fds stay open until libuv has closed the handles polling them.
void ChildHandle::close_handles() {
  auto on_closed = [](uv_handle_t* handle) {
    auto* self = static_cast<ChildHandle*>(handle->data);
    if (--self->open_handles_ > 0) return;
    for (int fd : {self->child_.report_fd, self->child_.control_fd, self->child_.error_fd, self->child_.pidfd}) {
      if (fd >= 0) close(fd);
    }
    delete self;
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&exit_poll_), on_closed);
  if (open_handles_ == 2) uv_close(reinterpret_cast<uv_handle_t*>(&report_poll_), on_closed);
}

}  // namespace sandbox
