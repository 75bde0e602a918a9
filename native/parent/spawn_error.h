// A failure of the parent's side of a spawn, named by the step that failed and its errno; the
// binding turns it into a JavaScript error (code ESANDBOXSPAWN).
#pragma once

#include <string>

namespace sandbox {

struct SpawnError {
  std::string step;  // "pivot_root", "uid_map", ...
  int error;         // errno
};

}  // namespace sandbox
