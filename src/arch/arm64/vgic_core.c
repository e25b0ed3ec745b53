/* The GICv3 interrupt state machine: which interrupt a vCPU's CPU
 * interface would signal, and the IRQ line that results. Every function
 * here runs with vg->lock held. */
#include <errno.h>

#include "arch/arm64/vgic.h"

struct vgic_irq *vgic_get_irq(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t intid)
{
	if (intid < VGIC_NR_PRIVATE)
		return gc ? &gc->priv[intid] : NULL;
	if (intid - VGIC_NR_PRIVATE < vg->nr_spis && vg->spis)
		return &vg->spis[intid - VGIC_NR_PRIVATE];
	return NULL;
}

uint64_t vgic_vcpu_mpidr(struct vgic_cpu *gc)
{
	struct a64 *c = gc->vcpu->arch_vcpu;
	return c ? c->sr[SR_MPIDR] & 0xff00ffffffull : a64_mpidr(gc->vcpu->id) & 0xff00ffffffull;
}

struct vgic_cpu *vgic_cpu_by_mpidr(struct a64_vgic *vg, uint64_t mpidr)
{
	int n = vgic_nr_cpus(vg);
	mpidr &= 0xff00ffffffull;
	for (int i = 0; i < n; i++)
		if (vg->cpus[i] && vgic_vcpu_mpidr(vg->cpus[i]) == mpidr)
			return vg->cpus[i];
	return NULL;
}

void vgic_route_spi(struct a64_vgic *vg, struct vgic_irq *irq)
{
	struct vgic_cpu *t = vgic_cpu_by_mpidr(vg, irq->mpidr);
	irq->target = t ? (int)t->vcpu->index : -1;
}

struct vgic_cpu *vgic_target(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t intid)
{
	if (intid < VGIC_NR_PRIVATE)
		return gc;
	struct vgic_irq *irq = vgic_get_irq(vg, gc, intid);
	if (!irq || irq->target < 0)
		return NULL;
	return vg->cpus[irq->target];
}

void vgic_cpu_reset(struct vgic_cpu *gc)
{
	for (int i = 0; i < VGIC_NR_PRIVATE; i++) {
		struct vgic_irq *irq = &gc->priv[i];
		*irq = (struct vgic_irq){.group1 = true, .target = -1};
		if (i < VGIC_NR_SGIS) {
			irq->enabled = true;   /* SGIs are always enabled in KVM */
			irq->edge = true;
		}
	}
	gc->pmr = 0;
	gc->bpr0 = 2;
	gc->bpr1 = 3;
	gc->eoimode = gc->cbpr = gc->grpen0 = gc->grpen1 = false;
	gc->ap0r = gc->ap1r = 0;
}

/* The group priority of prio under the vCPU's binary point. */
static uint8_t group_prio(const struct vgic_cpu *gc, uint8_t prio)
{
	unsigned bpr = gc->cbpr ? gc->bpr0 + 1u : gc->bpr1;
	if (bpr < 3)
		bpr = 3;
	return (uint8_t)(prio & (0xffu << bpr));
}

/* The running priority: that of the highest active group priority. */
static unsigned running_prio(const struct vgic_cpu *gc)
{
	uint32_t ap = gc->ap0r | gc->ap1r;
	return ap ? (unsigned)__builtin_ctz(ap) << 3 : 0x100;
}

static bool candidate(const struct vgic_irq *irq)
{
	return irq->enabled && irq->group1 && !irq->active && vgic_pending(irq);
}

/* The highest-priority pending group 1 interrupt for gc (lowest intid
 * among equals), or VGIC_SPURIOUS. */
static uint32_t highest_pending(struct a64_vgic *vg, struct vgic_cpu *gc, uint8_t *prio)
{
	uint32_t best = VGIC_SPURIOUS;
	unsigned bp = 0x100;
	for (uint32_t i = 0; i < VGIC_NR_PRIVATE; i++) {
		const struct vgic_irq *irq = &gc->priv[i];
		if (candidate(irq) && irq->prio < bp) {
			bp = irq->prio;
			best = i;
		}
	}
	int me = gc->vcpu->index;
	for (uint32_t i = 0; i < vg->nr_spis && vg->spis; i++) {
		const struct vgic_irq *irq = &vg->spis[i];
		if (irq->target == me && candidate(irq) && irq->prio < bp) {
			bp = irq->prio;
			best = i + VGIC_NR_PRIVATE;
		}
	}
	*prio = (uint8_t)bp;
	return best;
}

/* What ICC_IAR1 would give now (the interrupt that may be signalled). */
static uint32_t signalled(struct a64_vgic *vg, struct vgic_cpu *gc, uint8_t *prio)
{
	if (!vg->enabled || !gc->grpen1)
		return VGIC_SPURIOUS;
	uint32_t intid = highest_pending(vg, gc, prio);
	if (intid == VGIC_SPURIOUS || *prio >= gc->pmr || group_prio(gc, *prio) >= running_prio(gc))
		return VGIC_SPURIOUS;
	return intid;
}

void vgic_update(struct a64_vgic *vg, struct vgic_cpu *gc)
{
	if (!gc)
		return;
	uint8_t prio;
	bool line = vg->initialized && signalled(vg, gc, &prio) != VGIC_SPURIOUS;
	gc->line = line;
	struct a64 *c = gc->vcpu->arch_vcpu;
	if (!c)
		return;
	if (line) {
		if (!(atomic_fetch_or(&c->lines, 1u) & 1u))
			a64_kick(c);
	} else {
		atomic_fetch_and(&c->lines, ~1u);
	}
}

void vgic_update_all(struct a64_vgic *vg)
{
	int n = vgic_nr_cpus(vg);
	for (int i = 0; i < n; i++)
		vgic_update(vg, vg->cpus[i]);
}

int vgic_inject(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t intid, bool level)
{
	struct vgic_irq *irq = vgic_get_irq(vg, gc, intid);
	if (!irq)
		return -EINVAL;
	if (irq->edge) {
		if (!level)
			return 0;
		irq->latch = true;
	} else {
		if (irq->line == level)
			return 0;
		irq->line = level;
	}
	vgic_update(vg, vgic_target(vg, gc, intid));
	return 0;
}

/* ---- the CPU interface's state changes (ICC_* registers) ---- */

uint32_t vgic_ack(struct a64_vgic *vg, struct vgic_cpu *gc)
{
	uint8_t prio;
	uint32_t intid = signalled(vg, gc, &prio);
	if (intid == VGIC_SPURIOUS)
		return intid;
	struct vgic_irq *irq = vgic_get_irq(vg, gc, intid);
	irq->active = true;
	irq->latch = false;
	gc->ap1r |= 1u << (group_prio(gc, prio) >> 3);
	vgic_update(vg, gc);
	return intid;
}

uint32_t vgic_hppi(struct a64_vgic *vg, struct vgic_cpu *gc)
{
	uint8_t prio;
	return highest_pending(vg, gc, &prio);
}

unsigned vgic_rpr(struct vgic_cpu *gc)
{
	unsigned r = running_prio(gc);
	return r > 0xff ? 0xff : r;
}

void vgic_deactivate(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t intid)
{
	struct vgic_irq *irq = vgic_get_irq(vg, gc, intid);
	if (!irq)
		return;
	irq->active = false;
	vgic_update(vg, vgic_target(vg, gc, intid));
}

/* EOI: drop the highest active priority; EOImode 0 also deactivates. */
void vgic_eoi(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t intid)
{
	if (gc->ap1r)
		gc->ap1r &= gc->ap1r - 1;
	if (!gc->eoimode && intid < 1020)
		vgic_deactivate(vg, gc, intid);
	vgic_update(vg, gc);
}

/* ICC_SGI1R_EL1 / ICC_SGI0R_EL1: an SGI to the vCPUs the value names. */
void vgic_sgi(struct a64_vgic *vg, struct vgic_cpu *self, uint64_t v, bool group1)
{
	uint32_t intid = (v >> 24) & 0xf;
	bool all = (v >> 40) & 1;
	uint64_t aff = (((v >> 48) & 0xff) << 32) | (((v >> 32) & 0xff) << 16) | (((v >> 16) & 0xff) << 8);
	unsigned rs = (v >> 44) & 0xf;
	uint16_t list = v & 0xffff;
	int n = vgic_nr_cpus(vg);
	for (int i = 0; i < n; i++) {
		struct vgic_cpu *gc = vg->cpus[i];
		if (!gc)
			continue;
		if (all) {
			if (gc == self)
				continue;
		} else {
			uint64_t m = vgic_vcpu_mpidr(gc);
			unsigned aff0 = m & 0xff;
			if ((m & ~0xffull) != aff || aff0 >> 4 != rs || !((list >> (aff0 & 0xf)) & 1))
				continue;
		}
		struct vgic_irq *irq = &gc->priv[intid];
		if (irq->group1 != group1)
			continue;
		irq->latch = true;
		vgic_update(vg, gc);
	}
}
