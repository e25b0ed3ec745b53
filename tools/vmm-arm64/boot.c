/* The arm64 Linux boot protocol's CPU state: PC at the image, x0 = DTB
 * address (0: none), x1..x3 = 0, EL1h with D, A, I, F masked, MMU off (the
 * reset state KVM_ARM_VCPU_INIT gives). */
#include <stddef.h>

#include "vmm.h"

#define PSTATE_EL1H 0x5ull
#define PSTATE_DAIF (0xfull << 6)

int vmm_boot(struct vmm *vmm, uint64_t entry, uint64_t dtb)
{
	if (vmm_set_reg(vmm, vmm_core_reg_id(offsetof(struct kvm_regs,
				regs.pstate)), PSTATE_EL1H | PSTATE_DAIF) < 0 ||
	    vmm_set_reg(vmm, vmm_core_reg_id(offsetof(struct kvm_regs,
				regs.pc)), entry) < 0)
		return -1;
	for (int i = 0; i < 4; i++)
		if (vmm_set_reg(vmm, vmm_core_reg_id(offsetof(struct kvm_regs,
					regs.regs[i])), i ? 0 : dtb) < 0)
			return -1;
	return 0;
}
