/* Stage 1 translation for EL1&0 with the 4K granule, 32-bit VAs (T0SZ=32,
 * so the walk starts at level 1) and every level used:
 *   0x00000000-0x3fffffff  1G block, Device-nGnRnE (the PL011 is here)
 *   0x40000000-0x7fffffff  identity, normal memory: a level 2 table of 2M
 *                          blocks whose first entry is a level 3 table of
 *                          4K pages (the image lives in that first 2M)
 *   0x80000000-0xbfffffff  1G block aliasing the RAM at 0x40000000
 *   0xc0000000-0xffffffff  invalid: an access there is a data abort */
#include "demo.h"

#define DESC_BLOCK 0x1ull
#define DESC_TABLE 0x3ull
#define DESC_PAGE 0x3ull
#define DESC_AF (1ull << 10)
#define DESC_SH_INNER (3ull << 8)
#define DESC_ATTR(i) ((uint64_t)(i) << 2)
#define DESC_XN (3ull << 53)		/* PXN | UXN */

#define ATTR_DEVICE 0			/* MAIR attr0: Device-nGnRnE */
#define ATTR_NORMAL 1			/* MAIR attr1: normal, write-back */
#define MAIR_VALUE 0xff00ull

#define TCR_T0SZ(n) ((uint64_t)(n))
#define TCR_IRGN0_WBWA (1ull << 8)
#define TCR_ORGN0_WBWA (1ull << 10)
#define TCR_SH0_INNER (3ull << 12)
#define TCR_TG0_4K (0ull << 14)
#define TCR_EPD1 (1ull << 23)

#define SCTLR_M (1ull << 0)
#define SCTLR_C (1ull << 2)
#define SCTLR_I (1ull << 12)

#define RAM_BASE 0x40000000ull
#define SZ_4K 0x1000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull

static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l2_ram[512] __attribute__((aligned(4096)));
static uint64_t l3_low[512] __attribute__((aligned(4096)));

static const uint64_t normal = DESC_AF | DESC_SH_INNER | DESC_ATTR(ATTR_NORMAL);
static const uint64_t device = DESC_AF | DESC_XN | DESC_ATTR(ATTR_DEVICE);

static void build_tables(void)
{
	for (unsigned i = 0; i < 512; i++) {
		l3_low[i] = (RAM_BASE + i * SZ_4K) | normal | DESC_PAGE;
		l2_ram[i] = (RAM_BASE + i * SZ_2M) | normal | DESC_BLOCK;
	}
	l2_ram[0] = (uint64_t)(uintptr_t)l3_low | DESC_TABLE;
	l1[0] = 0 | device | DESC_BLOCK;
	l1[1] = (uint64_t)(uintptr_t)l2_ram | DESC_TABLE;
	l1[2] = RAM_BASE | normal | DESC_BLOCK;
	l1[3] = 0;
}

int mmu_enable(void)
{
	build_tables();
	dsb();
	write_sysreg(mair_el1, MAIR_VALUE);
	write_sysreg(tcr_el1, TCR_T0SZ(32) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA |
			      TCR_SH0_INNER | TCR_TG0_4K | TCR_EPD1);
	write_sysreg(ttbr0_el1, (uintptr_t)l1);
	isb();
	__asm__ volatile("tlbi vmalle1\n\tdsb nsh" ::: "memory");
	isb();
	write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | SCTLR_M | SCTLR_C |
				SCTLR_I);
	isb();
	return (read_sysreg(sctlr_el1) & SCTLR_M) ? 0 : -1;
}
