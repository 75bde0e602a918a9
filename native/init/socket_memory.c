/* Unix socket buffers are kernel memory no process's RSS shows: with the host's wmem_max (a child
 * network namespace may read it, not lower it) every socket can hold megabytes. The kernel's
 * sock_diag interface lists every Unix socket of the caller's network namespace with its memory
 * (what `ss -xm` shows), to any user: data in flight is charged to its sender's write
 * allocation, so the sum of wmem_alloc and rmem_alloc is what the namespace's sockets hold.
 * Only meaningful when the namespace is the sandbox's own (or its session's: warm sandboxes of a
 * session share one, and count each other's). */
#define _GNU_SOURCE
#include "socket_memory.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The kernel's sock_diag ABI (linux/netlink.h, sock_diag.h, unix_diag.h), written out: musl
 * ships no kernel headers, and these layouts are fixed. */
#define NETLINK_SOCK_DIAG 4
#define SOCK_DIAG_BY_FAMILY 20
#define NLM_F_REQUEST 0x1
#define NLM_F_DUMP 0x300
#define NLMSG_ERROR 0x2
#define NLMSG_DONE 0x3
#define UDIAG_SHOW_MEMINFO 0x20
#define UNIX_DIAG_MEMINFO 5
#define SK_MEMINFO_RMEM_ALLOC 0
#define SK_MEMINFO_WMEM_ALLOC 2
#define ALIGN4(length) (((length) + 3u) & ~3u)

struct nlmsghdr {
  uint32_t nlmsg_len;
  uint16_t nlmsg_type, nlmsg_flags;
  uint32_t nlmsg_seq, nlmsg_pid;
};
struct unix_diag_req {
  uint8_t sdiag_family, sdiag_protocol;
  uint16_t pad;
  uint32_t udiag_states, udiag_ino, udiag_show;
  uint32_t udiag_cookie[2];
};
struct unix_diag_msg {
  uint8_t udiag_family, udiag_type, udiag_state, pad;
  uint32_t udiag_ino;
  uint32_t udiag_cookie[2];
};
struct rtattr {
  uint16_t rta_len, rta_type;
};

static int open_diag(void) {
  static int fd = -1;
  if (fd < 0) fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  return fd;
}

/* Sums the memory attributes of one datagram of answers; *done at the dump's end. */
static uint64_t sum_messages(const char *buffer, size_t length, int *done) {
  uint64_t bytes = 0;
  size_t at = 0;
  while (at + sizeof(struct nlmsghdr) <= length) {
    const struct nlmsghdr *h = (const struct nlmsghdr *)(buffer + at);
    if (h->nlmsg_len < sizeof *h || at + h->nlmsg_len > length) break;
    if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
      *done = 1;
      break;
    }
    size_t attribute = at + ALIGN4(sizeof *h) + ALIGN4(sizeof(struct unix_diag_msg));
    while (attribute + sizeof(struct rtattr) <= at + h->nlmsg_len) {
      const struct rtattr *a = (const struct rtattr *)(buffer + attribute);
      if (a->rta_len < sizeof *a || attribute + a->rta_len > at + h->nlmsg_len) break;
      if (a->rta_type == UNIX_DIAG_MEMINFO &&
          a->rta_len >= sizeof *a + sizeof(uint32_t) * (SK_MEMINFO_WMEM_ALLOC + 1)) {
        uint32_t info[SK_MEMINFO_WMEM_ALLOC + 1];
        memcpy(info, a + 1, sizeof info);
        bytes += (uint64_t)info[SK_MEMINFO_RMEM_ALLOC] + info[SK_MEMINFO_WMEM_ALLOC];
      }
      attribute += ALIGN4(a->rta_len);
    }
    at += ALIGN4(h->nlmsg_len);
  }
  return bytes;
}

uint64_t socket_memory_kb(void) {
  int fd = open_diag();
  if (fd < 0) return 0;
  struct {
    struct nlmsghdr header;
    struct unix_diag_req request;
  } ask;
  memset(&ask, 0, sizeof ask);
  ask.header.nlmsg_len = sizeof ask;
  ask.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  ask.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  ask.request.sdiag_family = AF_UNIX;
  ask.request.udiag_states = (uint32_t)-1;
  ask.request.udiag_show = UDIAG_SHOW_MEMINFO;
  if (send(fd, &ask, sizeof ask, 0) != (ssize_t)sizeof ask) return 0;
  uint64_t bytes = 0;
  static char buffer[32768];
  for (int done = 0; !done;) {
    ssize_t got = recv(fd, buffer, sizeof buffer, 0);
    if (got <= 0) break;
    bytes += sum_messages(buffer, (size_t)got, &done);
  }
  return bytes / 1024;
}
