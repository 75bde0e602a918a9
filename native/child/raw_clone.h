// clone() without libc, for the processes that share the server's memory (CLONE_VM).
//
// glibc's clone() writes errno into the calling thread's TLS and runs libc code in the new
// process; here the new process runs only fn (then exit with its return value) and the caller
// gets the new pid or -errno. With CLONE_PIDFD the pidfd is stored at *parent_tid.
#pragma once

namespace sandbox {

extern "C" __attribute__((visibility("hidden"))) long sandbox_raw_clone(unsigned long flags, void* stack_top,
                                                                        int* parent_tid, int (*fn)(void*), void* arg);

inline long raw_clone(unsigned long flags, void* stack_top, int* parent_tid, int (*fn)(void*), void* arg) {
  return sandbox_raw_clone(flags, stack_top, parent_tid, fn, arg);
}

}  // namespace sandbox
