/* U5: the PMU (KVM_ARM_VCPU_PMU_V3): the cycle counter counts, SW_INCR
 * counts PMSWINC writes and overflows, a CPU_CYCLES counter about to wrap
 * raises the overflow line (the VMM sees KVM_ARM_DEV_PMU and feeds it back
 * as the IRQ), and clearing the overflow drops it. */
#include "lib.h"

#define PMCR_E 1
#define PMCR_P 2
#define PMCR_C 4

static volatile int irqs;
static volatile uint64_t irq_ovs;

static void on_irq(struct frame *f, uint64_t kind)
{
	(void)f;
	if (kind != 5)
		return;
	irq_ovs = read_sysreg(pmovsset_el0);
	write_sysreg(pmovsclr_el0, irq_ovs);   /* the line drops */
	isb();
	irqs++;
}

int main(void)
{
	check(1, (read_sysreg(id_aa64dfr0_el1) >> 8) & 0xf, 1);
	uint64_t pmcr = read_sysreg(pmcr_el0);
	check(2, (pmcr >> 11) & 0x1f, 4);                 /* N: four event counters */
	check(3, read_sysreg(pmceid0_el0), (1ull << 0) | (1ull << 0x11));

	/* the cycle counter */
	write_sysreg(pmcr_el0, PMCR_E | PMCR_P | PMCR_C);
	write_sysreg(pmcntenset_el0, 1ull << 31);
	isb();
	uint64_t c0 = read_sysreg(pmccntr_el0);
	for (volatile int i = 0; i < 10000; i++)
		;
	uint64_t c1 = read_sysreg(pmccntr_el0);
	check(4, c1 > c0, 1);
	write_sysreg(pmcntenclr_el0, 1ull << 31);
	isb();
	uint64_t c2 = read_sysreg(pmccntr_el0);
	for (volatile int i = 0; i < 10000; i++)
		;
	check(5, read_sysreg(pmccntr_el0), c2);           /* stopped */
	check(6, read_sysreg(pmcntenset_el0), 0);

	/* SW_INCR on counter 0, through PMSELR / PMXEV* */
	write_sysreg(pmselr_el0, 0);
	write_sysreg(pmxevtyper_el0, 0x00);
	write_sysreg(pmxevcntr_el0, 0xfffffffeull);
	write_sysreg(pmcntenset_el0, 1);
	write_sysreg(pmswinc_el0, 1);
	check(7, read_sysreg(pmevcntr0_el0), 0xffffffffull);
	check(8, read_sysreg(pmovsset_el0), 0);
	write_sysreg(pmswinc_el0, 1);                     /* wraps: overflow, no interrupt enabled */
	check(9, read_sysreg(pmevcntr0_el0), 0);
	check(10, read_sysreg(pmovsset_el0), 1);
	write_sysreg(pmovsclr_el0, 1);
	check(11, read_sysreg(pmovsset_el0), 0);

	/* CPU_CYCLES on counter 1, 2 ms from wrapping, with its interrupt */
	irq_hook = on_irq;
	write_sysreg(pmevtyper1_el0, 0x11);
	write_sysreg(pmevcntr1_el0, 0x100000000ull - 2000000);
	write_sysreg(pmintenset_el1, 2);
	check(12, read_sysreg(pmintenset_el1), 2);
	write_sysreg(pmcntenset_el0, 2);
	isb();
	__asm__ volatile("msr daifclr, #2");
	while (!irqs)
		__asm__ volatile("wfi");
	__asm__ volatile("msr daifset, #2");
	check(13, irqs, 1);
	check(14, irq_ovs, 2);
	check(15, read_sysreg(pmovsset_el0), 0);
	check(16, read_sysreg(pmevcntr1_el0) < 0x80000000ull, 1);   /* wrapped, counting on */
	write_sysreg(pmcr_el0, 0);
	return 0;
}
