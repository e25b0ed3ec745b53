/* Which architecture a VM gets by default on this host. */
#include "arch/arch.h"

const struct sk_arch_ops *sk_arch_default(void)
{
	return &sk_arch_x86;
}
