#include "parent/namespace_owner.h"

#include <unistd.h>

#include <cstdlib>

#include "child/raw_syscall.h"

namespace sandbox {

CreateNamespacesAs::CreateNamespacesAs(uid_t uid, gid_t gid) {
  if (geteuid() != 0 || uid == 0) return;
  // gid first: with a non-zero euid the thread no longer has CAP_SETGID
  long r = sys(SYS_setresgid, -1, gid, -1);
  if (r == 0 && (r = sys(SYS_setresuid, -1, uid, -1)) < 0) sys(SYS_setresgid, -1, 0, -1);
  if (r < 0) {
    error_ = (int)-r;
    return;
  }
  switched_ = true;
}

CreateNamespacesAs::~CreateNamespacesAs() {
  if (!switched_) return;
  // Back to euid 0 (allowed: the saved uid is 0), which restores the effective capabilities,
  // then the gid. A server thread left unprivileged would fail every later spawn: stop instead.
  if (sys(SYS_setresuid, -1, 0, -1) < 0 || sys(SYS_setresgid, -1, 0, -1) < 0) abort();
}

}  // namespace sandbox
