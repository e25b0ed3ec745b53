/* KVM_SET_VCPU_EVENTS and KVM_SET_GUEST_DEBUG from the guest's side:
 * an external data abort in place of an MMIO access, a virtual SError
 * held by PSTATE.A, single steps and a VMM breakpoint. */
#include "lib.h"

#define DEV 0x0a000000ul
#define ESR(ec, iss) (((uint64_t)(ec) << 26) | (1ull << 25) | (iss))

static volatile uint64_t serror_esr, serrors, fiqs;

static void on_async(struct frame *f, uint64_t kind)
{
	(void)f;
	if (kind == 7) {   /* SError, current EL with SP_ELx */
		serror_esr = read_sysreg(esr_el1);
		serrors++;
	}
	if (kind == 6) {   /* FIQ: the VMM lowers the line when told */
		fiqs++;
		value(5);
	}
}

int main(void)
{
	irq_hook = on_async;
	uint64_t a;
	/* the VMM answers this load with ext_dabt_pending */
	__asm__ volatile("adr %0, 1f\n1: ldr x1, [%1]" : "=&r"(a) : "r"(DEV) : "x1", "memory");
	check(1, last_esr, ESR(0x25, 0x10));
	check(2, last_far, DEV);
	check(3, last_elr, a);

	value(1);   /* the VMM makes a virtual SError pending */
	check(4, read_sysreg(isr_el1) & 0x100, 0x100);
	check(5, serrors, 0);   /* masked by PSTATE.A */
	__asm__ volatile("msr daifclr, #4\n isb" ::: "memory");
	__asm__ volatile("nop");
	check(6, serrors, 1);
	check(7, serror_esr, ESR(0x2f, 1u << 24));
	__asm__ volatile("msr daifset, #4");

	value(2);   /* the VMM single-steps the next instructions */
	__asm__ volatile("nop\n nop\n nop\n nop" ::: "memory");
	value(3);   /* the VMM owns BRK now */
	__asm__ volatile("brk #7");
	check(8, exc_count, 1);   /* the BRK never reached the guest */

	value(4);   /* the VMM raises the FIQ line: pending, masked by PSTATE.F */
	check(9, read_sysreg(isr_el1) & 0x40, 0x40);
	check(10, fiqs, 0);
	__asm__ volatile("msr daifclr, #1\n isb\n nop" ::: "memory");
	__asm__ volatile("msr daifset, #1");
	check(11, fiqs, 1);
	check(12, read_sysreg(isr_el1) & 0x40, 0);
	return 0;
}
