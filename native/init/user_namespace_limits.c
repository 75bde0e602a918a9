/* The per-user kernel counts of a sandbox (inotify instances and watches, fanotify groups and
 * marks, namespaces) are bounded by the limits of its own user namespace, /proc/sys/user/max_*,
 * which only a process with CAP_SYS_RESOURCE in that namespace may write. The native backend's
 * child writes them before it drops its capabilities (native/child/recipe.cc). bwrap cannot:
 * it keeps CAP_SYS_RESOURCE and CAP_SETPCAP for sandbox-init (--cap-add) and passes the values in
 * USER_NAMESPACE_LIMITS_ENV, "name=value name=value ..."; they are written here, first thing,
 * then every capability goes (bounding set, ambient, then the rest) before anything else runs.
 * Without capabilities (the native backend) there is nothing to do and the variable, if any, is
 * the command's own. */
#define _GNU_SOURCE
#include "user_namespace_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAPABILITY_VERSION_3 0x20080522

struct capability_header {
  uint32_t version;
  int pid;
};
struct capability_data {
  uint32_t effective, permitted, inheritable;
};

static void fail_limit(const char *what, const char *name) {
  fprintf(stderr, "sandbox-init: %s %s: %s\n", what, name, strerror(errno));
  _exit(125);
}

static int holds_capabilities(void) {
  struct capability_header header = {CAPABILITY_VERSION_3, 0};
  struct capability_data data[2];
  if (syscall(SYS_capget, &header, data) != 0) fail_limit("capget", "");
  return (data[0].effective | data[1].effective) != 0;
}

static void write_limit(const char *name, const char *value) {
  char path[96];
  if (strchr(name, '/') != NULL || snprintf(path, sizeof path, "/proc/sys/user/%s", name) >= (int)sizeof path) {
    errno = EINVAL;
    fail_limit("user namespace limit", name);
  }
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail_limit("open /proc/sys/user", name);
  ssize_t length = (ssize_t)strlen(value);
  if (write(fd, value, (size_t)length) != length) fail_limit("write /proc/sys/user", name);
  close(fd);
}

static void drop_all_capabilities(void) {
  for (int cap = 0; cap < 64; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break; /* past the kernel's last capability */
      fail_limit("prctl(PR_CAPBSET_DROP)", "");
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) fail_limit("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", "");
  struct capability_header header = {CAPABILITY_VERSION_3, 0};
  struct capability_data none[2];
  memset(none, 0, sizeof none);
  if (syscall(SYS_capset, &header, none) != 0) fail_limit("capset", "");
}

void apply_user_namespace_limits(void) {
  const char *spec = getenv(USER_NAMESPACE_LIMITS_ENV);
  if (spec == NULL || !holds_capabilities()) return;
  char *list = strdup(spec);
  if (list == NULL) fail_limit("strdup", "");
  char *save = NULL;
  for (char *item = strtok_r(list, " ", &save); item != NULL; item = strtok_r(NULL, " ", &save)) {
    char *equals = strchr(item, '=');
    if (equals == NULL) {
      errno = EINVAL;
      fail_limit("user namespace limit", item);
    }
    *equals = '\0';
    write_limit(item, equals + 1);
  }
  free(list);
  unsetenv(USER_NAMESPACE_LIMITS_ENV);
  drop_all_capabilities();
}
