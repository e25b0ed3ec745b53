/* softkvm: run a program with the KVM API provided by softkvm.
 *
 *   softkvm [--trace] -- PROGRAM [ARGS...]
 *   softkvm [--trace]                 (runs the bundled demo guest)
 *
 * The program is exec'd with libsoftkvm-preload.so prepended to LD_PRELOAD,
 * so its open("/dev/kvm") and the ioctls that follow reach softkvm. The
 * library, the reference VMM and the demo image are found relative to this
 * executable: first as laid out in the build tree, then as installed.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
		"Run PROGRAM with the Linux KVM API (/dev/kvm) implemented in\n"
		"software by softkvm, through LD_PRELOAD. With no PROGRAM, run\n"
		"the bundled x86 demo guest on the reference VMM (softkvm-vmm).\n"
		"\n"
		"  -t, --trace          trace KVM calls and exits (SOFTKVM_TRACE=1)\n"
		"      --print-preload  print the preload library's path and exit\n"
		"  -h, --help           this text\n"
		"  -V, --version        print the version\n"
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

static int run_demo(void)
{
	static const char *const vmm_candidates[] = {
		SOFTKVM_VMM_NAME, NULL,
	};
	static const char *const demo_candidates[] = {
		SOFTKVM_BUILD_DEMO, SOFTKVM_RELOC_DEMO, SOFTKVM_INSTALL_DEMO, NULL,
	};
	const char *p = find_file(vmm_candidates);
	if (!p) {
		not_found("the reference VMM", vmm_candidates);
		return EXIT_CANNOT_RUN;
	}
	char *vmm = strdup(p);
	p = find_file(demo_candidates);
	if (!p) {
		not_found("the demo guest image", demo_candidates);
		free(vmm);
		return EXIT_CANNOT_RUN;
	}
	char *demo = strdup(p);
	char *argv[] = { vmm, demo, NULL };
	return exec_program(argv);
}

int main(int argc, char **argv)
{
	bool trace = false, print_preload = false;
	int i;

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
	return i < argc ? exec_program(argv + i) : run_demo();
}
