#include "parent/step_names.h"

#include "child/steps.h"

namespace sandbox {

const char* step_name(int step) {
  switch ((Step)step) {
    case Step::ResetSignalHandlers:
      return "rt_sigaction";
    case Step::DieWithParent:
      return "prctl(PR_SET_PDEATHSIG)";
    case Step::WaitForParent:
      return "wait for parent";
    case Step::WriteOwnIdMaps:
      return "write own uid/gid map";
    case Step::MakeUndumpable:
      return "prctl(PR_SET_DUMPABLE)";
    case Step::NewSession:
      return "setsid";
    case Step::SetGroups:
      return "setgroups";
    case Step::SetGid:
      return "setresgid";
    case Step::SetUid:
      return "setresuid";
    case Step::MakeMountsPrivate:
      return "mount(MS_PRIVATE)";
    case Step::StagingTmpfs:
      return "mount(staging tmpfs)";
    case Step::StagingDirs:
      return "mkdir(staging)";
    case Step::PivotToStaging:
      return "pivot_root(staging)";
    case Step::MakeDir:
      return "mkdir";
    case Step::MakeFile:
      return "create mount point";
    case Step::BindMount:
      return "mount(bind)";
    case Step::RemountReadOnly:
      return "mount(remount read-only)";
    case Step::MountTmpfs:
      return "mount(tmpfs)";
    case Step::MountProc:
      return "mount(proc)";
    case Step::MakeSymlink:
      return "symlink";
    case Step::PivotToNewRoot:
      return "pivot_root";
    case Step::DetachOldRoot:
      return "umount2(old root)";
    case Step::SetHostname:
      return "sethostname";
    case Step::BringUpLoopback:
      return "ioctl(SIOCSIFFLAGS lo up)";
    case Step::SetPidMax:
      return "write pid_max";
    case Step::SetUserNamespaceLimit:
      return "write /proc/sys/user";
    case Step::MoveFds:
      return "dup3";
    case Step::CloseFds:
      return "close_range";
    case Step::SetRlimit:
      return "setrlimit";
    case Step::ChangeDirectory:
      return "chdir";
    case Step::DropBoundingSet:
      return "prctl(PR_CAPBSET_DROP)";
    case Step::DropCapabilities:
      return "capset";
    case Step::NoNewPrivs:
      return "prctl(PR_SET_NO_NEW_PRIVS)";
    case Step::Seccomp:
      return "seccomp";
    case Step::UnblockSignals:
      return "rt_sigprocmask";
    case Step::Exec:
      return "execve";
  }
  return "unknown step";
}

}  // namespace sandbox
