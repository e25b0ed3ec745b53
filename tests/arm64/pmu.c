/* U5: the PMU of a USER_IRQ VM (KVM_ARM_VCPU_PMU_V3): its device
 * attributes, and its overflow line in device_irq_level (KVM_ARM_DEV_PMU),
 * fed back as the vCPU's IRQ, with guests/arm64/pmu.c. */
#include <stdio.h>
#include <sys/ioctl.h>

#include "a64t.h"

static int attr(int fd, unsigned long req, uint32_t group, uint64_t a, int *val)
{
	struct kvm_device_attr d = {.group = group, .attr = a, .addr = (uintptr_t)val};
	return ioctl(fd, req, &d);
}

int main(int argc, char **argv)
{
	struct tvm vm;
	struct tvcpu v, nopmu;
	if (argc < 2 || tvm_create(&vm) < 0 || load_guest(&vm, argv[1]) < 0 ||
	    tvcpu_create(&vm, &v, 0, (1u << KVM_ARM_VCPU_PSCI_0_2) | (1u << KVM_ARM_VCPU_PMU_V3)) < 0 ||
	    tvcpu_create(&vm, &nopmu, 1, 1u << KVM_ARM_VCPU_PSCI_0_2) < 0) {   /* v is vCPU index 0: KVM_IRQ_LINE's */
		perror("setup");
		return 1;
	}
	int irq = 23;
	/* without the feature */
	CHECK_ERRNO(attr(nopmu.fd, KVM_HAS_DEVICE_ATTR, KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_INIT, NULL), ENXIO);
	CHECK_ERRNO(attr(nopmu.fd, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_INIT, NULL), ENODEV);
	/* with it */
	CHECK_OK(attr(v.fd, KVM_HAS_DEVICE_ATTR, KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_IRQ, NULL));
	CHECK_OK(attr(v.fd, KVM_HAS_DEVICE_ATTR, KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_INIT, NULL));
	CHECK_ERRNO(attr(v.fd, KVM_HAS_DEVICE_ATTR, KVM_ARM_VCPU_PMU_V3_CTRL, 99, NULL), ENXIO);
	CHECK_ERRNO(attr(v.fd, KVM_HAS_DEVICE_ATTR, KVM_ARM_VCPU_TIMER_CTRL + 10, 0, NULL), ENXIO);
	/* no in-kernel irqchip: the line is the VMM's, no IRQ number */
	CHECK_ERRNO(attr(v.fd, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_IRQ, &irq), EINVAL);
	CHECK_ERRNO(attr(v.fd, KVM_GET_DEVICE_ATTR, KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_IRQ, &irq), EINVAL);
	/* a PMU vCPU does not run before INIT */
	CHECK_ERRNO(ioctl(v.fd, KVM_RUN, 0), EINVAL);
	CHECK_OK(attr(v.fd, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_INIT, NULL));
	CHECK_ERRNO(attr(v.fd, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_PMU_V3_CTRL, KVM_ARM_VCPU_PMU_V3_INIT, NULL), EBUSY);

	set_reg(&v, CORE_REG(regs.pc), RAM_GPA);
	int rises = 0, falls = 0, level = 0, r;
	for (;;) {
		int handled;
		r = run_once(&v, &handled);
		int now = !!(v.run->s.regs.device_irq_level & KVM_ARM_DEV_PMU);
		if (now != level) {
			level = now;
			now ? rises++ : falls++;
			struct kvm_irq_level l = {
				.irq = (KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT) | KVM_ARM_IRQ_CPU_IRQ,
				.level = (uint32_t)now};
			CHECK_OK(ioctl(vm.fd, KVM_IRQ_LINE, &l));
		}
		if (handled || (r == -EINTR && v.run->exit_reason == KVM_EXIT_INTR))
			continue;
		break;
	}
	CHECK_EQ(KVM_EXIT_SYSTEM_EVENT, r);
	CHECK_EQ(1, rises);
	CHECK_EQ(1, falls);
	CHECK_EQ(16, v.checks);
	CHECK_EQ(0, v.fails);
	printf("U5: %d guest checks\n", v.checks);
	return t_done();
}
