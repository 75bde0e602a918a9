/* The session's storage (its writable host directories: /workspace, /tmp) as the watchdog walks
 * it: bytes allocated and entries, against the session's quota. */
#ifndef SANDBOX_STORAGE_USAGE_H
#define SANDBOX_STORAGE_USAGE_H

#include <stdint.h>
#include <time.h>

struct storage_budget {
  /* CLOCK_REALTIME_COARSE read before the command started: the first walk (the baseline, taken
   * while the command runs) counts no entry whose ctime is at or after it, so nothing the command
   * writes is ever counted as what the session held before it */
  struct timespec command_began;
  const char *const *paths;
  int path_count;
  /* what the execution may reach: the quota, or what the session already held when it began
   * when that was more (it may then shrink its storage, never grow it) */
  uint64_t limit_bytes, limit_files;
  /* the last walk: what it counted, when it ended, what it cost */
  uint64_t bytes, files;
  int64_t ended_us, walk_us;
  /* how fast the storage grew between the last two walks, per millisecond */
  double bytes_per_ms, files_per_ms;
  int walked;     /* a whole walk done: the limits above are final */
  int unfinished; /* walks in a row that the tree changed under (storage_usage.c) */
};

void storage_begin(struct storage_budget *budget, const char *const *paths, int path_count, uint64_t max_bytes,
                   uint64_t max_files, struct timespec command_began);
/* Walks the directories; returns SANDBOX_LIMIT_DISK or _FILES when over the limit, else 0. */
uint32_t storage_walk(struct storage_budget *budget);
/* When to walk again (storage_usage.c): 25..100 ms while the storage keeps still, sooner while it
 * grows towards the limit, never more than a twentieth of a core. */
int64_t storage_next_walk_ms(const struct storage_budget *budget);

#endif
