/* The CPU priority of a sandbox. The code a sandbox runs must not starve the executor that runs
 * it: a control plane's submit waits on the executor's event loop, never on sandboxes.
 *
 * The nice value (--nice N) is set on sandbox-init, and every process of the sandbox inherits it;
 * RLIMIT_NICE 0 (set by the launcher) keeps any of them from lowering it again. Nice values only
 * weigh processes of one scheduling group, though: where the kernel groups tasks by session
 * (autogroup: a host whose tasks sit in the root cpu cgroup), each sandbox is a session of its own
 * (setsid at its start) and so a group of its own, as heavy as the executor's. The sandbox's
 * autogroup is left alone: the kernel lets an unprivileged process raise its autogroup's nice value
 * at most ten times a second machine-wide, so under load a few sandboxes would get a tenth of the
 * weight of the others (measured: c16 p99 3.7 times longer). The executor raises its own
 * autogroup instead, where it may (src/sandbox/cpu-priority.ts). */
#define _GNU_SOURCE
#include "cpu_priority.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int nice_value; /* 0: the launcher's own */

int cpu_priority_option(const char *name, const char *value) {
  if (strcmp(name, "--nice") != 0) return 0;
  char *end = NULL;
  long parsed = strtol(value, &end, 10);
  if (*value == '\0' || *end != '\0' || parsed < 0 || parsed > 19) {
    fprintf(stderr, "sandbox-init: bad nice value '%s'\n", value);
    _exit(125);
  }
  nice_value = (int)parsed;
  return 1;
}

void cpu_priority_apply(void) {
  if (nice_value == 0) return;
  /* best effort: a sandbox at normal priority is what it was before this existed */
  (void)setpriority(PRIO_PROCESS, 0, nice_value);
}
