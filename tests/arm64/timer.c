/* The virtual timer of a USER_IRQ VM: its line shows in
 * run->s.regs.device_irq_level with an exit on each change, and the VMM
 * feeds it back as the vCPU's IRQ with KVM_IRQ_LINE. */
#include <stdio.h>
#include <sys/ioctl.h>

#include "a64t.h"

int main(int argc, char **argv)
{
	struct tvm vm;
	struct tvcpu v;
	if (argc < 2 || tvm_create(&vm) < 0 || load_guest(&vm, argv[1]) < 0 ||
	    tvcpu_create(&vm, &v, 0, 1u << KVM_ARM_VCPU_PSCI_0_2) < 0) {
		perror("setup");
		return 1;
	}
	set_reg(&v, CORE_REG(regs.pc), RAM_GPA);
	int rises = 0, falls = 0, level = 0, r;
	for (;;) {
		int handled;
		r = run_once(&v, &handled);
		uint64_t dev = v.run->s.regs.device_irq_level;
		if (handled)
			continue;
		if (r == -EINTR && v.run->exit_reason == KVM_EXIT_INTR) {
			int now = !!(dev & KVM_ARM_DEV_EL1_VTIMER);
			if (now != level) {
				level = now;
				now ? rises++ : falls++;
				struct kvm_irq_level l = {
					.irq = (KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT) | KVM_ARM_IRQ_CPU_IRQ,
					.level = (uint32_t)now};
				CHECK_OK(ioctl(vm.fd, KVM_IRQ_LINE, &l));
			}
			continue;
		}
		break;
	}
	CHECK_EQ(KVM_EXIT_SYSTEM_EVENT, r);
	CHECK_EQ(1, rises);
	CHECK_EQ(1, falls);
	CHECK_EQ(8, v.checks);
	return t_done();
}
