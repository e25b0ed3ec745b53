/* KVM_SET_VCPU_EVENTS (ext_dabt_pending after an MMIO exit, serror_pending)
 * and KVM_SET_GUEST_DEBUG (single step, software breakpoints), with
 * guests/arm64/events.c. */
#include <stdio.h>
#include <sys/ioctl.h>

#include "a64t.h"

static struct tvcpu v;

static int next_exit(void)
{
	int handled, r, n = v.nvalues;
	do {
		r = run_once(&v, &handled);
	} while (handled && v.nvalues == n);
	return handled ? 0 : r;   /* 0: the guest reported a value */
}

int main(int argc, char **argv)
{
	struct tvm vm;
	if (argc < 2 || tvm_create(&vm) < 0 || load_guest(&vm, argv[1]) < 0 ||
	    tvcpu_create(&vm, &v, 0, 1u << KVM_ARM_VCPU_PSCI_0_2) < 0) {
		perror("setup");
		return 1;
	}
	/* A1: the arm64 layout of struct kvm_vcpu_events */
	CHECK_EQ(64, sizeof(struct kvm_vcpu_events));
	CHECK_EQ(0, offsetof(struct kvm_vcpu_events, exception.serror_pending));
	CHECK_EQ(1, offsetof(struct kvm_vcpu_events, exception.serror_has_esr));
	CHECK_EQ(2, offsetof(struct kvm_vcpu_events, exception.ext_dabt_pending));
	CHECK_EQ(8, offsetof(struct kvm_vcpu_events, exception.serror_esr));
	CHECK_EQ(16, offsetof(struct kvm_vcpu_events, reserved));
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_VCPU_EVENTS));
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_INJECT_EXT_DABT));
	CHECK_EQ(0, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_INJECT_SERROR_ESR));
	set_reg(&v, CORE_REG(regs.pc), RAM_GPA);

	/* A3: abort the access instead of emulating it */
	CHECK_EQ(KVM_EXIT_MMIO, next_exit());
	CHECK_EQ(0x0a000000, v.run->mmio.phys_addr);
	uint64_t pc = get_reg(&v, CORE_REG(regs.pc));
	struct kvm_vcpu_events ev;
	memset(&ev, 0, sizeof(ev));
	ev.exception.ext_dabt_pending = 1;
	CHECK_OK(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &ev));
	CHECK_OK(ioctl(v.fd, KVM_GET_VCPU_EVENTS, &ev));
	CHECK_EQ(0, ev.exception.ext_dabt_pending);   /* A4: never read back */
	CHECK_EQ(pc, get_reg(&v, CORE_REG(elr_el1)));

	/* A2: a virtual SError, pending until PSTATE.A is clear */
	CHECK_EQ(0, next_exit());
	memset(&ev, 0, sizeof(ev));
	ev.exception.serror_pending = 1;
	ev.exception.serror_has_esr = 1;
	ev.exception.serror_esr = 0x1234;
	CHECK_ERRNO(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &ev), EINVAL);
	ev.exception.serror_has_esr = 0;
	ev.reserved[3] = 1;
	CHECK_ERRNO(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &ev), EINVAL);
	ev.reserved[3] = 0;
	CHECK_OK(ioctl(v.fd, KVM_SET_VCPU_EVENTS, &ev));
	CHECK_OK(ioctl(v.fd, KVM_GET_VCPU_EVENTS, &ev));
	CHECK_EQ(1, ev.exception.serror_pending);

	/* single step */
	CHECK_EQ(0, next_exit());
	struct kvm_guest_debug dbg = {.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP};
	CHECK_OK(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &dbg));
	/* the first step retires the port store and returns to main; the
	 * next ones walk main's NOPs one at a time */
	for (int i = 0; i < 3; i++) {
		int handled;
		CHECK_EQ(KVM_EXIT_DEBUG, run_once(&v, &handled));
		CHECK_EQ(0x32, v.run->debug.arch.hsr >> 26);
		uint64_t now = get_reg(&v, CORE_REG(regs.pc));
		if (i)
			CHECK_EQ(pc + 4, now);
		pc = now;
	}
	CHECK_EQ(0xd503201f, *(uint32_t *)(vm.ram + (pc - RAM_GPA)));   /* still in the NOPs */
	dbg.control = 0;
	CHECK_OK(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &dbg));

	/* software breakpoints go to the VMM */
	CHECK_EQ(0, next_exit());
	dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
	CHECK_OK(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &dbg));
	CHECK_EQ(KVM_EXIT_DEBUG, next_exit());
	CHECK_EQ((0x3cu << 26) | (1u << 25) | 7, v.run->debug.arch.hsr);
	pc = get_reg(&v, CORE_REG(regs.pc));
	CHECK_EQ(0xd42000e0, *(uint32_t *)(vm.ram + (pc - RAM_GPA)));   /* at the BRK */
	set_reg(&v, CORE_REG(regs.pc), pc + 4);
	dbg.control = 0;
	CHECK_OK(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &dbg));

	/* FIQ through KVM_IRQ_LINE, masked by PSTATE.F until the guest opens it */
	CHECK_EQ(0, next_exit());
	struct kvm_irq_level l = {.irq = (KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT) | KVM_ARM_IRQ_CPU_FIQ,
				  .level = 1};
	CHECK_OK(ioctl(vm.fd, KVM_IRQ_LINE, &l));
	CHECK_EQ(0, next_exit());   /* the guest's handler asks to lower it */
	CHECK_EQ(5, v.values[v.nvalues - 1]);
	l.level = 0;
	CHECK_OK(ioctl(vm.fd, KVM_IRQ_LINE, &l));

	CHECK_EQ(KVM_EXIT_SYSTEM_EVENT, run_guest(&v));
	CHECK_EQ(12, v.checks);
	return t_done();
}
