/* The in-kernel GICv3 (KVM_DEV_TYPE_ARM_VGIC_V3): shared state of the
 * device (vgic_dev.c), its registers (vgic_mmio.c) and the interrupt
 * state machine with the CPU interface (vgic_core.c).
 *
 * One mutex per VM guards every interrupt and CPU-interface field: the
 * registers are touched by the vCPU threads, the VMM's ioctls and other
 * vCPUs (SGIs). What a vCPU needs per instruction is only its IRQ line,
 * bit 0 of struct a64.lines, which the state machine raises or lowers
 * after each change (a64_irq_pending reads it without a lock).
 */
#ifndef SK_ARM64_VGIC_H
#define SK_ARM64_VGIC_H

#include <pthread.h>

#include "arch/arm64/a64.h"

#ifndef SZ_64K
#define SZ_64K 0x10000ull          /* the uapi's KVM_VGIC_V3_*_SIZE use it */
#endif
#define VGIC_NR_SGIS 16
#define VGIC_NR_PRIVATE 32
#define VGIC_MAX_RESERVED 1023     /* intids 1020..1023 are special */
#define VGIC_MAX_SPI 1019
#define VGIC_V3_MAX_CPUS 512
#define VGIC_SPURIOUS 1023
#define VGIC_ADDR_UNDEF UINT64_MAX
#define VGIC_PRI_MASK 0xf8         /* 5 priority bits, as KVM */
#define VGIC_IIDR 0x4b00343bu      /* KVM product, revision 3, ARM */
#define VGIC_PIDR2 0x3b            /* GICv3 */
/* KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION's value */
#define VGIC_RDIST_INDEX(v) ((uint32_t)((v) & 0xfff))
#define VGIC_RDIST_FLAGS(v) ((uint32_t)(((v) >> 12) & 0xf))
#define VGIC_RDIST_BASE(v) ((v) & 0x000ffffffff0000ull)
#define VGIC_RDIST_COUNT(v) ((uint32_t)((v) >> 52))

struct vgic_irq {
	uint8_t prio;
	bool enabled;
	bool latch;          /* pending from an edge, ISPENDR or SGI */
	bool line;           /* the input level (level-sensitive interrupts) */
	bool active;
	bool group1;
	bool edge;
	uint32_t mpidr;      /* SPIs: GICD_IROUTER's affinity */
	int target;          /* SPIs: vCPU index the affinity names, -1 none */
};

static inline bool vgic_pending(const struct vgic_irq *i)
{
	return i->latch || (!i->edge && i->line);
}

struct vgic_rdreg {             /* a redistributor region */
	uint64_t base;
	uint32_t count;          /* 0: the legacy single region (sized by the vCPUs) */
	uint32_t free_index;
	uint32_t index;
};

struct vgic_cpu {
	struct sk_vcpu *vcpu;
	struct vgic_irq priv[VGIC_NR_PRIVATE];
	uint64_t rd_base;        /* VGIC_ADDR_UNDEF until a region slot is taken */
	int rdreg;               /* index in vgic.rdregs, -1 */
	uint32_t rdreg_slot;
	/* CPU interface */
	uint8_t pmr, bpr0, bpr1;
	bool eoimode, cbpr, grpen0, grpen1;
	uint32_t ap0r, ap1r;     /* active priorities, one bit per group priority */
	atomic_bool line;        /* the IRQ line the vGIC drives */
	/* the vCPU thread's own: device lines last fed (timer, PMU) */
	uint32_t dev_levels;
	uint32_t pmu_irq;        /* KVM_ARM_VCPU_PMU_V3_IRQ, 0: none */
};

struct a64_vgic {
	pthread_mutex_t lock;
	struct sk_vm *vm;
	bool initialized;        /* KVM_DEV_ARM_VGIC_CTRL_INIT done */
	bool ready;              /* resources mapped at the first KVM_RUN */
	bool enabled;            /* GICD_CTLR.EnableGrp1A */
	uint32_t nr_spis;
	struct vgic_irq *spis;
	uint64_t dist_base;
	struct vgic_rdreg *rdregs;
	int nr_rdregs;
	struct vgic_cpu *cpus[VGIC_V3_MAX_CPUS];   /* by vCPU index */
	struct vgic_route *routes;   /* KVM_SET_GSI_ROUTING (vgic_irqfd.c) */
	int nr_routes;
};

static inline struct a64_vgic *vgic_of(struct sk_vm *vm)
{
	return ((struct a64_vm *)vm->arch_vm)->vgic;
}

static inline int vgic_nr_cpus(struct a64_vgic *vg)
{
	int n = atomic_load(&vg->vm->nr_vcpus);
	return n < VGIC_V3_MAX_CPUS ? n : VGIC_V3_MAX_CPUS;
}

/* ---- vgic_core.c: interrupt state (all with vg->lock held) ---- */
/* The interrupt intid as seen from vCPU gc (private ones are its own), or
 * NULL when intid does not exist. */
struct vgic_irq *vgic_get_irq(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t intid);
/* Recompute the IRQ line of one vCPU / of every vCPU. */
void vgic_update(struct a64_vgic *vg, struct vgic_cpu *gc);
void vgic_update_all(struct a64_vgic *vg);
/* The vCPU an interrupt is delivered to, or NULL. */
struct vgic_cpu *vgic_target(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t intid);
/* Set an SPI's target from its affinity. */
void vgic_route_spi(struct a64_vgic *vg, struct vgic_irq *irq);
/* A level or edge on an input (KVM_IRQ_LINE, timers): 0 or -EINVAL. */
int vgic_inject(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t intid, bool level);
uint64_t vgic_vcpu_mpidr(struct vgic_cpu *gc);
struct vgic_cpu *vgic_cpu_by_mpidr(struct a64_vgic *vg, uint64_t mpidr);
void vgic_cpu_reset(struct vgic_cpu *gc);
/* The CPU interface: acknowledge (ICC_IAR1), highest pending (HPPIR1),
 * running priority, deactivate (DIR), end of interrupt (EOIR1), SGIs. */
uint32_t vgic_ack(struct a64_vgic *vg, struct vgic_cpu *gc);
uint32_t vgic_hppi(struct a64_vgic *vg, struct vgic_cpu *gc);
unsigned vgic_rpr(struct vgic_cpu *gc);
void vgic_deactivate(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t intid);
void vgic_eoi(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t intid);
void vgic_sgi(struct a64_vgic *vg, struct vgic_cpu *self, uint64_t v, bool group1);

/* ---- vgic_mmio.c: the distributor and redistributor registers ---- */
/* offset within the frame; uaccess: the save/restore view of
 * KVM_DEV_ARM_VGIC_GRP_DIST_REGS / REDIST_REGS. 0 or -ENXIO. */
int vgic_dist_access(struct a64_vgic *vg, struct vgic_cpu *gc, uint64_t off, unsigned size,
		     uint64_t *val, bool write, bool uaccess);
int vgic_redist_access(struct a64_vgic *vg, struct vgic_cpu *gc, uint64_t off, unsigned size,
		       uint64_t *val, bool write, bool uaccess);
bool vgic_rdist_is_last(struct a64_vgic *vg, struct vgic_cpu *gc);

/* ---- vgic_irqfd.c ---- */
void vgic_routes_init(struct a64_vgic *vg);    /* the default: GSI n -> SPI 32 + n */
void vgic_irqfds_destroy(struct a64_vgic *vg);

/* ---- vgic_dev.c ---- */
uint64_t vgic_rdreg_size(struct a64_vgic *vg, const struct vgic_rdreg *r);

/* ---- vgic_cpu.c: the ICC_* registers through KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS
 * (enc as KVM_REG_ARM64_SYSREG's low bits): 0, or -ENXIO for none. ---- */
int vgic_sysreg_user(struct a64_vgic *vg, struct vgic_cpu *gc, uint32_t enc, uint64_t *v, bool write);

#endif
