// The artifact scan's view of a session workspace, which the sandbox writes while the server
// reads it: walked and opened only by file descriptor from the workspace's own fd, each
// component with O_NOFOLLOW, so a directory swapped for a symlink (to /etc, to another
// session's workspace) is never followed out; only regular files are listed or opened, and
// opening never blocks (O_NONBLOCK: a FIFO swapped in is seen by fstat and closed unread).
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

namespace sandbox {

struct WorkspaceScanLimits {
  uint64_t max_entries;  // directory entries read, hidden ones included
  int64_t max_millis;    // wall time of the walk
};

struct ScannedFile {
  std::string path;      // workspace-relative, '/'-separated
  std::string identity;  // inode, size, mtime, ctime: changes when the file is rewritten
};

struct WorkspaceScan {
  std::vector<ScannedFile> files;  // regular files under non-hidden names, in walk order
  // why the walk is incomplete ("entry_budget", "time_budget", "depth_limit"); nullptr if whole
  const char* incomplete = nullptr;
};

// Regular files under `root` (a path the server made; a missing root is an empty workspace).
WorkspaceScan scan_workspace(const std::string& root, const WorkspaceScanLimits& limits);

struct ChangedFiles {
  std::vector<std::string> paths;  // sorted bytewise (UTF-8: by code point)
  bool truncated = false;          // more changed than were kept
};

// Files in `after` that are new or changed since `before`; at most `max`.
ChangedFiles changed_files(const WorkspaceScan& before, const WorkspaceScan& after, size_t max);

struct OpenedArtifact {
  int fd;         // -1 when the path no longer names a regular file under root
  uint64_t size;  // from fstat on fd
};

// Opens root/relative for reading, resolving each component under root's fd with O_NOFOLLOW.
OpenedArtifact open_artifact(const std::string& root, const std::string& relative);

}  // namespace sandbox
