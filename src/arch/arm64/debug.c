/* Self-hosted debug of the guest and KVM_SET_GUEST_DEBUG.
 *
 * Hardware breakpoints (DBGBCR/BVR<n>_EL1), watchpoints (DBGWCR/WVR<n>_EL1)
 * and software step (MDSCR_EL1.SS with PSTATE.SS) taken to EL1 as the
 * architecture's self-hosted debug gives them, gated by MDSCR_EL1.MDE/KDE,
 * PSTATE.D and the OS lock (OSLAR/OSLSR, OSDLR). With KVM_GUESTDBG_USE_HW
 * the VMM's registers replace the guest's and a match is a KVM_EXIT_DEBUG
 * carrying the syndrome ESR_EL2 would have (EC 0x30 / 0x34, FAR for a
 * watchpoint), as KVM's kvm_handle_guest_debug reports it.
 *
 * Cost: nothing while c->dbg.armed is false. Armed, the run loop executes
 * one instruction per block (a64_dbg_before checks step and breakpoints
 * in front of each), and pages holding a watched address never keep read
 * or write permission in the software TLB, so their accesses reach the
 * walker, which calls a64_dbg_watch.
 */
#include <errno.h>

#include "arch/arm64/a64.h"

#define MDSCR_SS 1u
#define MDSCR_KDE (1u << 13)
#define MDSCR_MDE (1u << 15)
#define DBG_FSC 0x22            /* IFSC/DFSC: debug exception */
#define VA_MASK 0x0001fffffffffffcull

static bool os_locked(const struct a64 *c)
{
	return (c->sr[SR_OSLSR] & 2) || (c->sr[SR_OSDLR] & 1);
}

static bool ext_hw(const struct a64 *c)
{
	return (c->guest_debug & KVM_GUESTDBG_USE_HW) != 0;
}

/* Breakpoint, watchpoint and step exceptions can be taken to EL1 from
 * the current state. EL2 of the guest takes none: MDCR_EL2.TDE is not
 * emulated. */
static bool enabled_here(const struct a64 *c)
{
	if (os_locked(c) || c->el == 2)
		return false;
	if (c->el == 0)
		return true;
	return (c->sr[SR_MDSCR] & MDSCR_KDE) && !(c->pstate & PS_D);
}

static bool ss_enabled(const struct a64 *c)
{
	return (c->sr[SR_MDSCR] & MDSCR_SS) && enabled_here(c);
}

static uint64_t dbg_va(uint64_t vr)
{
	return (uint64_t)sext(vr & VA_MASK, 49);
}

/* PMC / PAC: bit 0 matches at EL1, bit 1 at EL0. */
static bool el_match(uint64_t cr, unsigned el)
{
	return el < 2 && (BITS(cr, 2, 1) & (el ? 1 : 2));
}

static bool bp_hit(const uint64_t *bcr, const uint64_t *bvr, uint64_t pc, unsigned el)
{
	for (unsigned i = 0; i < A64_NBRP; i++) {
		uint64_t b = bcr[i];
		/* BT 0/1: address match (linking is not implemented) */
		if ((b & 1) && BITS(b, 23, 21) == 0 && el_match(b, el) && dbg_va(bvr[i]) == (pc & ~3ull))
			return true;
	}
	return false;
}

/* The bytes a watchpoint watches: [*lo, *hi). BAS selects bytes of the
 * doubleword; MASK >= 3 watches an aligned power-of-two range. */
static void wp_range(uint64_t wcr, uint64_t wvr, uint64_t *lo, uint64_t *hi, unsigned *bas)
{
	unsigned mask = BITS(wcr, 28, 24);
	uint64_t a = dbg_va(wvr);
	if (mask >= 3) {
		*lo = a & ~((1ull << mask) - 1);
		*hi = *lo + (1ull << mask);
		*bas = 0xff;
		return;
	}
	*lo = a & ~7ull;
	*hi = *lo + 8;
	*bas = (unsigned)BITS(wcr, 12, 5);
}

static bool wp_hit(uint64_t wcr, uint64_t wvr, uint64_t va, unsigned size, bool write, unsigned el)
{
	if (!(wcr & 1) || !el_match(wcr, el) || !(BITS(wcr, 4, 3) & (write ? 2 : 1)))
		return false;
	uint64_t lo, hi;
	unsigned bas;
	wp_range(wcr, wvr, &lo, &hi, &bas);
	if (hi - lo > 8)
		return va < hi && va + size > lo;
	for (unsigned i = 0; i < 8; i++)
		if (((bas >> i) & 1) && lo + i >= va && lo + i < va + size)
			return true;
	return false;
}

static bool wp_on_page(uint64_t wcr, uint64_t wvr, uint64_t page)
{
	if (!(wcr & 1))
		return false;
	uint64_t lo, hi;
	unsigned bas;
	wp_range(wcr, wvr, &lo, &hi, &bas);
	return lo < page + 0x1000 && hi > page;
}

void a64_dbg_update(struct a64 *c)
{
	struct a64_dbg *d = &c->dbg;
	bool on = false;
	if (ext_hw(c)) {
		for (unsigned i = 0; i < A64_NBRP; i++)
			on |= d->xbcr[i] & 1;
		for (unsigned i = 0; i < A64_NWRP; i++)
			on |= d->xwcr[i] & 1;
	}
	uint64_t m = c->sr[SR_MDSCR];
	if (!os_locked(c)) {
		on |= (m & MDSCR_SS) != 0;
		if ((m & MDSCR_MDE) && !ext_hw(c)) {
			for (unsigned i = 0; i < A64_NBRP; i++)
				on |= d->bcr[i] & 1;
			for (unsigned i = 0; i < A64_NWRP; i++)
				on |= d->wcr[i] & 1;
		}
	}
	d->armed = on;
	if (!on)
		d->stepping = false;
	a64_tlb_flush(c);   /* watched pages leave (or may enter) the TLB */
}

_Noreturn void a64_dbg_exit(struct a64 *c, uint64_t esr, uint64_t far)
{
	struct kvm_run *run = a64_run(c);
	run->exit_reason = KVM_EXIT_DEBUG;
	run->debug.arch.hsr = (uint32_t)esr;
	run->debug.arch.hsr_high = (uint32_t)(esr >> 32);
	run->debug.arch.far = far;
	run->flags = KVM_DEBUG_ARCH_HSR_HIGH_VALID;
	c->stepped = false;
	a64_exit(c);
}

/* At an instruction boundary, in the architecture's priority order:
 * a pending software step, then a breakpoint on the next instruction.
 * Otherwise, when stepping is active-not-pending, the instruction about
 * to run is the stepped one: PSTATE.SS drops to 0 now, so that whatever
 * it does (ERET may set SS again) leaves the state machine right. */
bool a64_dbg_before(struct a64 *c)
{
	struct a64_dbg *d = &c->dbg;
	bool stepped = d->stepping;
	d->stepping = false;
	bool ss = ss_enabled(c);
	if (ss && !(c->pstate & PS_SS)) {
		uint32_t iss = DBG_FSC | (stepped ? ISS_ISV : 0);   /* ISV: EX is valid (0) */
		a64_raise(c, c->el ? EC_SOFTSTEP_CUR : EC_SOFTSTEP_LOW, iss, 0, false, c->pc);
		return true;
	}
	if (ext_hw(c)) {
		if (bp_hit(d->xbcr, d->xbvr, c->pc, c->el))
			a64_dbg_exit(c, ((uint64_t)EC_BKPT_LOW << 26) | ESR_IL | DBG_FSC, 0);
	} else if ((c->sr[SR_MDSCR] & MDSCR_MDE) && enabled_here(c) && bp_hit(d->bcr, d->bvr, c->pc, c->el)) {
		a64_raise(c, EC_BKPT_LOW + (c->el ? 1 : 0), DBG_FSC, 0, false, c->pc);
		return true;
	}
	if (ss) {
		c->pstate &= ~PS_SS;
		d->stepping = true;
	}
	return false;
}

unsigned a64_dbg_watch(struct a64 *c, uint64_t va, int acc, uint32_t iss, bool unpriv)
{
	struct a64_dbg *d = &c->dbg;
	const uint64_t *wcr, *wvr;
	if (ext_hw(c)) {
		wcr = d->xwcr;
		wvr = d->xwvr;
	} else if ((c->sr[SR_MDSCR] & MDSCR_MDE) && !os_locked(c)) {
		wcr = d->wcr;
		wvr = d->wvr;
	} else {
		return 0;
	}
	uint64_t page = va & ~0xfffull;
	bool watched = false;
	for (unsigned i = 0; i < A64_NWRP; i++)
		watched |= wp_on_page(wcr[i], wvr[i], page);
	if (!watched)
		return 0;
	/* Fetches and cache maintenance never hit a watchpoint. */
	bool check = acc != ACC_X && !(iss & ISS_CM) && (ext_hw(c) ? c->el < 2 : enabled_here(c));
	if (check) {
		bool write = acc == ACC_W;
		unsigned size = (iss & ISS_ISV) ? 1u << BITS(iss, 23, 22) : 1;
		unsigned el = unpriv ? 0 : c->el;
		for (unsigned i = 0; i < A64_NWRP; i++) {
			if (!wp_hit(wcr[i], wvr[i], va, size, write, el))
				continue;
			uint32_t s = DBG_FSC | (write ? ISS_WNR : 0);
			if (ext_hw(c))
				a64_dbg_exit(c, ((uint64_t)EC_WATCH_LOW << 26) | ESR_IL | s, va);
			a64_exception(c, EC_WATCH_LOW + (c->el ? 1 : 0), s, va, true, c->pc);
		}
	}
	return P_R0 | P_W0 | P_R1 | P_W1;
}

/* ERET loaded PSTATE.SS from SPSR: it only means something where
 * stepping is enabled. */
void a64_dbg_after_eret(struct a64 *c)
{
	if (!ss_enabled(c))
		c->pstate &= ~PS_SS;
}

/* ---- the registers: DBGBVR/BCR/WVR/WCR<n>_EL1 (op0 2, op1 0, CRn 0, CRm n, op2 4..7) ---- */

static uint64_t *dbg_slot(struct a64 *c, uint32_t enc)
{
	unsigned n = (enc >> 3) & 15;
	switch (enc & 7) {
	case 4: return &c->dbg.bvr[n];
	case 5: return &c->dbg.bcr[n];
	case 6: return &c->dbg.wvr[n];
	default: return &c->dbg.wcr[n];
	}
}

/* Value registers: bits [1:0] are RES0. */
static uint64_t dbg_value(uint32_t enc, uint64_t v)
{
	return (enc & 1) ? v : v & ~3ull;
}

bool a64_dbg_reg_read(struct a64 *c, uint32_t enc, uint64_t *v)
{
	*v = *dbg_slot(c, enc);
	return true;
}

bool a64_dbg_reg_write(struct a64 *c, uint32_t enc, uint64_t v)
{
	*dbg_slot(c, enc) = dbg_value(enc, v);
	a64_dbg_update(c);
	return true;
}

int a64_dbg_reg_get_user(struct a64 *c, uint32_t enc, uint64_t *v)
{
	*v = *dbg_slot(c, enc);
	return 0;
}

int a64_dbg_reg_set_user(struct a64 *c, uint32_t enc, uint64_t v)
{
	*dbg_slot(c, enc) = v;
	a64_dbg_update(c);
	return 0;
}

bool a64_dbg_mdscr_write(struct a64 *c, uint64_t v)
{
	c->sr[SR_MDSCR] = v;
	a64_dbg_update(c);
	return true;
}

bool a64_dbg_oslar_write(struct a64 *c, uint64_t v)
{
	c->sr[SR_OSLSR] = (c->sr[SR_OSLSR] & ~2ull) | ((v & 1) << 1);
	a64_dbg_update(c);
	return true;
}

bool a64_dbg_osdlr_write(struct a64 *c, uint64_t v)
{
	c->sr[SR_OSDLR] = v & 1;
	a64_dbg_update(c);
	return true;
}

/* Reset: the guest's registers clear; the VMM's (KVM_SET_GUEST_DEBUG) stay. */
void a64_dbg_reset(struct a64 *c)
{
	struct a64_dbg *d = &c->dbg;
	memset(d->bvr, 0, sizeof(d->bvr));
	memset(d->bcr, 0, sizeof(d->bcr));
	memset(d->wvr, 0, sizeof(d->wvr));
	memset(d->wcr, 0, sizeof(d->wcr));
	d->stepping = false;
	a64_dbg_update(c);
}

long a64_dbg_set_guest_debug(struct a64 *c, const struct kvm_guest_debug *d)
{
	uint32_t valid = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_USE_SW_BP |
			 KVM_GUESTDBG_USE_HW;
	if (d->control & ~valid)
		return -EINVAL;
	if (d->control & KVM_GUESTDBG_ENABLE) {
		c->guest_debug = d->control;
		if (d->control & KVM_GUESTDBG_USE_HW) {
			for (unsigned i = 0; i < KVM_ARM_MAX_DBG_REGS; i++) {
				c->dbg.xbcr[i] = d->arch.dbg_bcr[i];
				c->dbg.xbvr[i] = d->arch.dbg_bvr[i];
				c->dbg.xwcr[i] = d->arch.dbg_wcr[i];
				c->dbg.xwvr[i] = d->arch.dbg_wvr[i];
			}
		}
	} else {
		c->guest_debug = 0;
	}
	c->stepped = false;
	a64_dbg_update(c);
	return 0;
}
