/* X11: an ordinary hypercall does not produce KVM_EXIT_HYPERCALL; KVM
 * answers it itself (-KVM_ENOSYS in RAX for an unknown number) and the
 * guest talks to the VMM through KVM_EXIT_IO. */
#include "vm.h"

#include <linux/kvm_para.h>

GUEST_CODE(x11_guest, 32,
	"mov $0x7777, %eax\n"
	"vmcall\n"
	"out %eax, $0x10\n"
	"hlt\n");

static void vmcall_is_not_an_exit(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x11_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	CHECK_EQ((uint32_t)-KVM_ENOSYS, RUN_EXPECT_OUT(&v, 0x10));
	CHECK(v.run->exit_reason != KVM_EXIT_HYPERCALL);
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(vmcall_is_not_an_exit);
	return t_done();
}
