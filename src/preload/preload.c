/* The preload seam: makes softkvm's /dev/kvm appear to an unmodified
 * program. It interposes the libc calls that name the device or act on
 * its fds and hands them to the in-process API (softkvm.h); everything
 * else goes to the next definition (libc). No KVM semantics live here.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "softkvm.h"

#define EXPORT __attribute__((visibility("default")))
#define KVM_PATH "/dev/kvm"
#define KVM_MISC_MINOR 232

/* The next definition of a libc symbol, looked up once. */
#define NEXT(name)                                                                         \
	static __typeof__(name) *next_##name;                                              \
	if (!next_##name)                                                                  \
		next_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

static bool is_kvm_path(int dirfd, const char *path)
{
	return path && strcmp(path, KVM_PATH) == 0 && (dirfd == AT_FDCWD || path[0] == '/');
}

static int open_kvm(int flags)
{
	if ((flags & O_ACCMODE) != O_RDWR && (flags & O_ACCMODE) != O_RDONLY &&
	    (flags & O_ACCMODE) != O_WRONLY) {
		errno = EINVAL;
		return -1;
	}
	if (flags & O_DIRECTORY) {
		errno = ENOTDIR;
		return -1;
	}
	return softkvm_open(flags);
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

/* ---- open ---- */

/* The body of every open wrapper: /dev/kvm is ours, anything else goes to
 * the next definition (libc's), called as `call`. */
#define OPEN_BODY(name, dirfd, call)                       \
	va_list ap;                                         \
	va_start(ap, flags);                                \
	mode_t mode = open_mode(flags, ap);                 \
	va_end(ap);                                         \
	if (is_kvm_path((dirfd), path))                     \
		return open_kvm(flags);                     \
	NEXT(name);                                         \
	return call

EXPORT int open(const char *path, int flags, ...)
{
	OPEN_BODY(open, AT_FDCWD, next_open(path, flags, mode));
}

EXPORT int open64(const char *path, int flags, ...)
{
	OPEN_BODY(open64, AT_FDCWD, next_open64(path, flags, mode));
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY(openat, dirfd, next_openat(dirfd, path, flags, mode));
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY(openat64, dirfd, next_openat64(dirfd, path, flags, mode));
}

/* The _FORTIFY_SOURCE entries: no mode argument. */
EXPORT int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return openat64(dirfd, path, flags);
}

/* ---- ioctl ---- */

EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	int ret;
	if (softkvm_ioctl_owned(fd, request, arg, &ret))
		return ret;
	long r = syscall(SYS_ioctl, fd, request, arg);
	return (int)r;
}

/* ---- fd lifetime ---- */

EXPORT int close(int fd)
{
	if (softkvm_owns_fd(fd))
		return softkvm_close(fd);
	NEXT(close);
	return next_close(fd);
}

EXPORT int dup(int fd)
{
	if (softkvm_owns_fd(fd))
		return softkvm_dup(fd);
	NEXT(dup);
	return next_dup(fd);
}

EXPORT int dup2(int oldfd, int newfd)
{
	if (softkvm_owns_fd(oldfd) || softkvm_owns_fd(newfd))
		return softkvm_dup3(oldfd, newfd, -1);
	NEXT(dup2);
	return next_dup2(oldfd, newfd);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (softkvm_owns_fd(oldfd) || softkvm_owns_fd(newfd))
		return softkvm_dup3(oldfd, newfd, flags);
	NEXT(dup3);
	return next_dup3(oldfd, newfd, flags);
}

static int do_fcntl(int (*next)(int, int, ...), int fd, int cmd, va_list ap)
{
	if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && softkvm_owns_fd(fd))
		return softkvm_fcntl_dupfd(fd, va_arg(ap, int), cmd == F_DUPFD_CLOEXEC);
	/* Every fcntl argument is an int, a long or a pointer: pass a word. */
	return next(fd, cmd, va_arg(ap, unsigned long));
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	NEXT(fcntl);
	va_list ap;
	va_start(ap, cmd);
	int r = do_fcntl(next_fcntl, fd, cmd, ap);
	va_end(ap);
	return r;
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	NEXT(fcntl64);
	va_list ap;
	va_start(ap, cmd);
	int r = do_fcntl(next_fcntl64, fd, cmd, ap);
	va_end(ap);
	return r;
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	NEXT(close_range);
	int r = next_close_range(first, last, flags);
	if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		for (unsigned int fd = first; fd <= last && fd < 65536; fd++)
			softkvm_forget_fd((int)fd);
	return r;
}

/* ---- probing the device: stat and access ---- */

static void fill_kvm_stat(struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0666;
	st->st_rdev = makedev(10, KVM_MISC_MINOR);
	st->st_nlink = 1;
	st->st_blksize = 4096;
}

/* stat, stat64, lstat, lstat64: the device, or the next definition. */
#define STAT_ENTRY(name, type)                                                             \
	EXPORT int name(const char *path, type *st)                                        \
	{                                                                                  \
		if (is_kvm_path(AT_FDCWD, path)) {                                         \
			fill_kvm_stat((struct stat *)st);                                  \
			return 0;                                                          \
		}                                                                          \
		NEXT(name);                                                                \
		return next_##name(path, st);                                              \
	}

STAT_ENTRY(stat, struct stat)
STAT_ENTRY(stat64, struct stat64)
STAT_ENTRY(lstat, struct stat)
STAT_ENTRY(lstat64, struct stat64)

/* fstatat, fstatat64. */
#define FSTATAT_ENTRY(name, type)                                                          \
	EXPORT int name(int dirfd, const char *path, type *st, int flags)                  \
	{                                                                                  \
		if (is_kvm_path(dirfd, path)) {                                            \
			fill_kvm_stat((struct stat *)st);                                  \
			return 0;                                                          \
		}                                                                          \
		NEXT(name);                                                                \
		return next_##name(dirfd, path, st, flags);                                \
	}

FSTATAT_ENTRY(fstatat, struct stat)
FSTATAT_ENTRY(fstatat64, struct stat64)

EXPORT int access(const char *path, int mode)
{
	if (is_kvm_path(AT_FDCWD, path))
		return 0;
	NEXT(access);
	return next_access(path, mode);
}

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	if (is_kvm_path(dirfd, path))
		return 0;
	NEXT(faccessat);
	return next_faccessat(dirfd, path, mode, flags);
}

EXPORT int euidaccess(const char *path, int mode)
{
	if (is_kvm_path(AT_FDCWD, path))
		return 0;
	NEXT(euidaccess);
	return next_euidaccess(path, mode);
}

EXPORT int eaccess(const char *path, int mode)
{
	return euidaccess(path, mode);
}

/* ---- signals ---- */

extern int __sigaction(int, const struct sigaction *, struct sigaction *);

/* Set once this library is initialised: sanitizer runtimes install their
 * handlers before any library constructor, and softkvm is not ready then. */
static bool ready;

__attribute__((constructor)) static void preload_init(void)
{
	ready = true;
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!ready)
		return __sigaction(sig, act, old);
	return softkvm_sigaction(sig, act, old);
}

EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction act = {.sa_handler = handler, .sa_flags = SA_RESTART}, old;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	if (softkvm_sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}
