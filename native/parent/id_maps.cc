#include "parent/id_maps.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "parent/spawn_error.h"

namespace sandbox {
namespace {

void write_proc_file(pid_t pid, const char* name, const std::string& text) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw SpawnError{name, errno};
  ssize_t wrote = write(fd, text.data(), text.size());
  int err = errno;
  close(fd);
  if (wrote != (ssize_t)text.size()) throw SpawnError{name, wrote < 0 ? err : EIO};
}

}  // namespace

void write_id_maps(pid_t pid, const SandboxIdentity& id) {
  // Unprivileged writers may map their own gid only after giving up setgroups().
  if (id.deny_setgroups) write_proc_file(pid, "setgroups", "deny");
  write_proc_file(pid, "uid_map", std::to_string(id.inside_uid) + " " + std::to_string(id.outside_uid) + " 1\n");
  write_proc_file(pid, "gid_map", std::to_string(id.inside_gid) + " " + std::to_string(id.outside_gid) + " 1\n");
}

}  // namespace sandbox
