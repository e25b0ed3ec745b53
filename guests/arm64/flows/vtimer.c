/* Flow "vtimer": a VM with no GIC. The guest programs the virtual timer for
 * a few periodic ticks; the VMM, seeing the timer's line in
 * device_irq_level, raises and lowers the vCPU's IRQ with KVM_IRQ_LINE. */
#include "demo.h"

#define TICKS 5

static volatile unsigned ticks;
static uint64_t period;

void demo_exception(struct frame *f, uint64_t kind)
{
	(void)f;
	if (kind != 5) {	/* anything but an IRQ on SP_EL1 is a failure */
		uart_puts("vtimer: unexpected exception, kind ");
		uart_put_dec(kind);
		uart_puts("\n");
		write_sysreg(cntv_ctl_el0, 0);
		ticks = TICKS + 100;
		return;
	}
	ticks++;
	if (ticks >= TICKS) {
		write_sysreg(cntv_ctl_el0, 0);	/* the line falls */
	} else {
		/* The next deadline, from now (not from the last one, which
		 * may be long past if this vCPU was descheduled): the timer
		 * condition clears and the line falls until then. */
		write_sysreg(cntv_cval_el0, read_sysreg(cntvct_el0) + period);
	}
	isb();
}

int demo_main(void)
{
	uint64_t frq = read_sysreg(cntfrq_el0);

	period = frq / 100;	/* 10 ms */
	uart_puts("vtimer: CNTFRQ_EL0=");
	uart_put_dec(frq);
	uart_puts(", ");
	uart_put_dec(TICKS);
	uart_puts(" ticks of 10 ms\n");
	uint64_t start = read_sysreg(cntvct_el0);
	write_sysreg(cntv_cval_el0, start + period);
	write_sysreg(cntv_ctl_el0, 1);
	isb();
	__asm__ volatile("msr daifclr, #2" ::: "memory");
	while (ticks < TICKS)
		__asm__ volatile("wfi" ::: "memory");
	__asm__ volatile("msr daifset, #2" ::: "memory");
	uint64_t elapsed = read_sysreg(cntvct_el0) - start;
	if (ticks != TICKS) {
		uart_puts("vtimer: FAILED\n");
		return 1;
	}
	uart_puts("vtimer: took ");
	uart_put_dec(ticks);
	uart_puts(" timer IRQs at VBAR_EL1+0x280\n");
	if (elapsed < TICKS * period - period / 10) {
		uart_puts("vtimer: FAILED, too early\n");
		return 1;
	}
	uart_puts("vtimer: elapsed >= 50 ms, ok\n");
	return 0;
}
