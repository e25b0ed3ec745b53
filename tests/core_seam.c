/* The preload seam: a program that probes for the device finds it (stat,
 * lstat, fstatat, access, faccessat), open flags are honoured (O_CLOEXEC),
 * and every way of duplicating a softkvm fd gives an fd that works, while
 * closing one copy leaves the others working, as with any kernel file. */
#include "vm.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static void probing_finds_the_device(void)
{
	struct stat st;
	CHECK_OK(stat("/dev/kvm", &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(10, major(st.st_rdev));
	CHECK_EQ(232, minor(st.st_rdev));
	CHECK_OK(lstat("/dev/kvm", &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_OK(fstatat(AT_FDCWD, "/dev/kvm", &st, 0));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_OK(access("/dev/kvm", R_OK | W_OK));
	CHECK_OK(faccessat(AT_FDCWD, "/dev/kvm", R_OK | W_OK, 0));
	/* Other paths are left alone. */
	CHECK_ERRNO(stat("/dev/kvm-not-there", &st), ENOENT);
}

static void open_flags(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = openat(AT_FDCWD, "/dev/kvm", O_RDWR);
	CHECK(fd >= 0);
	CHECK_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(KVM_API_VERSION, ioctl(fd, KVM_GET_API_VERSION, 0));
	/* The VM fd is close-on-exec, as KVM's anonymous inodes are. */
	int vm = ioctl(fd, KVM_CREATE_VM, 0);
	CHECK(vm >= 0);
	CHECK_EQ(FD_CLOEXEC, fcntl(vm, F_GETFD) & FD_CLOEXEC);
	close(vm);
	close(fd);
}

static void duplicates_work(void)
{
	int kvm = open("/dev/kvm", O_RDWR);
	int a = dup(kvm);
	int b = fcntl(kvm, F_DUPFD, 100);
	int c = fcntl(kvm, F_DUPFD_CLOEXEC, 200);
	int d = dup2(kvm, 300);
	int e = dup3(kvm, 301, O_CLOEXEC);
	CHECK(a >= 0);
	CHECK(b >= 100);
	CHECK(c >= 200);
	CHECK_EQ(300, d);
	CHECK_EQ(301, e);
	CHECK_EQ(FD_CLOEXEC, fcntl(c, F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(FD_CLOEXEC, fcntl(e, F_GETFD) & FD_CLOEXEC);
	close(kvm);
	int fds[] = {a, b, c, d, e};
	for (int i = 0; i < 5; i++)
		CHECK_EQ(KVM_API_VERSION, ioctl(fds[i], KVM_GET_API_VERSION, 0));
	/* dup2 over a softkvm fd makes it the other file. */
	int devnull = open("/dev/null", O_RDONLY);
	CHECK_EQ(a, dup2(devnull, a));
	CHECK_ERRNO(ioctl(a, KVM_GET_API_VERSION, 0), ENOTTY);
	CHECK_EQ(KVM_API_VERSION, ioctl(b, KVM_GET_API_VERSION, 0));
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	close(devnull);
	CHECK_ERRNO(ioctl(b, KVM_GET_API_VERSION, 0), EBADF);
}

int main(void)
{
	RUN_CASE(probing_finds_the_device);
	RUN_CASE(open_flags);
	RUN_CASE(duplicates_work);
	return t_done();
}
