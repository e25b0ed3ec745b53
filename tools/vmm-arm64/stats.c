/* The one-line summary of exits printed at the end:
 * "softkvm-vmm-arm64: exits=N mmio=N (uart=N exit=1) system_event=1
 * status=S". */
#include "vmm.h"

void stats_print(const struct vmm *vmm)
{
	struct vmm_dev_count devs[VMM_MAX_MMIO_DEVICES];

	for (unsigned i = 0; i < vmm->nmmio; i++)
		devs[i] = (struct vmm_dev_count){vmm->mmio[i].name, vmm->mmio[i].accesses};
	vmm_print_exits("softkvm-vmm-arm64", &vmm->stats, KVM_EXIT_MMIO, devs,
			vmm->nmmio, vmm->mmio_unclaimed, vmm->status);
}
