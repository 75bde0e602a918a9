#pragma once

#include <napi.h>

namespace sandbox {

// A prepared child to launch on the spawner thread (binding/child_handle.h launches with
// launch_child, spawn.h): launch() runs there, then launched() back on the loop.
class BackgroundLaunch {
 public:
  virtual void launch() = 0;
  virtual void launched() = 0;

 protected:
  ~BackgroundLaunch() = default;
};

// Launches prepared children on a thread of its own, so that clone() and the namespaces it
// creates (0.6 ms) do not hold the event loop: for warm sandboxes, which are made while other
// sandboxes run. The thread lives as long as the process: it is the children's parent thread,
// and their PR_SET_PDEATHSIG fires when that thread ends.
void launch_in_background(Napi::Env env, BackgroundLaunch* launch);

// Runs job(arg) on the same thread, after the launches and jobs asked for before it (making
// namespaces ahead, prepared_network.h). Any thread may ask.
void run_in_background(Napi::Env env, void (*job)(void*), void* arg);

}  // namespace sandbox
