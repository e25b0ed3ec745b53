/* The generic timer: counters that advance at CNTFRQ, the virtual timer
 * raising its line (seen by the VMM through device_irq_level, delivered
 * back with KVM_IRQ_LINE), WFI sleeping until then. */
#include "lib.h"

static volatile int irqs;
static volatile uint64_t irq_ctl;

static void on_irq(struct frame *f, uint64_t kind)
{
	(void)f;
	if (kind != 5)
		return;
	irq_ctl = read_sysreg(cntv_ctl_el0);
	write_sysreg(cntv_ctl_el0, 3);   /* IMASK: the line drops */
	isb();
	irqs++;
}

int main(void)
{
	uint64_t frq = read_sysreg(cntfrq_el0);
	check(1, frq, 62500000);
	uint64_t t0 = read_sysreg(cntvct_el0);
	uint64_t p0 = read_sysreg(cntpct_el0);
	for (volatile int i = 0; i < 100000; i++)
		;
	uint64_t t1 = read_sysreg(cntvct_el0);
	check(2, t1 > t0, 1);
	check(3, p0 >= t0, 1);

	irq_hook = on_irq;
	/* 10 ms from now */
	write_sysreg(cntv_tval_el0, frq / 100);
	write_sysreg(cntv_ctl_el0, 1);
	isb();
	uint64_t start = read_sysreg(cntvct_el0);
	__asm__ volatile("msr daifclr, #2");
	while (!irqs)
		__asm__ volatile("wfi");
	__asm__ volatile("msr daifset, #2");
	uint64_t end = read_sysreg(cntvct_el0);
	check(4, irqs, 1);
	check(5, irq_ctl, 5);   /* ENABLE | ISTATUS */
	check(6, end - start >= frq / 100 - frq / 1000, 1);
	check(7, read_sysreg(cntv_ctl_el0), 7);
	/* TVAL counts down past zero */
	check(8, (int32_t)read_sysreg(cntv_tval_el0) <= 0, 1);
	write_sysreg(cntv_ctl_el0, 0);

	/* The physical timer, its IRQ masked at the CPU: the VMM sees the line
	 * rise (U2, U3) while this polls ISTATUS, and fall when it is off. */
	write_sysreg(cntp_tval_el0, frq / 200);
	write_sysreg(cntp_ctl_el0, 1);
	isb();
	while (!(read_sysreg(cntp_ctl_el0) & 4))
		;
	check(9, read_sysreg(cntp_ctl_el0), 5);
	write_sysreg(cntp_ctl_el0, 0);
	isb();
	check(10, read_sysreg(cntp_ctl_el0), 0);
	return 0;
}
