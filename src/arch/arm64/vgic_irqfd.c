/* KVM_SET_GSI_ROUTING and KVM_IRQFD with the vGIC (virt/kvm/irqchip.c and
 * vgic-irqfd.c's rules): a GSI routes to an SPI (irqchip pin + 32) or to an
 * MSI (kept, but without an ITS it goes nowhere). KVM_IRQFD is the core's
 * (kvm/irqfd.h): an eventfd write becomes an edge on the GSI here.
 * KVM_IRQFD_FLAG_RESAMPLE is not offered. */
#include <errno.h>
#include <stdlib.h>

#include "arch/arm64/vgic.h"
#include "kvm/irqfd.h"

#define MAX_IRQ_ROUTES 4096      /* KVM_MAX_IRQ_ROUTES */
#define IRQCHIP_NUM_PINS 988     /* KVM_IRQCHIP_NUM_PINS: the SPIs */

struct vgic_route {
	uint32_t gsi, type, pin;
};

/* ---- routing (vg->lock) ---- */

static void set_default_routes(struct a64_vgic *vg)
{
	free(vg->routes);
	vg->nr_routes = 0;
	vg->routes = calloc(vg->nr_spis ? vg->nr_spis : 1, sizeof(*vg->routes));
	if (!vg->routes)
		return;
	for (uint32_t i = 0; i < vg->nr_spis; i++)
		vg->routes[i] = (struct vgic_route){i, KVM_IRQ_ROUTING_IRQCHIP, i};
	vg->nr_routes = (int)vg->nr_spis;
}

void vgic_routes_init(struct a64_vgic *vg)
{
	set_default_routes(vg);
}

/* An edge on gsi. A level-sensitive SPI keeps it pending until taken, as
 * the guest sees on KVM once the pulse reached the vCPU. */
static void set_gsi(struct a64_vgic *vg, uint32_t gsi)
{
	for (int i = 0; i < vg->nr_routes; i++) {
		const struct vgic_route *r = &vg->routes[i];
		if (r->gsi != gsi || r->type != KVM_IRQ_ROUTING_IRQCHIP)
			continue;
		struct vgic_irq *irq = vgic_get_irq(vg, NULL, r->pin + VGIC_NR_PRIVATE);
		if (!irq)
			continue;
		irq->latch = true;
		vgic_update(vg, vgic_target(vg, NULL, r->pin + VGIC_NR_PRIVATE));
	}
}

static size_t routing_size(const void *hdr)
{
	const struct kvm_irq_routing *r = hdr;
	if (r->nr > MAX_IRQ_ROUTES)
		return sizeof(*r);   /* refused with EINVAL by the handler */
	return sizeof(*r) + (size_t)r->nr * sizeof(struct kvm_irq_routing_entry);
}

static int check_entry(const struct kvm_irq_routing_entry *e, const struct kvm_irq_routing_entry *all, uint32_t i)
{
	if (e->gsi >= MAX_IRQ_ROUTES)
		return -EINVAL;
	if (e->type == KVM_IRQ_ROUTING_MSI ? (e->flags & ~KVM_MSI_VALID_DEVID) : e->flags)
		return -EINVAL;
	/* one irqchip pin per GSI; anything else maps one to one */
	for (uint32_t j = 0; j < i; j++)
		if (all[j].gsi == e->gsi)
			return -EINVAL;
	switch (e->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		return e->u.irqchip.irqchip || e->u.irqchip.pin >= IRQCHIP_NUM_PINS ? -EINVAL : 0;
	case KVM_IRQ_ROUTING_MSI:
		return 0;
	}
	return -EINVAL;
}

static long set_gsi_routing(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	const struct kvm_irq_routing *rt = arg;
	struct a64_vgic *vg = vgic_of(vm);
	if (rt->nr > MAX_IRQ_ROUTES || rt->flags)
		return -EINVAL;
	for (uint32_t i = 0; i < rt->nr; i++)
		if (check_entry(&rt->entries[i], rt->entries, i))
			return -EINVAL;
	if (!vg)
		return 0;   /* kept by KVM for a later irqchip; nothing to route to here */
	struct vgic_route *n = calloc(rt->nr ? rt->nr : 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (uint32_t i = 0; i < rt->nr; i++)
		n[i] = (struct vgic_route){rt->entries[i].gsi, rt->entries[i].type, rt->entries[i].u.irqchip.pin};
	pthread_mutex_lock(&vg->lock);
	free(vg->routes);
	vg->routes = n;
	vg->nr_routes = (int)rt->nr;
	pthread_mutex_unlock(&vg->lock);
	return 0;
}

/* ---- KVM_IRQFD: the core's engine (kvm/irqfd.h) ---- */

static int irqfd_allowed(struct sk_vm *vm)
{
	struct a64_vgic *vg = vgic_of(vm);
	return vg && vg->initialized ? 0 : -EAGAIN;   /* kvm_arch_intc_initialized */
}

/* A rising edge latches the SPI (set_gsi); the falling one has nothing to
 * undo. */
static void irqfd_inject(struct sk_vm *vm, uint32_t gsi, bool level)
{
	struct a64_vgic *vg = vgic_of(vm);
	if (!level)
		return;
	pthread_mutex_lock(&vg->lock);
	set_gsi(vg, gsi);
	pthread_mutex_unlock(&vg->lock);
}

static const struct sk_irqfd_ops irqfd_ops = {irqfd_allowed, irqfd_inject};

static long irqfd(void *obj, void *arg)
{
	return sk_irqfd_ioctl(obj, arg, &irqfd_ops);
}

void vgic_irqfds_destroy(struct a64_vgic *vg)
{
	sk_irqfd_destroy(vg->vm);
}

static long signal_msi(void *obj, void *arg)
{
	(void)obj;
	(void)arg;
	return -ENODEV;   /* MSIs need an ITS */
}

const struct sk_ioctl a64_vgic_vm_ioctls[] = {
	{KVM_SIGNAL_MSI, signal_msi, NULL, 0},
	{KVM_SET_GSI_ROUTING, set_gsi_routing, routing_size, 0},
	{KVM_IRQFD, irqfd, NULL, 0},
	{0, NULL, NULL, 0},
};
