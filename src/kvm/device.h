/* Device fds (KVM_CREATE_DEVICE): virt/kvm/kvm_main.c's kvm_device. */
#ifndef SK_DEVICE_H
#define SK_DEVICE_H

#include "kvm/kvm.h"

struct sk_device_ops;

/* One object per KVM_CREATE_DEVICE; every fd (dup'ed ones too) holds a
 * reference, and the device holds one to its VM. */
struct sk_device {
	atomic_int refs;
	struct sk_vm *vm;
	const struct sk_device_ops *ops;
	void *priv;                 /* the arch's state */
};

/* KVM_CREATE_DEVICE on a VM fd; arg is the caller's struct kvm_create_device. */
long sk_device_create(struct sk_vm *vm, unsigned long arg);
/* An ioctl on a device fd. */
long sk_device_ioctl(struct sk_device *dev, unsigned long cmd, unsigned long arg);
void sk_device_get(struct sk_device *dev);
void sk_device_put(struct sk_device *dev);

#endif
