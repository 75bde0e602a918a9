// The ordered steps of the child recipe. A failing step is reported to the parent as
// {step, errno} and surfaces in TypeScript as "pivot_root: EPERM".
#pragma once

namespace sandbox {

enum class Step : int {
  WaitForParent = 1,
  NewSession,
  MakeMountsPrivate,
  StagingTmpfs,
  StagingDirs,
  PivotToStaging,
  MakeDir,
  MakeFile,
  BindMount,
  RemountReadOnly,
  MountTmpfs,
  MountProc,
  MakeSymlink,
  PivotToNewRoot,
  DetachOldRoot,
  SetHostname,
  BringUpLoopback,
  SetPidMax,
  SetRlimit,
  MoveFds,
  CloseFds,
  ChangeDirectory,
  DropBoundingSet,
  SetGroups,
  SetGid,
  SetUid,
  DropCapabilities,
  NoNewPrivs,
  Seccomp,
  ResetSignals,
  Exec,
  WriteOwnIdMaps,
  SetUserNamespaceLimit,
};

struct ChildError {
  int step;
  int error;
  int mount_index;  // which mount op (or user namespace limit) failed, or -1
};

}  // namespace sandbox
