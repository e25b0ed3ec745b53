/* KVM_IRQFD (virt/kvm/eventfd.c's counterpart): an eventfd bound to a GSI.
 *
 * The core owns the ioctl's rules and errno, the bindings and, per VM, one
 * thread that waits on the bound eventfds; a write by anyone (a device
 * thread, vhost) becomes an edge on the GSI. The arch only says whether its
 * irqchip takes irqfds and drives a GSI's line: it never sees the ioctl
 * struct, and the core never sees the irqchip. KVM_IRQFD_FLAG_RESAMPLE
 * (a level line re-armed at EOI) is not offered: EINVAL, as where KVM's
 * irqchip cannot do it.
 */
#ifndef SK_KVM_IRQFD_H
#define SK_KVM_IRQFD_H

#include <stdbool.h>
#include <stdint.h>

struct sk_vm;

struct sk_irqfd_ops {
	/* kvm_arch_intc_initialized and kvm_arch_irqfd_allowed: 0, -EAGAIN
	 * (the irqchip is not initialized yet) or -EINVAL (no irqchip). */
	int (*allowed)(struct sk_vm *vm);
	/* Set gsi's line (an event is level 1 then level 0). Called on the
	 * irqfd thread, never with an arch lock held. */
	void (*inject)(struct sk_vm *vm, uint32_t gsi, bool level);
};

/* The KVM_IRQFD handler: karg is the copied-in struct kvm_irqfd. */
long sk_irqfd_ioctl(struct sk_vm *vm, const void *karg, const struct sk_irqfd_ops *ops);

/* Stop the VM's irqfd thread and drop every binding (idempotent). The arch
 * calls it before its irqchip goes away: the thread injects through it. */
void sk_irqfd_destroy(struct sk_vm *vm);

#endif
