/* /init of the Linux boot test: the first user process of Debian's kernel
 * booted by QEMU -accel kvm on softkvm. It exercises what user space on a
 * real machine leans on (system calls, page faults on fresh memory, fork
 * with copy-on-write, pipes and scheduling, timers and sleeping, SSE/x87
 * arithmetic, signals), prints one line per check and powers the machine
 * off. Statically linked: the initramfs holds nothing else. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
	printf("softkvm-init: %s: %s\n", what, ok ? "ok" : "FAILED");
	failures += !ok;
}

/* Touch 64 MiB page by page: one page fault each, then read it back. */
static int fresh_memory(void)
{
	size_t len = 64u << 20;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	for (size_t i = 0; i < len; i += 4096)
		p[i] = (uint8_t)(i >> 12);
	int ok = 1;
	for (size_t i = 0; i < len; i += 4096)
		ok &= p[i] == (uint8_t)(i >> 12);
	munmap(p, len);
	return ok;
}

/* The child sees the parent's memory, writes its own copy, and sends a
 * sum through a pipe; the parent's copy must be unchanged. */
static int fork_cow_pipe(void)
{
	static uint32_t data[4096];
	for (unsigned i = 0; i < 4096; i++)
		data[i] = i * 2654435761u;
	int fds[2];
	if (pipe(fds))
		return 0;
	pid_t pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		uint64_t sum = 0;
		for (unsigned i = 0; i < 4096; i++) {
			sum += data[i];
			data[i] = 0;
		}
		_exit(write(fds[1], &sum, sizeof(sum)) == sizeof(sum) ? 0 : 1);
	}
	uint64_t got = 0, want = 0;
	for (unsigned i = 0; i < 4096; i++)
		want += i * 2654435761u;
	int st = 0;
	int ok = read(fds[0], &got, sizeof(got)) == sizeof(got) && got == want;
	ok &= waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	ok &= data[100] == 100u * 2654435761u;
	close(fds[0]);
	close(fds[1]);
	return ok;
}

/* 50 ms of nanosleep must take 50 ms of CLOCK_MONOTONIC, give or take. */
static int sleeping(void)
{
	struct timespec a, b, d = {0, 50 * 1000 * 1000};
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (nanosleep(&d, NULL))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &b);
	int64_t ns = (b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec);
	return ns >= 50000000 && ns < 5000000000ll;
}

static volatile sig_atomic_t got_alarm;

static void on_alarm(int sig)
{
	got_alarm = sig;
}

/* A timer signal interrupts pause(). */
static int signals(void)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	struct timespec t = {0, 20 * 1000 * 1000};
	timer_t tm;
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
	if (timer_create(CLOCK_MONOTONIC, &ev, &tm))
		return 0;
	struct itimerspec its = {.it_value = t};
	timer_settime(tm, 0, &its, NULL);
	while (!got_alarm)
		pause();
	return got_alarm == SIGALRM;
}

/* Floating point through libm (SSE2 and x87 paths of the compiler). */
static int floating_point(void)
{
	volatile double x = 2.0;
	double s = sqrt(x) * sqrt(x), e = exp(log(10.0));
	long double l = (long double)x / 3.0L;
	char buf[64];
	snprintf(buf, sizeof(buf), "%.12f %.6f %.9Lf", s, e, l);
	return fabs(s - 2.0) < 1e-12 && fabs(e - 10.0) < 1e-9 &&
	       strcmp(buf, "2.000000000000 10.000000 0.666666667") == 0;
}

/* Many processes at once: the scheduler switches among them. */
static int many_processes(void)
{
	enum { N = 16 };
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return 0;
		if (pids[i] == 0) {
			volatile uint64_t h = (uint64_t)i;
			for (int k = 0; k < 200000; k++)
				h = h * 6364136223846793005ull + 1442695040888963407ull;
			_exit(h == (uint64_t)i);   /* 0: the loop ran */
		}
	}
	int ok = 1;
	for (int i = 0; i < N; i++) {
		int st;
		ok &= waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	return ok;
}

/* The kernel passes unknown name=value parameters to init's environment:
 * run-linux.sh says how many CPUs QEMU has (softkvm_cpus=N). Every one must
 * be online and run a pinned child. */
static int all_cpus(void)
{
	const char *want = getenv("softkvm_cpus");
	long n = want ? atol(want) : 1;
	if (sysconf(_SC_NPROCESSORS_ONLN) != n)
		return 0;
	int ok = 1;
	for (long c = 0; c < n; c++) {
		pid_t pid = fork();
		if (pid < 0)
			return 0;
		if (pid == 0) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET((int)c, &set);
			if (sched_setaffinity(0, sizeof(set), &set))
				_exit(2);
			volatile uint64_t h = 1;
			for (int k = 0; k < 100000; k++)
				h *= 3;
			_exit(sched_getcpu() == c ? 0 : 3);
		}
		int st;
		ok &= waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	return ok;
}

int main(void)
{
	struct utsname u;
	uname(&u);
	printf("softkvm-init: running as pid %d on Linux %s (%s)\n", (int)getpid(), u.release, u.machine);
	check(getpid() == 1, "pid 1");
	check(mount("proc", "/proc", "proc", 0, NULL) == 0 || errno == ENOENT, "mount /proc");
	check(fresh_memory(), "64 MiB of fresh pages");
	check(fork_cow_pipe(), "fork, copy-on-write, pipe");
	check(sleeping(), "nanosleep 50 ms");
	check(signals(), "POSIX timer signal");
	check(floating_point(), "floating point");
	check(many_processes(), "16 processes");
	check(all_cpus(), "every CPU online and running");
	printf("softkvm-init: %s\n", failures ? "FAILED" : "all checks passed");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 1;
}
