/* The MMIO bus: KVM_EXIT_MMIO to the device whose window holds the
 * address. Unclaimed reads return 0 and writes are dropped, as on a bus
 * with nothing behind it (counted in the summary). */
#include <string.h>

#include "vmm.h"

int mmio_register(struct vmm *vmm, const char *name, uint64_t base,
		  uint64_t size, mmio_handler handle)
{
	if (vmm->nmmio == VMM_MAX_MMIO_DEVICES)
		return -1;
	vmm->mmio[vmm->nmmio++] = (struct mmio_device){
		.name = name, .base = base, .size = size, .handle = handle,
	};
	return 0;
}

void mmio_dispatch(struct vmm *vmm)
{
	struct kvm_run *run = vmm->run;
	uint64_t addr = run->mmio.phys_addr;
	unsigned len = run->mmio.len > 8 ? 8 : run->mmio.len;

	for (unsigned i = 0; i < vmm->nmmio; i++) {
		struct mmio_device *d = &vmm->mmio[i];
		if (addr - d->base < d->size) {
			d->accesses++;
			d->handle(vmm, addr - d->base, run->mmio.is_write,
				  run->mmio.data, len);
			return;
		}
	}
	vmm->stats.mmio_unclaimed++;
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
}
