/* EL2 beyond the HYP stub: EL2's stage-1 regime and HCR_EL2's routing
 * and traps, with guests/arm64/el2mmu.c, which checks them itself; this
 * side drives the IRQ line when the guest asks (RAISE / LOWER). */
#include <stdio.h>
#include <sys/ioctl.h>

#include "a64t.h"

#ifndef KVM_ARM_VCPU_HAS_EL2
#define KVM_ARM_VCPU_HAS_EL2 7
#endif
#define RAISE 0x1a1
#define LOWER 0x1a0

int main(int argc, char **argv)
{
	struct tvm vm;
	struct tvcpu v;
	if (argc < 2 || tvm_create(&vm) < 0 || load_guest(&vm, argv[1]) < 0) {
		perror("setup");
		return 1;
	}
	if (tvcpu_create(&vm, &v, 0, (1u << KVM_ARM_VCPU_PSCI_0_2) | (1u << KVM_ARM_VCPU_HAS_EL2)) < 0) {
		perror("vcpu with EL2");
		return 1;
	}
	set_reg(&v, CORE_REG(regs.pc), RAM_GPA);
	int raised = 0, r;
	for (;;) {
		int handled, n = v.nvalues;
		r = run_once(&v, &handled);
		if (r < 0) {
			printf("KVM_RUN: %d\n", r);
			break;
		}
		if (handled) {
			if (v.nvalues > n && (v.values[n] == RAISE || v.values[n] == LOWER)) {
				struct kvm_irq_level l = {
					.irq = (KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT) | KVM_ARM_IRQ_CPU_IRQ,
					.level = v.values[n] == RAISE,
				};
				raised += l.level;
				CHECK_OK(ioctl(vm.fd, KVM_IRQ_LINE, &l));
				v.nvalues = n;
			}
			continue;
		}
		if (r != KVM_EXIT_INTR)
			break;
	}
	CHECK_EQ(KVM_EXIT_SYSTEM_EVENT, r);
	if (r != KVM_EXIT_SYSTEM_EVENT)
		printf("stopped at pc %#llx\n", (unsigned long long)get_reg(&v, CORE_REG(regs.pc)));
	CHECK_EQ(3, raised);
	CHECK_EQ(56, v.checks);
	CHECK_EQ(0, v.fails);
	printf("EL2 MMU and routing: %d guest checks\n", v.checks);
	return t_done();
}
