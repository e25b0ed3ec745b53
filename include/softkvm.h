/* softkvm: the Linux KVM API in software, inside the calling process.
 *
 * This header is the in-process API for embedders. It mirrors the kernel's
 * interface one to one: softkvm_open() stands for open("/dev/kvm"), and
 * softkvm_ioctl() takes the same requests and structs as ioctl(2) on the
 * real device (from <linux/kvm.h>), returning -1 with errno set on error.
 * File descriptors it returns are real kernel fds (close, dup and mmap of a
 * vCPU fd work on them through softkvm_close/softkvm_dup or the preload seam).
 */
#ifndef SOFTKVM_H
#define SOFTKVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* KVM_CREATE_VM type bit (softkvm's one extension of the API): on an
 * x86-64 host, a VM with this bit set is an arm64 VM, driven with the arm64
 * UAPI (structs and ioctl numbers of arm64's <linux/kvm.h>). The other
 * bits are the arm64 type (KVM_VM_TYPE_ARM_IPA_SIZE). On an arm64 host
 * every VM is arm64 and the bit is accepted and ignored. */
#define SOFTKVM_VM_ARM64 0x01000000UL

/* open("/dev/kvm", flags): a new system fd, or -1 with errno. */
int softkvm_open(int flags);

/* ioctl(fd, request, arg) on a softkvm fd. An fd softkvm does not own
 * gets -1/ENOTTY, as the kernel answers an ioctl a file does not know. */
int softkvm_ioctl(int fd, unsigned long request, unsigned long arg);

/* For seams: if fd is softkvm's, perform the ioctl, store what ioctl(2)
 * would return in *ret (errno set on -1) and return true; else return
 * false and touch nothing. */
bool softkvm_ioctl_owned(int fd, unsigned long request, unsigned long arg, int *ret);

/* Is fd one of softkvm's (system, VM or vCPU fd)? */
bool softkvm_owns_fd(int fd);

/* close(fd) and the dup family, keeping softkvm's fd table in step.
 * They work on any fd; for fds softkvm does not own they are the plain calls. */
int softkvm_close(int fd);
int softkvm_dup(int oldfd);
/* dup3(oldfd, newfd, flags); flags == -1 gives dup2 semantics. */
int softkvm_dup3(int oldfd, int newfd, int flags);
int softkvm_fcntl_dupfd(int oldfd, int minfd, bool cloexec);

/* Called by the preload seam when the process forgets an fd behind softkvm's
 * back (e.g. after close_range); drops the table entry, not the kernel fd. */
void softkvm_forget_fd(int fd);

/* Signal bookkeeping for the preload seam: KVM_RUN returns EINTR after a
 * handled signal, so softkvm must see every handler run on a vCPU thread.
 * softkvm_sigaction has sigaction(2)'s contract. */
struct sigaction;
int softkvm_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* Guest memory poison (fault injection; see docs/FAULT-INJECTION.md).
 * Marks the pages holding [gpa, gpa + len) of the VM behind vm_fd as
 * poisoned: a guest access that consumes one (a load, store, fetch or a
 * stage-1 table walk reading a descriptor there) does what KVM does for
 * hardware-poisoned memory: SIGBUS (si_code BUS_OBJERR, si_addr the host
 * address) to the vCPU thread and KVM_RUN fails with EINTR, or
 * KVM_EXIT_ARM_SEA when the VM enabled KVM_CAP_ARM_SEA_TO_USER. Returns 0,
 * or -1 with errno: EBADF (not a VM fd), EINVAL (len 0, wrap, unknown
 * flags), ENOTSUP (a VM that takes no poison yet: x86). Poison stays until
 * softkvm_unpoison. arm64 VMs only for now. */
#define SOFTKVM_POISON_PARITY 0x1u   /* report as a parity/ECC error, not an external abort */
int softkvm_poison(int vm_fd, uint64_t gpa, uint64_t len, unsigned flags);
int softkvm_unpoison(int vm_fd, uint64_t gpa, uint64_t len);

/* The control socket a process using softkvm listens on (abstract unix
 * socket "softkvm-<pid>", started with the first VM that takes poison):
 * writes its name (without the leading NUL) for pid into buf. */
int softkvm_control_name(int pid, char *buf, size_t size);

/* The version of this library, "MAJOR.MINOR.PATCH". */
const char *softkvm_version(void);

#ifdef __cplusplus
}
#endif

#endif
