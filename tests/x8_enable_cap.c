/* X8: KVM_ENABLE_CAP on vCPU and VM fds: flags != 0 fails with EINVAL, a
 * capability that cannot be enabled fails with EINVAL; KVM_CHECK_EXTENSION
 * says yes to KVM_CAP_ENABLE_CAP and KVM_CAP_ENABLE_CAP_VM. */
#include "vm.h"

#include <sys/ioctl.h>

#define UNKNOWN_CAP 0x7fffff00u

static int enable(int fd, uint32_t capno, uint32_t flags, uint64_t arg0)
{
	struct kvm_enable_cap cap;
	memset(&cap, 0, sizeof(cap));
	cap.cap = capno;
	cap.flags = flags;
	cap.args[0] = arg0;
	return ioctl(fd, KVM_ENABLE_CAP, &cap);
}

static void extensions(void)
{
	struct vm vm;
	vm_init_bare(&vm);
	CHECK(check_ext(vm.kvm, KVM_CAP_ENABLE_CAP) > 0);
	CHECK(check_ext(vm.kvm, KVM_CAP_ENABLE_CAP_VM) > 0);
	CHECK(check_ext(vm.kvm, KVM_CAP_CHECK_EXTENSION_VM) > 0);
	CHECK(check_ext(vm.fd, KVM_CAP_ENABLE_CAP) > 0);
	CHECK(check_ext(vm.fd, KVM_CAP_ENABLE_CAP_VM) > 0);
	CHECK_EQ(0, check_ext(vm.kvm, UNKNOWN_CAP));
	CHECK_EQ(0, check_ext(vm.fd, UNKNOWN_CAP));
	vm_fini(&vm);
}

static void vcpu_rules(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	CHECK_ERRNO(enable(v.fd, KVM_CAP_HYPERV_SYNIC, 1, 0), EINVAL);
	CHECK_ERRNO(enable(v.fd, UNKNOWN_CAP, 0, 0), EINVAL);
	CHECK_ERRNO(enable(v.fd, KVM_CAP_USER_MEMORY, 0, 0), EINVAL);
	CHECK_ERRNO(enable(v.fd, KVM_CAP_NR_VCPUS, 0, 0), EINVAL);
	CHECK_ERRNO(ioctl(v.fd, KVM_ENABLE_CAP, (void *)1), EFAULT);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void vm_rules(void)
{
	struct vm vm;
	vm_init_bare(&vm);
	CHECK_ERRNO(enable(vm.fd, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 1,
			   KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE), EINVAL);
	CHECK_ERRNO(enable(vm.fd, UNKNOWN_CAP, 1, 0), EINVAL);
	CHECK_ERRNO(enable(vm.fd, UNKNOWN_CAP, 0, 0), EINVAL);
	CHECK_ERRNO(enable(vm.fd, KVM_CAP_USER_MEMORY, 0, 0), EINVAL);
	CHECK_ERRNO(enable(vm.fd, KVM_CAP_NR_VCPUS, 0, 0), EINVAL);
	CHECK_ERRNO(ioctl(vm.fd, KVM_ENABLE_CAP, (void *)1), EFAULT);
	/* One that can be enabled, with flags 0, works. */
	if (check_ext(vm.fd, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0)
		CHECK_OK(enable(vm.fd, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 0,
				KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE));
	else
		SKIP("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 not reported");
	vm_fini(&vm);
}

/* /dev/kvm has no KVM_ENABLE_CAP: the system fd's unknown-ioctl answer. */
static void system_fd(void)
{
	int kvm = kvm_open();
	CHECK_ERRNO(enable(kvm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 0, 1), EINVAL);
	close(kvm);
}

int main(void)
{
	RUN_CASE(extensions);
	RUN_CASE(vcpu_rules);
	RUN_CASE(vm_rules);
	RUN_CASE(system_fd);
	return t_done();
}
