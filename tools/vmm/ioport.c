/* The port-I/O bus: a short table of devices, searched per access. */
#include <string.h>

#include "vmm.h"

int pio_register(struct vmm *vmm, const char *name, uint16_t base,
		 uint16_t len, pio_handler handle, void *opaque)
{
	if (vmm->npio == VMM_MAX_PIO_DEVICES)
		return -1;
	vmm->pio[vmm->npio++] = (struct pio_device){
		.name = name, .base = base, .len = len,
		.handle = handle, .opaque = opaque,
	};
	return 0;
}

void pio_dispatch(struct vmm *vmm, uint16_t port, bool is_write,
		  uint8_t *data, unsigned size)
{
	for (unsigned i = 0; i < vmm->npio; i++) {
		struct pio_device *dev = &vmm->pio[i];

		if ((uint16_t)(port - dev->base) < dev->len) {
			dev->accesses++;
			dev->handle(vmm, dev->opaque, port, is_write, data, size);
			return;
		}
	}
	/* Nothing decodes this port: reads float high, writes vanish. */
	vmm->pio_unclaimed++;
	if (!is_write)
		memset(data, 0xff, size);
}
