/* A64 branches, exception generation and system instructions. */
#include <errno.h>

#include "arch/arm64/insn.h"

static inline void branch(struct a64 *c, uint64_t target)
{
	c->npc = target;
}

void i_b(struct a64 *c, uint32_t insn)
{
	int64_t off = sext(BITS(insn, 25, 0), 26) * 4;
	if (BIT(insn, 31))
		c->x[30] = c->pc + 4;
	branch(c, c->pc + (uint64_t)off);
}

void i_cb(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	uint64_t v = rr(c, insn & 31, sf);
	if ((v == 0) != BIT(insn, 24))
		branch(c, c->pc + (uint64_t)(sext(BITS(insn, 23, 5), 19) * 4));
}

void i_tb(struct a64 *c, uint32_t insn)
{
	unsigned bit = (BIT(insn, 31) << 5) | BITS(insn, 23, 19);
	uint64_t v = xr(c, insn & 31);
	if (((v >> bit) & 1) == BIT(insn, 24))
		branch(c, c->pc + (uint64_t)(sext(BITS(insn, 18, 5), 14) * 4));
}

void i_bcond(struct a64 *c, uint32_t insn)
{
	if (a64_cond(c->pstate, insn & 15))
		branch(c, c->pc + (uint64_t)(sext(BITS(insn, 23, 5), 19) * 4));
}

void i_br(struct a64 *c, uint32_t insn)
{
	uint64_t t = xr(c, BITS(insn, 9, 5));
	if (BITS(insn, 22, 21) == 1)
		c->x[30] = c->pc + 4;
	branch(c, t);
}

void i_eret(struct a64 *c, uint32_t insn)
{
	(void)insn;
	if (c->el == 0)
		a64_undef(c);
	a64_eret(c);
}

void i_exc(struct a64 *c, uint32_t insn)
{
	unsigned opc = BITS(insn, 23, 21), ll = BITS(insn, 1, 0);
	uint32_t imm = BITS(insn, 20, 5);
	if (BITS(insn, 4, 2))
		a64_undef(c);
	switch (opc << 2 | ll) {
	case 1:   /* SVC: the preferred return address is the next instruction */
		a64_exception(c, EC_SVC64, imm, 0, false, c->pc + 4);
	case 2:   /* HVC */
		if (c->el == 0)
			a64_undef(c);
		a64_hvc(c, imm);
		return;
	case 3:   /* SMC */
		if (c->el == 0)
			a64_undef(c);
		if (c->el == 1 && a64_has_el2(c) && (c->sr[SR_HCR2] & HCR_TSC))
			a64_exception_el2(c, EC_SMC64, imm, c->pc);   /* returns to the SMC */
		a64_smc(c, imm);
		return;
	case 1 << 2 | 0:  /* BRK */
		if ((c->guest_debug & KVM_GUESTDBG_USE_SW_BP))   /* the VMM's breakpoint */
			a64_dbg_exit(c, ((uint64_t)EC_BRK64 << 26) | ESR_IL | imm, 0);
		a64_exception(c, EC_BRK64, imm, 0, false, c->pc);
	default:          /* HLT (no halting debug), DCPSx */
		a64_undef(c);
	}
}

void i_hint(struct a64 *c, uint32_t insn)
{
	unsigned op = BITS(insn, 11, 5);
	switch (op) {
	case 2:   /* WFE: an event may have come: treat as a yield */
		c->brk = true;
		break;
	case 3:   /* WFI: retires, then the run loop sleeps until a wake-up event */
		c->wfi = true;
		c->brk = true;
		break;
	default:  /* NOP, YIELD, SEV, SEVL, ESB, PSB, CSDB, BTI, PAC hints */
		break;
	}
}

void i_barrier(struct a64 *c, uint32_t insn)
{
	switch (BITS(insn, 7, 5)) {
	case 2:   /* CLREX */
		c->excl_valid = false;
		break;
	case 4: case 5:   /* DSB, DMB */
		a64_full_fence();
		break;
	case 6:   /* ISB: later code is fetched again (the cache validates words) */
		c->brk = true;
		break;
	case 7:   /* SB */
		break;
	default:
		a64_undef(c);
	}
}

void i_msr_imm(struct a64 *c, uint32_t insn)
{
	unsigned op1 = BITS(insn, 18, 16), op2 = BITS(insn, 7, 5), crm = BITS(insn, 11, 8);
	unsigned sel = op1 << 3 | op2;
	switch (sel) {
	case 0x05:   /* SPSel */
		if (c->el == 0)
			a64_undef(c);
		a64_set_pstate(c, (c->pstate & ~1u) | (crm & 1));
		return;
	case 0x1e:   /* DAIFSet */
	case 0x1f:   /* DAIFClr */
		if (c->el == 0 && !(c->sr[SR_SCTLR] & (1u << 9)))   /* SCTLR_EL1.UMA */
			a64_exception(c, EC_SYS64, a64_sys_iss(insn), 0, false, c->pc);
		if (sel == 0x1e)
			c->pstate |= crm << 6;
		else
			c->pstate &= ~(crm << 6);
		c->brk = true;
		return;
	default:     /* PAN, UAO, SSBS, DIT... not implemented */
		a64_undef(c);
	}
}

static uint32_t sysenc(uint32_t insn)
{
	return BITS(insn, 20, 5);   /* op0(2, bit20 is o0) op1 CRn CRm op2 */
}

_Noreturn static void trap_or_undef(struct a64 *c, uint32_t insn)
{
	if (c->sys_trap) {
		c->sys_trap = false;
		a64_exception(c, EC_SYS64, a64_sys_iss(insn), 0, false, c->pc);
	}
	a64_undef(c);
}

#define E(op0, op1, crn, crm, op2) (((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2))

/* HCR_EL2.TVM / TRVM: EL1's writes / reads of its VM registers trap to EL2. */
static bool vm_reg(uint32_t enc)
{
	switch (enc) {
	case E(3, 0, 1, 0, 0):   /* SCTLR_EL1 */
	case E(3, 0, 2, 0, 0):   /* TTBR0_EL1 */
	case E(3, 0, 2, 0, 1):   /* TTBR1_EL1 */
	case E(3, 0, 2, 0, 2):   /* TCR_EL1 */
	case E(3, 0, 5, 1, 0):   /* AFSR0_EL1 */
	case E(3, 0, 5, 1, 1):   /* AFSR1_EL1 */
	case E(3, 0, 5, 2, 0):   /* ESR_EL1 */
	case E(3, 0, 6, 0, 0):   /* FAR_EL1 */
	case E(3, 0, 10, 2, 0):  /* MAIR_EL1 */
	case E(3, 0, 10, 3, 0):  /* AMAIR_EL1 */
	case E(3, 0, 13, 0, 1):  /* CONTEXTIDR_EL1 */
		return true;
	}
	return false;
}

static void el1_vm_trap(struct a64 *c, uint32_t insn, uint32_t enc, uint64_t bit)
{
	if (a64_has_el2(c) && (c->sr[SR_HCR2] & bit) && vm_reg(enc))
		a64_exception_el2(c, EC_SYS64, a64_sys_iss(insn), c->pc);
}

/* EL2's own translation registers: the TLB holds EL2's regime while at EL2. */
static bool el2_regime_reg(uint32_t enc)
{
	return enc == E(3, 4, 1, 0, 0) || enc == E(3, 4, 1, 1, 0) || enc == E(3, 4, 2, 0, 0) ||
	       enc == E(3, 4, 2, 0, 2);   /* SCTLR, HCR, TTBR0, TCR _EL2 */
}

void i_mrs(struct a64 *c, uint32_t insn)
{
	uint64_t v;
	uint32_t enc = sysenc(insn);
	if (c->el == 1)
		el1_vm_trap(c, insn, enc, HCR_TRVM);
	if (!a64_sysreg_read(c, enc, &v))
		trap_or_undef(c, insn);
	set_x(c, insn & 31, v);
}

void i_msr(struct a64 *c, uint32_t insn)
{
	uint32_t enc = sysenc(insn);
	if (c->el == 1)
		el1_vm_trap(c, insn, enc, HCR_TVM);
	if (!a64_sysreg_write(c, enc, xr(c, insn & 31)))
		trap_or_undef(c, insn);
	if (c->el == 2 && el2_regime_reg(enc))
		a64_tlb_flush(c);
}

/* SYS with op1 = 4: EL2's TLB maintenance and address translation. */
static void sys_el2(struct a64 *c, uint32_t insn)
{
	unsigned crn = BITS(insn, 15, 12), crm = BITS(insn, 11, 8), op2 = BITS(insn, 7, 5);
	uint64_t v = xr(c, insn & 31);
	if (c->el < 2)
		a64_undef(c);
	if (crn == 8) {   /* TLBI ...E2, ...E1, IPAS2..., VMALLS12E1 (IS/OS/local) */
		a64_tlb_flush(c);
		if (crm == 0 || crm == 1 || crm == 3 || crm == 5)
			atomic_fetch_add(&c->avm->tlb_gen, 1);
		c->tlb_gen_seen = atomic_load(&c->avm->tlb_gen);
		return;
	}
	if (crn == 7 && crm == 8) {
		int acc = (op2 & 1) ? ACC_W : ACC_R;
		if (op2 < 2)   /* AT S1E2R/W */
			c->sr[SR_PAR] = a64_at_el2(c, v, acc);
		else if (op2 >= 4)   /* AT S12E1x/S12E0x: no stage 2 of the guest's own */
			c->sr[SR_PAR] = a64_at(c, v, acc, op2 >= 6);
		else
			a64_undef(c);
		return;
	}
	a64_undef(c);
}

void i_sys(struct a64 *c, uint32_t insn)
{
	if (BITS(insn, 18, 16) == 4 && !BIT(insn, 21)) {
		sys_el2(c, insn);
		return;
	}
	a64_sys_insn(c, insn);
}
