/* System calls by number for code compiled against another arch's uapi.
 *
 * On an x86-64 host the arm64 vCPU is compiled with arm64's <asm/unistd.h>
 * (see src/arch/arm64/meson.build), so a SYS_* constant there names an
 * arm64 system call, not the host's. The core is compiled for the host:
 * what needs a raw system call goes through these. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <string.h>

#include "kvm/kvm.h"

void sk_vcpu_wake(struct sk_vcpu *vcpu)
{
	syscall(SYS_futex, &vcpu->requests, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

bool sk_same_file(int a, int b)
{
	pid_t pid = getpid();
	return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b) == 0;
}

int sk_sys_dup_cloexec(int fd)
{
	long r = syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 0);
	return r < 0 ? -errno : (int)r;
}

/* KVM's eventfd_ctx_fdget: EBADF for no file, EINVAL for another kind. */
int sk_check_eventfd(int fd)
{
	char path[64], link[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -EBADF;
	link[n] = 0;
	return strcmp(link, "anon_inode:[eventfd]") ? -EINVAL : 0;
}
