/* The VM and its single vCPU, set up as any KVM program does it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm.h"

/* Where KVM_SET_TSS_ADDR puts the 3 pages real-mode emulation needs on
 * hosts without unrestricted guest: above RAM, below 4 GiB (QEMU's choice). */
#define VMM_TSS_ADDR 0xfffbd000ul

static int open_kvm(struct vmm *vmm)
{
	vmm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vmm->kvm_fd < 0) {
		fprintf(stderr, "softkvm-vmm: /dev/kvm: %s%s\n", strerror(errno),
			errno == ENOENT ? " (run me under `softkvm --`)" : "");
		return -1;
	}
	int version = ioctl(vmm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		fprintf(stderr, "softkvm-vmm: KVM API version %d, need %d\n",
			version, KVM_API_VERSION);
		return -1;
	}
	if (ioctl(vmm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0) {
		fprintf(stderr, "softkvm-vmm: KVM_CAP_USER_MEMORY missing\n");
		return -1;
	}
	return 0;
}

static int create_vm(struct vmm *vmm, size_t mem_size)
{
	vmm->vm_fd = ioctl(vmm->kvm_fd, KVM_CREATE_VM, 0);
	if (vmm->vm_fd < 0) {
		perror("softkvm-vmm: KVM_CREATE_VM");
		return -1;
	}
	if (ioctl(vmm->vm_fd, KVM_SET_TSS_ADDR, VMM_TSS_ADDR) < 0)
		perror("softkvm-vmm: KVM_SET_TSS_ADDR (continuing)");

	vmm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vmm->mem == MAP_FAILED) {
		vmm->mem = NULL;
		perror("softkvm-vmm: mmap guest memory");
		return -1;
	}
	vmm->mem_size = mem_size;

	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = mem_size,
		.userspace_addr = (uintptr_t)vmm->mem,
	};
	if (ioctl(vmm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		perror("softkvm-vmm: KVM_SET_USER_MEMORY_REGION");
		return -1;
	}
	return 0;
}

/* Give the vCPU the host-supported CPUID, as QEMU and kvmtool do: KVM
 * refuses EFER.LME unless the guest's CPUID reports long mode. */
static int set_cpuid(struct vmm *vmm)
{
	struct kvm_cpuid2 *cpuid = NULL;

	for (unsigned n = 64; n <= 4096; n *= 2) {
		free(cpuid);
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -1;
		cpuid->nent = n;
		if (ioctl(vmm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		if (errno != E2BIG) {
			perror("softkvm-vmm: KVM_GET_SUPPORTED_CPUID");
			free(cpuid);
			return -1;
		}
	}
	int r = ioctl(vmm->vcpu_fd, KVM_SET_CPUID2, cpuid);
	if (r < 0)
		perror("softkvm-vmm: KVM_SET_CPUID2");
	free(cpuid);
	return r;
}

static int create_vcpu(struct vmm *vmm)
{
	vmm->vcpu_fd = ioctl(vmm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vmm->vcpu_fd < 0) {
		perror("softkvm-vmm: KVM_CREATE_VCPU");
		return -1;
	}
	int size = ioctl(vmm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run)) {
		perror("softkvm-vmm: KVM_GET_VCPU_MMAP_SIZE");
		return -1;
	}
	vmm->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
			vmm->vcpu_fd, 0);
	if (vmm->run == MAP_FAILED) {
		vmm->run = NULL;
		perror("softkvm-vmm: mmap kvm_run");
		return -1;
	}
	vmm->run_size = (size_t)size;
	if (set_cpuid(vmm) < 0)
		fprintf(stderr, "softkvm-vmm: continuing without guest CPUID\n");
	return 0;
}

int vmm_kvm_init(struct vmm *vmm, size_t mem_size)
{
	vmm->kvm_fd = vmm->vm_fd = vmm->vcpu_fd = -1;
	if (open_kvm(vmm) < 0 || create_vm(vmm, mem_size) < 0 ||
	    create_vcpu(vmm) < 0)
		return -1;
	return 0;
}

void vmm_kvm_destroy(struct vmm *vmm)
{
	if (vmm->run)
		munmap(vmm->run, vmm->run_size);
	if (vmm->vcpu_fd >= 0)
		close(vmm->vcpu_fd);
	if (vmm->vm_fd >= 0)
		close(vmm->vm_fd);
	if (vmm->mem)
		munmap(vmm->mem, vmm->mem_size);
	if (vmm->kvm_fd >= 0)
		close(vmm->kvm_fd);
}
