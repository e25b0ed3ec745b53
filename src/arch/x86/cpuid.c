/* CPUID: what softkvm offers (KVM_GET_SUPPORTED_CPUID) and the guest's
 * view as KVM_SET_CPUID2 set it, with KVM's lookup rules.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/fp.h"
#include "arch/x86/sys.h"

#define BIT(n) (1u << (n))

/* Features the interpreter and the system part implement. Only these are
 * offered; extend here when the interpreter grows. The SIMD sets (SSE*,
 * AVX, FMA, F16C) only when the host has them (host_simd). */
#define F1_EDX (BIT(0) /* FPU */ | BIT(2) /* DE */ | BIT(3) /* PSE */ | BIT(4) /* TSC */ | \
		BIT(5) /* MSR */ | BIT(6) /* PAE */ | BIT(7) /* MCE */ | BIT(8) /* CX8 */ | \
		BIT(9) /* APIC */ | BIT(11) /* SEP */ | BIT(12) /* MTRR */ | BIT(13) /* PGE */ | \
		BIT(14) /* MCA */ | BIT(15) /* CMOV */ | BIT(16) /* PAT */ | BIT(17) /* PSE36 */ | \
		BIT(19) /* CLFLUSH */ | BIT(23) /* MMX */ | BIT(24) /* FXSR */ | BIT(25) /* SSE */ | \
		BIT(26) /* SSE2 */)
#define F1_ECX (BIT(0) /* SSE3 */ | BIT(9) /* SSSE3 */ | BIT(13) /* CX16 */ | \
		BIT(19) /* SSE4.1 */ | BIT(20) /* SSE4.2 */ | BIT(22) /* MOVBE */ | \
		BIT(23) /* POPCNT */ | BIT(26) /* XSAVE */ | BIT(31) /* HYPERVISOR */ | \
		BIT(17) /* PCID */ | \
		BIT(21) /* x2APIC */ | BIT(24) /* TSC-deadline (lapic.c) */ | \
		BIT(12) /* FMA */ | BIT(28) /* AVX */ | BIT(29) /* F16C */)
/* Leaf 0xD subleaf 1: XSAVEOPT, XSAVEC, XGETBV with ECX = 1, XSAVES, as
 * KVM 6.1 offers them. IA32_XSS: KVM 6.1 supports no supervisor component
 * (supported_xss = 0). */
#define FD1_XSAVEC BIT(1)
#define FD1_XGETBV1 BIT(2)
#define FD1_XSAVES BIT(3)
#define FD1_EAX (BIT(0) | FD1_XSAVEC | FD1_XGETBV1 | FD1_XSAVES)
#define SUPPORTED_XSS 0ull
#define F7_EBX (BIT(0) /* FSGSBASE */ | BIT(7) /* SMEP */ | BIT(9) /* ERMS */ | BIT(10) /* INVPCID */ | \
		BIT(20) /* SMAP */)
#define F7_ECX (BIT(2) /* UMIP */ | BIT(16) /* LA57: 5-level paging */)
#define F7_EDX (BIT(29) /* ARCH_CAPABILITIES */)
#define F81_ECX (BIT(0) /* LAHF_LM */ | BIT(5) /* ABM: LZCNT */)
#define F81_EDX (BIT(11) /* SYSCALL */ | BIT(20) /* NX */ | BIT(26) /* 1G pages */ | \
		 BIT(27) /* RDTSCP */ | BIT(29) /* LM */)

/* KVM PV leaf: what 6.1 offers (pv.c): kvmclock, NOP_IO_DELAY, async PF
 * (+INT, +VMEXIT), steal time, PV EOI, unhalt, TLB flush, send-IPI, poll
 * control, sched yield, the stable bit. EDX's hints stay 0 (no REALTIME). */
#define KVM_PV_FEATURES X86_KVM_FEATURES_SUPPORTED
#define SIGNATURE 0x000306a9u   /* family 6, model 0x3a, stepping 9 */
#define MAX_CPUID_ENTRIES 256   /* KVM_MAX_CPUID_ENTRIES */

static void put(struct kvm_cpuid_entry2 *e, uint32_t fn, uint32_t idx, uint32_t flags, uint32_t a,
		uint32_t b, uint32_t c, uint32_t d)
{
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = flags;
	e->eax = a;
	e->ebx = b;
	e->ecx = c;
	e->edx = d;
}

static uint32_t str4(const char *s)
{
	uint32_t v;
	memcpy(&v, s, 4);
	return v;
}

/* x87/MMX/SSE instructions run on the host (exec_fp.c): offer only the
 * SIMD features the host has. Returns a mask for leaf 1's ECX (reg 2) or
 * EDX (reg 3). */
static uint32_t host_simd(int reg)
{
	const uint32_t simd_ecx = BIT(0) | BIT(9) | BIT(19) | BIT(20) | BIT(26);
	const uint32_t vex_ecx = BIT(12) | BIT(28) | BIT(29);
	const uint32_t simd_edx = BIT(23) | BIT(24) | BIT(25) | BIT(26);
	unsigned a, b, c = 0, d = 0;
	__get_cpuid(1, &a, &b, &c, &d);
	/* AVX, FMA, F16C also need the host OS to run AVX code. */
	if (!x86_host_avx())
		c &= ~vex_ecx;
	return reg == 2 ? (c | ~(simd_ecx | vex_ecx)) : (d | ~simd_edx);
}

/* Fill up to max entries; returns the count, or -1 when max is too small. */
int x86_supported_cpuid(struct kvm_cpuid_entry2 *out, int max)
{
	static const char brand[49] = "softkvm virtual CPU";
	struct kvm_cpuid_entry2 t[20];
	int n = 0;
	put(&t[n++], 0, 0, 0, 0xd, str4("Genu"), str4("ntel"), str4("ineI"));
	put(&t[n++], 1, 0, 0, SIGNATURE, 0x00010800, F1_ECX & host_simd(2), F1_EDX & host_simd(3));
	put(&t[n++], 7, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0,
	    F7_EBX | (x86_host_avx2() ? BIT(5) /* AVX2 */ : 0), F7_ECX, F7_EDX);
	uint64_t xcr0 = x86_supported_xcr0();
	uint32_t std = x86_xstate_size(xcr0, false);
	put(&t[n++], 0xd, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, (uint32_t)xcr0, std, std,
	    (uint32_t)(xcr0 >> 32));
	put(&t[n++], 0xd, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, FD1_EAX,
	    x86_xstate_size(xcr0 | SUPPORTED_XSS, true), (uint32_t)SUPPORTED_XSS,
	    (uint32_t)(SUPPORTED_XSS >> 32));
	if (xcr0 & 4)   /* AVX: 256 bytes at 576, user state, not 64-byte aligned */
		put(&t[n++], 0xd, 2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 256, 576, 0, 0);
	put(&t[n++], 0x40000000, 0, 0, 0x40000001, str4("KVMK"), str4("VMKV"), str4("M\0\0\0"));
	put(&t[n++], 0x40000001, 0, 0, KVM_PV_FEATURES, 0, 0, 0);
	put(&t[n++], 0x80000000, 0, 0, 0x80000008, 0, 0, 0);
	put(&t[n++], 0x80000001, 0, 0, 0, 0, F81_ECX, F81_EDX);
	for (int i = 0; i < 3; i++) {
		const char *b = brand + 16 * i;
		put(&t[n++], 0x80000002 + i, 0, 0, str4(b), str4(b + 4), str4(b + 8), str4(b + 12));
	}
	/* 57 linear-address bits (5-level paging), MAXPHYADDR physical. */
	put(&t[n++], 0x80000008, 0, 0, 0x3900 | X86_MAXPHYADDR, 0, 0, 0);
	if (n > max)
		return -1;
	memcpy(out, t, n * sizeof(t[0]));
	return n;
}

int x86_set_cpuid(struct x86_cpu *cpu, const struct kvm_cpuid_entry2 *e, int n)
{
	struct kvm_cpuid_entry2 *copy = NULL;
	if (n) {
		copy = malloc(n * sizeof(*e));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, e, n * sizeof(*e));
	}
	free(cpu->cpuid);
	cpu->cpuid = copy;
	cpu->ncpuid = n;
	x86_cpuid_runtime(cpu, cpu->cpuid, n);
	x86_cpuid_maxphyaddr(cpu);
	x86_pv_cpuid_changed(cpu);
	return 0;
}

static const struct kvm_cpuid_entry2 *find(const struct x86_cpu *cpu, uint32_t fn, uint32_t idx)
{
	for (int i = 0; i < cpu->ncpuid; i++) {
		const struct kvm_cpuid_entry2 *e = &cpu->cpuid[i];
		if (e->function == fn &&
		    (e->index == idx || !(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX)))
			return e;
	}
	return NULL;
}


/* KVM's cpuid_query_maxphyaddr: 36 unless the guest's CPUID has leaf
 * 0x80000008 (and 0x80000000 says so); clamped to what paging can hold. */
void x86_cpuid_maxphyaddr(struct x86_cpu *cpu)
{
	const struct kvm_cpuid_entry2 *e = find(cpu, 0x80000000u, 0);
	unsigned bits = 36;
	if (e && e->eax >= 0x80000008u && (e = find(cpu, 0x80000008u, 0)))
		bits = e->eax & 0xff;
	if (bits > 52)
		bits = 52;
	if (bits < 32)
		bits = 32;
	cpu->maxphyaddr = (uint8_t)bits;
}
/* Intel's rule, as KVM: a leaf above its class's maximum reads as the
 * maximum basic leaf (same subleaf). */
static const struct kvm_cpuid_entry2 *out_of_range(const struct x86_cpu *cpu, uint32_t fn,
						   uint32_t idx)
{
	const struct kvm_cpuid_entry2 *basic = find(cpu, 0, 0), *cls;
	if (!basic)
		return NULL;
	if (basic->ebx == str4("Auth") || basic->ebx == str4("Hygo"))
		return NULL;
	if (fn >= 0x40000000 && fn <= 0x4fffffff)
		cls = find(cpu, fn & 0xffffff00, 0);
	else if (fn >= 0xc0000000)
		cls = find(cpu, 0xc0000000, 0);
	else
		cls = find(cpu, fn & 0x80000000, 0);
	if (cls && fn <= cls->eax)
		return NULL;
	return find(cpu, basic->eax, idx);
}

uint64_t x86_supported_xcr0(void)
{
	return X86_SUPPORTED_XCR0 | (x86_host_avx() ? 4 : 0);
}

/* Bytes an XSAVE area needs for the components in bv: the legacy region
 * and header, then AVX (component 2) at 576 in both formats. */
uint32_t x86_xstate_size(uint64_t bv, bool compacted)
{
	(void)compacted;
	return bv & 4 ? 576 + 256 : 576;
}

uint64_t x86_guest_supported_xcr0(const struct x86_cpu *cpu)
{
	const struct kvm_cpuid_entry2 *e = find(cpu, 0xd, 0);
	if (!e)
		return 0;
	return ((uint64_t)e->edx << 32 | e->eax) & x86_supported_xcr0();
}

bool x86_guest_has_xsaves(const struct x86_cpu *cpu)
{
	const struct kvm_cpuid_entry2 *e = find(cpu, 0xd, 1);
	return e && (e->eax & FD1_XSAVES);
}

bool x86_guest_has_xgetbv1(const struct x86_cpu *cpu)
{
	const struct kvm_cpuid_entry2 *e = find(cpu, 0xd, 1);
	return e && (e->eax & FD1_XGETBV1);
}

/* Leaf 0xD's sizes follow XCR0 (kvm_update_cpuid_runtime): subleaf 0 EBX
 * the standard size, subleaf 1 EBX the compacted one when XSAVEC or
 * XSAVES is there (6.1 counts XCR0 only there, not IA32_XSS). */
static void xsave_runtime(const struct x86_cpu *cpu, const struct kvm_cpuid_entry2 *e,
			  const struct kvm_cpuid_entry2 *d0, const struct kvm_cpuid_entry2 *d1,
			  uint32_t out[4])
{
	if (e == d0)
		out[1] = x86_xstate_size(cpu->xcr0, false);
	if (e == d1 && (e->eax & (FD1_XSAVEC | FD1_XSAVES)))
		out[1] = x86_xstate_size(cpu->xcr0, true);
}

static const struct kvm_cpuid_entry2 *find_in(const struct kvm_cpuid_entry2 *t, int n,
					      uint32_t fn, uint32_t idx)
{
	for (int i = 0; i < n; i++)
		if (t[i].function == fn &&
		    (t[i].index == idx || !(t[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX)))
			return &t[i];
	return NULL;
}

/* The stored table as KVM keeps it, so that KVM_GET_CPUID2 shows the
 * sizes the guest reads; after XSETBV and KVM_SET_CPUID2. */
void x86_cpuid_runtime(const struct x86_cpu *cpu, struct kvm_cpuid_entry2 *t, int n)
{
	const struct kvm_cpuid_entry2 *d0 = find_in(t, n, 0xd, 0), *d1 = find_in(t, n, 0xd, 1);
	for (int i = 0; i < n; i++) {
		if (t[i].function != 0xd)
			continue;
		uint32_t out[4] = { t[i].eax, t[i].ebx, t[i].ecx, t[i].edx };
		xsave_runtime(cpu, &t[i], d0, d1, out);
		t[i].ebx = out[1];
	}
}

void x86_cpuid(struct x86_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	const struct kvm_cpuid_entry2 *e = find(cpu, leaf, subleaf);
	uint32_t fn = leaf;
	if (!e) {
		e = out_of_range(cpu, leaf, subleaf);
		if (e)
			fn = e->function;
	}
	if (!e) {
		out[0] = out[1] = out[2] = out[3] = 0;
		if (leaf == 0xb || leaf == 0x1f) {
			const struct kvm_cpuid_entry2 *one = find(cpu, leaf, 1);
			if (one) {
				out[2] = subleaf & 0xff;
				out[3] = one->edx;
			}
		}
		return;
	}
	out[0] = e->eax;
	out[1] = e->ebx;
	out[2] = e->ecx;
	out[3] = e->edx;
	if (fn == 0xd)
		xsave_runtime(cpu, e, find(cpu, 0xd, 0), find(cpu, 0xd, 1), out);
	if (fn == 1) {
		/* Bits that follow guest state (kvm_update_cpuid_runtime). */
		if (!(cpu->apic_base & 0x800))
			out[3] &= ~BIT(9);
		out[2] = (out[2] & ~BIT(27)) | ((cpu->cr4 & X86_CR4_OSXSAVE) ? BIT(27) : 0);
		/* Without the MISC_ENABLE_NO_MWAIT quirk, MONITOR follows
		 * IA32_MISC_ENABLE.MWAIT (bit 18). */
		if (!x86_has_quirk(cpu->vcpu->vm, KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT))
			out[2] = (out[2] & ~BIT(3)) | ((cpu->misc_enable & BIT(18)) ? BIT(3) : 0);
	}
}
