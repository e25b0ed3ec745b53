/* KVM_IRQFD of an x86 VM (irqfd.c). */
#ifndef SK_X86_IRQFD_H
#define SK_X86_IRQFD_H

struct sk_vm;

long x86_ioc_irqfd(void *obj, void *arg);
/* Stop the irqfd thread, close the VM's eventfd references (idempotent). */
void x86_irqfd_destroy(struct sk_vm *vm);

#endif
