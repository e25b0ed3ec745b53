/* A "scratch register" device at 0x09020000: 16 64-bit registers that
 * read back what was written, at any width. The nisv flow's guest reaches
 * it with ordinary loads (KVM_EXIT_MMIO) and with LDP/STP and writeback
 * forms (KVM_EXIT_ARM_NISV, emulated in nisv.c). */
#include <string.h>

#include "vmm.h"

static uint8_t regs[VMM_SCRATCH_SIZE];

static void scratch_access(struct vmm *vmm, uint64_t offset, bool is_write,
			   uint8_t *data, unsigned len)
{
	(void)vmm;
	if (offset + len > sizeof(regs)) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (is_write)
		memcpy(regs + offset, data, len);
	else
		memcpy(data, regs + offset, len);
}

int scratch_init(struct vmm *vmm)
{
	return mmio_register(vmm, "scratch", VMM_SCRATCH_BASE,
			     VMM_SCRATCH_SIZE, scratch_access);
}
