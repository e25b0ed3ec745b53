/* The vCPU's starting state: real mode at a chosen CS:IP. */
#include <stdio.h>
#include <sys/ioctl.h>

#include "vmm.h"

static void real_mode_segment(struct kvm_segment *seg, uint16_t selector)
{
	seg->selector = selector;
	seg->base = (uint64_t)selector << 4;
	seg->limit = 0xffff;
}

int vmm_boot_real_mode(struct vmm *vmm, uint64_t addr)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 0x2 };
	uint16_t seg = (uint16_t)(addr >> 4);

	/* Start from the reset state and move only the segment bases, so the
	 * hidden attributes stay those of real mode. */
	if (ioctl(vmm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		perror("softkvm-vmm: KVM_GET_SREGS");
		return -1;
	}
	real_mode_segment(&sregs.cs, seg);
	real_mode_segment(&sregs.ds, seg);
	real_mode_segment(&sregs.es, seg);
	real_mode_segment(&sregs.ss, seg);
	real_mode_segment(&sregs.fs, seg);
	real_mode_segment(&sregs.gs, seg);
	if (ioctl(vmm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0) {
		perror("softkvm-vmm: KVM_SET_SREGS");
		return -1;
	}
	if (ioctl(vmm->vcpu_fd, KVM_SET_REGS, &regs) < 0) {
		perror("softkvm-vmm: KVM_SET_REGS");
		return -1;
	}
	return 0;
}
