/* The CPU priority of a sandbox (cpu_priority.c). */
#ifndef SANDBOX_CPU_PRIORITY_H
#define SANDBOX_CPU_PRIORITY_H

/* Takes "--nice N" from sandbox-init's options; 0 for any other name. */
int cpu_priority_option(const char *name, const char *value);

/* Lowers this process (and so everything it starts) to the nice value asked for. Call before
 * becoming non-dumpable. */
void cpu_priority_apply(void);

#endif
