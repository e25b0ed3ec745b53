/* KVM_IRQFD of an x86 VM: the core's engine (kvm/irqfd.h) with the in-kernel
 * irqchip's lines. Resampling is not offered, as on a split irqchip. */
#include <errno.h>

#include "arch/x86/irq.h"
#include "arch/x86/irqfd.h"
#include "kvm/irqfd.h"

/* kvm_arch_irqfd_allowed: an in-kernel irqchip. */
static int allowed(struct sk_vm *vm)
{
	return x86_irqchip(vm) ? 0 : -EINVAL;
}

/* Through the routing, as kvm_set_irq (a GSI may reach PIC and IOAPIC). */
static void inject(struct sk_vm *vm, uint32_t gsi, bool level)
{
	struct x86_irqchip *ic = x86_irqchip(vm);
	pthread_mutex_lock(&ic->lock);
	x86_irq_set_gsi(ic, gsi, level);
	pthread_mutex_unlock(&ic->lock);
}

static const struct sk_irqfd_ops ops = {allowed, inject};

long x86_ioc_irqfd(void *obj, void *arg)
{
	return sk_irqfd_ioctl(obj, arg, &ops);
}

void x86_irqfd_destroy(struct sk_vm *vm)
{
	sk_irqfd_destroy(vm);
}
