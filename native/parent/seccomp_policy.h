#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

namespace sandbox {

struct SeccompPolicy {
  sock_fprog program;               // what the child loads
  std::vector<sock_filter> filter;  // storage behind program
  std::vector<std::string> denied;  // syscalls refused on this architecture (attestation)
  std::string error;                // non-empty: the filter could not be built
};

// Compiled once (libseccomp) and cached for the life of the process: both backends load exactly
// this program, the native one through seccomp(2), bwrap through --seccomp FD.
const SeccompPolicy& seccomp_policy();

}  // namespace sandbox
