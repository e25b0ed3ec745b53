/* Fault-safe copies between softkvm and the caller. See uaccess.h. */
#include "kvm/uaccess.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* 1: process_vm_* work; -1: they don't, use the fallback; 0: unknown yet. */
static atomic_int vm_rw_state;

/* The own pid process_vm_* name (getpid is a system call: one per copy
 * otherwise). 0 until known, and again in a fork's child, which is
 * another process: a stale pid would copy from the parent's memory.
 * (vfork and posix_spawn children share the memory and run no fork
 * handlers; a child made by a raw fork system call is not supported.) */
static _Atomic pid_t self_pid;

static void forked_child(void)
{
	atomic_store_explicit(&self_pid, 0, memory_order_relaxed);
}

__attribute__((constructor)) static void watch_forks(void)
{
	pthread_atfork(NULL, NULL, forked_child);
}

static pid_t self(void)
{
	pid_t pid = atomic_load_explicit(&self_pid, memory_order_relaxed);
	if (!pid) {
		pid = getpid();
		atomic_store_explicit(&self_pid, pid, memory_order_relaxed);
	}
	return pid;
}

static int copy_vm(void *dst, const void *src, size_t n, int to_user)
{
	struct iovec local = {to_user ? (void *)src : dst, n};
	struct iovec remote = {to_user ? dst : (void *)src, n};
	pid_t pid = self();
	ssize_t r = to_user ? process_vm_writev(pid, &local, 1, &remote, 1, 0)
			    : process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (r == (ssize_t)n)
		return 0;
	if (r < 0 && (errno == ENOSYS || errno == EPERM))
		return 1;
	return -EFAULT;
}

/* The fallback: the kernel checks a buffer when it is written to a pipe
 * (reads) or when a pipe's contents are read into it (writes). */
static int probe_pipe(const void *buf, size_t n, int writable)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -EFAULT;
	int rc = 0;
	const char *c = buf;
	char tmp[4096];
	while (n && !rc) {
		size_t k = n < sizeof(tmp) ? n : sizeof(tmp);
		if (write(p[1], c, k) != (ssize_t)k)
			rc = -EFAULT;
		else if (writable && read(p[0], (void *)c, k) != (ssize_t)k)
			rc = -EFAULT;
		else if (!writable && read(p[0], tmp, k) != (ssize_t)k)
			rc = -EFAULT;
		c += k;
		n -= k;
	}
	close(p[0]);
	close(p[1]);
	return rc;
}

static int copy(void *dst, const void *src, size_t n, int to_user)
{
	if (n == 0)
		return 0;
	int st = atomic_load_explicit(&vm_rw_state, memory_order_relaxed);
	if (st >= 0) {
		int r = copy_vm(dst, src, n, to_user);
		if (r <= 0) {
			if (!st)
				atomic_store(&vm_rw_state, 1);
			return r;
		}
		atomic_store(&vm_rw_state, -1);
	}
	if (probe_pipe(to_user ? dst : src, n, to_user))
		return -EFAULT;
	memcpy(dst, src, n);
	return 0;
}

int sk_copy_from_user(void *dst, const void *user_src, size_t n)
{
	return copy(dst, user_src, n, 0);
}

int sk_copy_to_user(void *user_dst, const void *src, size_t n)
{
	return copy(user_dst, src, n, 1);
}
