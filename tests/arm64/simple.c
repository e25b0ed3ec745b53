/* Runs a self-checking arm64 guest (argv[1]) on one vCPU to its
 * SYSTEM_OFF; the guest's checks come back through the MMIO port. */
#include <stdio.h>

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
	int r = run_guest(&v);
	CHECK_EQ(KVM_EXIT_SYSTEM_EVENT, r);
	CHECK_EQ(KVM_SYSTEM_EVENT_SHUTDOWN, v.run->system_event.type);
	CHECK(v.checks > 0);
	printf("%d guest checks, %d failed\n", v.checks, v.fails);
	return t_done();
}
