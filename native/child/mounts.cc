// The fresh root, built from nothing the sandbox could have prepared:
//   make every mount private -> tmpfs staging root, the host moved under /oldroot ->
//   a tmpfs /newroot filled by the plan (read-only binds, tmpfs, proc, symlinks) ->
//   pivot_root into /newroot and detach everything else.
// Sources are resolved under /oldroot, so a bind source can never be hidden by our own mounts.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>

#include "child/raw_syscall.h"
#include "child/recipe.h"
#include "child/steps.h"

namespace sandbox {
namespace {

// A read-only remount inside a user namespace must keep the flags the kernel locked on the
// original mount (nosuid, nodev, noexec, atime behaviour), or it fails with EPERM.
unsigned long locked_flags_of(const char* path) {
  struct statfs info;
  if (sys(SYS_statfs, path, &info) < 0) return 0;
  unsigned long from = (unsigned long)info.f_flags, to = 0;
  if (from & ST_NOSUID) to |= MS_NOSUID;
  if (from & ST_NODEV) to |= MS_NODEV;
  if (from & ST_NOEXEC) to |= MS_NOEXEC;
  if (from & ST_NOATIME) to |= MS_NOATIME;
  if (from & ST_NODIRATIME) to |= MS_NODIRATIME;
  if (from & ST_RELATIME) to |= MS_RELATIME;
  return to;
}

long apply(const ChildMount& op, int* step) {
  long r = 0;
  switch (op.kind) {
    case MountKind::Dir:
      *step = (int)Step::MakeDir;
      r = sys(SYS_mkdirat, AT_FDCWD, op.target, 0755);
      return r == -EEXIST ? 0 : r;
    case MountKind::File:
      *step = (int)Step::MakeFile;
      r = sys(SYS_openat, AT_FDCWD, op.target, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (r >= 0) sys(SYS_close, r);
      return r < 0 ? r : 0;
    case MountKind::Bind:
      *step = (int)Step::BindMount;
      // Not MS_REC: submounts of a source (possibly writable) never come along.
      r = sys(SYS_mount, op.source, op.target, nullptr, MS_BIND, nullptr);
      if (r < 0 || (!op.read_only && op.flags == 0)) return r;
      *step = (int)Step::RemountReadOnly;
      return sys(SYS_mount, nullptr, op.target, nullptr,
                 MS_BIND | MS_REMOUNT | (op.read_only ? MS_RDONLY : 0) | op.flags | locked_flags_of(op.target),
                 nullptr);
    case MountKind::Tmpfs:
      *step = (int)Step::MountTmpfs;
      return sys(SYS_mount, "tmpfs", op.target, "tmpfs", MS_NOSUID | MS_NODEV | op.flags, op.data);
    case MountKind::Proc:
      *step = (int)Step::MountProc;
      return sys(SYS_mount, "proc", op.target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    case MountKind::Symlink:
      *step = (int)Step::MakeSymlink;
      r = sys(SYS_symlinkat, op.source, AT_FDCWD, op.target);
      return r == -EEXIST ? 0 : r;
    case MountKind::Remount:
      *step = (int)Step::RemountReadOnly;
      return sys(SYS_mount, nullptr, op.target, nullptr,
                 MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | op.flags, nullptr);
  }
  return -EINVAL;
}

}  // namespace

int build_root_filesystem(const ChildContext& ctx, int* step, int* mount_index) {
  long r;
  // Nothing we mount may propagate back to the host's mount namespace.
  *step = (int)Step::MakeMountsPrivate;
  if ((r = sys(SYS_mount, nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr)) < 0) return (int)r;

  // Staging: a tiny tmpfs becomes the root and the host moves to /oldroot, so every source path
  // stays reachable while /newroot is filled.
  *step = (int)Step::StagingTmpfs;
  if ((r = sys(SYS_mount, "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=64k")) < 0) return (int)r;
  *step = (int)Step::StagingDirs;
  if ((r = sys(SYS_mkdirat, AT_FDCWD, "/tmp/oldroot", 0700)) < 0) return (int)r;
  if ((r = sys(SYS_mkdirat, AT_FDCWD, "/tmp/newroot", 0755)) < 0) return (int)r;
  *step = (int)Step::PivotToStaging;
  if ((r = sys(SYS_pivot_root, "/tmp", "/tmp/oldroot")) < 0) return (int)r;
  if ((r = sys(SYS_chdir, "/")) < 0) return (int)r;

  for (int i = 0; i < ctx.mount_count; i++) {
    *mount_index = i;
    if ((r = apply(ctx.mounts[i], step)) < 0) return (int)r;
  }
  *mount_index = -1;

  // pivot_root(".", ".") stacks the staging root on top of /newroot; detaching it leaves the new
  // root alone, with no path back to the host.
  *step = (int)Step::PivotToNewRoot;
  if ((r = sys(SYS_chdir, "/newroot")) < 0) return (int)r;
  if ((r = sys(SYS_pivot_root, ".", ".")) < 0) return (int)r;
  *step = (int)Step::DetachOldRoot;
  if ((r = sys(SYS_umount2, ".", MNT_DETACH)) < 0) return (int)r;
  if ((r = sys(SYS_chdir, "/")) < 0) return (int)r;
  return 0;
}

}  // namespace sandbox
