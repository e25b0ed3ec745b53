/* Which architecture a VM gets. */
#include "arch/arch.h"
#include "softkvm.h"

const struct sk_arch_ops *sk_arch_default(void)
{
#ifdef SK_ARCH_X86
	return &sk_arch_x86;
#else
	return &sk_arch_arm64;
#endif
}

const struct sk_arch_ops *sk_arch_for_vm_type(unsigned long *type)
{
#ifdef SK_ARCH_ARM64
	if (*type & SOFTKVM_VM_ARM64) {
		*type &= ~SOFTKVM_VM_ARM64;
		return &sk_arch_arm64;
	}
#endif
	return sk_arch_default();
}
