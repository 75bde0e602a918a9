/* The watchdog (see watchdog.h). RLIMIT_DATA bounds one process's private memory; the host needs
 * the whole sandbox bounded, so every SAMPLE interval this sums, for the sandbox:
 *  - every process's private anonymous memory, proportionally (Pss_Anon of smaps_rollup: pages
 *    shared copy-on-write after fork count once in total). A process whose smaps_rollup we may
 *    not read (it made itself non-dumpable) counts its RssAnon from status, which anyone may read:
 *    never less than its share;
 *  - the files of its own tmpfs mounts (/dev/shm, ...), exactly, by statvfs: shared memory can
 *    only live there, since the seccomp filter refuses memfd_create, SysV shmget and shared
 *    anonymous mappings, and /dev/zero cannot be mapped (native/parent/seccomp_policy.cc, policy.ts);
 *  - the buffers of its Unix sockets, when the network namespace is its own (socket_memory.c).
 * Over --memory-max the tree is killed. The storage directories (--disk) are walked less often
 * (storage_usage.c). The measures run only while a command runs; an idle sandbox costs nothing. */
#define _GNU_SOURCE
#include "watchdog.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "socket_memory.h"
#include "storage_usage.h"

/* Memory is sampled every 100 ms, every 20 ms once past half the limit: what a tree can allocate
 * between two samples is the overshoot (measured in SECURITY.md), and a scan of an idle sandbox
 * costs tens of microseconds. */
#define SAMPLE_MS 100
#define SAMPLE_NEAR_LIMIT_MS 20
#define FIRST_SAMPLE_MS 10
#define MAX_TMPFS 16

static uint64_t memory_max_kb;
static int count_sockets;
static const char *storage_paths[8];
static int storage_path_count;
static uint64_t storage_max_bytes, storage_max_files;

static int watching;
static char *tmpfs_mounts[MAX_TMPFS];
static int tmpfs_count = -1; /* -1: not looked for yet (at the first sample, off the start path) */
static int64_t next_memory_ms, next_storage_ms;
static struct timespec command_began;
static struct storage_budget storage;

static uint64_t parse_number(const char *text) {
  char *end = NULL;
  unsigned long long value = strtoull(text, &end, 10);
  if (*text == '\0' || *end != '\0') {
    fprintf(stderr, "sandbox-init: bad number '%s'\n", text);
    _exit(125);
  }
  return value;
}

int watchdog_option(const char *name, const char *value) {
  if (strcmp(name, "--memory-max") == 0)
    memory_max_kb = parse_number(value) / 1024;
  else if (strcmp(name, "--count-sockets") == 0)
    count_sockets = (int)parse_number(value);
  else if (strcmp(name, "--disk") == 0 && storage_path_count < (int)(sizeof storage_paths / sizeof *storage_paths))
    storage_paths[storage_path_count++] = value;
  else if (strcmp(name, "--disk-max-bytes") == 0)
    storage_max_bytes = parse_number(value);
  else if (strcmp(name, "--disk-max-files") == 0)
    storage_max_files = parse_number(value);
  else
    return 0;
  return 1;
}

static int64_t now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int is_storage_path(const char *path) {
  for (int i = 0; i < storage_path_count; i++)
    if (strcmp(path, storage_paths[i]) == 0) return 1;
  return 0;
}

/* The sandbox's own writable tmpfs mounts: whole ones (root "/"), not binds of a host's tmpfs. */
static void find_tmpfs_mounts(void) {
  tmpfs_count = 0;
  FILE *mounts = fopen("/proc/self/mountinfo", "re");
  if (mounts == NULL) return;
  char line[4096];
  while (tmpfs_count < MAX_TMPFS && fgets(line, sizeof line, mounts)) {
    char root[1024], target[1024], options[256], type[64];
    const char *tail = strstr(line, " - ");
    if (tail == NULL || sscanf(line, "%*s %*s %*s %1023s %1023s %255s", root, target, options) != 3) continue;
    if (sscanf(tail + 3, "%63s", type) != 1) continue;
    if (strcmp(type, "tmpfs") != 0 || strcmp(root, "/") != 0 || strncmp(options, "rw", 2) != 0) continue;
    if (is_storage_path(target)) continue; /* walked as storage */
    tmpfs_mounts[tmpfs_count++] = strdup(target);
  }
  fclose(mounts);
}

/* The value of "Key:" in a /proc text, in kB; 0 when absent. */
static uint64_t field_kb(const char *text, const char *key) {
  const char *at = strstr(text, key);
  return at ? strtoull(at + strlen(key), NULL, 10) : 0;
}

static int read_text(const char *path, char *buffer, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t got = read(fd, buffer, size - 1);
  close(fd);
  if (got <= 0) return 0;
  buffer[got] = '\0';
  return 1;
}

static uint64_t processes_kb(void) {
  static DIR *proc; /* kept open and rewound: a sample costs no allocation */
  if (proc == NULL && (proc = opendir("/proc")) == NULL) return 0;
  rewinddir(proc);
  uint64_t total = 0;
  char path[300], text[4096];
  struct dirent *entry;
  while ((entry = readdir(proc)) != NULL) {
    if (!isdigit((unsigned char)entry->d_name[0])) continue;
    snprintf(path, sizeof path, "/proc/%s/smaps_rollup", entry->d_name);
    if (read_text(path, text, sizeof text) && strstr(text, "\nPss_Anon:")) {
      total += field_kb(text, "\nPss_Anon:");
      continue;
    }
    snprintf(path, sizeof path, "/proc/%s/status", entry->d_name);
    if (read_text(path, text, sizeof text)) total += field_kb(text, "\nRssAnon:");
  }
  return total;
}

static uint64_t tmpfs_kb(void) {
  if (tmpfs_count < 0) find_tmpfs_mounts();
  uint64_t total = 0;
  for (int i = 0; i < tmpfs_count; i++) {
    struct statvfs fs;
    if (statvfs(tmpfs_mounts[i], &fs) == 0) total += (uint64_t)(fs.f_blocks - fs.f_bfree) * fs.f_frsize / 1024;
  }
  return total;
}

static uint32_t walk_storage(struct sandbox_report *report) {
  uint32_t over = storage_walk(&storage);
  report->storage_kb = storage.bytes / 1024;
  report->storage_files = storage.files;
  next_storage_ms = now_ms() + storage_next_walk_ms(&storage);
  return over;
}

void watchdog_command_starts(void) { clock_gettime(CLOCK_REALTIME_COARSE, &command_began); }

void watchdog_start(struct sandbox_report *report) {
  watching = memory_max_kb > 0 || storage_path_count > 0;
  if (!watching) return;
  if (storage_path_count > 0) {
    /* the baseline: what the session held before the command began (storage_usage.h) */
    storage_begin(&storage, storage_paths, storage_path_count, storage_max_bytes, storage_max_files, command_began);
    if (walk_storage(report) != SANDBOX_LIMIT_NONE) next_storage_ms = now_ms(); /* say so at once */
  }
  if (memory_max_kb == 0) return;
  /* Armed when it can see the sandbox's processes; the first sample comes FIRST_SAMPLE_MS later:
   * a sample costs a /proc walk and a sock_diag query, which a command done by then (most are)
   * does not need, and which would compete with its start for the CPU. */
  int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc >= 0) {
    close(proc);
    report->memory_watched = 1;
  }
  next_memory_ms = now_ms() + FIRST_SAMPLE_MS;
}

int watchdog_poll_timeout(void) {
  if (!watching) return -1;
  int64_t next = memory_max_kb > 0 ? next_memory_ms : INT64_MAX;
  if (storage_path_count > 0 && next_storage_ms < next) next = next_storage_ms;
  int64_t wait = next - now_ms();
  return wait < 0 ? 0 : (int)wait;
}

uint32_t watchdog_check(struct sandbox_report *report) {
  if (!watching) return SANDBOX_LIMIT_NONE;
  int64_t now = now_ms();
  if (memory_max_kb > 0 && now >= next_memory_ms) {
    uint64_t held = processes_kb() + tmpfs_kb() + (count_sockets ? socket_memory_kb() : 0);
    report->memory_samples++;
    if (held > report->sandbox_peak_kb) report->sandbox_peak_kb = held;
    next_memory_ms = now + (held * 2 > memory_max_kb ? SAMPLE_NEAR_LIMIT_MS : SAMPLE_MS);
    if (held > memory_max_kb) return SANDBOX_LIMIT_MEMORY;
  }
  if (storage_path_count > 0 && now >= next_storage_ms) return walk_storage(report);
  return SANDBOX_LIMIT_NONE;
}

uint32_t watchdog_finish(struct sandbox_report *report) {
  return watching && storage_path_count > 0 ? walk_storage(report) : SANDBOX_LIMIT_NONE;
}
