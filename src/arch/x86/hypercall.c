/* VMCALL/VMMCALL: KVM answers hypercalls itself (never KVM_EXIT_HYPERCALL
 * unless userspace asked for one, which softkvm does not offer). */
#include "arch/x86/sys.h"

#define KVM_ENOSYS 1000
#define KVM_EPERM 1
#define HC_VAPIC_POLL_IRQ 1
#define HC_KICK_CPU 5
#define HC_SCHED_YIELD 11

void x86_hypercall(struct x86_cpu *cpu)
{
	bool wide = cpu->mode == X86_MODE_LONG64;
	uint64_t nr = cpu->gpr[X86_RAX];
	int64_t ret;
	if (!wide)
		nr &= 0xffffffffull;
	if (cpu->cpl != 0)
		ret = -KVM_EPERM;
	else if (nr == HC_VAPIC_POLL_IRQ || nr == HC_KICK_CPU || nr == HC_SCHED_YIELD)
		ret = 0;
	else
		ret = -KVM_ENOSYS;
	cpu->gpr[X86_RAX] = wide ? (uint64_t)ret : (uint32_t)ret;
}
