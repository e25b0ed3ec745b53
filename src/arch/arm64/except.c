/* Taking exceptions and returning from them (ERET).
 *
 * Without EL2 everything is taken to EL1 (HVC and SMC are the
 * hypervisor's, see psci.c). A vCPU with EL2 (KVM_ARM_VCPU_HAS_EL2) takes
 * to EL2: the exceptions of EL2 itself, HVC, what HCR_EL2 routes there
 * (TGE: all of EL0's; IMO/FMO/AMO: physical IRQ/FIQ/SError; TSC: SMC;
 * TVM/TRVM: the EL1 VM registers, see exec_branch.c), and gives EL1 the
 * virtual interrupts HCR_EL2.VI/VF/VSE raise. Synchronous exceptions
 * unwind the instruction that raised them with longjmp.
 */
#include "arch/arm64/a64.h"

enum { VEC_SYNC = 0x000, VEC_IRQ = 0x080, VEC_FIQ = 0x100, VEC_SERROR = 0x180 };
#define EC_SERROR 0x2f

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

/* To EL2 (a vCPU with EL2), from EL2 itself or from a lower EL. */
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

/* Synchronous exceptions of EL0 go to EL2 under HCR_EL2.TGE. */
static bool sync_to_el2(const struct a64 *c)
{
	return c->el == 2 || (c->el == 0 && a64_has_el2(c) && (c->sr[SR_HCR2] & HCR_TGE));
}

static void raise_el2(struct a64 *c, uint32_t ec, uint32_t iss, uint64_t far, bool far_valid, uint64_t ret_pc)
{
	c->sr[SR_ESR2] = ((uint64_t)ec << 26) | ESR_IL | (iss & 0x1ffffff);
	if (far_valid)
		c->sr[SR_FAR2] = far;
	enter_el2(c, VEC_SYNC, ret_pc);
}

void a64_raise(struct a64 *c, uint32_t ec, uint32_t iss, uint64_t far, bool far_valid, uint64_t ret_pc)
{
	if (c->dbg.stepping) {
		/* The stepped instruction did not complete (SVC/HVC/SMC do by
		 * taking theirs): return to it with the step still to do. */
		c->dbg.stepping = false;
		if (ec != EC_SVC64 && ec != EC_HVC64 && ec != EC_SMC64)
			c->pstate |= PS_SS;
	}
	if (sync_to_el2(c)) {
		raise_el2(c, ec, iss, far, far_valid, ret_pc);
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

_Noreturn void a64_exception_el2(struct a64 *c, uint32_t ec, uint32_t iss, uint64_t ret_pc)
{
	c->dbg.stepping = false;
	raise_el2(c, ec, iss, 0, false, ret_pc);
	longjmp(c->unwind, A64_UNWIND_EXC);
}

/* A virtual SError (EC 0x2f) with the syndrome KVM gives: ISV alone
 * unless userspace supplied one. */
void a64_take_serror(struct a64 *c)
{
	c->serror_pending = false;
	c->sr[SR_ESR] = ((uint64_t)EC_SERROR << 26) | ESR_IL | c->serror_iss;
	enter_el1(c, VEC_SERROR, c->pc);
}

_Noreturn void a64_undef(struct a64 *c)
{
	if (a64_trace_undef)
		a64_trace_undef_print(c);
	a64_exception(c, EC_UNKNOWN, 0, 0, false, c->pc);
}

/* ---- asynchronous exceptions of a vCPU with EL2 ----
 * Physical ones (KVM_IRQ_LINE, KVM_SET_VCPU_EVENTS' SError) go to EL2
 * when HCR_EL2 routes them (IMO/FMO/AMO, or TGE), where PSTATE masks
 * them only at EL2 itself; otherwise to EL1, and never while at EL2.
 * Virtual ones (VI/VF/VSE, with the routing bit set and TGE clear) go to
 * EL1 from EL0/EL1 as PSTATE allows. */
enum { ASYNC_NONE, ASYNC_EL1, ASYNC_EL2 };
enum { SRC_SERROR, SRC_VSERROR, SRC_IRQ, SRC_VIRQ, SRC_FIQ, SRC_VFIQ, SRC_NONE };

static int phys_target(const struct a64 *c, uint64_t hcr, uint64_t route, uint32_t mask)
{
	bool to2 = (hcr & (route | HCR_TGE)) != 0;
	if (c->el == 2)
		return to2 && !(c->pstate & mask) ? ASYNC_EL2 : ASYNC_NONE;
	if (to2)
		return ASYNC_EL2;
	return (c->pstate & mask) ? ASYNC_NONE : ASYNC_EL1;
}

static bool virt_taken(const struct a64 *c, uint64_t hcr, uint64_t route, uint64_t vbit, uint32_t mask)
{
	return c->el < 2 && (hcr & route) && !(hcr & HCR_TGE) && (hcr & vbit) && !(c->pstate & mask);
}

/* The source to take now and where, in priority order. */
static int el2_async(struct a64 *c, int *target)
{
	uint64_t hcr = c->sr[SR_HCR2];
	uint32_t l = atomic_load_explicit(&c->lines, memory_order_acquire);
	if (c->serror_pending && (*target = phys_target(c, hcr, HCR_AMO, PS_A)))
		return SRC_SERROR;
	*target = ASYNC_EL1;
	if (virt_taken(c, hcr, HCR_AMO, HCR_VSE, PS_A))
		return SRC_VSERROR;
	if ((l & 1) && (*target = phys_target(c, hcr, HCR_IMO, PS_I)))
		return SRC_IRQ;
	*target = ASYNC_EL1;
	if (virt_taken(c, hcr, HCR_IMO, HCR_VI, PS_I))
		return SRC_VIRQ;
	if ((l & 2) && (*target = phys_target(c, hcr, HCR_FMO, PS_F)))
		return SRC_FIQ;
	*target = ASYNC_EL1;
	if (virt_taken(c, hcr, HCR_FMO, HCR_VF, PS_F))
		return SRC_VFIQ;
	return SRC_NONE;
}

static void el2_take_async(struct a64 *c)
{
	int target;
	int src = el2_async(c, &target);
	unsigned kind = src <= SRC_VSERROR ? VEC_SERROR : src <= SRC_VIRQ ? VEC_IRQ : VEC_FIQ;
	switch (src) {
	case SRC_NONE:
		return;
	case SRC_SERROR:
		if (target == ASYNC_EL1) {
			a64_take_serror(c);
			return;
		}
		c->serror_pending = false;
		c->sr[SR_ESR2] = ((uint64_t)EC_SERROR << 26) | ESR_IL | c->serror_iss;
		break;
	case SRC_VSERROR:
		/* taking it clears HCR_EL2.VSE; no RAS: no VSESR_EL2 syndrome */
		c->sr[SR_HCR2] &= ~HCR_VSE;
		c->sr[SR_ESR] = ((uint64_t)EC_SERROR << 26) | ESR_IL;
		break;
	}
	if (target == ASYNC_EL2)
		enter_el2(c, kind, c->pc);
	else
		enter_el1(c, kind, c->pc);
}

/* A virtual interrupt wakes WFI even while PSTATE masks it. */
bool a64_virt_irq_raised(const struct a64 *c)
{
	if (!a64_has_el2(c) || c->el == 2)
		return false;
	uint64_t h = c->sr[SR_HCR2];
	if (h & HCR_TGE)
		return false;
	return ((h & HCR_IMO) && (h & HCR_VI)) || ((h & HCR_FMO) && (h & HCR_VF)) ||
	       ((h & HCR_AMO) && (h & HCR_VSE));
}

bool a64_irq_pending(struct a64 *c)
{
	if (a64_has_el2(c)) {
		int target;
		return el2_async(c, &target) != SRC_NONE;
	}
	uint32_t l = atomic_load_explicit(&c->lines, memory_order_acquire);
	return ((l & 1) && !(c->pstate & PS_I)) || ((l & 2) && !(c->pstate & PS_F));
}

/* Called at an instruction boundary when a64_irq_pending. */
void a64_take_irq(struct a64 *c, bool fiq)
{
	if (a64_has_el2(c)) {
		el2_take_async(c);
		return;
	}
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
	if (at2 && (m == 0x4 || m == 0x5) && (c->sr[SR_HCR2] & HCR_TGE))
		legal = false;   /* TGE (no E2H): EL1 is not in use */
	uint32_t keep = PS_NZCV | PS_DAIF | PS_SS;
	if (!legal) {
		uint32_t ps = (spsr & keep) | (c->pstate & PS_M) | PS_IL;
		a64_set_pstate(c, ps);
	} else {
		a64_set_pstate(c, (spsr & (keep | PS_IL)) | m);
	}
	if (c->pstate & PS_SS)
		a64_dbg_after_eret(c);
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
