/* Where the rest of the arm64 vCPU and the KVM API meet the vGIC:
 * KVM_IRQ_LINE, the timer and PMU lines, guest MMIO to the GIC frames,
 * the PMU's interrupt number, the capabilities of an in-kernel irqchip. */
#include <errno.h>

#include "arch/arm64/vgic.h"
#include "kvm/uaccess.h"

#define TIMER_VTIMER_DEFAULT 27
#define TIMER_PTIMER_DEFAULT 30

/* ---- KVM_IRQ_LINE (arch/arm64/kvm/arm.c's rules with a vGIC) ---- */

long a64_vgic_irq_line(struct sk_vm *vm, const struct kvm_irq_level *l)
{
	struct a64_vgic *vg = vgic_of(vm);
	uint32_t irq = l->irq;
	unsigned type = (irq >> KVM_ARM_IRQ_TYPE_SHIFT) & KVM_ARM_IRQ_TYPE_MASK;
	unsigned idx = ((irq >> KVM_ARM_IRQ_VCPU_SHIFT) & KVM_ARM_IRQ_VCPU_MASK) +
		       ((irq >> KVM_ARM_IRQ_VCPU2_SHIFT) & KVM_ARM_IRQ_VCPU2_MASK) * (KVM_ARM_IRQ_VCPU_MASK + 1);
	uint32_t num = (irq >> KVM_ARM_IRQ_NUM_SHIFT) & KVM_ARM_IRQ_NUM_MASK;
	struct vgic_cpu *gc = NULL;
	switch (type) {
	case KVM_ARM_IRQ_TYPE_CPU:
		return -ENXIO;   /* the vGIC drives the lines */
	case KVM_ARM_IRQ_TYPE_PPI:
		if ((int)idx >= vgic_nr_cpus(vg) || !vg->cpus[idx])
			return -EINVAL;
		if (num < VGIC_NR_SGIS || num >= VGIC_NR_PRIVATE)
			return -EINVAL;
		gc = vg->cpus[idx];
		break;
	case KVM_ARM_IRQ_TYPE_SPI:
		if (num < VGIC_NR_PRIVATE)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	pthread_mutex_lock(&vg->lock);
	int r = vg->initialized ? vgic_inject(vg, gc, num, l->level != 0) : -EBUSY;
	pthread_mutex_unlock(&vg->lock);
	return r;
}

/* ---- the timers' and the PMU's lines: level PPIs of the vCPU ---- */

uint32_t a64_vgic_dev_lines(struct a64 *c, uint32_t levels)
{
	struct a64_vgic *vg = c->avm->vgic;
	if (!vg)
		return levels;
	struct vgic_cpu *gc = vg->cpus[c->vcpu->index];
	if (!gc)
		return 0;
	/* A reset of the vCPU (CPU_ON, KVM_ARM_VCPU_INIT) clears its lines:
	 * the vGIC's line is put back. */
	bool lost = atomic_load_explicit(&gc->line, memory_order_relaxed) && !(atomic_load(&c->lines) & 1);
	if (levels == gc->dev_levels && !lost)
		return 0;
	pthread_mutex_lock(&vg->lock);
	if (vg->initialized) {
		uint32_t changed = levels ^ gc->dev_levels;
		int vt = c->avm->timer_ppi[0], pt = c->avm->timer_ppi[1];
		uint32_t ids[3] = {vt ? (uint32_t)vt : TIMER_VTIMER_DEFAULT, pt ? (uint32_t)pt : TIMER_PTIMER_DEFAULT,
				   gc->pmu_irq};
		const uint32_t bits[3] = {KVM_ARM_DEV_EL1_VTIMER, KVM_ARM_DEV_EL1_PTIMER, KVM_ARM_DEV_PMU};
		for (int i = 0; i < 3; i++)
			if ((changed & bits[i]) && ids[i])
				vgic_inject(vg, gc, ids[i], (levels & bits[i]) != 0);
		gc->dev_levels = levels;
	}
	vgic_update(vg, gc);
	pthread_mutex_unlock(&vg->lock);
	return 0;
}

/* ---- guest MMIO to the distributor and redistributor frames ---- */

bool a64_vgic_mmio(struct a64 *c, uint64_t ipa, bool write, unsigned size, uint64_t *val)
{
	struct a64_vgic *vg = c->avm->vgic;
	if (!vg)
		return false;
	bool done = false;
	pthread_mutex_lock(&vg->lock);
	if (!vg->ready)
		goto out;
	struct vgic_cpu *self = vg->cpus[c->vcpu->index];
	if (ipa - vg->dist_base < KVM_VGIC_V3_DIST_SIZE) {
		done = !vgic_dist_access(vg, self, ipa - vg->dist_base, size, val, write, false);
		goto out;
	}
	int n = vgic_nr_cpus(vg);
	for (int i = 0; i < n; i++) {
		struct vgic_cpu *gc = vg->cpus[i];
		if (gc && gc->rd_base != VGIC_ADDR_UNDEF && ipa - gc->rd_base < KVM_VGIC_V3_REDIST_SIZE) {
			done = !vgic_redist_access(vg, gc, ipa - gc->rd_base, size, val, write, false);
			break;
		}
	}
out:
	pthread_mutex_unlock(&vg->lock);
	if (done && write)
		c->brk = true;   /* the write may have raised this vCPU's line */
	return done;
}

/* ---- KVM_ARM_VCPU_PMU_V3_IRQ ---- */

int a64_vgic_pmu_irq(struct a64 *c, const struct kvm_device_attr *a, int op)
{
	struct a64_vgic *vg = c->avm->vgic;
	if (!vg)
		return -EINVAL;   /* no in-kernel irqchip */
	struct vgic_cpu *gc = vg->cpus[c->vcpu->index];
	int *uaddr = (int *)(uintptr_t)a->addr;
	if (op == 1) {
		if (!gc->pmu_irq)
			return -ENXIO;
		int irq = (int)gc->pmu_irq;
		return sk_copy_to_user(uaddr, &irq, sizeof(irq)) ? -EFAULT : 0;
	}
	int irq;
	if (sk_copy_from_user(&irq, uaddr, sizeof(irq)))
		return -EFAULT;
	if (irq < VGIC_NR_SGIS || irq > VGIC_MAX_SPI)
		return -EINVAL;   /* a PPI or an SPI */
	pthread_mutex_lock(&vg->lock);
	int r = gc->pmu_irq ? -EBUSY : 0;
	if (!r)
		gc->pmu_irq = (uint32_t)irq;
	pthread_mutex_unlock(&vg->lock);
	return r;
}

/* ---- VM ioctls and capabilities of the in-kernel irqchip ---- */

long a64_vgic_check_extension(struct sk_vm *vm, long ext)
{
	switch (ext) {
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_DEVICE_CTRL:
		return 1;
	case KVM_CAP_SIGNAL_MSI:
	case KVM_CAP_IRQFD_RESAMPLE:
		return 0;
	case KVM_CAP_IRQFD:
		return 1;
	case KVM_CAP_IRQ_ROUTING:
		return 4096;   /* KVM_MAX_IRQ_ROUTES */
	}
	return a64_check_extension(vm, ext);
}
