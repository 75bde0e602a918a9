// The names a child's failed step is reported under ("pivot_root: EPERM").
#pragma once

namespace sandbox {

// step: a child/steps.h Step, as the child wrote it.
const char* step_name(int step);

}  // namespace sandbox
