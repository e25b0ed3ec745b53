/* Stage-1 translation (VMSAv8-64: 4K, 16K and 64K granules, TTBR0/TTBR1,
 * TCR_EL1, access permissions, PXN/UXN, the access flag) and the software
 * TLB in front of it. The memslot map is stage 2: an IPA in no memslot is
 * MMIO, for the caller to turn into an exit.
 *
 * Two regimes: EL1&0 and, for a vCPU with EL2, EL2's own (non-VHE:
 * SCTLR_EL2, TCR_EL2, TTBR0_EL2, one VA range, no EL0, no ASID). The TLB
 * holds one regime at a time (a64_set_pstate flushes when EL2 is entered
 * or left). HCR_EL2.TGE turns the EL1&0 stage 1 off for EL0.
 */
#include "arch/arm64/a64.h"
#include "softkvm.h"

#define PA_BITS 40   /* ID_AA64MMFR0_EL1.PARange = 0b0010 */
#define OA_MASK 0x0000fffffffff000ull

struct walk {
	uint64_t pa;         /* output address of va */
	unsigned perm;       /* P_* */
	bool global;
	unsigned shift;      /* log2 of the mapping's size */
	int level;
	bool poison;         /* the walk read a poisoned descriptor at poison_pa */
	uint64_t poison_pa;
};

void a64_tlb_flush(struct a64 *c)
{
	for (unsigned i = 0; i < TLB_SIZE; i++)
		c->tlb[i].tag = 0;
	c->brk = true;
}

/* A 4K TLB entry can come from a bigger mapping: drop each entry whose VA
 * falls in the block that holds va (the largest a granule makes is 1G
 * for 4K; 512M / 32M for 64K / 16K: test each entry by page, not block). */
void a64_tlb_flush_va(struct a64 *c, uint64_t va)
{
	(void)va;
	a64_tlb_flush(c);
}

void a64_refresh_slots(struct a64 *c)
{
	c->slots = sk_vcpu_ack_slots(c->vcpu, &c->vm->mem);
	a64_tlb_flush(c);
}

static void *host_of(struct a64 *c, uint64_t pa, const struct sk_memslot **slotp)
{
	const struct sk_memslot *s = sk_mem_find(c->slots, pa);
	if (slotp)
		*slotp = s;
	if (!s)
		return NULL;
	return s->hva + (pa - s->gpa);
}

/* Fault codes out of walk(): FSC | level, or -1 for success. */
static bool read_desc(struct a64 *c, uint64_t pa, uint64_t *d)
{
	uint64_t *p = host_of(c, pa & ~7ull, NULL);
	if (!p)
		return false;
	*d = __atomic_load_n(p, __ATOMIC_RELAXED);
	return true;
}

static unsigned tg0_shift(unsigned tg)
{
	return tg == 1 ? 16 : tg == 2 ? 14 : 12;
}

static unsigned tg1_shift(unsigned tg)
{
	return tg == 3 ? 16 : tg == 1 ? 14 : 12;
}

/* EL2 permissions: AP[2] and XN only; AP[1], PXN and nG do not exist. */
static unsigned perm_el2(uint64_t d, bool ap_no_w, bool xn, uint64_t sctlr)
{
	bool ro = BIT(d, 7) || ap_no_w;
	unsigned p = P_R1;
	if (!ro)
		p |= P_W1;
	if (!BIT(d, 54) && !xn && !(BIT(sctlr, 19) && !ro))
		p |= P_X1;
	return p;
}

/* The EL1&0 stage 1 is off: SCTLR_EL1.M clear, or EL0 under HCR_EL2.TGE. */
static uint64_t sctlr_el10(const struct a64 *c)
{
	if (a64_has_el2(c) && c->el == 0 && (c->sr[SR_HCR2] & HCR_TGE))
		return 0;
	return c->sr[SR_SCTLR];
}

static int walk_regime(struct a64 *c, uint64_t va, struct walk *w, bool el2)
{
	uint64_t tcr = el2 ? c->sr[SR_TCR2] : c->sr[SR_TCR];
	uint64_t sctlr = el2 ? c->sr[SR_SCTLR2] : sctlr_el10(c);
	if (!(sctlr & 1)) {
		if (va >> PA_BITS)
			return FSC_ADDR_SIZE;
		w->pa = va;
		w->perm = 0x3f;
		w->global = true;
		w->shift = 12;
		w->level = 3;
		return -1;
	}
	bool hi = !el2 && BIT(va, 55);
	bool tbi = el2 ? BIT(tcr, 20) : hi ? BIT(tcr, 38) : BIT(tcr, 37);
	unsigned tsz = hi ? BITS(tcr, 21, 16) : BITS(tcr, 5, 0);
	if (tsz < 16)
		tsz = 16;
	if (tsz > 39)
		tsz = 39;
	unsigned ia = 64 - tsz;
	uint64_t top = tbi ? (va << 8) >> 8 : va;
	unsigned topbits = tbi ? 56 : 64;
	uint64_t upper = top >> ia;   /* must be all 0s or all 1s */
	uint64_t ones = (topbits - ia) >= 64 ? ~0ull : ((1ull << (topbits - ia)) - 1);
	if (upper != (hi ? ones : 0))
		return FSC_TRANS + 0;
	if (!el2 && (hi ? BIT(tcr, 23) : BIT(tcr, 7)))   /* EPDn: walks disabled */
		return FSC_TRANS + 0;
	unsigned g = hi ? tg1_shift(BITS(tcr, 31, 30)) : tg0_shift(BITS(tcr, 15, 14));
	unsigned stride = g - 3;
	unsigned levels = (ia - g + stride - 1) / stride;
	int level = 4 - (int)levels;
	uint64_t ttbr = el2 ? c->sr[SR_TTBR02] : hi ? c->sr[SR_TTBR1] : c->sr[SR_TTBR0];
	unsigned first_bits = ia - g - (levels - 1) * stride;
	uint64_t tsize = 8ull << first_bits;
	uint64_t table = ttbr & 0x0000fffffffffffeull & ~(tsize < 64 ? 63 : tsize - 1);
	bool ap_no_w = false, ap_no_el0 = false, xn = false, pxn = false;
	for (;; level++) {
		unsigned shift = g + (3 - level) * stride;
		unsigned bits = level == 4 - (int)levels ? first_bits : stride;
		uint64_t idx = (va >> shift) & ((1ull << bits) - 1);
		uint64_t d;
		if (table >> PA_BITS)
			return FSC_ADDR_SIZE + level;
		unsigned pf;
		if (a64_poisoned(c, table + idx * 8, &pf)) {
			w->poison = true;
			w->poison_pa = table + idx * 8;
			return ((pf & SOFTKVM_POISON_PARITY) ? FSC_PARITY_WALK : FSC_EXT_WALK) + level;
		}
		if (!read_desc(c, table + idx * 8, &d))
			return FSC_EXT;   /* KVM: the walk left the memslots */
		if (!(d & 1))
			return FSC_TRANS + level;
		bool is_table = (d & 2) && level < 3;
		if (!(d & 2) && (level == 3 || level == 0 || (g != 12 && level == 1)))
			return FSC_TRANS + level;   /* reserved block encodings */
		uint64_t oa = d & OA_MASK & ~((1ull << g) - 1);
		if (oa >> PA_BITS)
			return FSC_ADDR_SIZE + level;
		if (is_table) {
			ap_no_w |= BIT(d, 62);
			ap_no_el0 |= BIT(d, 61);
			xn |= BIT(d, 60);
			pxn |= BIT(d, 59);
			table = oa;
			continue;
		}
		if (!BIT(d, 10))
			return FSC_ACCESS + level;
		uint64_t mask = (1ull << shift) - 1;
		w->pa = (d & OA_MASK & ~mask) | (va & mask);
		w->shift = shift;
		w->level = level;
		w->global = el2 || !BIT(d, 11);
		if (el2) {
			w->perm = perm_el2(d, ap_no_w, xn, sctlr);
			return -1;
		}
		bool ro = BIT(d, 7) || ap_no_w;
		bool el0 = BIT(d, 6) && !ap_no_el0;
		bool uxn = BIT(d, 54) || xn;
		bool p_xn = BIT(d, 53) || pxn;
		bool wxn = BIT(sctlr, 19);
		unsigned p = P_R1;
		if (!ro)
			p |= P_W1;
		if (!p_xn && !(el0 && !ro) && !(wxn && !ro))
			p |= P_X1;
		if (el0) {
			p |= P_R0;
			if (!ro)
				p |= P_W0;
		}
		if (!uxn && !(wxn && el0 && !ro))
			p |= P_X0;
		w->perm = p;
		return -1;
	}
}

static int walk(struct a64 *c, uint64_t va, struct walk *w)
{
	return walk_regime(c, va, w, c->el == 2);
}

static unsigned need_perm(int acc, unsigned el)
{
	unsigned p = acc == ACC_R ? P_R0 : acc == ACC_W ? P_W0 : P_X0;
	return el ? p << 3 : p;
}

_Noreturn static void abort_to_guest(struct a64 *c, uint64_t va, int acc, int fsc, uint32_t iss)
{
	bool low = c->el == 0;
	if (acc == ACC_X)
		a64_exception(c, low ? EC_IABT_LOW : EC_IABT_CUR, (uint32_t)fsc, va, true, c->pc);
	uint32_t s = (uint32_t)fsc | (iss & ISS_CM);
	if (acc == ACC_W || (iss & ISS_CM))
		s |= ISS_WNR;   /* cache maintenance reports as a write */
	a64_exception(c, low ? EC_DABT_LOW : EC_DABT_CUR, s, va, true, c->pc);
}

void *a64_xlate_slow(struct a64 *c, uint64_t va, int acc, bool unpriv, uint32_t iss, uint64_t *pa)
{
	struct walk w = {.poison = false};
	int fsc = walk(c, va, &w);
	if (fsc >= 0) {
		if (w.poison)
			a64_sea(c, va, acc, iss, w.poison_pa, host_of(c, w.poison_pa, NULL), (uint32_t)fsc);
		abort_to_guest(c, va, acc, fsc, iss);
	}
	unsigned el = unpriv ? 0 : c->el;
	if (!(w.perm & need_perm(acc, el)))
		abort_to_guest(c, va, acc, FSC_PERM + w.level, iss);
	unsigned strip = c->dbg.armed ? a64_dbg_watch(c, va, acc, iss, unpriv) : 0;
	*pa = w.pa;
	const struct sk_memslot *slot;
	uint8_t *h = host_of(c, w.pa, &slot);
	if (!h) {
		if (acc == ACC_X)   /* KVM injects an external abort for a fetch from MMIO */
			abort_to_guest(c, va, acc, FSC_EXT, 0);
		return NULL;
	}
	unsigned pf;
	if (a64_poisoned(c, w.pa, &pf))   /* checked here only: never in the TLB */
		a64_sea(c, va, acc, iss, w.pa, h, (pf & SOFTKVM_POISON_PARITY) ? FSC_PARITY : FSC_EXT);
	bool ro_slot = slot->flags & KVM_MEM_READONLY;
	if (acc == ACC_W && ro_slot)
		return NULL;   /* a write to a read-only slot is MMIO */
	struct a64_tlbe *e = &c->tlb[(va >> 12) & (TLB_SIZE - 1)];
	e->tag = (va & ~0xfffull) | 1;
	e->addend = (uintptr_t)h - (uintptr_t)va;
	e->pa = w.pa & ~0xfffull;
	e->slot = slot;
	e->asid = c->asid;
	e->global = w.global;
	unsigned p = w.perm;
	if (ro_slot)
		p &= ~(unsigned)(P_W0 | P_W1);
	e->perm = (uint8_t)(p & ~strip);
	return h;
}

static uint64_t at_regime(struct a64 *c, uint64_t va, int acc, unsigned el, bool el2)
{
	struct walk w = {.poison = false};
	int fsc = walk_regime(c, va, &w, el2);
	if (fsc < 0 && !(w.perm & need_perm(acc, el)))
		fsc = FSC_PERM + w.level;
	if (fsc >= 0)
		return 1 | ((uint64_t)fsc << 1);
	/* F=0, SH=inner shareable, ATTR from MAIR would go in [63:56]. */
	return (w.pa & OA_MASK) | (3ull << 7) | (0xffull << 56);
}

/* AT S1E1R/W, S1E0R/W (the EL1&0 regime, also from EL2): PAR_EL1 with
 * the fault status or the PA. */
uint64_t a64_at(struct a64 *c, uint64_t va, int acc, bool unpriv)
{
	return at_regime(c, va, acc, unpriv ? 0 : 1, false);
}

uint64_t a64_at_el2(struct a64 *c, uint64_t va, int acc)
{
	return at_regime(c, va, acc, 2, true);
}
