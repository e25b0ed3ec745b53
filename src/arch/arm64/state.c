/* PSTATE, the banked stack pointers and the reset state. */
#include "arch/arm64/a64.h"

uint64_t a64_mpidr(uint32_t id)
{
	/* KVM's layout: Aff0 takes 4 bits (a GICv3 target list), then Aff1, Aff2. */
	return (1ull << 31) | (id & 0xf) | (((uint64_t)(id >> 4) & 0xff) << 8) |
	       (((uint64_t)(id >> 12) & 0xff) << 16);
}

/* SP_EL0 and SP_EL1 as stored, whichever one is live in x[31]. */
static bool sp_is_el1(const struct a64 *c)
{
	return c->el >= 1 && (c->pstate & 1);
}

uint64_t a64_get_sp(struct a64 *c, unsigned which)
{
	bool live = (which == 1) == sp_is_el1(c);
	if (live)
		return c->x[31];
	return which ? c->sp_el1 : c->sp_el0;
}

static void bank_out(struct a64 *c)
{
	if (sp_is_el1(c))
		c->sp_el1 = c->x[31];
	else
		c->sp_el0 = c->x[31];
}

static void bank_in(struct a64 *c)
{
	c->x[31] = sp_is_el1(c) ? c->sp_el1 : c->sp_el0;
}

uint32_t a64_get_pstate(const struct a64 *c)
{
	return c->pstate;
}

/* Load a whole PSTATE (ERET, exception entry, KVM_SET_ONE_REG). */
void a64_set_pstate(struct a64 *c, uint32_t ps)
{
	bank_out(c);
	c->pstate = ps;
	c->el = (ps >> 2) & 3;
	bank_in(c);
	c->brk = true;
}

void a64_reset(struct a64 *c)
{
	memset(c->x, 0, sizeof(c->x));
	memset(c->v, 0, sizeof(c->v));
	c->sp_el0 = c->sp_el1 = 0;
	c->pc = 0;
	c->fpcr = c->fpsr = 0;
	c->el = 1;
	c->pstate = PS_DAIF | 0x5;   /* EL1h, everything masked */
	c->excl_valid = false;
	c->mmio.pending = false;
	c->nisv_exit = false;
	atomic_store(&c->lines, 0);
	c->reported_irq_level = 0;
	a64_sysreg_reset(c);
	c->sr[SR_MPIDR] = a64_mpidr(c->vcpu->id);
	c->asid = 0;
	a64_tlb_flush(c);
}
