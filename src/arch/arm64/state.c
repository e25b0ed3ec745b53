/* PSTATE, the banked stack pointers and the reset state. */
#include "arch/arm64/a64.h"

uint64_t a64_mpidr(uint32_t id)
{
	/* KVM's layout: Aff0 takes 4 bits (a GICv3 target list), then Aff1, Aff2. */
	return (1ull << 31) | (id & 0xf) | (((uint64_t)(id >> 4) & 0xff) << 8) |
	       (((uint64_t)(id >> 12) & 0xff) << 16);
}

/* SP_EL0..SP_EL2 as stored, whichever one is live in x[31]: SP_ELx for
 * the current EL when PSTATE.SP is 1, else SP_EL0. */
static unsigned sp_sel(const struct a64 *c)
{
	return (c->pstate & 1) ? c->el : 0;
}

static uint64_t *sp_slot(struct a64 *c, unsigned which)
{
	return which == 0 ? &c->sp_el0 : which == 1 ? &c->sp_el1 : &c->sp_el2;
}

uint64_t a64_get_sp(struct a64 *c, unsigned which)
{
	return which == sp_sel(c) ? c->x[31] : *sp_slot(c, which);
}

void a64_set_sp(struct a64 *c, unsigned which, uint64_t v)
{
	if (which == sp_sel(c))
		c->x[31] = v;
	else
		*sp_slot(c, which) = v;
}

static void bank_out(struct a64 *c)
{
	*sp_slot(c, sp_sel(c)) = c->x[31];
}

static void bank_in(struct a64 *c)
{
	c->x[31] = *sp_slot(c, sp_sel(c));
}

uint32_t a64_get_pstate(const struct a64 *c)
{
	return c->pstate;
}

/* Load a whole PSTATE (ERET, exception entry, KVM_SET_ONE_REG). */
void a64_set_pstate(struct a64 *c, uint32_t ps)
{
	bank_out(c);
	bool was2 = c->el == 2;
	c->pstate = ps;
	c->el = (ps >> 2) & 3;
	bank_in(c);
	if (was2 != (c->el == 2))
		a64_tlb_flush(c);   /* another translation regime */
	c->brk = true;
}

void a64_reset(struct a64 *c)
{
	memset(c->x, 0, sizeof(c->x));
	memset(c->v, 0, sizeof(c->v));
	c->sp_el0 = c->sp_el1 = c->sp_el2 = 0;
	c->pc = 0;
	c->fpcr = c->fpsr = 0;
	/* EL1h (EL2h with KVM_ARM_VCPU_HAS_EL2), everything masked */
	c->el = a64_has_el2(c) ? 2 : 1;
	c->pstate = PS_DAIF | (a64_has_el2(c) ? 0x9 : 0x5);
	c->excl_valid = false;
	c->mmio.pending = false;
	c->nisv_exit = false;
	atomic_store(&c->lines, 0);
	c->reported_irq_level = 0;
	a64_sysreg_reset(c);
	a64_pmu_reset(c);
	c->sr[SR_MPIDR] = a64_mpidr(c->vcpu->id);
	c->asid = 0;
	a64_tlb_flush(c);
}
