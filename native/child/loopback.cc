// The sandbox's network when it has a namespace of its own: just the loopback, brought up.
// A new network namespace starts with `lo` down, so even 127.0.0.1 inside the sandbox would be
// unreachable (a test server and its client in one sandbox could not talk; bwrap brings it up
// too). The kernel configures 127.0.0.1/8 and ::1 on the loopback as it comes up. This runs while
// the recipe still holds the namespace's CAP_NET_ADMIN, and uses raw system calls only.
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "child/raw_syscall.h"
#include "child/recipe.h"
#include "child/steps.h"

namespace sandbox {

int bring_up_loopback(int* step) {
  *step = (int)Step::BringUpLoopback;
  long fd = sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return (int)fd;
  struct ifreq request {};
  request.ifr_name[0] = 'l';
  request.ifr_name[1] = 'o';
  long r = sys(SYS_ioctl, fd, SIOCGIFFLAGS, &request);
  if (r >= 0) {
    request.ifr_flags |= IFF_UP;
    r = sys(SYS_ioctl, fd, SIOCSIFFLAGS, &request);
  }
  sys(SYS_close, fd);
  return (int)r;
}

// Cloned with CLONE_VM: the namespaces live on in the fds the spawner opens meanwhile.
int bring_up_prepared_network(void* arg) {
  auto* helper = static_cast<PreparedNetworkHelper*>(arg);
  sys(SYS_close, helper->go_write_fd);
  char go = 0;
  long r = sys(SYS_read, helper->go_fd, &go, 1);
  if (r != 1) {
    helper->result = r < 0 ? (int)r : -ECHILD;
  } else {
    int step = 0;
    helper->result = bring_up_loopback(&step);
  }
  return 0;
}

}  // namespace sandbox
