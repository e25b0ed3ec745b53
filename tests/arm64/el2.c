/* H1: EL2 in the guest (KVM_ARM_VCPU_HAS_EL2) and the HYP stub ABI, with
 * guests/arm64/el2.c, which checks the stubs' effects itself. */
#include <stdio.h>
#include <sys/ioctl.h>

#include "a64t.h"

#ifndef KVM_ARM_VCPU_HAS_EL2
#define KVM_ARM_VCPU_HAS_EL2 7
#endif
#ifndef KVM_CAP_ARM_EL2
#define KVM_CAP_ARM_EL2 240
#endif

int main(int argc, char **argv)
{
	struct tvm vm;
	struct tvcpu v;
	if (argc < 2 || tvm_create(&vm) < 0 || load_guest(&vm, argv[1]) < 0) {
		perror("setup");
		return 1;
	}
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_EL2));
	if (tvcpu_create(&vm, &v, 0, (1u << KVM_ARM_VCPU_PSCI_0_2) | (1u << KVM_ARM_VCPU_HAS_EL2)) < 0) {
		perror("vcpu with EL2");
		return 1;
	}
	/* reset state: EL2h, DAIF masked */
	CHECK_EQ(0x3c9, get_reg(&v, CORE_REG(regs.pstate)));
	CHECK_OK(set_reg(&v, CORE_REG(regs.pstate), 0x3c9));
	set_reg(&v, CORE_REG(regs.pc), RAM_GPA);
	CHECK_EQ(KVM_EXIT_SYSTEM_EVENT, run_guest(&v));
	CHECK_EQ(KVM_SYSTEM_EVENT_SHUTDOWN, v.run->system_event.type);
	CHECK_EQ(28, v.checks);
	CHECK_EQ(0, v.fails);
	/* the soft restart left it at EL2, masked */
	CHECK_EQ(0x3c9, get_reg(&v, CORE_REG(regs.pstate)) & 0x3ff);
	printf("H1: %d guest checks\n", v.checks);
	return t_done();
}
