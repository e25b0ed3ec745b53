/* The system fd (/dev/kvm): kvm_dev_ioctl's counterpart. */
#include <errno.h>
#include <unistd.h>

#include "arch/arch.h"
#include "kvm/dispatch.h"
#include "kvm/kvm.h"


static long create_vm(unsigned long type)
{
	const struct sk_arch_ops *arch = sk_arch_for_vm_type(&type);
	int r = arch->vm_type_valid(type);
	if (r)
		return r;
	struct sk_vm *vm = sk_vm_create(arch, type);
	if (!vm)
		return -ENOMEM;
	int fd = sk_anon_fd();
	if (fd < 0) {
		sk_vm_put(vm);
		return fd;
	}
	r = sk_fd_install(SK_FILE_VM, vm, fd);
	if (r < 0) {
		sk_vm_put(vm);
		sk_sys_close(fd);
	}
	return r;
}

long sk_sys_ioctl(unsigned long cmd, unsigned long arg)
{
	const struct sk_arch_ops *arch = sk_arch_default();
	switch (cmd) {
	case KVM_GET_API_VERSION:
		return arg ? -EINVAL : KVM_API_VERSION;
	case KVM_CREATE_VM:
		return create_vm(arg);
	case KVM_CHECK_EXTENSION:
		return sk_check_extension(NULL, (long)arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : (long)arch->vcpu_mmap_pages * getpagesize();
	case KVM_TRACE_ENABLE:
	case KVM_TRACE_PAUSE:
	case KVM_TRACE_DISABLE:
		return -EOPNOTSUPP;
	}
	bool found;
	long r = sk_call_table(arch->sys_ioctls, NULL, cmd, arg, &found);
	return found ? r : -EINVAL;
}
