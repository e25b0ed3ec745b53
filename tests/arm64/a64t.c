#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "a64t.h"

int tvm_create(struct tvm *vm)
{
	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		return -1;
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, VM_TYPE);
	if (vm->fd < 0)
		return -1;
	vm->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->ram == MAP_FAILED)
		return -1;
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = RAM_GPA, .memory_size = RAM_SIZE,
		.userspace_addr = (uintptr_t)vm->ram,
	};
	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
}

int tvcpu_init(struct tvcpu *v, uint32_t features)
{
	struct kvm_vcpu_init init;
	if (ioctl(v->vm->fd, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		return -1;
	init.features[0] = features;
	return ioctl(v->fd, KVM_ARM_VCPU_INIT, &init);
}

int tvcpu_create(struct tvm *vm, struct tvcpu *v, int id, uint32_t features)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0)
		return -1;
	int sz = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED)
		return -1;
	return tvcpu_init(v, features);
}

uint64_t get_reg(struct tvcpu *v, uint64_t id)
{
	uint64_t val = 0;
	struct kvm_one_reg r = {.id = id, .addr = (uintptr_t)&val};
	if (ioctl(v->fd, KVM_GET_ONE_REG, &r) < 0)
		fprintf(stderr, "GET_ONE_REG %#llx: %s\n", (unsigned long long)id, strerror(errno));
	return val;
}

int set_reg(struct tvcpu *v, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = {.id = id, .addr = (uintptr_t)&val};
	return ioctl(v->fd, KVM_SET_ONE_REG, &r);
}

int load_guest(struct tvm *vm, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t n = fread(vm->ram, 1, RAM_SIZE, f);
	fclose(f);
	return n ? 0 : -1;
}

static void port(struct tvcpu *v, uint64_t off, uint64_t data)
{
	switch (off) {
	case 0x00:
		v->id = data;
		break;
	case 0x08:
		v->got = data;
		break;
	case 0x10:
		v->checks++;
		t_checks++;
		if (v->got != data) {
			v->fails++;
			t_failures++;
			printf("FAIL guest check %#llx: got %#llx, expected %#llx\n", (unsigned long long)v->id,
			       (unsigned long long)v->got, (unsigned long long)data);
		}
		break;
	case 0x18:
		putchar((int)(data & 0xff));
		fflush(stdout);
		break;
	case 0x20:
		if (v->nvalues < 64)
			v->values[v->nvalues++] = data;
		break;
	}
}

int run_once(struct tvcpu *v, int *handled)
{
	*handled = 0;
	if (ioctl(v->fd, KVM_RUN, 0) < 0)
		return -errno;
	struct kvm_run *run = v->run;
	if (run->exit_reason == KVM_EXIT_MMIO && run->mmio.is_write && run->mmio.phys_addr >= PORT_GPA &&
	    run->mmio.phys_addr < PORT_GPA + 0x100) {
		uint64_t d = 0;
		memcpy(&d, run->mmio.data, run->mmio.len);
		port(v, run->mmio.phys_addr - PORT_GPA, d);
		*handled = 1;
	}
	return (int)run->exit_reason;
}

int run_guest(struct tvcpu *v)
{
	for (;;) {
		int handled;
		int r = run_once(v, &handled);
		if (r < 0) {
			printf("KVM_RUN failed: %s\n", strerror(-r));
			return -1;
		}
		if (handled)
			continue;
		if (r == KVM_EXIT_SYSTEM_EVENT)
			return r;
		if (r == KVM_EXIT_INTR)
			continue;
		printf("unexpected exit %d at pc %#llx\n", r, (unsigned long long)get_reg(v, CORE_REG(regs.pc)));
		return r;
	}
}
