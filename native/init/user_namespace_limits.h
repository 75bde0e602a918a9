/* The limits of the sandbox's own user namespace under bwrap (see user_namespace_limits.c). */
#ifndef SANDBOX_USER_NAMESPACE_LIMITS_H
#define SANDBOX_USER_NAMESPACE_LIMITS_H

/* The variable bwrap sets (--setenv, over any value of the command's) for sandbox-init. */
#define USER_NAMESPACE_LIMITS_ENV "SANDBOX_USER_NAMESPACE_LIMITS"

void apply_user_namespace_limits(void);

#endif
