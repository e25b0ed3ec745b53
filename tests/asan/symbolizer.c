/* A static stand-in for llvm-symbolizer, for sanitizer runs of the tests.
 *
 * ASan starts its symbolizer with the test's environment, LD_PRELOAD
 * included, and the ASan-built softkvm preload library cannot load into an
 * uninstrumented program (nor into /bin/sh for a script). This program is
 * static, so LD_PRELOAD does not apply to it; it drops the variable and
 * runs the real symbolizer. ASan recognises the protocol by the file name,
 * so the build names it llvm-symbolizer. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[64];
	(void)argc;
	unsetenv("LD_PRELOAD");
	execv("/usr/bin/llvm-symbolizer", argv);
	for (int v = 30; v >= 7; v--) {
		snprintf(path, sizeof(path), "/usr/lib/llvm-%d/bin/llvm-symbolizer", v);
		execv(path, argv);
	}
	fprintf(stderr, "llvm-symbolizer not found\n");
	return 127;
}
