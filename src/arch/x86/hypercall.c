/* VMCALL/VMMCALL: KVM answers hypercalls itself (never KVM_EXIT_HYPERCALL
 * unless userspace asked for one, which softkvm does not offer). The PV
 * ones need their KVM_FEATURE_* when the CPUID is enforced (pv.c). */
#include "arch/x86/insn.h"
#include "arch/x86/sys.h"

#define KVM_ENOSYS 1000
#define KVM_EPERM 1
#define KVM_EOPNOTSUPP 95
#define HC_VAPIC_POLL_IRQ 1
#define HC_KICK_CPU 5
#define HC_CLOCK_PAIRING 9
#define HC_SEND_IPI 10
#define HC_SCHED_YIELD 11
#define F_PV_UNHALT 7
#define F_PV_SEND_IPI 11
#define F_PV_SCHED_YIELD 13

static int64_t call(struct x86_cpu *cpu, uint64_t nr, const uint64_t a[4], bool wide)
{
	switch (nr) {
	case HC_VAPIC_POLL_IRQ:
		return 0;
	case HC_KICK_CPU:
		if (!x86_pv_has(cpu, F_PV_UNHALT))
			return -KVM_ENOSYS;
		return x86_pv_kick_cpu(cpu, a[1]);
	case HC_CLOCK_PAIRING:
		/* The host clocksource is not a TSC softkvm's guest shares. */
		return -KVM_EOPNOTSUPP;
	case HC_SEND_IPI:
		if (!x86_pv_has(cpu, F_PV_SEND_IPI))
			return -KVM_ENOSYS;
		return x86_pv_send_ipi(cpu, a[0], a[1], a[2], a[3], wide);
	case HC_SCHED_YIELD:
		if (!x86_pv_has(cpu, F_PV_SCHED_YIELD))
			return -KVM_ENOSYS;
		x86_pv_sched_yield(cpu, a[0]);
		return 0;
	}
	return -KVM_ENOSYS;
}

void x86_hypercall(struct x86_cpu *cpu)
{
	bool wide = cpu->mode == X86_MODE_LONG64;
	uint64_t mask = wide ? ~0ull : 0xffffffffull;
	uint64_t nr = cpu->gpr[X86_RAX] & mask;
	uint64_t a[4] = {cpu->gpr[X86_RBX] & mask, cpu->gpr[X86_RCX] & mask,
			 cpu->gpr[X86_RDX] & mask, cpu->gpr[X86_RSI] & mask};
	int64_t ret = cpu->cpl != 0 ? -KVM_EPERM : call(cpu, nr, a, wide);
	cpu->gpr[X86_RAX] = wide ? (uint64_t)ret : (uint32_t)ret;
}

/* The vCPU is the vendor its CPUID leaf 0 names: AMD (or Hygon) as KVM on
 * SVM, where VMMCALL is the hypercall; otherwise Intel, as KVM on VMX. */
bool x86_hypercall_is_vmmcall(struct x86_cpu *cpu)
{
	uint32_t r[4];
	x86_cpuid(cpu, 0, 0, r);
	return (r[1] == 0x68747541 && r[3] == 0x69746e65 && r[2] == 0x444d4163) ||  /* AuthenticAMD */
	       (r[1] == 0x6f677948 && r[3] == 0x6e65476e && r[2] == 0x656e6975);    /* HygonGenuine */
}

/* The other vendor's instruction is #UD in hardware; KVM's emulator then
 * rewrites it into the native one in guest memory (with the guest's page
 * permissions) and lets the guest run the patched instruction, unless
 * KVM_X86_QUIRK_FIX_HYPERCALL_INSN is off. */
int x86_hypercall_foreign(struct x86_cpu *cpu)
{
	static const uint8_t vmcall[3] = {0x0f, 0x01, 0xc1}, vmmcall[3] = {0x0f, 0x01, 0xd9};
	if (!x86_has_quirk(cpu->vm, KVM_X86_QUIRK_FIX_HYPERCALL_INSN))
		x86_raise(cpu, X86_UD, false, 0);
	const uint8_t *native = x86_hypercall_is_vmmcall(cpu) ? vmmcall : vmcall;
	uint64_t lin = x86_long64(cpu) ? cpu->insn_rip
				       : (cpu->seg[X86_CS].base + cpu->insn_rip) & 0xffffffffull;
	cpu->rip = cpu->insn_rip;
	x86_write_lin_buf(cpu, lin, native, 3);
	return X86_END;
}
