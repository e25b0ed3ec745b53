/* softkvm: run a program with the KVM API provided by softkvm.
 *
 *   softkvm [--trace] -- PROGRAM [ARGS...]
 *   softkvm [--trace]                 (runs the bundled demo guests)
 *   softkvm [--trace] demo x86|arm64  (runs one of them)
 *   softkvm [--trace] demo vtimer|nisv|sea  (a seed flow, issue 6)
 *   softkvm poison --pid PID [--vm N] [--parity] GPA LEN
 *   softkvm unpoison --pid PID [--vm N] GPA LEN
 *                                     (fault injection into a running program,
 *                                      see docs/FAULT-INJECTION.md)
 *
 * The program is exec'd with libsoftkvm-preload.so prepended to LD_PRELOAD,
 * so its open("/dev/kvm") and the ioctls that follow reach softkvm. The
 * library, the reference VMM and the demo image are found relative to this
 * executable: first as laid out in the build tree, then as installed.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "softkvm-config.h"

/* Exit statuses, as a shell and env(1) use them. */
#define EXIT_CANNOT_RUN 125	/* softkvm itself failed */
#define EXIT_NOT_EXEC   126	/* found, but could not be executed */
#define EXIT_NOT_FOUND  127	/* no such program */

static char self_dir[PATH_MAX];

static void usage(FILE *out)
{
	fprintf(out,
		"usage: softkvm [OPTIONS] [--] PROGRAM [ARGS...]\n"
		"       softkvm [OPTIONS]\n"
		"       softkvm [OPTIONS] demo x86|arm64|vtimer|nisv|sea\n"
		"       softkvm poison --pid PID [--vm N|all] [--parity] GPA LEN\n"
		"       softkvm unpoison --pid PID [--vm N|all] GPA LEN\n"
		"Run PROGRAM with the Linux KVM API (/dev/kvm) implemented in\n"
		"software by softkvm, through LD_PRELOAD. With no PROGRAM, run\n"
		"the bundled x86 demo guest on the reference VMM (softkvm-vmm),\n"
		"then the arm64 demo guest on softkvm-vmm-arm64; `demo x86` or\n"
		"`demo arm64` runs one of them; `demo vtimer`, `demo nisv` or\n"
		"`demo sea` runs a seed flow (softkvm-vmm-arm64 --flow NAME).\n"
		"\n"
		"  -t, --trace          trace KVM calls and exits (SOFTKVM_TRACE=1)\n"
		"      --print-preload  print the preload library's path and exit\n"
		"  -h, --help           this text\n"
		"  -V, --version        print the version\n"
		"\n"
		"poison / unpoison mark guest-physical memory of a running\n"
		"softkvm program as poisoned (or clean again) through its control\n"
		"socket; --vm is the VM's creation index (default: all VMs).\n"
		"\n"
		"Environment: SOFTKVM_PRELOAD overrides the preload library's path.\n"
		"Exit status: PROGRAM's; 127 if it is not found, 126 if it cannot\n"
		"be executed, 125 if softkvm cannot run it.\n");
}

static int find_self_dir(void)
{
	ssize_t n = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 1);

	if (n <= 0) {
		perror("softkvm: /proc/self/exe");
		return -1;
	}
	self_dir[n] = '\0';
	char *slash = strrchr(self_dir, '/');
	if (slash)
		*slash = '\0';
	return 0;
}

/* The first of the candidate files that exists; a relative candidate is
 * taken from the directory of this executable. Returns a static buffer. */
static const char *find_file(const char *const *candidates)
{
	static char path[PATH_MAX];

	for (; *candidates; candidates++) {
		const char *c = *candidates;
		int n = c[0] == '/'
			? snprintf(path, sizeof(path), "%s", c)
			: snprintf(path, sizeof(path), "%s/%s", self_dir, c);
		if (n > 0 && (size_t)n < sizeof(path) && access(path, R_OK) == 0)
			return path;
	}
	return NULL;
}

static void not_found(const char *what, const char *const *candidates)
{
	fprintf(stderr, "softkvm: cannot find %s; looked for:\n", what);
	for (; *candidates; candidates++)
		fprintf(stderr, "  %s%s%s\n", (*candidates)[0] == '/' ? "" : self_dir,
			(*candidates)[0] == '/' ? "" : "/", *candidates);
}

static char *find_preload(void)
{
	static const char *const candidates[] = {
		SOFTKVM_BUILD_PRELOAD, SOFTKVM_RELOC_PRELOAD,
		SOFTKVM_INSTALL_PRELOAD, NULL,
	};
	const char *env = getenv("SOFTKVM_PRELOAD");

	if (env && *env)
		return realpath(env, NULL);
	const char *path = find_file(candidates);
	if (!path) {
		not_found(SOFTKVM_PRELOAD_NAME, candidates);
		return NULL;
	}
	return realpath(path, NULL);
}

/* LD_PRELOAD = softkvm's library, then whatever the caller preloads. */
static int set_preload_env(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");

	if (!old || !*old)
		return setenv("LD_PRELOAD", lib, 1);
	if (strstr(old, lib))
		return 0;	/* already there: a nested softkvm */
	size_t len = strlen(lib) + 1 + strlen(old) + 1;
	char *value = malloc(len);
	if (!value)
		return -1;
	snprintf(value, len, "%s:%s", lib, old);
	int r = setenv("LD_PRELOAD", value, 1);
	free(value);
	return r;
}

static int exec_program(char **argv)
{
	execvp(argv[0], argv);
	int err = errno;
	if (err == ENOENT) {
		if (strchr(argv[0], '/'))
			fprintf(stderr, "softkvm: %s: No such file or directory\n",
				argv[0]);
		else
			fprintf(stderr, "softkvm: %s: command not found\n", argv[0]);
		return EXIT_NOT_FOUND;
	}
	fprintf(stderr, "softkvm: %s: %s\n", argv[0], strerror(err));
	return EXIT_NOT_EXEC;
}

/* One bundled demo: its VMM and image, as found next to this program. */
struct demo {
	const char *name;
	const char *vmm_what;
	const char *const *vmm;
	const char *const *image;
	const char *flow;	/* softkvm-vmm-arm64 --flow, or NULL */
};

static const char *const vmm_x86[] = { SOFTKVM_VMM_NAME, NULL };
static const char *const image_x86[] = {
	SOFTKVM_BUILD_DEMO, SOFTKVM_RELOC_DEMO, SOFTKVM_INSTALL_DEMO, NULL,
};
static const char *const vmm_arm64[] = { SOFTKVM_VMM_ARM64_NAME, NULL };
static const char *const image_arm64[] = {
	SOFTKVM_BUILD_DEMO_ARM64, SOFTKVM_RELOC_DEMO_ARM64,
	SOFTKVM_INSTALL_DEMO_ARM64, NULL,
};
/* The seed flows (issue 6): guests/arm64/flows/NAME.bin on
 * softkvm-vmm-arm64 --flow NAME. */
#define FLOW_IMAGE(n) { SOFTKVM_BUILD_FLOWS "/" n ".bin", \
	SOFTKVM_RELOC_FLOWS "/" n ".bin", SOFTKVM_INSTALL_FLOWS "/" n ".bin", NULL }
static const char *const image_vtimer[] = FLOW_IMAGE("vtimer");
static const char *const image_nisv[] = FLOW_IMAGE("nisv");
static const char *const image_sea[] = FLOW_IMAGE("sea");
static const struct demo demos[] = {
	{ "x86", "the reference VMM", vmm_x86, image_x86, NULL },
	{ "arm64", "the arm64 reference VMM", vmm_arm64, image_arm64, NULL },
	{ "vtimer", "the arm64 reference VMM", vmm_arm64, image_vtimer,
	  "vtimer" },
	{ "nisv", "the arm64 reference VMM", vmm_arm64, image_nisv, "nisv" },
	{ "sea", "the arm64 reference VMM", vmm_arm64, image_sea, "sea" },
};

/* argv for running demo d ({vmm, [--flow NAME,] image, NULL}), or NULL
 * (message printed unless quiet). */
static char **demo_argv(const struct demo *d, bool quiet)
{
	static char *argv[5];
	int n = 0;
	const char *p = find_file(d->vmm);

	if (!p) {
		if (!quiet)
			not_found(d->vmm_what, d->vmm);
		return NULL;
	}
	char *vmm = strdup(p);
	p = find_file(d->image);
	if (!p) {
		if (!quiet)
			not_found("the demo guest image", d->image);
		free(vmm);
		return NULL;
	}
	argv[n++] = vmm;
	if (d->flow) {
		argv[n++] = (char *)"--flow";
		argv[n++] = (char *)d->flow;
	}
	argv[n++] = strdup(p);
	argv[n] = NULL;
	return argv;
}

/* Runs argv to completion; its exit status, 128 + N if killed by N. */
static int run_child(char **argv)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("softkvm: fork");
		return EXIT_CANNOT_RUN;
	}
	if (pid == 0)
		_exit(exec_program(argv));
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			perror("softkvm: waitpid");
			return EXIT_CANNOT_RUN;
		}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* `softkvm` with no program: the x86 demo, then the arm64 demo when it is
 * there (a build without the aarch64 cross compiler has none); the first
 * failing status wins. `softkvm demo x86|arm64`: one of them. */
static int run_demo(const char *which)
{
	char **argv;

	for (size_t i = 0; which && i < sizeof(demos) / sizeof(demos[0]); i++)
		if (!strcmp(which, demos[i].name)) {
			argv = demo_argv(&demos[i], false);
			return argv ? exec_program(argv) : EXIT_CANNOT_RUN;
		}
	if (which) {
		fprintf(stderr, "softkvm: no demo '%s' "
			"(x86, arm64, vtimer, nisv, sea)\n", which);
		return EXIT_CANNOT_RUN;
	}
	argv = demo_argv(&demos[0], false);
	if (!argv)
		return EXIT_CANNOT_RUN;
	char *x86[] = { argv[0], argv[1], NULL };
	argv = demo_argv(&demos[1], true);
	if (!argv)
		return exec_program(x86);
	char *arm64[] = { argv[0], argv[1], NULL };
	int status = run_child(x86);
	int status_arm64 = run_child(arm64);
	return status ? status : status_arm64;
}

/* `softkvm poison|unpoison ...`: one command line to the program's control
 * socket (abstract unix socket "softkvm-<pid>"), its one-line reply out. */
static int cmd_poison(int argc, char **argv)
{
	const char *pid = NULL, *vm = "all", *pos[2] = {NULL, NULL};
	bool parity = false, clear = !strcmp(argv[0], "unpoison");
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pid") && i + 1 < argc)
			pid = argv[++i];
		else if (!strcmp(argv[i], "--vm") && i + 1 < argc)
			vm = argv[++i];
		else if (!strcmp(argv[i], "--parity") && !clear)
			parity = true;
		else if (argv[i][0] != '-' && npos < 2)
			pos[npos++] = argv[i];
		else
			npos = 3;
	}
	if (!pid || npos != 2) {
		usage(stderr);
		return 2;
	}
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "%s %s %s %s%s\n", argv[0], vm, pos[0], pos[1], parity ? " parity" : "");
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "softkvm-%s", pid);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1));
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, len) < 0) {
		fprintf(stderr, "softkvm: no control socket for pid %s: %s\n", pid, strerror(errno));
		return 1;
	}
	size_t n = strlen(cmd);
	if (write(s, cmd, n) != (ssize_t)n) {
		perror("softkvm: write");
		return 1;
	}
	char reply[256];
	size_t got = 0;
	while (got < sizeof(reply) - 1) {
		ssize_t k = read(s, reply + got, 1);
		if (k <= 0 || reply[got] == '\n')
			break;
		got++;
	}
	reply[got] = '\0';
	close(s);
	if (strncmp(reply, "ok", 2) != 0) {
		fprintf(stderr, "softkvm: %s\n", got ? reply : "no reply");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool trace = false, print_preload = false;
	int i;

	if (argc > 1 && (!strcmp(argv[1], "poison") || !strcmp(argv[1], "unpoison")))
		return cmd_poison(argc - 1, argv + 1);

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "-t") || !strcmp(a, "--trace")) {
			trace = true;
		} else if (!strcmp(a, "--print-preload")) {
			print_preload = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("softkvm %s\n", SOFTKVM_VERSION);
			return 0;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "softkvm: unknown option '%s'\n", a);
			usage(stderr);
			return EXIT_CANNOT_RUN;
		} else {
			break;	/* the program; "--" is optional before it */
		}
	}

	if (find_self_dir() < 0)
		return EXIT_CANNOT_RUN;
	char *lib = find_preload();
	if (!lib) {
		if (getenv("SOFTKVM_PRELOAD"))
			fprintf(stderr, "softkvm: SOFTKVM_PRELOAD=%s: %s\n",
				getenv("SOFTKVM_PRELOAD"), strerror(errno));
		return EXIT_CANNOT_RUN;
	}
	if (print_preload) {
		printf("%s\n", lib);
		return 0;
	}
	if (set_preload_env(lib) < 0 ||
	    (trace && setenv("SOFTKVM_TRACE", "1", 1) < 0)) {
		perror("softkvm: setenv");
		return EXIT_CANNOT_RUN;
	}
	free(lib);
	if (i < argc && !strcmp(argv[i], "demo") && i + 2 >= argc &&
	    (i == 1 || strcmp(argv[i - 1], "--")))
		return run_demo(argv[i + 1]);
	return i < argc ? exec_program(argv + i) : run_demo(NULL);
}
