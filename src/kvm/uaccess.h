/* Copying to and from the caller's memory without trusting its pointers.
 *
 * Every struct an ioctl caller hands in is read through these, so a bad
 * pointer gets EFAULT as it would from the kernel instead of crashing the
 * process. They use process_vm_readv/writev on the own process (one syscall,
 * checked by the kernel), with a probe-by-pipe fallback where those calls
 * are forbidden (some seccomp profiles).
 */
#ifndef SK_UACCESS_H
#define SK_UACCESS_H

#include <stddef.h>

/* 0 or -EFAULT. */
int sk_copy_from_user(void *dst, const void *user_src, size_t n);
int sk_copy_to_user(void *user_dst, const void *src, size_t n);

#endif
