#include "parent/workspace_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace sandbox {
namespace {

// Directories open at once during the walk (one per level): deeper trees are reported
// incomplete rather than costing the server more descriptors.
constexpr size_t kMaxDepth = 64;
// The clock is read once per this many entries.
constexpr uint64_t kEntriesPerClockCheck = 64;

int open_directory_at(int parent, const char* name) {
  return openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

// The root is the server's own path (the sandbox sees it only as its mount point).
int open_root(const std::string& root) { return open_directory_at(AT_FDCWD, root.c_str()); }

int64_t monotonic_millis() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

std::string identity_of(const struct stat& st) {
  return std::to_string(st.st_ino) + ':' + std::to_string(st.st_size) + ':' + std::to_string(st.st_mtim.tv_sec) + '.' +
         std::to_string(st.st_mtim.tv_nsec) + ':' + std::to_string(st.st_ctim.tv_sec) + '.' +
         std::to_string(st.st_ctim.tv_nsec);
}

struct Level {
  DIR* dir;
  size_t prefix_length;  // of the walk's path buffer: this directory's relative path plus '/'
};

}  // namespace

WorkspaceScan scan_workspace(const std::string& root, const WorkspaceScanLimits& limits) {
  WorkspaceScan scan;
  int root_fd = open_root(root);
  DIR* root_dir = root_fd < 0 ? nullptr : fdopendir(root_fd);
  if (!root_dir) {
    if (root_fd >= 0) close(root_fd);
    return scan;
  }
  std::vector<Level> stack{{root_dir, 0}};
  std::string path;
  const int64_t deadline = monotonic_millis() + limits.max_millis;
  uint64_t entries = 0;
  while (!stack.empty()) {
    const Level level = stack.back();
    dirent* entry = readdir(level.dir);
    if (!entry) {  // the end, or unreadable: either way nothing more here
      closedir(level.dir);
      stack.pop_back();
      continue;
    }
    const char* name = entry->d_name;
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
    if (++entries > limits.max_entries) {
      scan.incomplete = "entry_budget";
      break;
    }
    if (entries % kEntriesPerClockCheck == 0 && monotonic_millis() > deadline) {
      scan.incomplete = "time_budget";
      break;
    }
    if (name[0] == '.') continue;  // hidden: never an artifact, never descended into
    unsigned char type = entry->d_type;
    struct stat st;
    if (type == DT_REG || type == DT_UNKNOWN) {
      if (fstatat(dirfd(level.dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISREG(st.st_mode)) {
        path.resize(level.prefix_length);
        path += name;
        scan.files.push_back({path, identity_of(st)});
        continue;
      }
      type = S_ISDIR(st.st_mode) ? DT_DIR : DT_UNKNOWN;
    }
    if (type != DT_DIR) continue;  // symlinks, fifos, sockets, devices: never artifacts
    if (stack.size() >= kMaxDepth) {
      scan.incomplete = "depth_limit";
      continue;
    }
    // O_NOFOLLOW|O_DIRECTORY: what is a symlink (or no directory) by now is not entered
    int fd = open_directory_at(dirfd(level.dir), name);
    DIR* dir = fd < 0 ? nullptr : fdopendir(fd);
    if (!dir) {
      if (fd >= 0) close(fd);
      continue;
    }
    path.resize(level.prefix_length);
    path += name;
    path += '/';
    stack.push_back({dir, path.size()});
  }
  for (const Level& level : stack) closedir(level.dir);
  return scan;
}

ChangedFiles changed_files(const WorkspaceScan& before, const WorkspaceScan& after, size_t max) {
  std::unordered_map<std::string_view, std::string_view> earlier;
  earlier.reserve(before.files.size());
  for (const ScannedFile& file : before.files) earlier.emplace(file.path, file.identity);
  ChangedFiles changed;
  for (const ScannedFile& file : after.files) {
    auto found = earlier.find(file.path);
    if (found == earlier.end() || found->second != file.identity) changed.paths.push_back(file.path);
  }
  std::sort(changed.paths.begin(), changed.paths.end());
  if (changed.paths.size() > max) {
    changed.paths.resize(max);
    changed.truncated = true;
  }
  return changed;
}

OpenedArtifact open_artifact(const std::string& root, const std::string& relative) {
  const OpenedArtifact none{-1, 0};
  int dir = open_root(root);
  size_t start = 0;
  while (dir >= 0) {
    size_t slash = relative.find('/', start);
    std::string name = relative.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (name.empty() || name == "." || name == "..") break;
    if (slash != std::string::npos) {
      int child = open_directory_at(dir, name.c_str());
      close(dir);
      dir = child;
      start = slash + 1;
      continue;
    }
    int fd = openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    close(dir);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) return {fd, uint64_t(st.st_size)};
    if (fd >= 0) close(fd);
    return none;
  }
  if (dir >= 0) close(dir);
  return none;
}

}  // namespace sandbox
