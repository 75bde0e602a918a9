/* Walks the session's storage for the watchdog (see storage_usage.h). Bytes are allocated blocks
 * (st_blocks: a sparse file counts what it holds), entries are every file, directory and link;
 * the walk stays on the directory's own filesystem and follows no link. A walk past the limit
 * stops there (it has shown enough), so a walk costs at most the quota's entries, except the
 * first, which measures what the session already holds.
 *
 * The tree is the sandbox's to shape, so the walk assumes nothing of it: no path is ever built
 * (nftw gives up past PATH_MAX, and a chain of 2,100 one-letter directories hid what came after
 * it), and it holds two fds whatever the depth: each directory's entries are read and its
 * subdirectories' names kept, then it goes down by name and back up by "..", checking that ".."
 * is the directory it came from. A tree changed under the walk that way ends the walk with what
 * it counted so far; three such walks in a row count as over the quota (nothing else is
 * measurable). */
#define _GNU_SOURCE
#include "storage_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "init_report.h"

/* Between walks, while the storage keeps still: 200 times the last walk's duration, within
 * 25..100 ms. While it grows: half the time its growth rate needs to reach the limit, if sooner.
 * Never sooner than 20 times the walk's duration (a twentieth of a core at most) or 2 ms. */
#define SHORTEST_INTERVAL_MS 2
#define QUIET_INTERVAL_MS 25
#define INTERVAL_MS 100
#define QUIET_CPU_SHARE_INVERSE 200
#define CPU_SHARE_INVERSE 20
#define MAX_UNFINISHED_WALKS 3

/* One directory on the way down: who it is, and the subdirectories still to walk. */
struct level {
  dev_t dev;
  ino_t ino;
  char **subdirs;
  size_t count, next;
};

struct walk {
  struct storage_budget *budget;
  int baseline; /* the first walk: entries changed since the command started are not counted */
  uint64_t limit_bytes, limit_files;
  dev_t dev;    /* the bound directory's filesystem: the walk stays on it */
  int reopened; /* directories made readable again during the walk */
};

static int64_t now_us(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

static int over(const struct walk *walk) {
  return walk->budget->bytes > walk->limit_bytes || walk->budget->files > walk->limit_files;
}

static void free_level(struct level *level) {
  for (size_t i = 0; i < level->count; i++) free(level->subdirs[i]);
  free(level->subdirs);
}

/* Whether the entry's inode changed (created, written, renamed, linked, chmod-ed: every change
 * sets ctime, which no system call can set back) at or after `since`. */
static int changed_since(const struct stat *st, const struct timespec *since) {
  return st->st_ctim.tv_sec > since->tv_sec ||
         (st->st_ctim.tv_sec == since->tv_sec && st->st_ctim.tv_nsec >= since->tv_nsec);
}

/* Counts the entries of the directory open as fd into the walk, keeping its subdirectories'
 * names in *level. 0 when it could not be read. */
static int read_level(struct walk *walk, int fd, struct level *level) {
  struct stat st;
  if (fstat(fd, &st) != 0) return 0;
  *level = (struct level){.dev = st.st_dev, .ino = st.st_ino};
  int own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = own >= 0 ? fdopendir(own) : NULL;
  if (dir == NULL) {
    if (own >= 0) close(own);
    return 0;
  }
  size_t room = 0;
  struct dirent *entry;
  while (!over(walk) && (entry = readdir(dir)) != NULL) {
    const char *name = entry->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      walk->budget->files++;
      continue;
    }
    if (!walk->baseline || !changed_since(&st, &walk->budget->command_began)) {
      walk->budget->files++;
      walk->budget->bytes += (uint64_t)st.st_blocks * 512;
    }
    if (!S_ISDIR(st.st_mode) || st.st_dev != walk->dev) continue;
    if (level->count == room) {
      room = room ? room * 2 : 16;
      char **grown = realloc(level->subdirs, room * sizeof *grown);
      if (grown == NULL) break;
      level->subdirs = grown;
    }
    if ((level->subdirs[level->count] = strdup(name)) != NULL) level->count++;
  }
  closedir(dir);
  return 1;
}

/* Opens a subdirectory without following a link. One its owner made unreadable (mode 0300 still
 * lets the owner add files) would hide what it holds: the sandbox's uid owns it, so its owner's
 * bits are given back. */
static int open_subdir(struct walk *walk, int fd, const char *name) {
  int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  int child = openat(fd, name, flags);
  struct stat st;
  if (child < 0 && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
      fchmodat(fd, name, (st.st_mode & 07777) | S_IRWXU, 0) == 0) {
    walk->reopened = 1;
    child = openat(fd, name, flags);
  }
  return child;
}

/* Walks the tree under path; 0 when the tree changed under the walk (see above). */
static int walk_tree(struct walk *walk, const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) close(fd);
    return 1; /* nothing there to count */
  }
  walk->dev = st.st_dev;
  struct level *stack = NULL;
  size_t depth = 0, room = 0;
  int finished = 1;
  for (int descend = 1;;) {
    if (descend) {
      if (depth == room) {
        room = room ? room * 2 : 64;
        struct level *grown = realloc(stack, room * sizeof *grown);
        if (grown == NULL) break;
        stack = grown;
      }
      if (!read_level(walk, fd, &stack[depth])) stack[depth] = (struct level){0};
      depth++;
    }
    struct level *top = &stack[depth - 1];
    if (over(walk)) break;
    int child = top->next < top->count ? open_subdir(walk, fd, top->subdirs[top->next++]) : -2;
    if (child >= 0) {
      close(fd);
      fd = child;
      descend = 1;
      continue;
    }
    descend = 0;
    if (child == -1) continue; /* gone or unreadable: counted as an entry already */
    free_level(top);
    if (--depth == 0) break;
    int parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(fd);
    fd = parent;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_dev != stack[depth - 1].dev || st.st_ino != stack[depth - 1].ino) {
      finished = 0; /* moved while we were below it */
      break;
    }
  }
  while (depth > 0) free_level(&stack[--depth]);
  free(stack);
  if (fd >= 0) close(fd);
  return finished;
}

void storage_begin(struct storage_budget *budget, const char *const *paths, int path_count, uint64_t max_bytes,
                   uint64_t max_files, struct timespec command_began) {
  budget->command_began = command_began;
  budget->paths = paths;
  budget->path_count = path_count;
  budget->limit_bytes = max_bytes > 0 ? max_bytes : UINT64_MAX;
  budget->limit_files = max_files > 0 ? max_files : UINT64_MAX;
  budget->walked = 0;
  budget->unfinished = 0;
  budget->bytes = budget->files = 0;
  budget->ended_us = budget->walk_us = 0;
  budget->bytes_per_ms = budget->files_per_ms = 0;
}

/* Growth per millisecond from the previous walk to this one (0 when it shrank or stayed). */
static double growth_per_ms(uint64_t before, uint64_t after, int64_t elapsed_us) {
  return after > before && elapsed_us > 0 ? (double)(after - before) * 1000.0 / (double)elapsed_us : 0;
}

static int walk_once(struct walk *walk) {
  int finished = 1;
  walk->budget->bytes = walk->budget->files = 0;
  for (int i = 0; i < walk->budget->path_count && !over(walk); i++) finished &= walk_tree(walk, walk->budget->paths[i]);
  return finished;
}

uint32_t storage_walk(struct storage_budget *budget) {
  int64_t began = now_us();
  uint64_t bytes_before = budget->bytes, files_before = budget->files;
  int64_t previous_end = budget->ended_us;
  struct walk walk = {
      .budget = budget, .baseline = !budget->walked, .limit_bytes = UINT64_MAX, .limit_files = UINT64_MAX};
  if (budget->walked) {
    walk.limit_bytes = budget->limit_bytes;
    walk.limit_files = budget->limit_files;
  }
  int finished = walk_once(&walk);
  if (walk.reopened) finished = walk_once(&walk);
  budget->unfinished = finished || over(&walk) ? 0 : budget->unfinished + 1;
  if (!budget->walked && finished) {
    budget->walked = 1;
    if (budget->bytes > budget->limit_bytes) budget->limit_bytes = budget->bytes;
    if (budget->files > budget->limit_files) budget->limit_files = budget->files;
  }
  budget->ended_us = now_us();
  budget->walk_us = budget->ended_us - began;
  int64_t elapsed = previous_end > 0 ? budget->ended_us - previous_end : 0;
  budget->bytes_per_ms = growth_per_ms(bytes_before, budget->bytes, elapsed);
  budget->files_per_ms = growth_per_ms(files_before, budget->files, elapsed);
  if (budget->files > budget->limit_files || budget->unfinished >= MAX_UNFINISHED_WALKS) return SANDBOX_LIMIT_FILES;
  if (budget->bytes > budget->limit_bytes) return SANDBOX_LIMIT_DISK;
  return SANDBOX_LIMIT_NONE;
}

/* Milliseconds until used, growing at rate per ms, reaches limit (twice INTERVAL_MS, which is
 * halved below, when not growing). */
static double ms_to_reach(uint64_t used, uint64_t limit, double rate) {
  if (rate <= 0) return 2.0 * INTERVAL_MS;
  return used >= limit ? 0 : (double)(limit - used) / rate;
}

int64_t storage_next_walk_ms(const struct storage_budget *budget) {
  /* A writer at page-cache speed (GB/s) adds hundreds of MiB in 100 ms: a small tree is walked
   * often, and any tree sooner as the limit nears, which keeps the overshoot to a few
   * milliseconds' worth of its speed. */
  double soonest = ms_to_reach(budget->bytes, budget->limit_bytes, budget->bytes_per_ms);
  double files = ms_to_reach(budget->files, budget->limit_files, budget->files_per_ms);
  if (files < soonest) soonest = files;
  if (soonest > 2.0 * INTERVAL_MS) soonest = 2.0 * INTERVAL_MS; /* and so within int64_t */
  int64_t quiet = budget->walk_us * QUIET_CPU_SHARE_INVERSE / 1000;
  if (quiet < QUIET_INTERVAL_MS) quiet = QUIET_INTERVAL_MS;
  if (quiet > INTERVAL_MS) quiet = INTERVAL_MS;
  int64_t wait = (int64_t)(soonest / 2);
  if (wait > quiet) wait = quiet;
  int64_t cpu_share = budget->walk_us * CPU_SHARE_INVERSE / 1000;
  if (wait < cpu_share) wait = cpu_share;
  return wait > SHORTEST_INTERVAL_MS ? wait : SHORTEST_INTERVAL_MS;
}
