/* The one-line summary of exits printed at the end:
 * "softkvm-vmm: exits=N io=N (uart=N debug-exit=N) hlt=N ... status=S". */
#include "vmm.h"

void stats_print(const struct vmm *vmm)
{
	struct vmm_dev_count devs[VMM_MAX_PIO_DEVICES];

	for (unsigned i = 0; i < vmm->npio; i++)
		devs[i] = (struct vmm_dev_count){vmm->pio[i].name, vmm->pio[i].accesses};
	vmm_print_exits("softkvm-vmm", &vmm->stats, KVM_EXIT_IO, devs, vmm->npio,
			vmm->pio_unclaimed, vmm->status);
}
