/* What the kernel holds for the Unix sockets of the sandbox's network namespace. */
#ifndef SANDBOX_SOCKET_MEMORY_H
#define SANDBOX_SOCKET_MEMORY_H

#include <stdint.h>

/* kB queued on every Unix socket of our network namespace; 0 when the kernel will not say. */
uint64_t socket_memory_kb(void);

#endif
