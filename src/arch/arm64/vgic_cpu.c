/* The GICv3 CPU interface: the ICC_*_EL1 system registers the guest uses
 * (rows of sysreg.c call the a64_icc_* accessors) and their save/restore
 * through KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS. Group 0 is never signalled
 * (KVM's GICv3 guests use group 1); 32 priority levels (5 bits). */
#include <errno.h>

#include "arch/arm64/vgic.h"

#define ENC(op0, op1, crn, crm, op2) \
	(((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2))

enum icc {
	ICC_PMR, ICC_IAR0, ICC_EOIR0, ICC_HPPIR0, ICC_BPR0, ICC_AP0R0, ICC_AP0R1, ICC_AP0R2, ICC_AP0R3,
	ICC_AP1R0, ICC_AP1R1, ICC_AP1R2, ICC_AP1R3, ICC_DIR, ICC_RPR, ICC_SGI1R, ICC_ASGI1R, ICC_SGI0R,
	ICC_IAR1, ICC_EOIR1, ICC_HPPIR1, ICC_BPR1, ICC_CTLR, ICC_SRE, ICC_IGRPEN0, ICC_IGRPEN1,
};

#define CTLR_CBPR 1u
#define CTLR_EOIMODE 2u
#define CTLR_PRIBITS (4u << 8)   /* 5 bits of priority */
#define CTLR_A3V (1u << 15)
#define SRE_VALUE 7u             /* SRE, DFB, DIB */

static uint64_t icc_read(struct a64_vgic *vg, struct vgic_cpu *gc, enum icc r)
{
	switch (r) {
	case ICC_PMR:
		return gc->pmr;
	case ICC_BPR0:
		return gc->bpr0;
	case ICC_BPR1:
		return gc->cbpr ? (gc->bpr0 < 7 ? gc->bpr0 + 1u : 7u) : gc->bpr1;
	case ICC_AP0R0:
		return gc->ap0r;
	case ICC_AP1R0:
		return gc->ap1r;
	case ICC_IAR1:
		return vgic_ack(vg, gc);
	case ICC_HPPIR1:
		return vgic_hppi(vg, gc);
	case ICC_IAR0:
	case ICC_HPPIR0:
		return VGIC_SPURIOUS;
	case ICC_RPR:
		return vgic_rpr(gc);
	case ICC_CTLR:
		return (gc->cbpr ? CTLR_CBPR : 0) | (gc->eoimode ? CTLR_EOIMODE : 0) | CTLR_PRIBITS | CTLR_A3V;
	case ICC_SRE:
		return SRE_VALUE;
	case ICC_IGRPEN0:
		return gc->grpen0;
	case ICC_IGRPEN1:
		return gc->grpen1;
	default:
		return 0;   /* AP0R1-3, AP1R1-3: no more than 32 priorities */
	}
}

static void icc_write(struct a64_vgic *vg, struct vgic_cpu *gc, enum icc r, uint64_t v)
{
	uint32_t intid = (uint32_t)(v & 0xffffff);
	switch (r) {
	case ICC_PMR:
		gc->pmr = (uint8_t)v & VGIC_PRI_MASK;
		break;
	case ICC_BPR0:
		gc->bpr0 = (v & 7) < 2 ? 2 : (uint8_t)(v & 7);
		break;
	case ICC_BPR1:
		if (!gc->cbpr)
			gc->bpr1 = (v & 7) < 3 ? 3 : (uint8_t)(v & 7);
		break;
	case ICC_AP0R0:
		gc->ap0r = (uint32_t)v;
		break;
	case ICC_AP1R0:
		gc->ap1r = (uint32_t)v;
		break;
	case ICC_EOIR1:
		vgic_eoi(vg, gc, intid);
		return;
	case ICC_DIR:
		if (gc->eoimode)
			vgic_deactivate(vg, gc, intid);
		return;
	case ICC_SGI1R:
		vgic_sgi(vg, gc, v, true);
		return;
	case ICC_SGI0R:
	case ICC_ASGI1R:
		vgic_sgi(vg, gc, v, false);
		return;
	case ICC_CTLR:
		gc->cbpr = v & CTLR_CBPR;
		gc->eoimode = (v & CTLR_EOIMODE) != 0;
		break;
	case ICC_IGRPEN0:
		gc->grpen0 = v & 1;
		break;
	case ICC_IGRPEN1:
		gc->grpen1 = v & 1;
		break;
	default:
		return;   /* SRE is fixed; EOIR0: group 0 is never active */
	}
	vgic_update(vg, gc);
}

/* The vCPU's interface, or NULL (no vGIC: the registers are UNDEFINED). */
static struct vgic_cpu *cpu_if(struct a64 *c, struct a64_vgic **vg)
{
	*vg = c->avm->vgic;
	return *vg ? (*vg)->cpus[c->vcpu->index] : NULL;
}

static bool guest_read(struct a64 *c, enum icc r, uint64_t *v)
{
	struct a64_vgic *vg;
	struct vgic_cpu *gc = cpu_if(c, &vg);
	if (!gc) {
		if (r != ICC_SRE)
			return false;
		*v = 0;   /* KVM: SRE reads as zero without a GICv3 */
		return true;
	}
	pthread_mutex_lock(&vg->lock);
	*v = icc_read(vg, gc, r);
	pthread_mutex_unlock(&vg->lock);
	return true;
}

static bool guest_write(struct a64 *c, enum icc r, uint64_t v)
{
	struct a64_vgic *vg;
	struct vgic_cpu *gc = cpu_if(c, &vg);
	if (!gc)
		return r == ICC_SRE;
	pthread_mutex_lock(&vg->lock);
	icc_write(vg, gc, r, v);
	pthread_mutex_unlock(&vg->lock);
	c->brk = true;   /* an interrupt may be taken before the next instruction */
	return true;
}

#define ACCESSORS(name, reg)                                                                           \
	bool a64_icc_rd_##name(struct a64 *c, uint64_t *v) { return guest_read(c, reg, v); }          \
	bool a64_icc_wr_##name(struct a64 *c, uint64_t v) { return guest_write(c, reg, v); }
ACCESSORS(pmr, ICC_PMR)
ACCESSORS(iar0, ICC_IAR0)
ACCESSORS(eoir0, ICC_EOIR0)
ACCESSORS(hppir0, ICC_HPPIR0)
ACCESSORS(bpr0, ICC_BPR0)
ACCESSORS(ap0r0, ICC_AP0R0)
ACCESSORS(ap0r1, ICC_AP0R1)
ACCESSORS(ap0r2, ICC_AP0R2)
ACCESSORS(ap0r3, ICC_AP0R3)
ACCESSORS(ap1r0, ICC_AP1R0)
ACCESSORS(ap1r1, ICC_AP1R1)
ACCESSORS(ap1r2, ICC_AP1R2)
ACCESSORS(ap1r3, ICC_AP1R3)
ACCESSORS(dir, ICC_DIR)
ACCESSORS(rpr, ICC_RPR)
ACCESSORS(sgi1r, ICC_SGI1R)
ACCESSORS(asgi1r, ICC_ASGI1R)
ACCESSORS(sgi0r, ICC_SGI0R)
ACCESSORS(iar1, ICC_IAR1)
ACCESSORS(eoir1, ICC_EOIR1)
ACCESSORS(hppir1, ICC_HPPIR1)
ACCESSORS(bpr1, ICC_BPR1)
ACCESSORS(ctlr, ICC_CTLR)
ACCESSORS(sre, ICC_SRE)
ACCESSORS(igrpen0, ICC_IGRPEN0)
ACCESSORS(igrpen1, ICC_IGRPEN1)

/* The registers a VMM saves and restores, by encoding. */
static const struct {
	uint16_t enc;
	uint8_t reg;
} user_regs[] = {
	{ENC(3, 0, 4, 6, 0), ICC_PMR},
	{ENC(3, 0, 12, 8, 3), ICC_BPR0},
	{ENC(3, 0, 12, 8, 4), ICC_AP0R0}, {ENC(3, 0, 12, 8, 5), ICC_AP0R1},
	{ENC(3, 0, 12, 8, 6), ICC_AP0R2}, {ENC(3, 0, 12, 8, 7), ICC_AP0R3},
	{ENC(3, 0, 12, 9, 0), ICC_AP1R0}, {ENC(3, 0, 12, 9, 1), ICC_AP1R1},
	{ENC(3, 0, 12, 9, 2), ICC_AP1R2}, {ENC(3, 0, 12, 9, 3), ICC_AP1R3},
	{ENC(3, 0, 12, 12, 3), ICC_BPR1},
	{ENC(3, 0, 12, 12, 4), ICC_CTLR},
	{ENC(3, 0, 12, 12, 5), ICC_SRE},
	{ENC(3, 0, 12, 12, 6), ICC_IGRPEN0},
	{ENC(3, 0, 12, 12, 7), ICC_IGRPEN1},
};

int vgic_sysreg_user(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t enc, uint64_t *v, bool write)
{
	for (unsigned i = 0; i < sizeof(user_regs) / sizeof(user_regs[0]); i++) {
		if (user_regs[i].enc != enc)
			continue;
		if (write)
			icc_write(vg, gc, (enum icc)user_regs[i].reg, *v);
		else
			*v = icc_read(vg, gc, (enum icc)user_regs[i].reg);
		return 0;
	}
	return -ENXIO;
}
