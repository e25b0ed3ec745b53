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
		a64_smc(c, imm);
		return;
	case 1 << 2 | 0:  /* BRK */
		if ((c->guest_debug & KVM_GUESTDBG_USE_SW_BP)) {   /* the VMM's breakpoint */
			struct kvm_run *run = a64_run(c);
			run->exit_reason = KVM_EXIT_DEBUG;
			run->debug.arch.hsr = ((uint32_t)EC_BRK64 << 26) | ESR_IL | imm;
			run->debug.arch.hsr_high = 0;
			run->debug.arch.far = 0;
			c->stepped = false;
			a64_exit(c);
		}
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

void i_mrs(struct a64 *c, uint32_t insn)
{
	uint64_t v;
	uint32_t enc = sysenc(insn);
	if (!a64_sysreg_read(c, enc, &v))
		trap_or_undef(c, insn);
	set_x(c, insn & 31, v);
}

void i_msr(struct a64 *c, uint32_t insn)
{
	if (!a64_sysreg_write(c, sysenc(insn), xr(c, insn & 31)))
		trap_or_undef(c, insn);
}

void i_sys(struct a64 *c, uint32_t insn)
{
	a64_sys_insn(c, insn);
}
