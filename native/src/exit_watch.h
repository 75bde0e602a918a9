#pragma once

#include <napi.h>
#include <uv.h>

#include "spawn.h"

namespace sandbox {

// Watches a spawned child's pidfd on Node's own event loop (no thread per sandbox, no blocking):
// when it becomes readable the child is reaped with wait4 and the JS callback receives the exit
// status, the rusage wait4 saw, and sandbox-init's report when there is one.
class ExitWatch {
 public:
  static ExitWatch* start(Napi::Env env, const SpawnedChild& child, Napi::Function on_exit);
  static ExitWatch* find(uint32_t id);

  uint32_t id() const { return id_; }
  bool signal(int signal_number) const;
  bool kill_tree();
  // Writes a warm sandbox's command to its control pipe; false unless all of it was written.
  bool send_command(const uint8_t* data, size_t length);

 private:
  ExitWatch(Napi::Env env, const SpawnedChild& child, Napi::Function on_exit);
  static void on_readable(uv_poll_t* handle, int status, int events);
  void reap();

  uint32_t id_;
  Napi::Env env_;
  SpawnedChild child_;
  Napi::FunctionReference on_exit_;
  Napi::AsyncContext async_context_;
  uv_poll_t poll_;
};

}  // namespace sandbox
