/* The vGIC as a KVM device: KVM_CREATE_DEVICE of KVM_DEV_TYPE_ARM_VGIC_V3
 * (and the ITS's address), its attribute groups with arch/arm64/kvm/vgic's
 * checks and errno, the redistributor regions, init and the mapping at the
 * first KVM_RUN, and KVM_IRQ_LINE. Lock order: vm->lock, then vg->lock. */
#include <errno.h>
#include <stdlib.h>

#include "arch/arm64/vgic.h"
#include "kvm/uaccess.h"

#define NR_IRQS_LEGACY 256

/* ---- helpers ---- */

/* KVM's lock_all_vcpus: a vCPU inside an ioctl (KVM_RUN) makes it EBUSY. */
static bool lock_vcpus(struct sk_vm *vm)
{
	int n = atomic_load(&vm->nr_vcpus);
	for (int i = 0; i < n; i++) {
		if (pthread_mutex_trylock(&vm->vcpus[i]->run_lock)) {
			while (i--)
				pthread_mutex_unlock(&vm->vcpus[i]->run_lock);
			return false;
		}
	}
	return true;
}

static void unlock_vcpus(struct sk_vm *vm)
{
	int n = atomic_load(&vm->nr_vcpus);
	for (int i = 0; i < n; i++)
		pthread_mutex_unlock(&vm->vcpus[i]->run_lock);
}

static uint64_t phys_size(struct a64_vgic *vg)
{
	return 1ull << ((struct a64_vm *)vg->vm->arch_vm)->ipa_bits;
}

/* vgic_check_iorange: where a frame may go. */
static int check_iorange(struct a64_vgic *vg, uint64_t cur, uint64_t addr, uint64_t align, uint64_t size)
{
	if (cur != VGIC_ADDR_UNDEF)
		return -EEXIST;
	if ((addr & (align - 1)) || (size & (align - 1)))
		return -EINVAL;
	if (addr + size < addr)
		return -EINVAL;
	if (addr >= phys_size(vg) || addr + size > phys_size(vg))
		return -E2BIG;
	return 0;
}

uint64_t vgic_rdreg_size(struct a64_vgic *vg, const struct vgic_rdreg *r)
{
	uint64_t n = r->count ? r->count : (uint64_t)atomic_load(&vg->vm->nr_vcpus);
	return n * KVM_VGIC_V3_REDIST_SIZE;
}

static bool rdist_overlap(struct a64_vgic *vg, uint64_t base, uint64_t size)
{
	for (int i = 0; i < vg->nr_rdregs; i++) {
		const struct vgic_rdreg *r = &vg->rdregs[i];
		if (base + size > r->base && base < r->base + vgic_rdreg_size(vg, r))
			return true;
	}
	return false;
}

static bool dist_overlap(struct a64_vgic *vg, uint64_t base, uint64_t size)
{
	return base + size > vg->dist_base && base < vg->dist_base + KVM_VGIC_V3_DIST_SIZE;
}

/* Every frame placed so far fits the IPA space and none overlap. */
static bool check_base(struct a64_vgic *vg)
{
	if (vg->dist_base != VGIC_ADDR_UNDEF && vg->dist_base + KVM_VGIC_V3_DIST_SIZE < vg->dist_base)
		return false;
	for (int i = 0; i < vg->nr_rdregs; i++)
		if (check_iorange(vg, VGIC_ADDR_UNDEF, vg->rdregs[i].base, SZ_64K,
				  vgic_rdreg_size(vg, &vg->rdregs[i])))
			return false;
	if (vg->dist_base == VGIC_ADDR_UNDEF)
		return true;
	return !rdist_overlap(vg, vg->dist_base, KVM_VGIC_V3_DIST_SIZE);
}

/* ---- redistributor regions ---- */

/* Give gc the next free redistributor slot, if a region has one. */
static int register_redist(struct a64_vgic *vg, struct vgic_cpu *gc)
{
	if (gc->rd_base != VGIC_ADDR_UNDEF)
		return 0;
	for (int i = 0; i < vg->nr_rdregs; i++) {
		struct vgic_rdreg *r = &vg->rdregs[i];
		if (r->count && r->free_index >= r->count)
			continue;
		if (!check_base(vg))
			return -EINVAL;
		gc->rdreg = i;
		gc->rdreg_slot = r->free_index;
		gc->rd_base = r->base + (uint64_t)r->free_index * KVM_VGIC_V3_REDIST_SIZE;
		r->free_index++;
		return 0;
	}
	return 0;
}

static int alloc_rdreg(struct a64_vgic *vg, uint32_t index, uint64_t base, uint32_t count)
{
	uint64_t n = count ? count : (uint64_t)atomic_load(&vg->vm->nr_vcpus);
	uint64_t size = n * KVM_VGIC_V3_REDIST_SIZE;
	if (base + size < base)
		return -EINVAL;
	if (!vg->nr_rdregs) {
		if (index != 0)
			return -EINVAL;
	} else {
		const struct vgic_rdreg *last = &vg->rdregs[vg->nr_rdregs - 1];
		if (!count && last->count)
			return -EINVAL;   /* no mixing the legacy region with regions */
		if (!count)
			return -EEXIST;
		if (index != last->index + 1)
			return -EINVAL;
	}
	if (!count && vg->dist_base != VGIC_ADDR_UNDEF && dist_overlap(vg, base, size))
		return -EINVAL;
	if (rdist_overlap(vg, base, size))
		return -EINVAL;
	int r = check_iorange(vg, VGIC_ADDR_UNDEF, base, SZ_64K, size);
	if (r)
		return r;
	struct vgic_rdreg *regs = realloc(vg->rdregs, (size_t)(vg->nr_rdregs + 1) * sizeof(*regs));
	if (!regs)
		return -ENOMEM;
	vg->rdregs = regs;
	regs[vg->nr_rdregs++] = (struct vgic_rdreg){.base = base, .count = count, .index = index};
	return 0;
}

/* A new region, then a slot in it for each vCPU that has none yet. */
static int set_redist_base(struct a64_vgic *vg, uint32_t index, uint64_t base, uint32_t count)
{
	int r = alloc_rdreg(vg, index, base, count);
	if (r)
		return r;
	int n = vgic_nr_cpus(vg);
	for (int i = 0; i < n; i++) {
		r = register_redist(vg, vg->cpus[i]);
		if (r)
			break;
	}
	if (r) {
		int last = vg->nr_rdregs - 1;
		for (int i = 0; i < n; i++) {
			struct vgic_cpu *gc = vg->cpus[i];
			if (gc->rdreg == last) {
				gc->rdreg = -1;
				gc->rd_base = VGIC_ADDR_UNDEF;
			}
		}
		vg->nr_rdregs--;
	}
	return r;
}

/* ---- KVM_DEV_ARM_VGIC_GRP_ADDR ---- */

static int addr_attr(struct a64_vgic *vg, const struct kvm_device_attr *a, bool write)
{
	uint64_t *uaddr = (uint64_t *)(uintptr_t)a->addr;
	uint64_t addr = 0;
	if ((write || a->attr == KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION) && sk_copy_from_user(&addr, uaddr, 8))
		return -EFAULT;
	int r = 0;
	pthread_mutex_lock(&vg->lock);
	switch (a->attr) {
	case KVM_VGIC_V3_ADDR_TYPE_DIST:
		if (!write) {
			addr = vg->dist_base;
			break;
		}
		r = check_iorange(vg, vg->dist_base, addr, SZ_64K, KVM_VGIC_V3_DIST_SIZE);
		if (!r)
			vg->dist_base = addr;
		break;
	case KVM_VGIC_V3_ADDR_TYPE_REDIST:
		if (write)
			r = set_redist_base(vg, 0, addr, 0);
		else
			addr = vg->nr_rdregs ? vg->rdregs[0].base : VGIC_ADDR_UNDEF;
		break;
	case KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION: {
		uint32_t index = VGIC_RDIST_INDEX(addr);
		if (write) {
			uint32_t count = VGIC_RDIST_COUNT(addr);
			if (!count || VGIC_RDIST_FLAGS(addr))
				r = -EINVAL;
			else
				r = set_redist_base(vg, index, VGIC_RDIST_BASE(addr), count);
			break;
		}
		r = -ENOENT;
		for (int i = 0; i < vg->nr_rdregs; i++) {
			const struct vgic_rdreg *rg = &vg->rdregs[i];
			if (rg->index == index) {
				addr = index | rg->base | (uint64_t)rg->count << 52;
				r = 0;
			}
		}
		break;
	}
	default:
		r = -ENXIO;
	}
	pthread_mutex_unlock(&vg->lock);
	if (!r && !write && sk_copy_to_user(uaddr, &addr, 8))
		r = -EFAULT;
	return r;
}

/* ---- init and the first run ---- */

static int vgic_init(struct a64_vgic *vg)
{
	if (vg->initialized)
		return 0;
	if (!vg->nr_spis)
		vg->nr_spis = NR_IRQS_LEGACY - VGIC_NR_PRIVATE;
	vg->spis = calloc(vg->nr_spis, sizeof(*vg->spis));
	if (!vg->spis)
		return -ENOMEM;
	for (uint32_t i = 0; i < vg->nr_spis; i++) {
		vg->spis[i].group1 = true;
		vgic_route_spi(vg, &vg->spis[i]);
	}
	vgic_routes_init(vg);
	vg->initialized = true;
	vgic_update_all(vg);
	return 0;
}

bool a64_vgic_present(struct sk_vm *vm)
{
	return vgic_of(vm) != NULL;
}

int a64_vgic_ready(struct sk_vm *vm)
{
	struct a64_vgic *vg = vgic_of(vm);
	if (!vg)
		return 0;
	pthread_mutex_lock(&vg->lock);
	int r = 0, n = vgic_nr_cpus(vg);
	if (vg->ready)
		goto out;
	r = -ENXIO;
	for (int i = 0; i < n; i++)
		if (vg->cpus[i]->rd_base == VGIC_ADDR_UNDEF)
			goto out;
	if (vg->dist_base == VGIC_ADDR_UNDEF)
		goto out;
	r = -EINVAL;
	if (!check_base(vg))
		goto out;
	r = -EBUSY;   /* a GICv3 must be initialized explicitly */
	if (!vg->initialized)
		goto out;
	r = 0;
	for (uint32_t i = 0; i < vg->nr_spis; i++)
		vgic_route_spi(vg, &vg->spis[i]);
	vg->ready = true;
	vgic_update_all(vg);
out:
	pthread_mutex_unlock(&vg->lock);
	return r;
}

/* ---- register access through attributes ---- */

/* The vCPU an attribute names: by its MPIDR in bits 63:32 (KVM's
 * VGIC_TO_MPIDR packing), vCPU 0 for the distributor. */
static struct vgic_cpu *attr_vcpu(struct a64_vgic *vg, const struct kvm_device_attr *a)
{
	if (a->group == KVM_DEV_ARM_VGIC_GRP_DIST_REGS)
		return vgic_nr_cpus(vg) ? vg->cpus[0] : NULL;
	uint64_t v = a->attr >> 32;
	uint64_t mpidr = (v & 0xffffff) | ((v >> 24) & 0xff) << 32;
	return vgic_cpu_by_mpidr(vg, mpidr);
}

static int level_info(struct a64_vgic *vg, struct vgic_cpu *gc, uint64_t attr, uint32_t *val, bool write)
{
	if ((attr & KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_MASK) >> KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT !=
	    VGIC_LEVEL_INFO_LINE_LEVEL)
		return -EINVAL;
	uint32_t first = attr & KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK;
	if (first % 32)
		return -EINVAL;
	uint32_t out = 0;
	for (uint32_t i = 0; i < 32; i++) {
		struct vgic_irq *irq = vgic_get_irq(vg, gc, first + i);
		if (!irq)
			continue;
		if (write)
			irq->line = (*val >> i) & 1;
		else if (!irq->edge && irq->line)
			out |= 1u << i;
	}
	if (write)
		vgic_update_all(vg);
	else
		*val = out;
	return 0;
}

static int regs_attr(struct a64_vgic *vg, const struct kvm_device_attr *a, bool write)
{
	struct vgic_cpu *gc = attr_vcpu(vg, a);
	if (!gc)
		return -EINVAL;
	bool sysreg = a->group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS;
	uint64_t val = 0;
	uint32_t v32 = 0;
	void *uaddr = (void *)(uintptr_t)a->addr;
	if (write && (sysreg ? sk_copy_from_user(&val, uaddr, 8) : sk_copy_from_user(&v32, uaddr, 4)))
		return -EFAULT;
	if (!sysreg)
		val = v32;
	if (!lock_vcpus(vg->vm))
		return -EBUSY;
	pthread_mutex_lock(&vg->lock);
	uint64_t off = a->attr & KVM_DEV_ARM_VGIC_OFFSET_MASK;
	int r = -EBUSY;
	if (!vg->initialized)
		goto out;
	switch (a->group) {
	case KVM_DEV_ARM_VGIC_GRP_DIST_REGS:
		r = vgic_dist_access(vg, gc, off, 4, &val, write, true);
		break;
	case KVM_DEV_ARM_VGIC_GRP_REDIST_REGS:
		r = vgic_redist_access(vg, gc, off, 4, &val, write, true);
		break;
	case KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS:
		r = vgic_sysreg_user(vg, gc, a->attr & KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK, &val, write);
		break;
	default:
		v32 = (uint32_t)val;
		r = level_info(vg, gc, a->attr, &v32, write);
		val = v32;
	}
out:
	pthread_mutex_unlock(&vg->lock);
	unlock_vcpus(vg->vm);
	if (r || write)
		return r;
	v32 = (uint32_t)val;
	return (sysreg ? sk_copy_to_user(uaddr, &val, 8) : sk_copy_to_user(uaddr, &v32, 4)) ? -EFAULT : 0;
}

/* ---- the attribute groups ---- */

static int nr_irqs_set(struct a64_vgic *vg, const struct kvm_device_attr *a)
{
	uint32_t val;
	if (sk_copy_from_user(&val, (void *)(uintptr_t)a->addr, 4))
		return -EFAULT;
	if (val < VGIC_NR_PRIVATE + 32 || val > VGIC_MAX_RESERVED + 1 || (val & 31))
		return -EINVAL;
	pthread_mutex_lock(&vg->lock);
	int r = 0;
	if (vg->ready || vg->nr_spis)
		r = -EBUSY;
	else
		vg->nr_spis = val - VGIC_NR_PRIVATE;
	pthread_mutex_unlock(&vg->lock);
	return r;
}

static int ctrl_set(struct a64_vgic *vg, const struct kvm_device_attr *a)
{
	int r = -ENXIO;
	switch (a->attr) {
	case KVM_DEV_ARM_VGIC_CTRL_INIT:
		pthread_mutex_lock(&vg->lock);
		r = vgic_init(vg);
		pthread_mutex_unlock(&vg->lock);
		break;
	case KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES:
		/* no LPIs: nothing to save */
		r = lock_vcpus(vg->vm) ? 0 : -EBUSY;
		if (!r)
			unlock_vcpus(vg->vm);
		break;
	}
	return r;
}

static int v3_set_attr(void *priv, const void *arg)
{
	struct a64_vgic *vg = priv;
	const struct kvm_device_attr *a = arg;
	struct sk_vm *vm = vg->vm;
	int r;
	pthread_mutex_lock(&vm->lock);   /* no vCPU is created meanwhile */
	switch (a->group) {
	case KVM_DEV_ARM_VGIC_GRP_ADDR:
		r = addr_attr(vg, a, true);
		break;
	case KVM_DEV_ARM_VGIC_GRP_NR_IRQS:
		r = nr_irqs_set(vg, a);
		break;
	case KVM_DEV_ARM_VGIC_GRP_CTRL:
		r = ctrl_set(vg, a);
		break;
	case KVM_DEV_ARM_VGIC_GRP_DIST_REGS:
	case KVM_DEV_ARM_VGIC_GRP_REDIST_REGS:
	case KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS:
	case KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO:
		r = regs_attr(vg, a, true);
		break;
	default:
		r = -ENXIO;
	}
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static int v3_get_attr(void *priv, const void *arg)
{
	struct a64_vgic *vg = priv;
	const struct kvm_device_attr *a = arg;
	struct sk_vm *vm = vg->vm;
	int r;
	pthread_mutex_lock(&vm->lock);
	switch (a->group) {
	case KVM_DEV_ARM_VGIC_GRP_ADDR:
		r = addr_attr(vg, a, false);
		break;
	case KVM_DEV_ARM_VGIC_GRP_NR_IRQS: {
		pthread_mutex_lock(&vg->lock);
		uint32_t n = vg->nr_spis + VGIC_NR_PRIVATE;
		pthread_mutex_unlock(&vg->lock);
		r = sk_copy_to_user((void *)(uintptr_t)a->addr, &n, 4) ? -EFAULT : 0;
		break;
	}
	case KVM_DEV_ARM_VGIC_GRP_DIST_REGS:
	case KVM_DEV_ARM_VGIC_GRP_REDIST_REGS:
	case KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS:
	case KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO:
		r = regs_attr(vg, a, false);
		break;
	default:
		r = -ENXIO;
	}
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static int v3_has_attr(void *priv, const void *arg)
{
	struct a64_vgic *vg = priv;
	const struct kvm_device_attr *a = arg;
	switch (a->group) {
	case KVM_DEV_ARM_VGIC_GRP_ADDR:
		switch (a->attr) {
		case KVM_VGIC_V3_ADDR_TYPE_DIST:
		case KVM_VGIC_V3_ADDR_TYPE_REDIST:
		case KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION:
			return 0;
		}
		return -ENXIO;
	case KVM_DEV_ARM_VGIC_GRP_DIST_REGS:
	case KVM_DEV_ARM_VGIC_GRP_REDIST_REGS:
	case KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS: {
		pthread_mutex_lock(&vg->lock);
		struct vgic_cpu *gc = attr_vcpu(vg, a);
		uint64_t off = a->attr & KVM_DEV_ARM_VGIC_OFFSET_MASK, v = 0;
		int r = -EINVAL;
		if (gc && a->group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS)
			r = vgic_sysreg_user(vg, gc, off & KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK, &v, false);
		else if (gc)
			r = off < (a->group == KVM_DEV_ARM_VGIC_GRP_DIST_REGS ? KVM_VGIC_V3_DIST_SIZE
									      : KVM_VGIC_V3_REDIST_SIZE)
				    ? 0 : -ENXIO;
		pthread_mutex_unlock(&vg->lock);
		return r;
	}
	case KVM_DEV_ARM_VGIC_GRP_NR_IRQS:
		return 0;
	case KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO:
		return (a->attr & KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_MASK) >> KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT ==
			       VGIC_LEVEL_INFO_LINE_LEVEL ? 0 : -ENXIO;
	case KVM_DEV_ARM_VGIC_GRP_CTRL:
		return a->attr == KVM_DEV_ARM_VGIC_CTRL_INIT || a->attr == KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES
			       ? 0 : -ENXIO;
	}
	return -ENXIO;
}

/* ---- creation ---- */

static struct vgic_cpu *cpu_new(struct sk_vcpu *vcpu)
{
	struct vgic_cpu *gc = calloc(1, sizeof(*gc));
	if (!gc)
		return NULL;
	gc->vcpu = vcpu;
	gc->rd_base = VGIC_ADDR_UNDEF;
	gc->rdreg = -1;
	vgic_cpu_reset(gc);
	return gc;
}

static int v3_create(struct sk_vm *vm, uint32_t type, void **priv)
{
	struct a64_vm *v = vm->arch_vm;
	(void)type;
	if (!lock_vcpus(vm))
		return -EBUSY;
	int r = -EEXIST, n = atomic_load(&vm->nr_vcpus);
	if (v->vgic)
		goto out;
	r = -EBUSY;
	if (atomic_load(&v->has_run))
		goto out;
	r = -E2BIG;
	if (n > VGIC_V3_MAX_CPUS)
		goto out;
	r = -ENOMEM;
	struct a64_vgic *vg = calloc(1, sizeof(*vg));
	if (!vg)
		goto out;
	pthread_mutex_init(&vg->lock, NULL);
	vg->vm = vm;
	vg->dist_base = VGIC_ADDR_UNDEF;
	for (int i = 0; i < n; i++) {
		vg->cpus[i] = cpu_new(vm->vcpus[i]);
		if (!vg->cpus[i]) {
			a64_vgic_vm_destroy(&(struct a64_vm){.vgic = vg});
			goto out;
		}
	}
	vm->max_vcpus = VGIC_V3_MAX_CPUS;
	v->vgic = vg;
	*priv = vg;
	r = 0;
out:
	unlock_vcpus(vm);
	return r;
}

void a64_vgic_vm_destroy(struct a64_vm *v)
{
	struct a64_vgic *vg = v->vgic;
	if (!vg)
		return;
	vgic_irqfds_destroy(vg);
	free(vg->routes);
	for (int i = 0; i < VGIC_V3_MAX_CPUS; i++)
		free(vg->cpus[i]);
	free(vg->spis);
	free(vg->rdregs);
	pthread_mutex_destroy(&vg->lock);
	free(vg);
	v->vgic = NULL;
}

int a64_vgic_vcpu_create(struct sk_vcpu *vcpu)
{
	struct a64_vgic *vg = vgic_of(vcpu->vm);
	if (!vg)
		return 0;
	if (vcpu->index >= VGIC_V3_MAX_CPUS || vcpu->id >= VGIC_V3_MAX_CPUS)
		return -EINVAL;
	pthread_mutex_lock(&vg->lock);
	int r = -EBUSY;
	if (vg->initialized)
		goto out;
	r = -ENOMEM;
	struct vgic_cpu *gc = cpu_new(vcpu);
	if (!gc)
		goto out;
	r = register_redist(vg, gc);
	if (r) {
		free(gc);
		goto out;
	}
	free(vg->cpus[vcpu->index]);   /* left by a creation that failed later */
	vg->cpus[vcpu->index] = gc;
out:
	pthread_mutex_unlock(&vg->lock);
	return r;
}

/* ---- the ITS: its frame's address only (no translation service) ---- */

struct its {
	struct a64_vgic *vg;
	uint64_t base;
};

static int its_create(struct sk_vm *vm, uint32_t type, void **priv)
{
	(void)type;
	struct a64_vgic *vg = vgic_of(vm);
	if (!vg)
		return -ENODEV;
	struct its *its = malloc(sizeof(*its));
	if (!its)
		return -ENOMEM;
	*its = (struct its){vg, VGIC_ADDR_UNDEF};
	*priv = its;
	return 0;
}

static void its_release(void *priv)
{
	free(priv);
}

/* op: 0 set, 1 get, 2 has */
static int its_attr(struct its *its, const struct kvm_device_attr *a, int op)
{
	if (a->group == KVM_DEV_ARM_VGIC_GRP_CTRL) {
		bool known = a->attr == KVM_DEV_ARM_VGIC_CTRL_INIT || a->attr == KVM_DEV_ARM_ITS_CTRL_RESET ||
			     a->attr == KVM_DEV_ARM_ITS_SAVE_TABLES || a->attr == KVM_DEV_ARM_ITS_RESTORE_TABLES;
		return known && op != 1 ? 0 : -ENXIO;
	}
	if (a->group != KVM_DEV_ARM_VGIC_GRP_ADDR || a->attr != KVM_VGIC_ITS_ADDR_TYPE)
		return -ENXIO;
	if (op == 2)
		return 0;
	uint64_t *uaddr = (uint64_t *)(uintptr_t)a->addr;
	struct a64_vgic *vg = its->vg;
	pthread_mutex_lock(&vg->lock);
	uint64_t base = its->base;
	pthread_mutex_unlock(&vg->lock);
	if (op == 1)
		return sk_copy_to_user(uaddr, &base, 8) ? -EFAULT : 0;
	uint64_t addr;
	if (sk_copy_from_user(&addr, uaddr, 8))
		return -EFAULT;
	pthread_mutex_lock(&vg->lock);
	int r = check_iorange(vg, its->base, addr, SZ_64K, KVM_VGIC_V3_ITS_SIZE);
	if (!r)
		its->base = addr;
	pthread_mutex_unlock(&vg->lock);
	return r;
}

static int its_set_attr(void *priv, const void *arg)
{
	return its_attr(priv, arg, 0);
}
static int its_get_attr(void *priv, const void *arg)
{
	return its_attr(priv, arg, 1);
}
static int its_has_attr(void *priv, const void *arg)
{
	return its_attr(priv, arg, 2);
}

static const struct sk_device_ops vgic_v3_ops = {
	.type = KVM_DEV_TYPE_ARM_VGIC_V3,
	.name = "kvm-arm-vgic-v3",
	.create = v3_create,
	.set_attr = v3_set_attr,
	.get_attr = v3_get_attr,
	.has_attr = v3_has_attr,
};

static const struct sk_device_ops vgic_its_ops = {
	.type = KVM_DEV_TYPE_ARM_VGIC_ITS,
	.name = "kvm-arm-vgic-its",
	.create = its_create,
	.release = its_release,
	.set_attr = its_set_attr,
	.get_attr = its_get_attr,
	.has_attr = its_has_attr,
};

const struct sk_device_ops *const a64_devices[] = {&vgic_v3_ops, &vgic_its_ops, NULL};
