/* Flow "vtimer": a userspace interrupt controller for a VM without an
 * in-kernel GIC (KVM_CAP_ARM_USER_IRQ). KVM reports the timer's output line
 * in run->s.regs.device_irq_level (KVM_RUN returns EINTR / KVM_EXIT_INTR
 * when it changes); this "controller" wires the virtual timer straight to
 * the vCPU's IRQ input with KVM_IRQ_LINE, following its level. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm.h"

int userirq_init(struct vmm *vmm)
{
	if (ioctl(vmm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_USER_IRQ) <= 0) {
		fprintf(stderr, "softkvm-vmm-arm64: no KVM_CAP_ARM_USER_IRQ\n");
		return -1;
	}
	vmm->user_irq = true;
	return 0;
}

static int set_cpu_irq(struct vmm *vmm, bool level)
{
	struct kvm_irq_level l = {
		.irq = (KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT) |
		       (0u << KVM_ARM_IRQ_VCPU_SHIFT) | KVM_ARM_IRQ_CPU_IRQ,
		.level = level,
	};

	if (ioctl(vmm->vm_fd, KVM_IRQ_LINE, &l) < 0) {
		fprintf(stderr, "softkvm-vmm-arm64: KVM_IRQ_LINE: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* After every KVM_RUN: follow the virtual timer's line. */
int userirq_sync(struct vmm *vmm)
{
	bool level = vmm->run->s.regs.device_irq_level &
		     KVM_ARM_DEV_EL1_VTIMER;

	if (level == vmm->irq_level)
		return 0;
	vmm->irq_level = level;
	if (level)
		vmm->irq_rises++;
	return set_cpu_irq(vmm, level);
}

/* Rises seen can be fewer than the guest's ticks: a level that falls and
 * rises again between two exits (the vCPU thread descheduled) is one. */
void userirq_report(const struct vmm *vmm)
{
	printf("vmm: vtimer line rose %u times, IRQ raised/lowered with "
	       "KVM_IRQ_LINE\n", vmm->irq_rises);
}
