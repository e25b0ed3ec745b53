/* X7: KVM_SET_TSS_ADDR takes the address of a 3-page region (by value) that
 * must lie below 4 GiB: the highest accepted address is 4 GiB - 3 pages. */
#include "vm.h"

#include <sys/ioctl.h>

static void one(unsigned long addr, int exp_errno)
{
	struct vm vm;
	vm_init_bare(&vm);
	if (exp_errno)
		CHECK_ERRNO(ioctl(vm.fd, KVM_SET_TSS_ADDR, addr), exp_errno);
	else
		CHECK_OK(ioctl(vm.fd, KVM_SET_TSS_ADDR, addr));
	vm_fini(&vm);
}

static void accepted(void)
{
	one(0xfffbd000ul, 0);   /* what QEMU uses */
	one(0x1000ul, 0);
	one(0xffffd000ul, 0);   /* ends exactly at 4 GiB */
}

static void rejected(void)
{
	one(0xffffd001ul, EINVAL);
	one(0xffffe000ul, EINVAL);
	one(0xfffff000ul, EINVAL);
	one(0x100000000ul, EINVAL);
	one(0xffffffffffffd000ul, EINVAL);
}

/* A guest still runs after the TSS region is set. */
GUEST_CODE(x7_guest, 16, "out %al, $0x10\nhlt\n");

static void guest_runs(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	CHECK_OK(ioctl(vm.fd, KVM_SET_TSS_ADDR, 0xfffbd000ul));
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x7_guest);
	vcpu_setup(&v, MODE_REAL, G_CODE);
	RUN_EXPECT_OUT(&v, 0x10);
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(accepted);
	RUN_CASE(rejected);
	RUN_CASE(guest_runs);
	return t_done();
}
