/* The reference side of the A64 differential test: an ordinary aarch64
 * Linux program (run under qemu-aarch64 user mode, or natively on arm64)
 * that executes each test blob on real (or qemu's) A64 semantics.
 *
 * stdin: records of {u32 nwords; u32 words[nwords]; u8 state[STATE]};
 * stdout: the state after each blob, in order. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "diff.h"

int main(void)
{
	uint32_t *code = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static uint8_t state[DIFF_STATE] __attribute__((aligned(64)));
	if (code == MAP_FAILED)
		return 1;
	for (;;) {
		uint32_t n;
		if (fread(&n, 4, 1, stdin) != 1)
			break;
		/* mov x16, x0: blobs find their state block in x16 */
		code[0] = 0xaa0003f0;
		if (n > DIFF_MAX_WORDS || fread(code + 1, 4, n, stdin) != n || fread(state, DIFF_STATE, 1, stdin) != 1)
			return 1;
		__builtin___clear_cache((char *)code, (char *)(code + n + 1));
		((void (*)(void *))code)(state);
		fwrite(state, DIFF_STATE, 1, stdout);
	}
	return 0;
}
