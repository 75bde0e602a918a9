/* sandbox-init: the first process of every sandbox, on both backends.
 *
 * Usage (built by the executor, never by hand):
 *   sandbox-init REPORT_FD CONTROL_FD [OPTION...] -- CMD [ARGS...]          run CMD now
 *   sandbox-init REPORT_FD CONTROL_FD [OPTION...] --wait                    a warm sandbox: wait for the command
 *   sandbox-init REPORT_FD CONTROL_FD [OPTION...] --prime -- CMD [ARGS...]  a primed one: start CMD, hold it
 * OPTION: name-value pairs: --nice N (cpu_priority.c), and the watchdog's limits (watchdog.c):
 * --memory-max BYTES, --count-sockets 0|1, --disk PATH (repeated), --disk-max-bytes N, --disk-max-files N.
 * In --wait mode the sandbox is fully built and idle until the executor writes the command on
 * CONTROL_FD (see command_frame.h): creating the sandbox leaves the request's critical path.
 * In --prime mode CMD (a language runtime) starts at once and waits on fd PRIMED_GO_FD; a command
 * frame without argv releases it: the frame's environment goes down that pipe, NUL-terminated
 * entries until EOF, and the runtime's own start-up has left the critical path too. A frame with
 * argv replaces it instead (the primed process is killed first).
 *
 * Why an init of our own:
 *  - the command runs as an ordinary process (not the namespace's pid 1, whose default signal
 *    dispositions differ), and every orphan it leaves is reaped here (child subreaper);
 *  - when the command exits, or the executor asks (a byte or EOF on CONTROL_FD), every remaining
 *    process of the sandbox is SIGKILLed, so nothing outlives the execution;
 *  - the rusage of the whole tree is exact: the addon's own wait4 would include the memory of the
 *    Node process that spawned us (clone(CLONE_VM) + execve records the old mm's peak RSS);
 *  - what the sandbox really enforces (uid, capabilities, no_new_privs, seccomp, namespaces,
 *    rlimits) is attested from inside and reported, so nobody has to trust configuration.
 * The report travels on REPORT_FD, a pipe the command never sees (close-on-exec, not dumpable). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command_frame.h"
#include "cpu_priority.h"
#include "init_report.h"
#include "user_namespace_limits.h"
#include "watchdog.h"

/* Where a primed command finds its release pipe (the runtimes' bootstraps read this fd). */
#define PRIMED_GO_FD 4

static const char *const NAMESPACE_FILES[SANDBOX_NS_COUNT] = {
    "/proc/self/ns/user", "/proc/self/ns/mnt", "/proc/self/ns/pid",   "/proc/self/ns/net",
    "/proc/self/ns/ipc",  "/proc/self/ns/uts", "/proc/self/ns/cgroup"};
static const int RLIMIT_ORDER[SANDBOX_RLIMIT_COUNT] = {RLIMIT_CPU,      RLIMIT_DATA,   RLIMIT_FSIZE, RLIMIT_NOFILE,
                                                       RLIMIT_CORE,     RLIMIT_STACK,  RLIMIT_NPROC, RLIMIT_SIGPENDING,
                                                       RLIMIT_MSGQUEUE, RLIMIT_MEMLOCK};
static const char *const USERNS_LIMIT_FILES[SANDBOX_USERNS_LIMIT_COUNT] = {
    "max_inotify_instances", "max_inotify_watches", "max_fanotify_groups", "max_fanotify_marks", "max_user_namespaces"};

static void fail(const char *what) {
  fprintf(stderr, "sandbox-init: %s: %s\n", what, strerror(errno));
  _exit(125);
}

static int parse_fd(const char *text) {
  char *end = NULL;
  long value = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value < 0 || value > 65535) {
    fprintf(stderr, "sandbox-init: bad fd '%s'\n", text);
    _exit(125);
  }
  return (int)value;
}

/* Reads "Key:\tvalue" from /proc/self/status; returns 0 when absent. */
static uint64_t status_field(const char *status, const char *key, int base) {
  const char *at = strstr(status, key);
  if (at == NULL) return 0;
  return strtoull(at + strlen(key), NULL, base);
}

static void attest(struct sandbox_report *report) {
  char status[8192];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  ssize_t got = fd >= 0 ? read(fd, status, sizeof status - 1) : -1;
  if (fd >= 0) close(fd);
  status[got > 0 ? got : 0] = '\0';
  report->cap_effective = status_field(status, "\nCapEff:", 16);
  report->cap_bounding = status_field(status, "\nCapBnd:", 16);
  report->no_new_privs = (int32_t)status_field(status, "\nNoNewPrivs:", 10);
  report->seccomp_mode = (int32_t)status_field(status, "\nSeccomp:", 10);
  report->uid = (int32_t)getuid();
  report->gid = (int32_t)getgid();
  for (int i = 0; i < SANDBOX_NS_COUNT; i++) {
    struct stat st;
    report->ns_inode[i] = stat(NAMESPACE_FILES[i], &st) == 0 ? (uint64_t)st.st_ino : 0;
  }
  for (int i = 0; i < SANDBOX_RLIMIT_COUNT; i++) {
    struct rlimit limit;
    report->rlimit_cur[i] = getrlimit(RLIMIT_ORDER[i], &limit) == 0 ? (uint64_t)limit.rlim_cur : 0;
  }
  for (int i = 0; i < SANDBOX_USERNS_LIMIT_COUNT; i++) {
    char path[64], text[32];
    snprintf(path, sizeof path, "/proc/sys/user/%s", USERNS_LIMIT_FILES[i]);
    int limit_fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t length = limit_fd >= 0 ? read(limit_fd, text, sizeof text - 1) : -1;
    if (limit_fd >= 0) close(limit_fd);
    text[length > 0 ? length : 0] = '\0';
    report->userns_limit[i] = length > 0 ? strtoll(text, NULL, 10) : -1;
  }
}

/* rchar/wchar of this process, which include every child reaped so far; -1 when unavailable.
 * io_fd is opened before we become non-dumpable (which makes /proc/self/io unopenable). */
static void read_io(int io_fd, int64_t *read_bytes, int64_t *write_bytes) {
  char text[1024];
  *read_bytes = *write_bytes = -1;
  if (io_fd < 0) return;
  ssize_t got = pread(io_fd, text, sizeof text - 1, 0);
  if (got <= 0) return;
  text[got] = '\0';
  const char *r = strstr(text, "rchar:");
  const char *w = strstr(text, "wchar:");
  if (r) *read_bytes = strtoll(r + 6, NULL, 10);
  if (w) *write_bytes = strtoll(w + 6, NULL, 10);
}

/* The command to run: from our own argv, or from a warm sandbox's frame (read_command). */
struct command {
  char **argv;
  char **envp;
};

static int read_exactly(int fd, char *buffer, size_t length) {
  size_t done = 0;
  while (done < length) {
    ssize_t got = read(fd, buffer + done, length - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return 0;
    done += (size_t)got;
  }
  return 1;
}

/* Reads a command frame (command_frame.h) from CONTROL_FD and applies its CPU limit and cwd.
 * Returns 0 on EOF before a complete command (the warm sandbox was discarded). */
static int read_command(int control_fd, struct command *out) {
  unsigned char header[4];
  if (!read_exactly(control_fd, (char *)header, sizeof header)) return 0;
  uint32_t length = command_frame_length(header);
  if (length == 0 || length > COMMAND_FRAME_MAX_BYTES) fail("command length");
  char *payload = malloc(length);
  if (payload == NULL) fail("malloc");
  if (!read_exactly(control_fd, payload, length)) return 0;
  struct command_frame frame;
  const char *malformed = command_frame_parse(payload, length, &frame);
  if (malformed != NULL) {
    fprintf(stderr, "sandbox-init: %s\n", malformed);
    _exit(125);
  }
  struct rlimit cpu = {frame.cpu_soft, frame.cpu_hard};
  /* lowering our own limit is always allowed; the command inherits it */
  if (setrlimit(RLIMIT_CPU, &cpu) != 0) fail("setrlimit(RLIMIT_CPU)");
  if (chdir(frame.cwd) != 0) fail("chdir");
  out->argv = frame.argv;
  out->envp = frame.envp;
  return 1;
}

/* kill(-1) reaches every process we may signal: inside our own pid namespace that is exactly the
 * sandbox (we are its pid 1; pid 2 under a bwrap without --as-pid-1). Outside one (ISOLATION=none) it would be
 * every process of the user on the host, so there only the command's process group is killed. */
static void kill_everything_else(pid_t command) {
  if (getpid() <= 2)
    kill(-1, SIGKILL);
  else
    kill(-command, SIGKILL);
}

/* Forks the command; *exec_pipe then reads as EOF once it has executed, or gives its errno.
 * go_fd >= 0: the command's release pipe, which it gets as PRIMED_GO_FD. */
static pid_t start_command(char **argv, char **envp, const sigset_t *original_mask, int go_fd, int *exec_pipe) {
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) fail("pipe2");
  pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    setpgid(0, 0); /* its own process group: what ISOLATION=none can kill (see kill_everything_else) */
    sigprocmask(SIG_SETMASK, original_mask, NULL);
    if (go_fd >= 0 && (go_fd == PRIMED_GO_FD ? fcntl(go_fd, F_SETFD, 0) : dup2(go_fd, PRIMED_GO_FD)) < 0) _exit(127);
    execve(argv[0], argv, envp);
    int err = errno;
    (void)!write(errpipe[1], &err, sizeof err);
    _exit(127);
  }
  close(errpipe[1]);
  *exec_pipe = errpipe[0];
  return pid;
}

/* 0 once the command has executed, else execve's errno. */
static int exec_result(int exec_pipe) {
  int err = 0;
  ssize_t got;
  do got = read(exec_pipe, &err, sizeof err);
  while (got < 0 && errno == EINTR);
  close(exec_pipe);
  return got == (ssize_t)sizeof err ? err : 0;
}

/* Sandboxes made ahead (warm ones, and the namespaces of cold ones) are made at SCHED_BATCH, which
 * they inherit from the executor's background threads: while they get ready they yield to
 * running executions. The execution runs at the normal policy. (A raw system call: musl's
 * wrapper is deliberately ENOSYS.) */
static void run_at_normal_policy(pid_t pid) {
  struct sched_param normal = {0};
  syscall(SYS_sched_setscheduler, pid, SCHED_OTHER, &normal);
}

/* Waits for the command frame on control_fd; 0 if the primed process ended first. */
static int await_frame(int control_fd, int sigfd, pid_t primed) {
  for (;;) {
    struct pollfd watch[2] = {{.fd = control_fd, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
    if (poll(watch, 2, -1) < 0 && errno != EINTR) fail("poll");
    if (watch[0].revents) return 1;
    if (watch[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      (void)!read(sigfd, &info, sizeof info);
      if (waitpid(primed, NULL, WNOHANG | __WALL) == primed) return 0;
    }
  }
}

/* A warm sandbox that was never used: nothing of it may stay (the primed process and anything it
 * started), and the report says so. */
static void end_unused(pid_t primed, struct sandbox_report *report, int report_fd) {
  if (primed > 0) {
    kill_everything_else(primed);
    while (wait4(-1, NULL, __WALL, NULL) > 0 || errno == EINTR) {
    }
  }
  report->end = SANDBOX_END_KILLED;
  attest(report);
  if (write(report_fd, report, sizeof *report) != (ssize_t)sizeof *report) fail("write report");
  _exit(0);
}

/* Releases the primed process: its CPU limit lowered to the command's, the frame's environment
 * written down its pipe (one write, far below the pipe's capacity), then EOF. */
static void release_primed(pid_t primed, int go_write, char **envp) {
  struct rlimit cpu;
  if (getrlimit(RLIMIT_CPU, &cpu) != 0 || prlimit(primed, RLIMIT_CPU, &cpu, NULL) != 0) fail("prlimit(RLIMIT_CPU)");
  size_t length = 0;
  for (char **entry = envp; *entry != NULL; entry++) length += strlen(*entry) + 1;
  char *buffer = malloc(length + 1);
  if (buffer == NULL) fail("malloc");
  size_t at = 0;
  for (char **entry = envp; *entry != NULL; entry++) {
    size_t size = strlen(*entry) + 1;
    memcpy(buffer + at, *entry, size);
    at += size;
  }
  /* EPIPE (the runtime died) is not ours to report: its exit status says what happened */
  if (length > 0) (void)!write(go_write, buffer, length);
  close(go_write);
  free(buffer);
}

int main(int argc, char **argv) {
  int report_fd = argc > 2 ? parse_fd(argv[1]) : -1;
  int control_fd = argc > 2 ? parse_fd(argv[2]) : -1;
  /* the options come first; argv then reads as if they were not there */
  int mode = 3;
  while (mode + 1 < argc &&
         (cpu_priority_option(argv[mode], argv[mode + 1]) || watchdog_option(argv[mode], argv[mode + 1])))
    mode += 2;
  argv += mode - 3;
  argc -= mode - 3;
  int warm = argc == 4 && strcmp(argv[3], "--wait") == 0;
  int prime = argc >= 6 && strcmp(argv[3], "--prime") == 0 && strcmp(argv[4], "--") == 0;
  if (report_fd < 0 || (!warm && !prime && (argc < 5 || strcmp(argv[3], "--") != 0))) {
    fprintf(stderr,
            "usage: sandbox-init REPORT_FD CONTROL_FD [OPTION...] (-- CMD [ARGS...] | --wait | --prime -- CMD "
            "[ARGS...])\n");
    return 125;
  }
  apply_user_namespace_limits(); /* under bwrap: before anything else, with the capabilities it needs */
  cpu_priority_apply();          /* while /proc/self is still ours to write */
  if (fcntl(report_fd, F_SETFD, FD_CLOEXEC) != 0 || fcntl(control_fd, F_SETFD, FD_CLOEXEC) != 0) fail("fcntl");
  int io_fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
  /* Not dumpable: the command runs as the same uid and must not reach our fds via /proc. */
  if (prctl(PR_SET_DUMPABLE, 0) != 0) fail("prctl(PR_SET_DUMPABLE)");
  /* Orphans of the command are reparented to us (were we not pid 1: a bwrap without --as-pid-1). */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail("prctl(PR_SET_CHILD_SUBREAPER)");

  /* SIGPIPE blocked: a primed runtime that died makes the release write fail with EPIPE, not kill
   * us. Commands get the original mask back (start_command). */
  sigset_t handled, blocked, original_mask;
  sigemptyset(&handled);
  sigaddset(&handled, SIGCHLD);
  blocked = handled;
  sigaddset(&blocked, SIGPIPE);
  if (sigprocmask(SIG_BLOCK, &blocked, &original_mask) != 0) fail("sigprocmask");
  int sigfd = signalfd(-1, &handled, SFD_CLOEXEC);
  if (sigfd < 0) fail("signalfd");

  struct sandbox_report report;
  memset(&report, 0, sizeof report);
  report.magic = SANDBOX_REPORT_MAGIC;
  struct command command_line = {argv + (prime ? 5 : 4), environ};
  int exec_pipe = -1;
  pid_t command = 0;
  if (prime) {
    int go[2];
    if (pipe2(go, O_CLOEXEC) != 0) fail("pipe2");
    command = start_command(command_line.argv, command_line.envp, &original_mask, go[0], &exec_pipe);
    close(go[0]);
    if (exec_result(exec_pipe) != 0 || !await_frame(control_fd, sigfd, command) ||
        !read_command(control_fd, &command_line)) {
      end_unused(command, &report, report_fd); /* failed to start, died, or discarded */
    }
    run_at_normal_policy(0);
    watchdog_command_starts(); /* before the command goes on: see below */
    if (command_line.argv[0] == NULL) {
      if (waitpid(command, NULL, WNOHANG | __WALL) == command) {
        /* it died while it waited (an OOM kill, say) and the frame came before we saw it: the
         * execution gets a runtime started now rather than that death */
        close(go[1]);
        if (pipe2(go, O_CLOEXEC) != 0) fail("pipe2");
        command = start_command(argv + 5, environ, &original_mask, go[0], &exec_pipe);
        close(go[0]);
        report.exec_errno = exec_result(exec_pipe);
      }
      run_at_normal_policy(command);
      release_primed(command, go[1], command_line.envp);
    } else {
      /* another command than the primed one: it runs instead. Killed before its release pipe is
       * closed: EOF there would let it go on (and write to the command's stdout/stderr) */
      kill(command, SIGKILL);
      while (waitpid(command, NULL, __WALL) < 0 && errno == EINTR) {
      }
      close(go[1]);
      command = 0;
    }
  } else {
    if (warm && !read_command(control_fd, &command_line)) end_unused(0, &report, report_fd); /* discarded before use */
    run_at_normal_policy(0); /* the command inherits it */
    /* The first storage walk is what the session held before the execution: it must count nothing
     * the command wrote (a session over its quota may shrink, never grow), so the time the command
     * began is noted first. */
    watchdog_command_starts();
  }
  exec_pipe = -1;
  if (command == 0) {
    if (command_line.argv[0] == NULL) fail("empty command");
    command = start_command(command_line.argv, command_line.envp, &original_mask, -1, &exec_pipe);
  }
  /* while the command starts: its credentials, filter and limits are ours, unchanged by fork */
  attest(&report);
  int64_t own_read = 0, own_write = 0;
  read_io(io_fd, &own_read, &own_write);
  if (exec_pipe >= 0) report.exec_errno = exec_result(exec_pipe);
  int command_done = 0, kill_requested = 0, remaining_killed = 0;
  if (report.exec_errno != 0) report.end = SANDBOX_END_EXEC_FAILED;
  /* The command's fds (stdin, stdout, stderr, the result channel) are its own from here on: our
   * copies would hold its pipes open until we exit, and the executor reads them to EOF. */
  for (int fd = 0; fd < report_fd; fd++) close(fd);
  if (report.end != SANDBOX_END_EXEC_FAILED) watchdog_start(&report);

  for (;;) {
    int status;
    struct rusage ignored;
    pid_t pid;
    while ((pid = wait4(-1, &status, WNOHANG | __WALL, &ignored)) > 0) {
      report.processes_started++;
      if (pid == command) {
        command_done = 1;
        if (report.end == 0 && WIFEXITED(status)) {
          report.end = SANDBOX_END_EXITED;
          report.exit_code = WEXITSTATUS(status);
        } else if (report.end == 0 && WIFSIGNALED(status)) {
          report.end = SANDBOX_END_SIGNALED;
          report.term_signal = WTERMSIG(status);
        }
      }
    }
    if (pid < 0 && errno == ECHILD) break; /* nobody left */
    if ((command_done || kill_requested) && !remaining_killed) {
      kill_everything_else(command);
      remaining_killed = 1;
      continue;
    }
    struct pollfd watch[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = control_fd, .events = POLLIN}};
    int watched = kill_requested ? 1 : 2;
    if (poll(watch, watched, kill_requested ? -1 : watchdog_poll_timeout()) < 0 && errno != EINTR) fail("poll");
    uint32_t limit = kill_requested ? SANDBOX_LIMIT_NONE : watchdog_check(&report);
    if (limit != SANDBOX_LIMIT_NONE) {
      /* over a limit of the whole sandbox: the tree goes, and the report says which limit */
      report.limit_exceeded = limit;
      kill_requested = 1;
      if (!command_done) report.end = SANDBOX_END_KILLED;
      continue;
    }
    if (watch[0].revents & POLLIN) {
      struct signalfd_siginfo info;
      (void)!read(sigfd, &info, sizeof info);
    }
    if (watched == 2 && watch[1].revents) {
      /* The executor wants the tree gone (timeout, limit), or it went away (EOF). */
      kill_requested = 1;
      if (!command_done && report.end != SANDBOX_END_EXEC_FAILED) report.end = SANDBOX_END_KILLED;
    }
  }

  if (report.limit_exceeded == SANDBOX_LIMIT_NONE) report.limit_exceeded = watchdog_finish(&report);
  struct rusage usage;
  if (getrusage(RUSAGE_CHILDREN, &usage) == 0) {
    report.user_cpu_us = (uint64_t)usage.ru_utime.tv_sec * 1000000u + (uint64_t)usage.ru_utime.tv_usec;
    report.system_cpu_us = (uint64_t)usage.ru_stime.tv_sec * 1000000u + (uint64_t)usage.ru_stime.tv_usec;
    report.peak_rss_kb = (uint64_t)usage.ru_maxrss;
  }
  read_io(io_fd, &report.io_read_bytes, &report.io_write_bytes);
  if (report.io_read_bytes >= 0) report.io_read_bytes -= own_read;
  if (report.io_write_bytes >= 0) report.io_write_bytes -= own_write;
  if (write(report_fd, &report, sizeof report) != (ssize_t)sizeof report) fail("write report");
  return 0;
}
