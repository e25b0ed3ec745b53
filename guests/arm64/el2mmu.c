/* EL2 beyond the HYP stub (KVM_ARM_VCPU_HAS_EL2): EL2's own stage-1
 * regime (SCTLR_EL2.M, TCR_EL2, TTBR0_EL2, MAIR_EL2) with aborts taken
 * at EL2 (ESR_EL2, FAR_EL2), AT S1E2R/W, and HCR_EL2's routing: IMO
 * (physical IRQ to EL2 or EL1), VI and VSE (virtual IRQ / SError at EL1),
 * TGE (EL0's exceptions to EL2), TSC (SMC traps), TVM/TRVM (EL1's VM
 * registers trap). The host (tests/arm64/el2_mmu.c) raises and lowers
 * the IRQ line when the guest reports RAISE / LOWER. */
#include "lib.h"

#define RAISE 0x1a1
#define LOWER 0x1a0
#define IL (1ull << 25)
#define HCR_RW (1ull << 31)
#define HCR_IMO (1ull << 4)
#define HCR_AMO (1ull << 5)
#define HCR_VI (1ull << 7)
#define HCR_VSE (1ull << 8)
#define HCR_TSC (1ull << 19)
#define HCR_TVM (1ull << 26)
#define HCR_TGE (1ull << 27)
#define HCR_TRVM (1ull << 30)

#define RO_PAGE 0x41000000ull    /* read-only at EL2 */
#define HOLE_PAGE 0x41001000ull  /* not mapped (level 3) */
#define XN_PAGE 0x41002000ull    /* execute-never */
#define UNMAPPED 0x80000000ull   /* no level-1 entry */

/* EL2 vectors: the current-EL SPx entries and the lower-EL IRQ/SError
 * save a frame and call el2_handler(frame, kind); a synchronous exception
 * from a lower EL ends run_lower(), which entered that EL, recording
 * ESR/ELR/SPSR/FAR_EL2 in low_exit. */
__asm__(
	".pushsection .text\n"
	".macro el2vec kind\n"
	"	.balign 0x80\n"
	"	sub sp, sp, #(34 * 8)\n"
	"	stp x0, x1, [sp, #0]\n"
	"	mov x1, #\\kind\n"
	"	b el2_common\n"
	".endm\n"
	".balign 0x800\n"
	".global el2_vectors\n"
	"el2_vectors:\n"
	"	el2vec 0\n el2vec 1\n el2vec 2\n el2vec 3\n"
	"	el2vec 4\n el2vec 5\n el2vec 6\n el2vec 7\n"
	"	.balign 0x80\n"
	"	b el2_low_sync\n"
	"	el2vec 9\n el2vec 10\n el2vec 11\n"
	"	el2vec 12\n el2vec 13\n el2vec 14\n el2vec 15\n"
	"el2_common:\n"
	"	stp x2, x3, [sp, #16]\n stp x4, x5, [sp, #32]\n stp x6, x7, [sp, #48]\n"
	"	stp x8, x9, [sp, #64]\n stp x10, x11, [sp, #80]\n stp x12, x13, [sp, #96]\n"
	"	stp x14, x15, [sp, #112]\n stp x16, x17, [sp, #128]\n stp x18, x19, [sp, #144]\n"
	"	stp x20, x21, [sp, #160]\n stp x22, x23, [sp, #176]\n stp x24, x25, [sp, #192]\n"
	"	stp x26, x27, [sp, #208]\n stp x28, x29, [sp, #224]\n"
	"	mrs x2, elr_el2\n mrs x3, spsr_el2\n"
	"	stp x30, x2, [sp, #240]\n str x3, [sp, #256]\n"
	"	mov x0, sp\n"
	"	bl el2_handler\n"
	"	ldp x30, x2, [sp, #240]\n ldr x3, [sp, #256]\n"
	"	msr elr_el2, x2\n msr spsr_el2, x3\n"
	"	ldp x2, x3, [sp, #16]\n ldp x4, x5, [sp, #32]\n ldp x6, x7, [sp, #48]\n"
	"	ldp x8, x9, [sp, #64]\n ldp x10, x11, [sp, #80]\n ldp x12, x13, [sp, #96]\n"
	"	ldp x14, x15, [sp, #112]\n ldp x16, x17, [sp, #128]\n ldp x18, x19, [sp, #144]\n"
	"	ldp x20, x21, [sp, #160]\n ldp x22, x23, [sp, #176]\n ldp x24, x25, [sp, #192]\n"
	"	ldp x26, x27, [sp, #208]\n ldp x28, x29, [sp, #224]\n"
	"	ldp x0, x1, [sp, #0]\n"
	"	add sp, sp, #(34 * 8)\n"
	"	eret\n"

	/* uint64_t run_lower(void (*fn)(void), uint64_t spsr) */
	".global run_lower\n"
	"run_lower:\n"
	"	ldr x9, =el2_ctx\n"
	"	stp x19, x20, [x9, #0]\n stp x21, x22, [x9, #16]\n stp x23, x24, [x9, #32]\n"
	"	stp x25, x26, [x9, #48]\n stp x27, x28, [x9, #64]\n stp x29, x30, [x9, #80]\n"
	"	mov x10, sp\n str x10, [x9, #96]\n"
	"	msr elr_el2, x0\n msr spsr_el2, x1\n"
	"	isb\n"
	"	eret\n"
	"el2_low_sync:\n"
	"	ldr x9, =low_exit\n"
	"	mrs x10, esr_el2\n str x10, [x9, #0]\n"
	"	mrs x10, elr_el2\n str x10, [x9, #8]\n"
	"	mrs x10, spsr_el2\n str x10, [x9, #16]\n"
	"	mrs x10, far_el2\n str x10, [x9, #24]\n"
	"	ldr x9, =el2_ctx\n"
	"	ldp x19, x20, [x9, #0]\n ldp x21, x22, [x9, #16]\n ldp x23, x24, [x9, #32]\n"
	"	ldp x25, x26, [x9, #48]\n ldp x27, x28, [x9, #64]\n ldp x29, x30, [x9, #80]\n"
	"	ldr x10, [x9, #96]\n mov sp, x10\n"
	"	ret\n"

	/* lower-EL code that must not touch memory */
	".global el0_svc\n"
	"el0_svc:\n"
	"	svc #0x42\n"
	"	b .\n"
	".global el0_abort\n"
	"el0_abort:\n"
	"	movz x0, #0x200, lsl #32\n"
	"	ldr x1, [x0]\n"
	"	b .\n"
	".global el1_smc\n"
	"el1_smc:\n"
	"	smc #0x33\n"
	"	b .\n"
	".global el1_tvm\n"
	"el1_tvm:\n"
	"	mrs x2, sctlr_el1\n"
	".global el1_tvm_msr\n"
	"el1_tvm_msr:\n"
	"	msr sctlr_el1, x2\n"
	"	hvc #0x77\n"
	".global el1_trvm\n"
	"el1_trvm:\n"
	"	mrs x3, ttbr0_el1\n"
	"	hvc #0x77\n"
	".global el1_wfi\n"
	"el1_wfi:\n"
	"	wfi\n"
	"	hvc #0x77\n"
	".global el1_exit\n"
	"el1_exit:\n"
	"	hvc #0x77\n"
	"	b .\n"
	".popsection\n");

extern char el2_vectors[], el1_wfi[], el0_svc[], el0_abort[], el1_smc[], el1_tvm[], el1_tvm_msr[], el1_trvm[];
void run_lower(void (*fn)(void), uint64_t spsr);
void el1_exit(void) __attribute__((noreturn));

uint64_t el2_ctx[14];
volatile uint64_t low_exit[4];   /* ESR, ELR, SPSR, FAR _EL2 */

static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l2[512] __attribute__((aligned(4096)));
static uint64_t l3[512] __attribute__((aligned(4096)));
static uint64_t el1_stack[1024] __attribute__((aligned(16)));

static volatile uint64_t el2_esr, el2_far, el2_sync, el2_irqs, el2_irq_kind, el2_irq_spsr, el2_serrors;
static volatile uint64_t el1_irqs, el1_serrors, el1_kind, el1_esr, lower_on_irq;

void el2_handler(struct frame *f, uint64_t kind);
void el2_handler(struct frame *f, uint64_t kind)
{
	switch (kind & 3) {
	case 0:   /* synchronous at EL2: skip the instruction, or return from a bad call */
		el2_esr = read_sysreg(esr_el2);
		el2_far = read_sysreg(far_el2);
		el2_sync++;
		if ((el2_esr >> 26) == 0x21)
			f->elr = f->x[30];
		else
			f->elr += 4;
		return;
	case 1:   /* IRQ */
		el2_irqs++;
		el2_irq_kind = kind;
		el2_irq_spsr = f->spsr;
		value(LOWER);
		return;
	case 3:
		el2_serrors++;
		return;
	}
}

static void el1_hook(struct frame *f, uint64_t kind)
{
	el1_kind = kind;
	if ((kind & 3) == 3) {
		el1_serrors++;
		el1_esr = read_sysreg(esr_el1);
		return;
	}
	el1_irqs++;
	if (lower_on_irq)
		value(LOWER);
	else
		f->spsr |= 0x80;   /* a virtual IRQ stays pending: return with I masked */
}

static void spin_until(volatile uint64_t *v)
{
	for (int i = 0; i < 10000 && !*v; i++)
		__asm__ volatile("nop");
}

static void __attribute__((noreturn)) el1_raise_irq(void)
{
	value(RAISE);
	spin_until(&el2_irqs);
	spin_until(&el1_irqs);
	el1_exit();
}

static void __attribute__((noreturn)) el1_wait_irq(void)
{
	spin_until(&el1_irqs);
	el1_exit();
}

static void __attribute__((noreturn)) el1_wait_serror(void)
{
	spin_until(&el1_serrors);
	el1_exit();
}

static void __attribute__((noreturn)) system_off(void)
{
	register uint64_t x0 __asm__("x0") = 0x84000008ull;
	__asm__ volatile("smc #0" : "+r"(x0)::"memory");
	for (;;)
		;
}

static uint64_t at_s1e2(uint64_t va, int write)
{
	if (write)
		__asm__ volatile("at s1e2w, %0" ::"r"(va));
	else
		__asm__ volatile("at s1e2r, %0" ::"r"(va));
	isb();
	return read_sysreg(par_el1);
}

static void el2_mmu(void)
{
	/* attr 0: normal write-back, attr 1: Device-nGnRnE */
	for (int i = 0; i < 512; i++)
		l3[i] = (RO_PAGE + i * 4096ull) | (1 << 10) | (3 << 8) | 3;
	l3[0] |= 1 << 7;                            /* AP[2]: read-only */
	l3[1] = 0;                                  /* hole */
	l3[2] |= 1ull << 54;                        /* XN */
	for (int i = 0; i < 16; i++)
		l2[i] = (0x40000000ull + i * 0x200000ull) | (1 << 10) | (3 << 8) | 1;
	l2[8] = (uint64_t)l3 | 3;
	l1[0] = 0 | (1 << 10) | (1 << 2) | 1;       /* 0..1G: device (the port) */
	l1[1] = (uint64_t)l2 | 3;
	*(volatile uint64_t *)RO_PAGE = 0x5a5a;     /* MMU off: writable */
	*(volatile uint32_t *)XN_PAGE = 0xd65f03c0; /* ret */
	dsb();
	write_sysreg(mair_el2, 0xffull);
	write_sysreg(tcr_el2, 25 | (1 << 8) | (1 << 10) | (3 << 12) | (2 << 16) | (1u << 23) | (1u << 31));
	write_sysreg(ttbr0_el2, (uint64_t)l1);
	isb();
	__asm__ volatile("tlbi alle2\n dsb sy");
	write_sysreg(sctlr_el2, read_sysreg(sctlr_el2) | 1);
	isb();
	check(0x10, read_sysreg(sctlr_el2) & 1, 1);
	check(0x11, *(volatile uint64_t *)RO_PAGE, 0x5a5a);   /* reads still work */
	check(0x12, el2_sync, 0);

	*(volatile uint64_t *)(RO_PAGE + 8) = 1;               /* permission fault, level 3 */
	check(0x13, el2_sync, 1);
	check(0x14, el2_esr >> 26, 0x25);                      /* data abort, same EL */
	check(0x15, el2_esr & 0x3f, 0x0f);
	check(0x16, (el2_esr >> 6) & 1, 1);                    /* WnR */
	check(0x17, el2_far, RO_PAGE + 8);
	check(0x18, *(volatile uint64_t *)(RO_PAGE + 8), 0);   /* not written */

	(void)*(volatile uint64_t *)(HOLE_PAGE + 16);          /* translation fault, level 3 */
	check(0x19, el2_esr >> 26, 0x25);
	check(0x1a, el2_esr & 0x7f, 0x07);                     /* read */
	check(0x1b, el2_far, HOLE_PAGE + 16);
	(void)*(volatile uint64_t *)UNMAPPED;                  /* translation fault, level 1 */
	check(0x1c, el2_esr & 0x3f, 0x05);
	check(0x1d, el2_far, UNMAPPED);
	((void (*)(void))XN_PAGE)();                           /* execute-never */
	check(0x1e, el2_esr >> 26, 0x21);
	check(0x1f, el2_esr & 0x3f, 0x0f);
	check(0x20, el2_far, XN_PAGE);
	check(0x21, el2_sync, 4);

	check(0x22, at_s1e2(RO_PAGE, 1) & 0x7f, (0x0f << 1) | 1);   /* PAR: F, FST */
	check(0x23, at_s1e2(RO_PAGE + 0x10, 0) & 0xfffffffff001ull, RO_PAGE);
	check(0x24, at_s1e2(UNMAPPED, 0) & 0x7f, (0x05 << 1) | 1);
}

static void irq_routing(void)
{
	const uint64_t el1h_masked = 0x3c5, el1h_irq_open = 0x345;
	irq_hook = el1_hook;
	write_sysreg(sp_el1, (uint64_t)(el1_stack + 1024));

	/* IMO: a physical IRQ at EL1 goes to EL2, whatever PSTATE.I at EL1 */
	write_sysreg(hcr_el2, HCR_RW | HCR_IMO);
	isb();
	run_lower((void (*)(void))el1_raise_irq, el1h_masked);
	check(0x30, el2_irqs, 1);
	check(0x31, el2_irq_kind, 9);                 /* lower EL, AArch64, IRQ */
	check(0x32, el2_irq_spsr & 0xf, 5);           /* it interrupted EL1h */
	check(0x33, el1_irqs, 0);
	check(0x34, low_exit[0], (0x16ull << 26) | IL | 0x77);

	/* IMO clear: to EL1 when PSTATE.I allows */
	write_sysreg(hcr_el2, HCR_RW);
	isb();
	lower_on_irq = 1;
	run_lower((void (*)(void))el1_raise_irq, el1h_irq_open);
	check(0x35, el1_irqs, 1);
	check(0x36, el1_kind, 5);                     /* current EL with SP_EL1, IRQ */
	check(0x37, el2_irqs, 1);

	/* at EL2: IMO clear: never taken there; IMO set: taken when I is clear */
	value(RAISE);
	__asm__ volatile("msr daifclr, #2\n nop\n nop\n msr daifset, #2");
	check(0x38, el2_irqs, 1);
	write_sysreg(hcr_el2, HCR_RW | HCR_IMO);
	isb();
	__asm__ volatile("msr daifclr, #2\n nop\n nop\n msr daifset, #2");
	check(0x39, el2_irqs, 2);
	check(0x3a, el2_irq_kind, 5);                 /* current EL with SP_EL2 */

	/* VI with IMO: a virtual IRQ at EL1 */
	el1_irqs = 0;
	lower_on_irq = 0;
	write_sysreg(hcr_el2, HCR_RW | HCR_IMO | HCR_VI);
	isb();
	__asm__ volatile("msr daifclr, #2\n nop\n nop\n msr daifset, #2");
	check(0x3b, el2_irqs, 2);                     /* never at EL2 */
	run_lower((void (*)(void))el1_wait_irq, el1h_irq_open);
	check(0x3c, el1_irqs, 1);
	check(0x3d, el1_kind, 5);
	low_exit[0] = 0;
	run_lower((void (*)(void))el1_wfi, el1h_masked);   /* masked, it still wakes WFI */
	check(0x3e, low_exit[0], (0x16ull << 26) | IL | 0x77);
	write_sysreg(hcr_el2, HCR_RW);

	/* VSE with AMO: a virtual SError at EL1, which clears VSE */
	write_sysreg(hcr_el2, HCR_RW | HCR_AMO | HCR_VSE);
	isb();
	__asm__ volatile("msr daifclr, #4\n nop\n nop\n msr daifset, #4");
	check(0x40, el2_serrors, 0);
	run_lower((void (*)(void))el1_wait_serror, 0x2c5);   /* EL1h, A clear */
	check(0x41, el1_serrors, 1);
	check(0x42, el1_kind, 7);
	check(0x43, el1_esr >> 26, 0x2f);
	check(0x44, read_sysreg(hcr_el2) & HCR_VSE, 0);
	check(0x45, el2_serrors, 0);
}

static void traps(void)
{
	/* TGE: EL0's SVC and aborts go to EL2 */
	write_sysreg(hcr_el2, HCR_RW | HCR_TGE);
	isb();
	run_lower((void (*)(void))el0_svc, 0x3c0);
	check(0x50, low_exit[0], (0x15ull << 26) | IL | 0x42);
	check(0x51, low_exit[1], (uint64_t)el0_svc + 4);
	check(0x52, low_exit[2] & 0xf, 0);
	run_lower((void (*)(void))el0_abort, 0x3c0);
	check(0x53, low_exit[0] >> 26, 0x24);          /* data abort from a lower EL */
	check(0x54, low_exit[0] & 0x3f, 0x00);         /* address size, level 0 */
	check(0x55, low_exit[3], 0x20000000000ull);    /* FAR_EL2 */

	/* TSC: EL1's SMC traps, returning to the SMC */
	write_sysreg(hcr_el2, HCR_RW | HCR_TSC);
	isb();
	run_lower((void (*)(void))el1_smc, 0x3c5);
	check(0x56, low_exit[0], (0x17ull << 26) | IL | 0x33);
	check(0x57, low_exit[1], (uint64_t)el1_smc);

	/* TVM traps EL1's writes of SCTLR_EL1, TRVM its reads of TTBR0_EL1 */
	write_sysreg(hcr_el2, HCR_RW | HCR_TVM);
	isb();
	run_lower((void (*)(void))el1_tvm, 0x3c5);
	check(0x58, low_exit[0], (0x18ull << 26) | IL | (3 << 20) | (1 << 10) | (2 << 5));
	check(0x59, low_exit[1], (uint64_t)el1_tvm_msr);
	write_sysreg(hcr_el2, HCR_RW | HCR_TRVM);
	isb();
	run_lower((void (*)(void))el1_trvm, 0x3c5);
	check(0x5a, low_exit[0], (0x18ull << 26) | IL | (3 << 20) | (2 << 10) | (3 << 5) | 1);
	write_sysreg(hcr_el2, HCR_RW);
	isb();
	run_lower((void (*)(void))el1_trvm, 0x3c5);       /* no trap: the HVC ends it */
	check(0x5b, low_exit[0], (0x16ull << 26) | IL | 0x77);
}

int main(void)
{
	check(1, read_sysreg(CurrentEL), 8);
	check(2, (read_sysreg(id_aa64mmfr1_el1) >> 8) & 0xf, 0);   /* VH: no VHE (E2H is RES0) */
	write_sysreg(vbar_el2, el2_vectors);
	isb();
	el2_mmu();
	irq_routing();
	traps();
	system_off();
}
