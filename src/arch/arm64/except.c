/* Taking exceptions to EL1 and returning from them (ERET).
 *
 * Everything is taken to EL1, except for a vCPU with EL2: HVC and the
 * exceptions of EL2 itself go to EL2. Without EL2, HVC and SMC are the
 * hypervisor's (see psci.c). Synchronous
 * exceptions unwind the instruction that raised them with longjmp.
 */
#include "arch/arm64/a64.h"

enum { VEC_SYNC = 0x000, VEC_IRQ = 0x080, VEC_FIQ = 0x100, VEC_SERROR = 0x180 };

/* The vector base offset for an exception taken to EL1 from the current state. */
static uint64_t vector_base(const struct a64 *c)
{
	if (c->el == 0)
		return 0x400;   /* lower EL, AArch64 */
	return (c->pstate & 1) ? 0x200 : 0x000;
}

static void enter_el1(struct a64 *c, unsigned kind, uint64_t ret_pc)
{
	uint64_t vbar = c->sr[SR_VBAR] & ~0x7ffull;
	uint64_t off = vector_base(c) + kind;
	c->sr[SR_SPSR] = c->pstate;
	c->sr[SR_ELR] = ret_pc;
	uint32_t ps = (c->pstate & PS_NZCV) | PS_DAIF | 0x5;
	/* SCTLR_EL1.SPAN = 0 would set PAN; PAN is not implemented. */
	a64_set_pstate(c, ps);
	c->excl_valid = false;
	c->npc = c->pc = vbar + off;
	c->brk = true;
}

/* To EL2 (a vCPU with EL2): from EL2 itself, or HVC from EL1. EL2 has no
 * stage-1 translation here; exceptions of EL0/EL1 other than HVC stay at
 * EL1 (no HCR_EL2 routing: TGE, AMO/IMO/FMO, TSC... are not emulated). */
static void enter_el2(struct a64 *c, unsigned kind, uint64_t ret_pc)
{
	uint64_t off = c->el == 2 ? ((c->pstate & 1) ? 0x200 : 0x000) : 0x400;
	c->sr[SR_SPSR2] = c->pstate;
	c->sr[SR_ELR2] = ret_pc;
	a64_set_pstate(c, (c->pstate & PS_NZCV) | PS_DAIF | 0x9);
	c->excl_valid = false;
	c->npc = c->pc = (c->sr[SR_VBAR2] & ~0x7ffull) + off + kind;
	c->brk = true;
}

void a64_take_hvc_el2(struct a64 *c, uint32_t imm)
{
	c->sr[SR_ESR2] = ((uint64_t)EC_HVC64 << 26) | ESR_IL | (imm & 0xffff);
	enter_el2(c, VEC_SYNC, c->pc + 4);
}

void a64_raise(struct a64 *c, uint32_t ec, uint32_t iss, uint64_t far, bool far_valid, uint64_t ret_pc)
{
	if (c->el == 2) {
		c->sr[SR_ESR2] = ((uint64_t)ec << 26) | ESR_IL | (iss & 0x1ffffff);
		if (far_valid)
			c->sr[SR_FAR2] = far;
		enter_el2(c, VEC_SYNC, ret_pc);
		return;
	}
	c->sr[SR_ESR] = ((uint64_t)ec << 26) | ESR_IL | (iss & 0x1ffffff);
	if (far_valid)
		c->sr[SR_FAR] = far;
	enter_el1(c, VEC_SYNC, ret_pc);
}

_Noreturn void a64_exception(struct a64 *c, uint32_t ec, uint32_t iss, uint64_t far, bool far_valid,
			     uint64_t ret_pc)
{
	a64_raise(c, ec, iss, far, far_valid, ret_pc);
	longjmp(c->unwind, A64_UNWIND_EXC);
}

/* A virtual SError (EC 0x2f) with the syndrome KVM gives: ISV alone
 * unless userspace supplied one. */
void a64_take_serror(struct a64 *c)
{
	c->serror_pending = false;
	c->sr[SR_ESR] = (0x2full << 26) | ESR_IL | c->serror_iss;
	enter_el1(c, VEC_SERROR, c->pc);
}

_Noreturn void a64_undef(struct a64 *c)
{
	a64_exception(c, EC_UNKNOWN, 0, 0, false, c->pc);
}

bool a64_irq_pending(struct a64 *c)
{
	if (c->el == 2)
		return false;   /* HCR_EL2.IMO/FMO are not emulated: EL2 takes none */
	uint32_t l = atomic_load_explicit(&c->lines, memory_order_acquire);
	return ((l & 1) && !(c->pstate & PS_I)) || ((l & 2) && !(c->pstate & PS_F));
}

/* Called at an instruction boundary when a64_irq_pending. */
void a64_take_irq(struct a64 *c, bool fiq)
{
	enter_el1(c, fiq ? VEC_FIQ : VEC_IRQ, c->pc);
}

/* ERET: an illegal return (to EL2/EL3 or AArch32) sets PSTATE.IL and
 * stays at EL1, as the architecture's illegal exception return does. */
void a64_eret(struct a64 *c)
{
	bool at2 = c->el == 2;
	uint32_t spsr = (uint32_t)c->sr[at2 ? SR_SPSR2 : SR_SPSR];
	uint64_t elr = c->sr[at2 ? SR_ELR2 : SR_ELR];
	unsigned m = spsr & 0x1f;
	bool legal = m == 0x0 || m == 0x4 || m == 0x5 || (at2 && (m == 0x8 || m == 0x9));
	if (at2 && m < 0x8 && !(c->sr[SR_HCR2] & HCR_RW))
		legal = false;   /* EL1 would be AArch32 */
	uint32_t keep = PS_NZCV | PS_DAIF | PS_SS;
	if (!legal) {
		uint32_t ps = (spsr & keep) | (c->pstate & PS_M) | PS_IL;
		a64_set_pstate(c, ps);
	} else {
		a64_set_pstate(c, (spsr & (keep | PS_IL)) | m);
	}
	c->excl_valid = false;
	c->npc = elr;
	c->brk = true;
}

_Noreturn void a64_exit(struct a64 *c)
{
	longjmp(c->unwind, A64_UNWIND_EXIT);
}

static _Thread_local int fail_err;

int a64_fail_errno(void)
{
	return fail_err;
}

_Noreturn void a64_fail(struct a64 *c, int err)
{
	fail_err = err;
	longjmp(c->unwind, A64_UNWIND_ERR);
}
