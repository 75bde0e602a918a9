#pragma once

#include <napi.h>

#include "parent/spawn_plan.h"

namespace sandbox {

// Reads the plan TypeScript rendered from the Policy (src/sandbox/backends/native.ts).
// Throws Napi::TypeError naming the field when the plan is malformed.
SpawnPlan plan_from_js(const Napi::Object& plan);

}  // namespace sandbox
