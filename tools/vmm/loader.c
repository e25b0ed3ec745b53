/* Loading a flat (raw binary) guest image into guest memory. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm.h"

int vmm_load_flat(struct vmm *vmm, const char *path, uint64_t addr)
{
	FILE *f = fopen(path, "rb");

	if (!f) {
		fprintf(stderr, "softkvm-vmm: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (addr >= vmm->mem_size) {
		fprintf(stderr, "softkvm-vmm: load address %#llx beyond memory\n",
			(unsigned long long)addr);
		fclose(f);
		return -1;
	}
	size_t room = vmm->mem_size - addr;
	size_t n = fread(vmm->mem + addr, 1, room, f);
	int err = ferror(f);
	/* Something left after filling memory means the image does not fit. */
	int too_big = (n == room && fgetc(f) != EOF);

	fclose(f);
	if (err || n == 0) {
		fprintf(stderr, "softkvm-vmm: %s: %s\n", path,
			err ? "read error" : "empty image");
		return -1;
	}
	if (too_big) {
		fprintf(stderr, "softkvm-vmm: %s does not fit in %zu bytes of "
			"memory at %#llx\n", path, vmm->mem_size,
			(unsigned long long)addr);
		return -1;
	}
	return 0;
}
