// Raw system calls for the window between clone(CLONE_VM) and execve.
//
// In that window the child shares the Node process's memory, so it must not touch libc state:
// glibc's syscall() writes errno into the parent thread's TLS, and most wrappers may take locks.
// These helpers return -errno on failure and touch nothing but registers.
#pragma once

#include <errno.h>  // the E* values raw calls return negated
#include <sys/syscall.h>

namespace sandbox {

#if defined(__x86_64__)
static inline long raw_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
  long ret;
  register long r10 __asm__("r10") = a4;
  register long r8 __asm__("r8") = a5;
  register long r9 __asm__("r9") = a6;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
static inline long raw_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0") = a1;
  register long x1 __asm__("x1") = a2;
  register long x2 __asm__("x2") = a3;
  register long x3 __asm__("x3") = a4;
  register long x4 __asm__("x4") = a5;
  register long x5 __asm__("x5") = a6;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
#else
#error "sandbox-executor's native backend supports x86_64 and aarch64 only"
#endif

template <typename A = long, typename B = long, typename C = long, typename D = long, typename E = long,
          typename F = long>
static inline long sys(long nr, A a1 = 0, B a2 = 0, C a3 = 0, D a4 = 0, E a5 = 0, F a6 = 0) {
  return raw_syscall6(nr, (long)a1, (long)a2, (long)a3, (long)a4, (long)a5, (long)a6);
}

}  // namespace sandbox
