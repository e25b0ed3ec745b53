/* The in-process API of softkvm.h: fd bookkeeping and ioctl routing. */
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm/device.h"
#include "kvm/kvm.h"
#include "softkvm.h"

#define SK_EXPORT __attribute__((visibility("default")))

int sk_sys_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

/* A real fd that, like KVM's anonymous inodes, cannot be mmap'ed or read. */
int sk_anon_fd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int fail(long r)
{
	errno = (int)-r;
	return -1;
}

SK_EXPORT const char *softkvm_version(void)
{
	return "0.1.0";
}

SK_EXPORT int softkvm_open(int flags)
{
	sk_signals_init();
	int fd = eventfd(0, (flags & O_CLOEXEC) ? EFD_CLOEXEC : 0);
	if (fd < 0)
		return -1;
	int r = sk_fd_install(SK_FILE_SYS, NULL, fd);
	if (r < 0) {
		sk_sys_close(fd);
		return fail(r);
	}
	return fd;
}

SK_EXPORT bool softkvm_owns_fd(int fd)
{
	return sk_fd_owned(fd);
}

SK_EXPORT bool softkvm_ioctl_owned(int fd, unsigned long request, unsigned long arg, int *ret)
{
	/* The kernel's ioctl takes an unsigned int: callers that pass the
	 * request sign-extended into a long (QEMU does) mean the same call. */
	unsigned long cmd = (unsigned int)request;
	enum sk_file_kind kind;
	void *obj = sk_fd_lookup_cached(fd, &kind);
	long r;
	switch (kind) {
	case SK_FILE_SYS:
		r = sk_sys_ioctl(cmd, arg);
		break;
	case SK_FILE_VM:
		r = sk_vm_ioctl(obj, cmd, arg);
		break;
	case SK_FILE_VCPU:
		r = sk_vcpu_ioctl(obj, cmd, arg);
		break;
	case SK_FILE_DEVICE:
		r = sk_device_ioctl(obj, cmd, arg);
		break;
	default:
		return false;
	}
	if (sk_trace_on)
		sk_trace_ioctl(fd, kind, obj, cmd, arg, r);
	*ret = r < 0 ? fail(r) : (int)r;
	return true;
}

SK_EXPORT int softkvm_ioctl(int fd, unsigned long cmd, unsigned long arg)
{
	int ret;
	if (softkvm_ioctl_owned(fd, cmd, arg, &ret))
		return ret;
	return fail(fcntl(fd, F_GETFD) < 0 ? -EBADF : -ENOTTY);
}

SK_EXPORT int softkvm_close(int fd)
{
	sk_fd_remove(fd);
	long r = syscall(SYS_close, fd);
	return (int)r;
}

SK_EXPORT void softkvm_forget_fd(int fd)
{
	sk_fd_remove(fd);
}

SK_EXPORT int softkvm_dup(int oldfd)
{
	int fd = (int)syscall(SYS_fcntl, oldfd, F_DUPFD, 0);
	if (fd >= 0)
		sk_fd_dup(oldfd, fd);
	return fd;
}

SK_EXPORT int softkvm_dup3(int oldfd, int newfd, int flags)
{
	int fd;
	if (oldfd == newfd && flags == -1) /* dup2 of an fd onto itself */
		return (int)syscall(SYS_fcntl, oldfd, F_GETFD) < 0 ? -1 : newfd;
	fd = (int)syscall(SYS_dup3, oldfd, newfd, flags == -1 ? 0 : flags);
	if (fd >= 0)
		sk_fd_dup(oldfd, fd);
	return fd;
}

SK_EXPORT int softkvm_fcntl_dupfd(int oldfd, int minfd, bool cloexec)
{
	int fd = (int)syscall(SYS_fcntl, oldfd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, minfd);
	if (fd >= 0)
		sk_fd_dup(oldfd, fd);
	return fd;
}
