/* The debug-exit port: the guest ends the run by writing its exit status
 * (one byte) to port 0x501, the port QEMU's isa-debug-exit is usually
 * given. Unlike QEMU, the VMM exits with the byte itself, not (v << 1) | 1. */
#include "vmm.h"

#define EXITDEV_PORT 0x501

static void exitdev_io(struct vmm *vmm, void *opaque, uint16_t port,
		       bool is_write, uint8_t *data, unsigned size)
{
	if (!is_write) {
		for (unsigned i = 0; i < size; i++)
			data[i] = 0xff;
		return;
	}
	vmm->status = data[0];
	vmm->done = true;
}

int exitdev_init(struct vmm *vmm)
{
	return pio_register(vmm, "debug-exit", EXITDEV_PORT, 1, exitdev_io, NULL);
}
