#pragma once

#include <sys/types.h>

namespace sandbox {

// Who the sandbox is inside its user namespace and whom that maps to outside.
struct SandboxIdentity {
  uid_t inside_uid;
  gid_t inside_gid;
  uid_t outside_uid;
  gid_t outside_gid;
  bool deny_setgroups;  // required when the writer is not privileged

  bool operator==(const SandboxIdentity& other) const {
    return inside_uid == other.inside_uid && inside_gid == other.inside_gid && outside_uid == other.outside_uid &&
           outside_gid == other.outside_gid && deny_setgroups == other.deny_setgroups;
  }
};

// Writes /proc/<pid>/{setgroups,uid_map,gid_map} of a child in a new user namespace: one id
// each way. Throws SpawnError naming the file.
void write_id_maps(pid_t pid, const SandboxIdentity& identity);

}  // namespace sandbox
