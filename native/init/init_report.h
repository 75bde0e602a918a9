/* The report sandbox-init writes to the executor when the sandbox ends.
 * Shared by the init (C) and the addon (C++): a fixed-layout struct on a private pipe,
 * so nothing the sandboxed code prints can forge or corrupt it. */
#ifndef SANDBOX_INIT_REPORT_H
#define SANDBOX_INIT_REPORT_H

#include <stdint.h>

#define SANDBOX_REPORT_MAGIC 0x53424f58u /* "SBOX" */
#define SANDBOX_NS_COUNT 7               /* user mnt pid net ipc uts cgroup */
#define SANDBOX_RLIMIT_COUNT 10          /* see rlimit_cur */
#define SANDBOX_USERNS_LIMIT_COUNT 5     /* see userns_limit */

/* How the command ended. */
enum sandbox_end {
  SANDBOX_END_EXITED = 1,      /* exit_code valid */
  SANDBOX_END_SIGNALED = 2,    /* term_signal valid */
  SANDBOX_END_EXEC_FAILED = 3, /* exec_errno valid: the command could not be started */
  SANDBOX_END_KILLED = 4       /* the executor asked for the tree to be killed (timeout, limits) */
};

/* Which of the watchdog's limits made init kill the tree (see watchdog.h). */
enum sandbox_limit {
  SANDBOX_LIMIT_NONE = 0,
  SANDBOX_LIMIT_MEMORY = 1, /* the sandbox's memory, all kinds, over --memory-max */
  SANDBOX_LIMIT_DISK = 2,   /* the storage directories' bytes over --disk-max-bytes */
  SANDBOX_LIMIT_FILES = 3   /* their entries over --disk-max-files */
};

struct sandbox_report {
  uint32_t magic;
  uint32_t end;
  int32_t exit_code;
  int32_t term_signal;
  int32_t exec_errno;
  int32_t processes_started; /* processes this init reaped, including the command */
  /* rusage of every process of the tree, reaped by init */
  uint64_t user_cpu_us;
  uint64_t system_cpu_us;
  uint64_t peak_rss_kb;
  /* /proc/self/io of init after reaping: bytes moved through read/write syscalls by the tree */
  int64_t io_read_bytes;  /* -1 when the kernel gives nothing */
  int64_t io_write_bytes; /* -1 when the kernel gives nothing */
  /* attestation: what init itself saw inside the sandbox */
  int32_t uid;
  int32_t gid;
  uint64_t cap_effective;
  uint64_t cap_bounding;
  int32_t no_new_privs;
  int32_t seccomp_mode;
  uint64_t ns_inode[SANDBOX_NS_COUNT];
  uint64_t rlimit_cur[SANDBOX_RLIMIT_COUNT]; /* cpu data fsize nofile core stack nproc sigpending msgqueue memlock */
  /* /proc/sys/user of the sandbox's user namespace, -1 when absent: inotify instances, inotify
   * watches, fanotify groups, fanotify marks, user namespaces */
  int64_t userns_limit[SANDBOX_USERNS_LIMIT_COUNT];
  /* the watchdog (zero when it watched nothing) */
  uint32_t limit_exceeded;  /* enum sandbox_limit */
  uint32_t memory_samples;  /* how many times the sandbox's memory was measured */
  uint64_t sandbox_peak_kb; /* the largest memory measure: every process, tmpfs files, sockets */
  uint64_t storage_kb;      /* the storage directories at the last walk (allocated blocks) */
  uint64_t storage_files;   /* their entries (files, directories, links) at the last walk */
  uint32_t memory_watched;  /* 1: the memory watchdog was armed as the command started (/proc readable) */
  uint32_t reserved;
};

#endif
