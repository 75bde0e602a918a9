// The trampoline of raw_clone.h. fn and arg travel on the new stack (the only memory the new
// process can find them in once the registers are its own); the new process pops them, calls
// fn(arg) and exits with its result. The parent returns the system call's result.
#include "child/raw_clone.h"

#include <sys/syscall.h>

#define SANDBOX_STRINGIFY(x) #x
#define SANDBOX_NUMBER(x) SANDBOX_STRINGIFY(x)

#if defined(__x86_64__)
// rdi flags, rsi stack_top, rdx parent_tid, rcx fn, r8 arg; the kernel's order is flags, stack,
// parent_tid, child_tid (r10), tls (r8).
__asm__(
    ".text\n"
    ".globl sandbox_raw_clone\n"
    ".hidden sandbox_raw_clone\n"
    ".type sandbox_raw_clone, @function\n"
    "sandbox_raw_clone:\n"
    "  and $-16, %rsi\n"
    "  sub $16, %rsi\n"
    "  mov %rcx, (%rsi)\n"
    "  mov %r8, 8(%rsi)\n"
    "  xor %r10d, %r10d\n"
    "  xor %r8d, %r8d\n"
    "  mov $" SANDBOX_NUMBER(SYS_clone) ", %eax\n"
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jz 1f\n"
    "  ret\n"
    "1:\n"
    "  xor %ebp, %ebp\n"
    "  pop %rax\n"
    "  pop %rdi\n"
    "  call *%rax\n"
    "  mov %eax, %edi\n"
    "  mov $" SANDBOX_NUMBER(SYS_exit) ", %eax\n"
    "  syscall\n"
    "  hlt\n"
    ".size sandbox_raw_clone, .-sandbox_raw_clone\n");
#elif defined(__aarch64__)
// x0 flags, x1 stack_top, x2 parent_tid, x3 fn, x4 arg; the kernel's order is flags, stack,
// parent_tid, tls (x3), child_tid (x4).
__asm__(
    ".text\n"
    ".globl sandbox_raw_clone\n"
    ".hidden sandbox_raw_clone\n"
    ".type sandbox_raw_clone, %function\n"
    "sandbox_raw_clone:\n"
    "  and x1, x1, #-16\n"
    "  stp x3, x4, [x1, #-16]!\n"
    "  mov x3, xzr\n"
    "  mov x4, xzr\n"
    "  mov x8, #" SANDBOX_NUMBER(SYS_clone) "\n"
    "  svc #0\n"
    "  cbz x0, 1f\n"
    "  ret\n"
    "1:\n"
    "  mov x29, xzr\n"
    "  mov x30, xzr\n"
    "  ldp x1, x0, [sp], #16\n"
    "  blr x1\n"
    "  mov x8, #" SANDBOX_NUMBER(SYS_exit) "\n"
    "  svc #0\n"
    "  brk #0\n"
    ".size sandbox_raw_clone, .-sandbox_raw_clone\n");
#else
#error "sandbox-executor's native backend supports x86_64 and aarch64 only"
#endif
