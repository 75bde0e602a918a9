// The steps of the child recipe. A failing step is reported to the parent as
// {step, errno} and surfaces in TypeScript as "pivot_root: EPERM".
#pragma once

namespace sandbox {

// In the order they run (child/recipe.cc's kRecipe, and within its steps).
enum class Step : int {
  ResetSignalHandlers = 1,
  DieWithParent,
  WaitForParent,
  WriteOwnIdMaps,
  MakeUndumpable,
  NewSession,
  SetGroups,
  SetGid,
  SetUid,
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
  SetUserNamespaceLimit,
  MoveFds,
  CloseFds,
  SetRlimit,
  ChangeDirectory,
  DropBoundingSet,
  DropCapabilities,
  NoNewPrivs,
  Seccomp,
  UnblockSignals,
  Exec,
};

struct ChildError {
  int step;
  int error;
  int mount_index;  // which mount op (or user namespace limit) failed, or -1
};

}  // namespace sandbox
