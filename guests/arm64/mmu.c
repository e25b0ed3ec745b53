/* Stage-1 translation with the 4K, 16K and 64K granules: mappings at every
 * level, translation / access-flag / permission faults with their level,
 * execute-never, AT, TLB maintenance, ASIDs and TTBR1. */
#include "lib.h"

#define ESR_DABT(fsc) ((0x25ull << 26) | (1ull << 25) | (fsc))
#define ESR_IABT(fsc) ((0x21ull << 26) | (1ull << 25) | (fsc))
#define WNR 0x40

#define AF (1ull << 10)
#define SH_INNER (3ull << 8)
#define ATTR_DEV (0ull << 2)
#define ATTR_MEM (1ull << 2)
#define AP_RO (2ull << 6)
#define AP_EL0 (1ull << 6)
#define NG (1ull << 11)
#define PXN (1ull << 53)
#define UXN (1ull << 54)
#define MEM (AF | SH_INNER | ATTR_MEM)

#define POOL_TABLES 24
static uint8_t pool[POOL_TABLES][65536] __attribute__((aligned(65536)));
static unsigned pool_used;
static uint8_t pages[6][65536] __attribute__((aligned(65536)));

struct cfg {
	unsigned g;       /* granule shift */
	unsigned t0sz;
	unsigned tg0;     /* TCR_EL1.TG0 encoding */
	unsigned tg1;
	unsigned start;   /* first level */
	unsigned blk;     /* level of the identity blocks */
};

static uint64_t *new_table(const struct cfg *c)
{
	uint64_t *t = (uint64_t *)pool[pool_used++];
	for (unsigned i = 0; i < (1u << c->g) / 8; i++)
		t[i] = 0;
	return t;
}

static unsigned shift_of(const struct cfg *c, unsigned level)
{
	return c->g + (3 - level) * (c->g - 3);
}

static uint64_t idx(const struct cfg *c, uint64_t va, unsigned level)
{
	unsigned bits = c->g - 3;
	return (va >> shift_of(c, level)) & ((1ull << bits) - 1);
}

/* Map va -> pa with a leaf at `level`; a leaf with attrs 0 is left invalid. */
static uint64_t *map(const struct cfg *c, uint64_t *root, uint64_t va, uint64_t pa, unsigned level, uint64_t attrs)
{
	uint64_t *t = root;
	for (unsigned l = c->start; l < level; l++) {
		uint64_t *e = &t[idx(c, va, l)];
		if (!(*e & 1))
			*e = (uint64_t)new_table(c) | 3;
		t = (uint64_t *)(*e & 0x0000fffffffff000ull & ~((1ull << c->g) - 1));
	}
	uint64_t *e = &t[idx(c, va, level)];
	*e = attrs ? pa | attrs | (level == 3 ? 3 : 1) : 0;
	return e;
}

static void tlbi_all(void)
{
	__asm__ volatile("dsb ishst\n tlbi vmalle1is\n dsb ish\n isb" ::: "memory");
}

static uint64_t *identity(const struct cfg *c)
{
	uint64_t *root = new_table(c);
	uint64_t bsz = 1ull << shift_of(c, c->blk);
	map(c, root, 0x09000000ul & ~(bsz - 1), 0x09000000ul & ~(bsz - 1), c->blk, AF | ATTR_DEV | PXN | UXN);
	map(c, root, 0x40000000ul, 0x40000000ul, c->blk, MEM | UXN);
	return root;
}

static void mmu_on(const struct cfg *c, uint64_t *ttbr0, uint64_t *ttbr1, unsigned t1sz)
{
	write_sysreg(mair_el1, 0xff00);
	uint64_t tcr = c->t0sz | ((uint64_t)c->tg0 << 14) | (1u << 8) | (1u << 10) | (3u << 12) |
		       (2ull << 32) | (1ull << 36);
	if (ttbr1)
		tcr |= ((uint64_t)t1sz << 16) | ((uint64_t)c->tg1 << 30) | (1u << 24) | (1u << 26) | (3u << 28);
	else
		tcr |= 1u << 23;   /* EPD1 */
	write_sysreg(tcr_el1, tcr);
	write_sysreg(ttbr0_el1, (uint64_t)ttbr0);
	write_sysreg(ttbr1_el1, (uint64_t)ttbr1);
	tlbi_all();
	write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | 1 | (1 << 2) | (1 << 12));
	isb();
}

static void mmu_off(void)
{
	write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~1ull);
	isb();
	tlbi_all();
}

static uint64_t ld(uint64_t va)
{
	return *(volatile uint64_t *)va;
}

static void st(uint64_t va, uint64_t v)
{
	*(volatile uint64_t *)va = v;
}

static uint64_t at_s1e1r(uint64_t va)
{
	__asm__ volatile("at s1e1r, %0\n isb" ::"r"(va));
	return read_sysreg(par_el1);
}

static void run(const struct cfg *c, unsigned id)
{
	pool_used = 0;
	uint64_t psz = 1ull << c->g, base = 0x80000000ull;
	uint64_t *root = identity(c);
	unsigned l3 = 3;
	uint64_t p0 = (uint64_t)pages[0], p1 = (uint64_t)pages[1], p2 = (uint64_t)pages[2];
	map(c, root, base, p0, l3, MEM | UXN);                       /* page 0: RW */
	map(c, root, base + 1 * psz, 0, l3, 0);                      /* page 1: invalid */
	map(c, root, base + 2 * psz, p1, l3, (MEM & ~AF) | UXN);     /* page 2: AF = 0 */
	map(c, root, base + 3 * psz, p1, l3, MEM | AP_RO | UXN);     /* page 3: read-only */
	map(c, root, base + 4 * psz, p2, l3, MEM | PXN | UXN);       /* page 4: no execute */
	map(c, root, base + 5 * psz, p2, l3, MEM);                   /* page 5: EL1 only, exec */
	*(volatile uint64_t *)p1 = 0x1111;
	*(volatile uint32_t *)p2 = 0xd65f03c0;   /* ret */
	__asm__ volatile("dc cvau, %0\n dsb ish\n ic ivau, %0\n dsb ish" ::"r"(p2) : "memory");
	mmu_on(c, root, 0, 0);
	id <<= 8;

	st(base + 8, 0x55aa);
	check(id | 1, *(volatile uint64_t *)(p0 + 8), 0x55aa);
	check(id | 2, ld(base + 3 * psz), 0x1111);
	check(id | 3, at_s1e1r(base + 16) & 0xfffffffff000ull, p0);

	uint64_t n = exc_count;
	ld(base + psz);
	check(id | 0x10, last_esr, ESR_DABT(0x07));
	check(id | 0x11, last_far, base + psz);
	check(id | 0x12, at_s1e1r(base + psz) & 0xfff, 1 | (0x07 << 1));
	ld(base + 2 * psz + 8);
	check(id | 0x13, last_esr, ESR_DABT(0x0b));
	check(id | 0x14, last_far, base + 2 * psz + 8);
	st(base + 3 * psz, 1);
	check(id | 0x15, last_esr, ESR_DABT(0x0f | WNR));
	/* a hole above the last table: a fault at the level that lacks it */
	uint64_t hole = base + (1ull << shift_of(c, c->blk)) * 2;
	ld(hole);
	check(id | 0x16, last_esr, ESR_DABT(0x04 + c->blk));
	/* beyond the VA size of TTBR0: level 0 translation fault */
	ld(1ull << (64 - c->t0sz));
	check(id | 0x17, last_esr, ESR_DABT(0x04));
	/* execute-never, then an executable page */
	((void (*)(void))(base + 4 * psz))();
	check(id | 0x18, last_esr, ESR_IABT(0x0f));
	check(id | 0x19, last_far, base + 4 * psz);
	((void (*)(void))(base + 5 * psz))();
	check(id | 0x1a, exc_count, n + 6);
	/* LDTR: EL0 permissions from EL1 */
	__asm__ volatile("ldtr x0, [%0]" ::"r"(base) : "x0", "memory");
	check(id | 0x1b, last_esr, ESR_DABT(0x0f));
	check(id | 0x1c, exc_count, n + 7);

	/* remap page 0 to page 1: visible once the TLB entry is invalidated */
	uint64_t *e = map(c, root, base, p1, l3, MEM | UXN);
	__asm__ volatile("dsb ishst\n tlbi vaae1is, %0\n dsb ish\n isb" ::"r"(base >> 12) : "memory");
	check(id | 0x20, ld(base), 0x1111);
	(void)e;

	/* ASIDs: the same VA, non-global, under two ASIDs */
	uint64_t *root2 = identity(c);
	map(c, root, base, p0, l3, MEM | UXN | NG);
	map(c, root2, base, p1, l3, MEM | UXN | NG);
	tlbi_all();
	*(volatile uint64_t *)p0 = 0xa0;
	write_sysreg(ttbr0_el1, (uint64_t)root | (1ull << 48));
	isb();
	check(id | 0x30, ld(base), 0xa0);
	write_sysreg(ttbr0_el1, (uint64_t)root2 | (2ull << 48));
	isb();
	check(id | 0x31, ld(base), 0x1111);
	write_sysreg(ttbr0_el1, (uint64_t)root | (1ull << 48));
	isb();
	check(id | 0x32, ld(base), 0xa0);
	mmu_off();

	/* TTBR1: the top of the address space */
	pool_used = 0;
	root = identity(c);
	uint64_t *r1 = new_table(c);
	uint64_t hi = ~0ull << (64 - c->t0sz);   /* lowest VA of TTBR1 with T1SZ = T0SZ */
	map(c, r1, hi, p1, l3, MEM | UXN);
	mmu_on(c, root, r1, c->t0sz);
	check(id | 0x40, ld(hi), 0x1111);
	mmu_off();
}

int main(void)
{
	static const struct cfg cfgs[] = {
		{12, 25, 0, 2, 1, 1},   /* 4K, 39-bit VA: levels 1-3, 1G blocks */
		{14, 28, 2, 1, 2, 2},   /* 16K, 36-bit VA: levels 2-3, 32M blocks */
		{16, 22, 1, 3, 2, 2},   /* 64K, 42-bit VA: levels 2-3, 512M blocks */
		{12, 16, 0, 2, 0, 1},   /* 4K, 48-bit VA: levels 0-3 */
	};
	for (unsigned i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		run(&cfgs[i], i + 1);
	puts_("mmu done\n");
	return 0;
}
