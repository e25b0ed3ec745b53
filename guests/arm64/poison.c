/* Guest memory poison (R1-R5, tests/arm64/poison.c): the host poisons a
 * page before each step (it sees the step number through value()); the
 * guest's access consumes it, the VMM gets SIGBUS / KVM_EXIT_ARM_SEA and
 * injects an SEA, which this guest checks: ESR and FAR. */
#include "lib.h"

#define DATA 0x41000000ul          /* the data page (identity) */
#define TT0 0x41100000ul           /* TTBR0 tables: L0, L1 */
#define TT1 0x41110000ul           /* TTBR1 tables: L0..L3, one page each */
#define TVA 0xffff000000000000ul   /* TTBR1 VA of DATA through TT1 */

#define ESR_DABT(fsc) ((0x25ull << 26) | (1ull << 25) | (fsc))

#define AF (1ull << 10)
#define SH (3ull << 8)
#define NORMAL (1ull << 2)         /* MAIR attr 1 */

static uint64_t load(uint64_t va)
{
	uint64_t r;
	__asm__ volatile("ldr %0, [%1]" : "=r"(r) : "r"(va) : "memory");
	return r;
}

static void store(uint64_t va, uint64_t v)
{
	__asm__ volatile("str %0, [%1]" ::"r"(v), "r"(va) : "memory");
}

/* One poisoned access: the host injected an SEA, the handler skipped it. */
static void expect_sea(uint64_t id, uint64_t fsc, uint64_t far)
{
	check(id, exc_count, 1);
	check(id + 1, last_esr, ESR_DABT(fsc));
	check(id + 2, last_far, far);
	exc_count = 0;
}

static void setup_mmu(void)
{
	uint64_t *t0 = (uint64_t *)TT0, *t1 = (uint64_t *)TT1;
	for (unsigned i = 0; i < 2 * 512; i++)
		t0[i] = 0;
	for (unsigned i = 0; i < 4 * 512; i++)
		t1[i] = 0;
	/* TTBR0: L0[0] -> L1; L1[0] = device 1G at 0, L1[1] = RAM 1G at 1G */
	t0[0] = (TT0 + 0x1000) | 3;
	t0[512 + 0] = 0x00000000ull | AF | 1;
	t0[512 + 1] = 0x40000000ull | AF | SH | NORMAL | 1;
	/* TTBR1: L0[0] -> L1[0] -> L2[0] -> L3[0] = DATA */
	t1[0] = (TT1 + 0x1000) | 3;
	t1[512] = (TT1 + 0x2000) | 3;
	t1[1024] = (TT1 + 0x3000) | 3;
	t1[1536] = DATA | AF | SH | NORMAL | 3;
	dsb();
	write_sysreg(mair_el1, 0xff00ull);
	/* T0SZ = T1SZ = 16, 4K granules (TG0 0, TG1 2), IPS 40 bits */
	write_sysreg(tcr_el1, 16ull | (16ull << 16) | (2ull << 30) | (2ull << 32));
	write_sysreg(ttbr0_el1, TT0);
	write_sysreg(ttbr1_el1, TT1);
	isb();
	write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | 1);
	isb();
}

int main(void)
{
	store(DATA + 8, 0x55);
	/* 1: load from a poisoned page, MMU off */
	value(1);
	load(DATA + 8);
	expect_sea(0x10, 0x10, DATA + 8);
	/* 2: store to it */
	value(2);
	store(DATA + 16, 1);
	expect_sea(0x20, 0x10, DATA + 16);
	/* 3: unpoisoned, the data is intact and the store did not happen */
	value(3);
	check(0x30, load(DATA + 8), 0x55);
	check(0x31, load(DATA + 16), 0);
	check(0x32, exc_count, 0);

	setup_mmu();
	check(0x40, load(TVA + 8), 0x55);
	/* 4..7: a stage-1 walk reads a poisoned table, levels 0..3 */
	for (unsigned l = 0; l < 4; l++) {
		value(4 + l);
		load(TVA + 8);
		expect_sea(0x50 + 0x10 * l, 0x14 + l, TVA + 8);
	}
	/* 8: parity/ECC on the data access; 9: on the walk, level 1 */
	value(8);
	load(TVA + 8);
	expect_sea(0x90, 0x18, TVA + 8);
	value(9);
	load(TVA + 8);
	expect_sea(0xa0, 0x1d, TVA + 8);
	/* 10: nothing poisoned any more */
	value(10);
	check(0xb0, load(TVA + 8), 0x55);
	check(0xb1, exc_count, 0);
	return 0;
}
