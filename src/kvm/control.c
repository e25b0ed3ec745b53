/* The control socket and the poison entry points of the library.
 *
 * A thread accepts connections on the abstract unix socket
 * "softkvm-<pid>" and answers one line per command line:
 *   poison <vm|all> <gpa> <len> [parity]   -> "ok" | "error <errno> <text>"
 *   unpoison <vm|all> <gpa> <len>
 *   ping                                    -> "ok softkvm <version>"
 * <vm> is the VM's creation index among the VMs that take poison (0 first).
 * The thread blocks every signal, so the program's handlers never run on it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kvm/control.h"
#include "kvm/kvm.h"
#include "mem/poison.h"
#include "softkvm.h"

#define SK_EXPORT __attribute__((visibility("default")))

SK_EXPORT int softkvm_control_name(int pid, char *buf, size_t size)
{
	int n = snprintf(buf, size, "softkvm-%d", pid);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int vm_poison(int vm_fd, uint64_t gpa, uint64_t len, unsigned flags, bool clear)
{
	enum sk_file_kind kind;
	void *obj = sk_fd_get(vm_fd, &kind);
	if (!obj) {
		errno = EBADF;
		return -1;
	}
	int r = kind == SK_FILE_VM ? sk_poison_vm(obj, gpa, len, flags, clear) : -EINVAL;
	sk_fd_put(kind, obj);
	if (r) {
		errno = -r;
		return -1;
	}
	return 0;
}

SK_EXPORT int softkvm_poison(int vm_fd, uint64_t gpa, uint64_t len, unsigned flags)
{
	return vm_poison(vm_fd, gpa, len, flags, false);
}

SK_EXPORT int softkvm_unpoison(int vm_fd, uint64_t gpa, uint64_t len)
{
	return vm_poison(vm_fd, gpa, len, 0, true);
}

/* ---- commands ---- */

static bool parse_u64(const char *s, uint64_t *v)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || *end || *s == '-')
		return false;
	*v = x;
	return true;
}

void sk_control_exec(const char *line, char *out, size_t size)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", line);
	char *save, *argv[6] = {0};
	int argc = 0;
	for (char *t = strtok_r(buf, " \t\r", &save); t && argc < 6; t = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = t;
	if (argc == 1 && !strcmp(argv[0], "ping")) {
		snprintf(out, size, "ok softkvm %s\n", softkvm_version());
		return;
	}
	bool clear = argc > 0 && !strcmp(argv[0], "unpoison");
	bool poison = argc > 0 && !strcmp(argv[0], "poison");
	uint64_t gpa, len, idx = 0;
	unsigned flags = 0;
	bool all = argc > 1 && !strcmp(argv[1], "all");
	bool ok = (poison && (argc == 4 || (argc == 5 && !strcmp(argv[4], "parity")))) || (clear && argc == 4);
	if (ok)
		ok = (all || (parse_u64(argv[1], &idx) && idx < 0x7fffffff)) && parse_u64(argv[2], &gpa) &&
		     parse_u64(argv[3], &len);
	if (!ok) {
		snprintf(out, size, "error %d usage: poison <vm|all> <gpa> <len> [parity] | unpoison <vm|all> <gpa> <len> | ping\n",
			 EINVAL);
		return;
	}
	if (argc == 5)
		flags = SOFTKVM_POISON_PARITY;
	int r = sk_poison_index(all ? -1 : (int)idx, gpa, len, flags, clear);
	if (r)
		snprintf(out, size, "error %d %s\n", -r, strerror(-r));
	else
		snprintf(out, size, "ok\n");
}

/* ---- the listener ---- */

static void serve(int fd)
{
	char line[256];
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t k = read(fd, &c, 1);
		if (k <= 0)
			return;
		if (c != '\n') {
			if (n < sizeof(line) - 1)
				line[n++] = c;
			continue;
		}
		line[n] = 0;
		n = 0;
		char out[256];
		sk_control_exec(line, out, sizeof(out));
		size_t len = strlen(out), off = 0;
		while (off < len) {
			ssize_t w = write(fd, out + off, len - off);
			if (w <= 0)
				return;
			off += (size_t)w;
		}
	}
}

static void *listener(void *arg)
{
	int s = (int)(intptr_t)arg;
	for (;;) {
		int fd = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		serve(fd);
		sk_sys_close(fd);
	}
}

static void start_once(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	softkvm_control_name((int)getpid(), a.sun_path + 1, sizeof(a.sun_path) - 1);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1));
	if (bind(s, (struct sockaddr *)&a, len) || listen(s, 4)) {
		sk_sys_close(s);
		return;
	}
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, listener, (void *)(intptr_t)s))
		sk_sys_close(s);
	pthread_attr_destroy(&at);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void sk_control_start(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, start_once);
}
