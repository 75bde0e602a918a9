// Privilege transitions of the child, in two halves.
//
// take_sandbox_identity runs first, before any mount: files the recipe creates must belong to a
// uid that exists in the new user namespace (a root server's kuid 0 does not, and the kernel
// answers EOVERFLOW). Changing from an unmapped uid keeps the namespace's capabilities.
//
// drop_all_capabilities runs last, before no_new_privs and seccomp: the bounding set, then every
// effective, permitted, inheritable and ambient capability.
#include <linux/capability.h>
#include <sys/prctl.h>

#include "child/raw_syscall.h"
#include "child/recipe.h"
#include "child/steps.h"

namespace sandbox {

int take_sandbox_identity(const ChildContext& ctx, int* step) {
  long r;
  // A root server's supplementary groups (kgid 0 and friends) would otherwise follow us in.
  if (ctx.may_setgroups) {
    *step = (int)Step::SetGroups;
    if ((r = sys(SYS_setgroups, 0, nullptr)) < 0) return (int)r;
  }
  *step = (int)Step::SetGid;
  if ((r = sys(SYS_setresgid, ctx.inside_gid, ctx.inside_gid, ctx.inside_gid)) < 0) return (int)r;
  *step = (int)Step::SetUid;
  if ((r = sys(SYS_setresuid, ctx.inside_uid, ctx.inside_uid, ctx.inside_uid)) < 0) return (int)r;
  return 0;
}

int drop_all_capabilities(int* step) {
  long r;
  *step = (int)Step::DropBoundingSet;
  for (int cap = 0; cap < 64; cap++) {
    r = sys(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (r == -EINVAL) break;  // past the kernel's last capability
    if (r < 0) return (int)r;
  }
  *step = (int)Step::DropCapabilities;
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct none[2] = {};
  if ((r = sys(SYS_capset, &header, none)) < 0) return (int)r;
  if ((r = sys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)) < 0) return (int)r;
  return 0;
}

}  // namespace sandbox
