/* Hardware debug for arm64 guests: guests/arm64/debug.c checks the
 * self-hosted side (watchpoints, breakpoints, software step, OS lock);
 * here: KVM_CAP_GUEST_DEBUG_HW_BPS/WPS, KVM_SET_GUEST_DEBUG's checks,
 * the debug registers through ONE_REG, and the VMM's own breakpoint and
 * watchpoint (KVM_GUESTDBG_USE_HW) as KVM_EXIT_DEBUG with ESR_EL2's
 * syndrome (and FAR for the watchpoint). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "a64t.h"

#define DBGBVR(n) SYS_REG(2, 0, 0, n, 4)
#define DBGWCR(n) SYS_REG(2, 0, 0, n, 7)

static struct tvm vm;
static struct tvcpu v;

/* Run until an exit the port does not handle. */
static int next_exit(void)
{
	for (;;) {
		int handled, r = run_once(&v, &handled);
		if (!handled && r != KVM_EXIT_INTR)
			return r;
		if (v.nvalues == 2)
			return 0;
	}
}

int main(int argc, char **argv)
{
	if (argc < 2 || tvm_create(&vm) < 0 || load_guest(&vm, argv[1]) < 0 ||
	    tvcpu_create(&vm, &v, 0, 1u << KVM_ARM_VCPU_PSCI_0_2) < 0) {
		perror("setup");
		return 1;
	}
	CHECK_EQ(6, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_DEBUG_HW_BPS));
	CHECK_EQ(4, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_DEBUG_HW_WPS));
	struct kvm_guest_debug dbg;
	memset(&dbg, 0, sizeof(dbg));
	dbg.control = KVM_GUESTDBG_ENABLE | (1u << 20);
	CHECK_ERRNO(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &dbg), EINVAL);
	CHECK_OK(set_reg(&v, DBGBVR(3), 0x12345678));
	CHECK_EQ(0x12345678, get_reg(&v, DBGBVR(3)));
	CHECK_OK(set_reg(&v, DBGBVR(3), 0));
	CHECK_OK(set_reg(&v, DBGWCR(15), 0x1f));
	CHECK_EQ(0x1f, get_reg(&v, DBGWCR(15)));
	CHECK_OK(set_reg(&v, DBGWCR(15), 0));

	set_reg(&v, CORE_REG(regs.pc), RAM_GPA);
	CHECK_EQ(0, next_exit());   /* the guest's own part done: two addresses */
	uint64_t bp = v.values[0], wp = v.values[1];

	dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW;
	dbg.arch.dbg_bvr[0] = bp;
	dbg.arch.dbg_bcr[0] = (0xf << 5) | (1 << 1) | 1;
	CHECK_OK(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &dbg));
	CHECK_EQ(KVM_EXIT_DEBUG, next_exit());
	CHECK_EQ((0x30u << 26) | (1u << 25) | 0x22, v.run->debug.arch.hsr);
	CHECK_EQ(KVM_DEBUG_ARCH_HSR_HIGH_VALID, v.run->flags);
	CHECK_EQ(bp, get_reg(&v, CORE_REG(regs.pc)));
	CHECK_EQ(KVM_EXIT_DEBUG, next_exit());   /* it stays until the VMM moves it */
	CHECK_EQ(bp, get_reg(&v, CORE_REG(regs.pc)));

	dbg.arch.dbg_bcr[0] = 0;
	dbg.arch.dbg_wvr[1] = wp;
	dbg.arch.dbg_wcr[1] = (0xff << 5) | (2 << 3) | (1 << 1) | 1;   /* stores at EL1 */
	CHECK_OK(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &dbg));
	CHECK_EQ(KVM_EXIT_DEBUG, next_exit());
	CHECK_EQ((0x34u << 26) | (1u << 25) | (1 << 6) | 0x22, v.run->debug.arch.hsr);
	CHECK_EQ(wp, v.run->debug.arch.far);
	CHECK_EQ(1, *(uint64_t *)(vm.ram + (wp - RAM_GPA)));   /* not stored yet */

	dbg.control = 0;
	CHECK_OK(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &dbg));
	CHECK_EQ(KVM_EXIT_SYSTEM_EVENT, run_guest(&v));
	CHECK_EQ(0x77, *(uint64_t *)(vm.ram + (wp - RAM_GPA)));
	CHECK_EQ(33, v.checks);
	CHECK_EQ(0, v.fails);
	printf("debug: %d guest checks\n", v.checks);
	return t_done();
}
