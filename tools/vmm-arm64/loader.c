/* Loading the raw image. An image with the arm64 Linux Image header
 * ("ARM\x64" at 0x38) goes at RAM + its text_offset (0x80000 for a
 * zero/old header), as QEMU and bootloaders do; anything else at the RAM
 * base, which is where the test and benchmark guests are linked. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm.h"

#define IMAGE_MAGIC 0x644d5241u	/* "ARM\x64", little-endian */

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t load_offset(const uint8_t *img, size_t len)
{
	if (len < 64)
		return 0;
	uint32_t magic = (uint32_t)img[0x38] | (uint32_t)img[0x39] << 8 |
			 (uint32_t)img[0x3a] << 16 | (uint32_t)img[0x3b] << 24;
	if (magic != IMAGE_MAGIC)
		return 0;
	uint64_t text_offset = le64(img + 8);
	uint64_t image_size = le64(img + 16);
	/* Image size 0: a pre-3.17 kernel, whose text_offset is 0x80000. */
	return image_size ? text_offset : VMM_IMAGE_OFFSET;
}

int vmm_load_image(struct vmm *vmm, const char *path, uint64_t *entry)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "softkvm-vmm-arm64: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	/* Read at the RAM base first, move once the header is known. */
	size_t len = fread(vmm->mem, 1, vmm->mem_size, f);
	int extra = fgetc(f);
	fclose(f);
	if (extra != EOF) {
		fprintf(stderr, "softkvm-vmm-arm64: %s: larger than guest "
			"memory\n", path);
		return -1;
	}
	uint64_t off = load_offset(vmm->mem, len);
	if (off && (off > vmm->mem_size || len > vmm->mem_size - off)) {
		fprintf(stderr, "softkvm-vmm-arm64: %s: does not fit at "
			"offset %#llx\n", path, (unsigned long long)off);
		return -1;
	}
	if (off) {
		memmove(vmm->mem + off, vmm->mem, len);
		memset(vmm->mem, 0, off < len ? off : len);
	}
	*entry = VMM_RAM_BASE + off;
	return 0;
}
