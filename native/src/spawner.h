#pragma once

#include <napi.h>

#include "spawn.h"

namespace sandbox {

class ExitWatch;

// Launches prepared children (launch_child) on a thread of its own, so that clone() and the
// namespaces it creates (0.6 ms) do not hold the event loop: for warm sandboxes, which are made
// while other sandboxes run. The watch starts polling, or reports the launch failure as a setup
// error, back on the loop. The thread lives as long as the process: it is the children's parent
// thread, and their PR_SET_PDEATHSIG fires when that thread ends.
void launch_in_background(Napi::Env env, ExitWatch* watch);

// Runs job(arg) on the same thread, after the launches and jobs asked for before it (making
// namespaces ahead, prepared_network.h). Any thread may ask.
void run_in_background(Napi::Env env, void (*job)(void*), void* arg);

}  // namespace sandbox
