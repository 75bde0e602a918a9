#pragma once

#include <napi.h>
#include <uv.h>

#include "init/init_report.h"
#include "parent/spawn.h"
#include "parent/spawner.h"

namespace sandbox {

// The live child as JavaScript holds it (by id): signals, the control pipe, and its end, watched
// on Node's own event loop (no thread per sandbox, no blocking). The JS
// callback runs once, with the first of:
//  - sandbox-init's report on the report pipe: by then every process of the sandbox has been
//    reaped and only init itself is exiting, so the result need not wait for its exit (the
//    namespaces' teardown, 0.3 ms, happens after the result instead of before);
//  - the child's exit (pidfd readable, reaped with wait4): exit status, wait4's rusage and the
//    report if one was written, or the setup step that failed.
// The child is reaped in every case; a callback already made is not made again.
// A child whose end cannot be watched (uv_poll_init failed) is killed and ends with that step as
// its setup error.
class ChildHandle final : public BackgroundLaunch {
 public:
  // A child already launched (spawn_child). Returns its id.
  static uint32_t start(Napi::Env env, const SpawnedChild& child, Napi::Function on_exit);
  // A child prepared only (prepare_child): launched on the spawner thread (spawner.h).
  static uint32_t start_in_background(Napi::Env env, const SpawnedChild& child, Napi::Function on_exit);
  static ChildHandle* find(uint32_t id);

  uint32_t id() const { return id_; }
  // Before the launch is done, the signal is sent once it is.
  bool signal(int signal_number);
  // Closes the control pipe: sandbox-init kills the whole tree and reports (or, unused, just ends).
  bool kill_tree();
  // Writes a warm sandbox's command to its control pipe; false unless all of it was written.
  bool send_command(const uint8_t* data, size_t length);

  // BackgroundLaunch: launch_child on the spawner thread, then (on the loop) how it went.
  void launch() override;
  void launched() override;

 private:
  ChildHandle(Napi::Env env, const SpawnedChild& child, Napi::Function on_exit);
  ~ChildHandle() = default;
  void launch_failed(const SpawnError& error);
  void begin_polling();
  void unwatchable(const SpawnError& error);
  static void on_exit_readable(uv_poll_t* handle, int status, int events);
  static void on_report_readable(uv_poll_t* handle, int status, int events);
  void read_report();
  void reap();
  void deliver(Napi::Object result);
  void close_handles();

  uint32_t id_;
  Napi::Env env_;
  SpawnedChild child_;
  Napi::FunctionReference on_exit_;
  Napi::AsyncContext async_context_;
  uv_poll_t exit_poll_;
  uv_poll_t report_poll_;
  sandbox_report report_{};
  bool have_report_ = false;
  bool watching_report_ = false;
  bool launched_ = false;
  int pending_signal_ = 0;
  bool delivered_ = false;
  int open_handles_ = 0;
  bool background_ = false;
  SpawnError launch_error_{"", 0};   // set on the spawner thread, read on the loop after it
  SpawnError watch_failure_{"", 0};  // why the child was ended by us, reported with its exit
};

}  // namespace sandbox
