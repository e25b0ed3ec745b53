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

struct mmio_device *mmio_find(struct vmm *vmm, uint64_t addr)
{
	for (unsigned i = 0; i < vmm->nmmio; i++) {
		struct mmio_device *d = &vmm->mmio[i];
		if (addr - d->base < d->size)
			return d;
	}
	return NULL;
}

bool mmio_access(struct vmm *vmm, uint64_t addr, bool is_write,
		 uint8_t *data, unsigned len)
{
	struct mmio_device *d = mmio_find(vmm, addr);

	if (!d) {
		vmm->mmio_unclaimed++;
		if (!is_write)
			memset(data, 0, len);
		return false;
	}
	d->accesses++;
	d->handle(vmm, addr - d->base, is_write, data, len);
	return true;
}

void mmio_dispatch(struct vmm *vmm)
{
	struct kvm_run *run = vmm->run;
	unsigned len = run->mmio.len > 8 ? 8 : run->mmio.len;

	if (!mmio_access(vmm, run->mmio.phys_addr, run->mmio.is_write,
			 run->mmio.data, len) && !run->mmio.is_write)
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
}
