/* Self-hosted debug at EL1: watchpoints (EC 0x35, WnR, FAR, load/store
 * selection, byte selection), breakpoints (EC 0x31) and what gates them
 * (MDSCR_EL1.MDE/KDE, PSTATE.D, the OS lock), software step (EC 0x33,
 * ISV), the breakpoint/watchpoint registers' storage. Then, for
 * tests/arm64/debug.c, the VMM's own (KVM_GUESTDBG_USE_HW) breakpoint and
 * watchpoint: the addresses go out as values, the host catches them. */
#include "lib.h"

#define MDSCR_SS 1u
#define MDSCR_KDE (1u << 13)
#define MDSCR_MDE (1u << 15)
#define BCR_EL1 ((0xfu << 5) | (1u << 1) | 1u)   /* BAS, PMC = EL1, E */
#define WCR(bas, lsc) (((bas) << 5) | ((lsc) << 3) | (1u << 1) | 1u)

static volatile uint64_t data[4] __attribute__((aligned(32)));
static volatile uint64_t step_pc[8], step_esr[8];
static volatile unsigned nsteps;

extern char bp_here[], step_start[], hw_bp[];

static int on_step(struct frame *f, uint64_t kind)
{
	(void)kind;
	uint64_t esr = read_sysreg(esr_el1);
	if ((esr >> 26) != 0x33)
		return 0;
	step_pc[nsteps % 8] = f->elr;   /* the last eight */
	step_esr[nsteps % 8] = esr;
	nsteps++;
	f->spsr |= 1u << 21;   /* SS: step the next one */
	return 1;
}

static void debug_on(uint64_t mdscr)
{
	write_sysreg(mdscr_el1, mdscr);
	__asm__ volatile("msr daifclr, #8");
	isb();
}

static void debug_off(void)
{
	__asm__ volatile("msr daifset, #8");
	write_sysreg(mdscr_el1, 0);
	write_sysreg(dbgbcr0_el1, 0);
	write_sysreg(dbgwcr0_el1, 0);
	write_sysreg(dbgwcr1_el1, 0);
	isb();
	exc_count = 0;
	last_esr = 0;
}

static void __attribute__((noinline)) bp_nop(void)
{
	__asm__ volatile(".global bp_here\n bp_here: nop");
}

static void str32(uintptr_t a, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" ::"r"(v), "r"(a) : "memory");
}

static void watchpoints(void)
{
	data[1] = 7;
	write_sysreg(dbgwvr0_el1, (uint64_t)&data[1]);
	write_sysreg(dbgwcr0_el1, WCR(0xf0u, 2));   /* bytes 4..7, stores */
	debug_on(MDSCR_MDE | MDSCR_KDE);
	data[0] = 1;                                 /* another doubleword */
	check(0x10, exc_count, 0);
	str32((uintptr_t)&data[1], 9);               /* bytes 0..3: not watched */
	check(0x11, exc_count, 0);
	(void)data[1];                               /* a load: stores only */
	check(0x12, exc_count, 0);
	str32((uintptr_t)&data[1] + 4, 5);
	check(0x13, exc_count, 1);
	check(0x14, last_esr, (0x35ull << 26) | (1ull << 25) | (1 << 6) | 0x22);
	check(0x15, last_far, (uint64_t)&data[1] + 4);
	check(0x16, data[1], 9);                     /* the store did not happen */

	write_sysreg(dbgwcr0_el1, WCR(0xffu, 1));    /* loads */
	isb();
	exc_count = 0;
	(void)data[1];
	check(0x17, exc_count, 1);
	check(0x18, last_esr & ((1 << 6) | 0x3f), 0x22);   /* WnR = 0 */
	data[1] = 3;
	check(0x19, exc_count, 1);

	write_sysreg(dbgwvr1_el1, (uint64_t)&data[2]);   /* a second one, masked: 32 bytes */
	write_sysreg(dbgwcr1_el1, (5u << 24) | WCR(0xffu, 3));
	isb();
	data[3] = 1;                                      /* inside the 32-byte block */
	check(0x1a, exc_count, 2);
	check(0x1b, last_far, (uint64_t)&data[3]);
	debug_off();
}

static void breakpoints(void)
{
	write_sysreg(dbgbvr0_el1, (uint64_t)bp_here);
	write_sysreg(dbgbcr0_el1, BCR_EL1);
	check(0x20, read_sysreg(dbgbvr0_el1), (uint64_t)bp_here);
	write_sysreg(mdscr_el1, MDSCR_MDE | MDSCR_KDE);
	isb();
	bp_nop();                                    /* PSTATE.D set: masked */
	check(0x21, exc_count, 0);
	debug_on(MDSCR_MDE);                         /* no KDE: none at EL1 */
	bp_nop();
	check(0x22, exc_count, 0);
	debug_on(MDSCR_MDE | MDSCR_KDE);
	bp_nop();
	check(0x23, exc_count, 1);
	check(0x24, last_esr, (0x31ull << 26) | (1ull << 25) | 0x22);
	check(0x25, last_elr, (uint64_t)bp_here);

	write_sysreg(oslar_el1, 1);                  /* the OS lock holds them off */
	isb();
	check(0x26, read_sysreg(oslsr_el1), 0xa);
	bp_nop();
	check(0x27, exc_count, 1);
	write_sysreg(oslar_el1, 0);
	isb();
	check(0x28, read_sysreg(oslsr_el1), 0x8);
	bp_nop();
	check(0x29, exc_count, 2);
	debug_off();
}

static void single_step(void)
{
	sync_hook = on_step;
	nsteps = 0;
	debug_on(MDSCR_SS | MDSCR_KDE);   /* active-pending: a step exception at once */
	__asm__ volatile(".global step_start\n step_start:\n"
			 "	mov x0, #1\n"
			 "	add x0, x0, #1\n"
			 "	msr daifset, #8\n" ::: "x0");
	sync_hook = 0;
	unsigned n = nsteps;
	check(0x30, n >= 3, 1);
	/* the last three: before each of the three instructions */
	check(0x31, step_pc[(n - 3) % 8], (uint64_t)step_start);
	check(0x32, step_pc[(n - 2) % 8], (uint64_t)step_start + 4);
	check(0x33, step_pc[(n - 1) % 8], (uint64_t)step_start + 8);
	check(0x34, step_esr[(n - 1) % 8], (0x33ull << 26) | (1ull << 25) | (1 << 24) | 0x22);   /* ISV */
	debug_off();
}

static void vmm_debug(void)
{
	value((uint64_t)hw_bp);
	value((uint64_t)&data[0]);
	__asm__ volatile(".global hw_bp\n hw_bp: nop");
	data[0] = 0x77;                              /* the VMM's watchpoint */
	check(0x40, exc_count, 0);                   /* the guest saw neither */
}

int main(void)
{
	uint64_t dfr0 = read_sysreg(id_aa64dfr0_el1);
	check(1, dfr0 & 0xf, 6);                     /* Armv8 debug */
	check(2, (dfr0 >> 12) & 0xf, 5);             /* 6 breakpoints */
	check(3, (dfr0 >> 20) & 0xf, 3);             /* 4 watchpoints */
	write_sysreg(dbgbvr5_el1, 0x1007);           /* bits [1:0] are RES0 */
	check(4, read_sysreg(dbgbvr5_el1), 0x1004);
	write_sysreg(dbgwcr3_el1, 0x1ff5);
	check(5, read_sysreg(dbgwcr3_el1), 0x1ff5);
	write_sysreg(dbgwcr3_el1, 0);
	debug_off();
	watchpoints();
	breakpoints();
	single_step();
	vmm_debug();
	return 0;
}
