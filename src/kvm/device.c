/* KVM_CREATE_DEVICE and the device fd: the arch-neutral half of KVM's
 * device API. The arch offers device types (sk_arch_ops.devices); the core
 * makes the fd, counts its references and routes the attribute ioctls. */
#include <errno.h>
#include <stdlib.h>

#include "arch/arch.h"
#include "kvm/device.h"
#include "kvm/uaccess.h"

static const struct sk_device_ops *ops_for(const struct sk_vm *vm, uint32_t type)
{
	const struct sk_device_ops *const *d = vm->arch->devices;
	for (; d && *d; d++)
		if ((*d)->type == type)
			return *d;
	return NULL;
}

void sk_device_get(struct sk_device *dev)
{
	atomic_fetch_add(&dev->refs, 1);
}

void sk_device_put(struct sk_device *dev)
{
	if (atomic_fetch_sub(&dev->refs, 1) != 1)
		return;
	if (dev->ops->release)
		dev->ops->release(dev->priv);
	sk_vm_put(dev->vm);
	free(dev);
}

/* KVM checks only the type and the TEST flag; other flag bits are ignored. */
static long create(struct sk_vm *vm, struct kvm_create_device *cd)
{
	const struct sk_device_ops *ops = ops_for(vm, cd->type);
	if (!ops)
		return -ENODEV;
	if (cd->flags & KVM_CREATE_DEVICE_TEST)
		return 0;
	struct sk_device *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	atomic_init(&dev->refs, 1);
	dev->vm = vm;
	dev->ops = ops;
	pthread_mutex_lock(&vm->lock);
	int r = ops->create(vm, cd->type, &dev->priv);
	pthread_mutex_unlock(&vm->lock);
	if (r < 0) {
		free(dev);
		return r;
	}
	sk_vm_get(vm);
	int fd = sk_anon_fd();
	if (fd < 0) {
		sk_device_put(dev);
		return fd;
	}
	r = sk_fd_install(SK_FILE_DEVICE, dev, fd);
	if (r < 0) {
		sk_device_put(dev);
		sk_sys_close(fd);
		return r;
	}
	cd->fd = (uint32_t)fd;
	return 0;
}

long sk_device_create(struct sk_vm *vm, unsigned long arg)
{
	struct kvm_create_device cd;
	if (sk_copy_from_user(&cd, (void *)arg, sizeof(cd)))
		return -EFAULT;
	long r = create(vm, &cd);
	if (r)
		return r;
	if (sk_copy_to_user((void *)arg, &cd, sizeof(cd)))
		return -EFAULT;   /* as KVM: the fd stays installed */
	return 0;
}

long sk_device_ioctl(struct sk_device *dev, unsigned long cmd, unsigned long arg)
{
	if (sk_vm_foreign(dev->vm) || dev->vm->dead)
		return -EIO;
	int (*fn)(void *, const void *);
	switch (cmd) {
	case KVM_SET_DEVICE_ATTR:
		fn = dev->ops->set_attr;
		break;
	case KVM_GET_DEVICE_ATTR:
		fn = dev->ops->get_attr;
		break;
	case KVM_HAS_DEVICE_ATTR:
		fn = dev->ops->has_attr;
		break;
	default:
		return -ENOTTY;
	}
	if (!fn)
		return -EPERM;
	struct kvm_device_attr attr;
	if (sk_copy_from_user(&attr, (void *)arg, sizeof(attr)))
		return -EFAULT;
	return fn(dev->priv, &attr);
}
