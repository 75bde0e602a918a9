// Who owns the user namespaces sandboxes live in.
//
// The kernel charges per-user counts (inotify instances and watches, fanotify groups and marks,
// namespaces; and, through the real uid, queued signals and POSIX timers, message queue bytes,
// locked memory) to the task's (user namespace, uid), then again to every ancestor as
// (parent namespace, the namespace's owner), up to the host's own per-user limits. The owner is
// the creator's effective uid. Created by a root server, a sandbox's namespaces would charge
// everything the sandbox holds to host root: 128 inotify instances in a sandbox left every root
// process of the host with EMFILE. So a root server creates them with the sandbox's host uid as
// its effective uid.
#pragma once

#include <sys/types.h>

namespace sandbox {

// For the lifetime of the object, the calling thread's effective uid/gid are the sandbox's host
// ids (raw system calls: only this thread's credentials change, not the whole process's, as
// glibc's wrappers would do). The real and saved uid stay root, so the destructor can go back.
// Nothing when the thread does not run as root (an unprivileged server maps its own ids).
class CreateNamespacesAs {
 public:
  CreateNamespacesAs(uid_t uid, gid_t gid);
  ~CreateNamespacesAs();
  CreateNamespacesAs(const CreateNamespacesAs&) = delete;
  CreateNamespacesAs& operator=(const CreateNamespacesAs&) = delete;
  // 0, or the errno of the switch: then nothing may be created (it would be root's)
  int error() const { return error_; }

 private:
  bool switched_ = false;
  int error_ = 0;
};

}  // namespace sandbox
