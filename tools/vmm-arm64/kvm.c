/* The VM, its RAM and its one vCPU (PSCI 0.2, the preferred target). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm.h"

#if defined(__x86_64__)
/* On an x86-64 host only softkvm can run arm64 guests, and it needs to be
 * told which architecture the VM is. */
#include "softkvm.h"
#define VMM_VM_TYPE SOFTKVM_VM_ARM64
#else
#define VMM_VM_TYPE 0
#endif

static int fail(const char *what)
{
	fprintf(stderr, "softkvm-vmm-arm64: %s: %s\n", what, strerror(errno));
	return -1;
}

uint64_t vmm_core_reg_id(size_t offset)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
	       (offset / sizeof(uint32_t));
}

int vmm_set_reg(struct vmm *vmm, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uintptr_t)&val };

	if (ioctl(vmm->vcpu_fd, KVM_SET_ONE_REG, &r) < 0)
		return fail("KVM_SET_ONE_REG");
	return 0;
}

int vmm_get_reg(struct vmm *vmm, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uintptr_t)val };

	if (ioctl(vmm->vcpu_fd, KVM_GET_ONE_REG, &r) < 0)
		return fail("KVM_GET_ONE_REG");
	return 0;
}

/* A synchronous external data abort at the instruction that exited
 * (KVM_SET_VCPU_EVENTS with ext_dabt_pending). */
int vmm_inject_ext_dabt(struct vmm *vmm)
{
	struct kvm_vcpu_events ev;

	memset(&ev, 0, sizeof(ev));
	ev.exception.ext_dabt_pending = 1;
	if (ioctl(vmm->vcpu_fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return fail("KVM_SET_VCPU_EVENTS");
	return 0;
}

static int map_ram(struct vmm *vmm, size_t mem_size)
{
	vmm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vmm->mem == MAP_FAILED) {
		vmm->mem = NULL;
		return fail("mmap guest RAM");
	}
	vmm->mem_size = mem_size;
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = VMM_RAM_BASE,
		.memory_size = mem_size,
		.userspace_addr = (uintptr_t)vmm->mem,
	};
	if (ioctl(vmm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	return 0;
}

static int create_vcpu(struct vmm *vmm)
{
	struct kvm_vcpu_init init;

	vmm->vcpu_fd = ioctl(vmm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vmm->vcpu_fd < 0)
		return fail("KVM_CREATE_VCPU");
	int sz = ioctl(vmm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	vmm->run_size = (size_t)sz;
	vmm->run = mmap(NULL, vmm->run_size, PROT_READ | PROT_WRITE,
			MAP_SHARED, vmm->vcpu_fd, 0);
	if (vmm->run == MAP_FAILED) {
		vmm->run = NULL;
		return fail("mmap kvm_run");
	}
	memset(&init, 0, sizeof(init));
	if (ioctl(vmm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		return fail("KVM_ARM_PREFERRED_TARGET");
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (ioctl(vmm->vcpu_fd, KVM_ARM_VCPU_INIT, &init) < 0)
		return fail("KVM_ARM_VCPU_INIT");
	return 0;
}

int vmm_kvm_init(struct vmm *vmm, size_t mem_size)
{
	vmm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vmm->kvm_fd < 0)
		return fail("/dev/kvm");
	int version = ioctl(vmm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		fprintf(stderr, "softkvm-vmm-arm64: KVM API version %d, "
			"expected %d\n", version, KVM_API_VERSION);
		return -1;
	}
	vmm->vm_fd = ioctl(vmm->kvm_fd, KVM_CREATE_VM, VMM_VM_TYPE);
	if (vmm->vm_fd < 0)
		return fail("KVM_CREATE_VM");
	if (map_ram(vmm, mem_size) < 0)
		return -1;
	return create_vcpu(vmm);
}
