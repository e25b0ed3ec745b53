/* The exit register: a guest writes its status byte to 0x09010000, then
 * calls PSCI SYSTEM_OFF, and the run ends with that status. (PSCI itself
 * cannot carry one: KVM zeroes x1..x3 on SYSTEM_OFF.) On QEMU virt the
 * same address is the PL031's read-only data register, which ignores the
 * write, so one image runs on both. */
#include "vmm.h"

static void exit_access(struct vmm *vmm, uint64_t offset, bool is_write,
			uint8_t *data, unsigned len)
{
	if (!is_write) {
		for (unsigned i = 0; i < len; i++)
			data[i] = i ? 0 : (uint8_t)vmm->guest_status;
		return;
	}
	if (offset == 0)
		vmm->guest_status = data[0];
}

int exitdev_init(struct vmm *vmm)
{
	return mmio_register(vmm, "exit", VMM_EXIT_BASE, VMM_EXIT_SIZE,
			     exit_access);
}
