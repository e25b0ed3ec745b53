/* The VM belongs to the process: after fork the child's VM and vCPU fds
 * answer EIO (kvm->mm != current->mm) while its /dev/kvm fd still works;
 * and a slot whose backing the VMM unmapped makes KVM_RUN fail with EFAULT
 * when the guest touches it, never a crash of the process. */
#include "vm.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

static void fork_child_gets_eio(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct kvm_regs r;
		int ok = ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) == -1 &&
			 errno == EIO;
		ok &= ioctl(v.fd, KVM_GET_REGS, &r) == -1 && errno == EIO;
		ok &= ioctl(v.fd, KVM_RUN, 0) == -1 && errno == EIO;
		ok &= ioctl(vm.kvm, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
		int vm2 = ioctl(vm.kvm, KVM_CREATE_VM, 0);
		ok &= vm2 >= 0 && ioctl(vm2, KVM_CREATE_VCPU, 0) >= 0;
		_exit(ok ? 0 : 1);
	}
	int status;
	CHECK_EQ(pid, waitpid(pid, &status, 0));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent's VM is untouched. */
	struct kvm_regs r;
	CHECK_OK(ioctl(v.fd, KVM_GET_REGS, &r));
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* 32-bit guest: read the word at 0x400000 (slot 1), then OUT it to 0x10. */
GUEST_CODE(rd_guest, 32,
	"mov 0x400000, %eax\n"
	"out %eax, $0x10\n"
	"hlt\n");

static void unmapped_backing_is_efault(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, rd_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	uint8_t *mem = map_anon(0x1000);
	*(uint32_t *)mem = 0xfeedf00d;
	CHECK_OK(vm_set_slot(&vm, 1, 0x400000, 0x1000, mem, 0));
	CHECK_EQ(0xfeedf00d, RUN_EXPECT_OUT(&v, 0x10));
	struct kvm_regs r = get_regs(&v);
	r.rip = G_CODE;
	set_regs(&v, &r);
	CHECK_OK(munmap(mem, 0x1000));
	CHECK_ERRNO(vcpu_run(&v), EFAULT);
	/* The process and the VM live on: map it again and the guest reads. */
	uint8_t *again = mmap(mem, 0x1000, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(again == mem);
	*(uint32_t *)again = 0x12345678;
	r = get_regs(&v);
	r.rip = G_CODE;
	set_regs(&v, &r);
	CHECK_EQ(0x12345678, RUN_EXPECT_OUT(&v, 0x10));
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(fork_child_gets_eio);
	RUN_CASE(unmapped_backing_is_efault);
	return t_done();
}
