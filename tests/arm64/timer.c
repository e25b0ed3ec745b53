/* U1-U4: the timers of a USER_IRQ VM. The virtual timer of a USER_IRQ VM: its line shows in
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
	/* U1 */
	CHECK(ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_USER_IRQ) >= 1);
	set_reg(&v, CORE_REG(regs.pc), RAM_GPA);
	/* U2: every return to userspace (port MMIO exits included) carries the
	 * lines' levels; U3: a change is followed by an exit before the guest
	 * runs on; U4: level sources read as their level, so each timer rises
	 * once and falls once. The VMM feeds the virtual timer back as IRQ. */
	int rises[2] = {0, 0}, falls[2] = {0, 0}, level[2] = {0, 0}, r;
	const uint64_t bit[2] = {KVM_ARM_DEV_EL1_VTIMER, KVM_ARM_DEV_EL1_PTIMER};
	for (;;) {
		int handled;
		r = run_once(&v, &handled);
		uint64_t dev = v.run->s.regs.device_irq_level;
		CHECK_EQ(0, dev & ~(uint64_t)(KVM_ARM_DEV_EL1_VTIMER | KVM_ARM_DEV_EL1_PTIMER | KVM_ARM_DEV_PMU));
		for (int t = 0; t < 2; t++) {
			int now = !!(dev & bit[t]);
			if (now == level[t])
				continue;
			level[t] = now;
			now ? rises[t]++ : falls[t]++;
			if (t == 0) {
				struct kvm_irq_level l = {
					.irq = (KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT) | KVM_ARM_IRQ_CPU_IRQ,
					.level = (uint32_t)now};
				CHECK_OK(ioctl(vm.fd, KVM_IRQ_LINE, &l));
			}
		}
		if (handled || (r == -EINTR && v.run->exit_reason == KVM_EXIT_INTR))
			continue;
		break;
	}
	CHECK_EQ(KVM_EXIT_SYSTEM_EVENT, r);
	CHECK_EQ(1, rises[0]);
	CHECK_EQ(1, falls[0]);
	CHECK_EQ(1, rises[1]);
	CHECK_EQ(1, falls[1]);
	CHECK_EQ(10, v.checks);
	CHECK_EQ(0, v.fails);
	return t_done();
}
