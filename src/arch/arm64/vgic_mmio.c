/* The GICv3 distributor and redistributor registers, for guest MMIO and
 * for the save/restore view of the device attributes (uaccess). Called
 * with vg->lock held. With affinity routing always on, the distributor's
 * registers for SGIs and PPIs read as zero; those live in each
 * redistributor's SGI frame. */
#include <errno.h>

#include "arch/arm64/vgic.h"

enum { GICD_CTLR = 0x0, GICD_TYPER = 0x4, GICD_IIDR = 0x8, GICD_TYPER2 = 0xc, GICD_STATUSR = 0x10,
       GICD_IGROUPR = 0x80, GICD_ISENABLER = 0x100, GICD_ICENABLER = 0x180, GICD_ISPENDR = 0x200,
       GICD_ICPENDR = 0x280, GICD_ISACTIVER = 0x300, GICD_ICACTIVER = 0x380, GICD_IPRIORITYR = 0x400,
       GICD_ICFGR = 0xc00, GICD_IGRPMODR = 0xd00, GICD_IROUTER = 0x6000, GIC_PIDR2 = 0xffe8 };
enum { GICR_CTLR = 0x0, GICR_IIDR = 0x4, GICR_TYPER = 0x8, GICR_WAKER = 0x14, GICR_SGI = 0x10000 };

/* The one-bit-per-interrupt registers, in the order of their offsets. */
enum bitreg { B_GROUP, B_SENABLE, B_CENABLE, B_SPEND, B_CPEND, B_SACTIVE, B_CACTIVE };

static bool bit_read(enum bitreg r, const struct vgic_irq *irq, bool uaccess)
{
	switch (r) {
	case B_GROUP:
		return irq->group1;
	case B_SENABLE:
	case B_CENABLE:
		return irq->enabled;
	case B_SPEND:
	case B_CPEND:
		/* userspace saves the latch and the line level apart */
		return uaccess ? irq->latch : vgic_pending(irq);
	default:
		return irq->active;
	}
}

static void bit_write(enum bitreg r, struct vgic_irq *irq, bool bit, bool uaccess)
{
	switch (r) {
	case B_GROUP:
		irq->group1 = bit;
		break;
	case B_SENABLE:
		irq->enabled |= bit;
		break;
	case B_CENABLE:
		if (bit)
			irq->enabled = false;
		break;
	case B_SPEND:
		if (uaccess)
			irq->latch = bit;   /* restores the whole latch state */
		else if (bit)
			irq->latch = true;
		break;
	case B_CPEND:
		if (bit && !uaccess)
			irq->latch = false;
		break;
	case B_SACTIVE:
		irq->active |= bit;
		break;
	case B_CACTIVE:
		if (bit)
			irq->active = false;
		break;
	}
}

/* 32 interrupts from first; gc is the vCPU whose private ones they are
 * (NULL: private ones read as zero). */
static uint32_t bits_access(struct a64_vgic *vg, struct vgic_cpu *gc, enum bitreg r, uint32_t first,
			    uint32_t v, bool write, bool uaccess)
{
	uint32_t out = 0;
	for (uint32_t i = 0; i < 32; i++) {
		struct vgic_irq *irq = vgic_get_irq(vg, gc, first + i);
		if (!irq)
			continue;
		if (write)
			bit_write(r, irq, (v >> i) & 1, uaccess);
		else if (bit_read(r, irq, uaccess))
			out |= 1u << i;
	}
	if (write) {
		if (gc)
			vgic_update(vg, gc);
		else
			vgic_update_all(vg);
	}
	return out;
}

static uint64_t prio_access(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t first, unsigned size,
			    uint64_t v, bool write)
{
	uint64_t out = 0;
	for (unsigned i = 0; i < size; i++) {
		struct vgic_irq *irq = vgic_get_irq(vg, gc, first + i);
		if (!irq)
			continue;
		if (write)
			irq->prio = (uint8_t)(v >> (8 * i)) & VGIC_PRI_MASK;
		else
			out |= (uint64_t)irq->prio << (8 * i);
	}
	if (write) {
		if (gc)
			vgic_update(vg, gc);
		else
			vgic_update_all(vg);
	}
	return out;
}

/* Two bits per interrupt: 0b10 edge, 0b00 level. SGIs and PPIs keep their
 * configuration (KVM: the timers rely on level PPIs). */
static uint32_t cfg_access(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t first, uint32_t v, bool write)
{
	uint32_t out = 0;
	for (uint32_t i = 0; i < 16; i++) {
		struct vgic_irq *irq = vgic_get_irq(vg, gc, first + i);
		if (!irq)
			continue;
		if (write && first + i >= VGIC_NR_PRIVATE)
			irq->edge = (v >> (2 * i + 1)) & 1;
		else if (!write && irq->edge)
			out |= 2u << (2 * i);
	}
	if (write)
		vgic_update_all(vg);
	return out;
}

static uint32_t dist_typer(struct a64_vgic *vg)
{
	uint32_t lines = (vg->nr_spis + VGIC_NR_PRIVATE) / 32 - 1;
	return lines | (9u << 19);   /* IDbits: 10 (no LPIs) */
}

static uint64_t irouter_access(struct a64_vgic *vg, uint64_t off, unsigned size, uint64_t v, bool write)
{
	uint32_t intid = (uint32_t)((off - GICD_IROUTER) / 8);
	struct vgic_irq *irq = intid >= VGIC_NR_PRIVATE ? vgic_get_irq(vg, NULL, intid) : NULL;
	if (!irq)
		return 0;
	bool high = off & 4;
	if (!write)
		return high ? 0 : irq->mpidr;
	if (high || size < 4)
		return 0;   /* Aff3 and the routing mode are not implemented */
	irq->mpidr = (uint32_t)(v & 0xffffff);
	vgic_route_spi(vg, irq);
	vgic_update_all(vg);
	return 0;
}

/* One 32-bit (or narrower, for the priorities) distributor register. */
static uint64_t dist_reg(struct a64_vgic *vg, uint64_t off, unsigned size, uint64_t v, bool write,
			 bool uaccess)
{
	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 0x400) {
		uint32_t intid = (uint32_t)(off - GICD_IPRIORITYR);
		return intid < VGIC_NR_PRIVATE ? 0 : prio_access(vg, NULL, intid, size, v, write);
	}
	if (off >= GICD_IROUTER && off < GICD_IROUTER + 8 * 1024)
		return irouter_access(vg, off, size, v, write);
	if (size != 4)
		return 0;
	if (off >= GICD_IGROUPR && off < GICD_IPRIORITYR) {
		enum bitreg r = (enum bitreg)((off - GICD_IGROUPR) / 0x80);
		uint32_t first = (uint32_t)(off & 0x7f) * 8;
		return first < VGIC_NR_PRIVATE ? 0 : bits_access(vg, NULL, r, first, (uint32_t)v, write, uaccess);
	}
	if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
		uint32_t first = (uint32_t)(off - GICD_ICFGR) * 4;
		return first < VGIC_NR_PRIVATE ? 0 : cfg_access(vg, NULL, first, (uint32_t)v, write);
	}
	switch (off) {
	case GICD_CTLR:
		if (write) {
			vg->enabled = (v >> 1) & 1;
			vgic_update_all(vg);
		}
		return (vg->enabled ? 2u : 0u) | 0x10u | 0x40u;   /* EnableGrp1A, ARE, DS */
	case GICD_TYPER:
		return dist_typer(vg);
	case GICD_IIDR:
		return VGIC_IIDR;
	case GIC_PIDR2:
		return VGIC_PIDR2;
	}
	return 0;   /* TYPER2, STATUSR, IGRPMODR, SGIR...: RAZ/WI */
}

int vgic_dist_access(struct a64_vgic *vg, struct vgic_cpu *gc, uint64_t off, unsigned size,
		     uint64_t *val, bool write, bool uaccess)
{
	(void)gc;
	if (off >= KVM_VGIC_V3_DIST_SIZE)
		return -ENXIO;
	if (size == 8 && !(off >= GICD_IROUTER && off < GICD_IROUTER + 8 * 1024)) {
		uint64_t lo = dist_reg(vg, off, 4, *val, write, uaccess);
		uint64_t hi = dist_reg(vg, off + 4, 4, *val >> 32, write, uaccess);
		if (!write)
			*val = lo | hi << 32;
		return 0;
	}
	if (size == 8 && !write) {
		*val = irouter_access(vg, off, 8, 0, false);
		return 0;
	}
	uint64_t r = dist_reg(vg, off, size, *val, write, uaccess);
	if (!write)
		*val = r;
	return 0;
}

/* ---- redistributors ---- */

/* KVM: the last redistributor of its region, unless a region that starts
 * where this one ends has redistributors too. */
bool vgic_rdist_is_last(struct a64_vgic *vg, struct vgic_cpu *gc)
{
	if (gc->rdreg < 0)
		return false;
	const struct vgic_rdreg *r = &vg->rdregs[gc->rdreg];
	if (gc->rdreg_slot + 1 < r->free_index)
		return false;
	if (r->count && gc->rdreg_slot == r->count - 1) {
		uint64_t end = r->base + (uint64_t)r->count * KVM_VGIC_V3_REDIST_SIZE;
		for (int i = 0; i < vg->nr_rdregs; i++)
			if (vg->rdregs[i].base == end && vg->rdregs[i].free_index > 0)
				return false;
	}
	return true;
}

static uint64_t redist_typer(struct a64_vgic *vg, struct vgic_cpu *gc)
{
	uint64_t m = vgic_vcpu_mpidr(gc);
	uint64_t aff = ((m >> 32) & 0xff) << 24 | (m & 0xffffff);
	uint64_t v = aff << 32 | (uint64_t)(gc->vcpu->id & 0xffff) << 8;
	return vgic_rdist_is_last(vg, gc) ? v | 0x10 : v;
}

static uint64_t sgi_reg(struct a64_vgic *vg, struct vgic_cpu *gc, uint64_t off, unsigned size, uint64_t v,
			bool write, bool uaccess)
{
	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + VGIC_NR_PRIVATE)
		return prio_access(vg, gc, (uint32_t)(off - GICD_IPRIORITYR), size, v, write);
	if (size != 4)
		return 0;
	if (off >= GICD_IGROUPR && off < GICD_IPRIORITYR && (off & 0x7f) == 0)
		return bits_access(vg, gc, (enum bitreg)((off - GICD_IGROUPR) / 0x80), 0, (uint32_t)v, write,
				   uaccess);
	if (off == GICD_ICFGR || off == GICD_ICFGR + 4)
		return cfg_access(vg, gc, (uint32_t)(off - GICD_ICFGR) * 4, (uint32_t)v, write);
	return 0;   /* IGRPMODR0, NSACR: RAZ/WI */
}

static uint64_t rd_reg(struct a64_vgic *vg, struct vgic_cpu *gc, uint64_t off, unsigned size)
{
	switch (off) {
	case GICR_IIDR:
		return VGIC_IIDR;
	case GICR_TYPER:
		return size == 8 ? redist_typer(vg, gc) : (uint32_t)redist_typer(vg, gc);
	case GICR_TYPER + 4:
		return redist_typer(vg, gc) >> 32;
	case GIC_PIDR2:
		return VGIC_PIDR2;
	}
	return 0;   /* CTLR (no LPIs), STATUSR, WAKER (awake), PROPBASER, PENDBASER */
}

int vgic_redist_access(struct a64_vgic *vg, struct vgic_cpu *gc, uint64_t off, unsigned size,
		       uint64_t *val, bool write, bool uaccess)
{
	if (off >= KVM_VGIC_V3_REDIST_SIZE)
		return -ENXIO;
	if (off < GICR_SGI) {
		if (!write)
			*val = rd_reg(vg, gc, off, size);
		return 0;
	}
	off -= GICR_SGI;
	if (size == 8) {
		uint64_t lo = sgi_reg(vg, gc, off, 4, *val, write, uaccess);
		uint64_t hi = sgi_reg(vg, gc, off + 4, 4, *val >> 32, write, uaccess);
		if (!write)
			*val = lo | hi << 32;
		return 0;
	}
	uint64_t r = sgi_reg(vg, gc, off, size, *val, write, uaccess);
	if (!write)
		*val = r;
	return 0;
}
