/* Model-specific registers: one table entry per MSR (or range), with where
 * it lives and how a read or write is checked. Guest RDMSR/WRMSR of an MSR
 * not in the table is #GP, as KVM without ignore_msrs.
 */
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "arch/x86/irq.h"
#include "arch/x86/sys.h"

#define MSR_KVM_WALL_CLOCK 0x11
#define MSR_KVM_SYSTEM_TIME 0x12
#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_TSC_ADJUST 0x3b
#define MSR_UCODE_REV 0x8b
#define MSR_SMBASE 0x9e
#define MSR_ARCH_CAPABILITIES 0x10a
#define MSR_MTRRCAP 0xfe
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_MCG_STATUS 0x17a
#define MSR_MCG_CTL 0x17b
#define MSR_MCG_EXT_CTL 0x4d0
#define MSR_POWER_CTL 0x1fc
#define MSR_PERF_CAPABILITIES 0x345
#define MSR_PLATFORM_INFO 0xce
#define MSR_MISC_FEATURES_ENABLES 0x140
#define PLATFORM_INFO_CPUID_FAULT (1ull << 31)
#define MSR_MISC_ENABLE 0x1a0
#define MSR_MTRR_VAR 0x200
#define MSR_MTRR_FIX64K 0x250
#define MSR_MTRR_FIX16K 0x258
#define MSR_MTRR_FIX4K 0x268
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_XSS 0xda0
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define MSR_KVM_ASYNC_PF_EN 0x4b564d02

#define ARCH_CAP_VALUE 0x179ull   /* RDCL_NO, SKIP_L1DFL, SSB_NO, MDS_NO, PSCHANGE_MC_NO, TAA_NO */
#define UCODE_REV_VALUE 0x100000000ull

enum {
	F_CANON = 1u << 0,     /* guest writes must be canonical */
	F_HOST_ONLY = 1u << 1, /* not accessible to the guest */
	F_RO = 1u << 2,        /* guest writes #GP; host writes must match */
	F_XSAVES = 1u << 3,    /* the guest's accesses need XSAVES in its CPUID */
};

struct msr_desc {
	uint32_t idx;
	uint16_t n;            /* MSRs covered, from idx */
	uint16_t flags;
	size_t off;            /* plain storage in struct x86_sys, 8 bytes each */
	bool (*get)(struct x86_cpu *cpu, uint32_t idx, uint64_t *val);
	bool (*set)(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host);
};

#define CPU(field) offsetof(struct x86_sys, cpu.field)
#define SYS(field) offsetof(struct x86_sys, field)

uint64_t x86_host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static bool get_tsc(struct x86_cpu *cpu, uint32_t idx, uint64_t *val)
{
	*val = x86_rdtsc(cpu);
	return true;
}

static bool set_tsc(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if (host)
		x86_tsc_host_write(cpu, val);
	else
		x86_tsc_guest_write(cpu, val);
	return true;
}

static bool set_tsc_adjust(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if (host)
		x86_sys(cpu)->ia32_tsc_adjust = val;
	else
		x86_tsc_guest_adjust(cpu, val);
	return true;
}

static bool set_apic_base(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if (x86_lapic(cpu))
		return x86_lapic_set_base(cpu, val, host);
	uint64_t rsvd = x86_rsvd_gpa(cpu) | 0x2ff | (1ull << 10); /* no x2APIC */
	if (val & rsvd)
		return false;
	cpu->apic_base = val;
	return true;
}

static bool get_efer(struct x86_cpu *cpu, uint32_t idx, uint64_t *val)
{
	*val = cpu->efer;
	return true;
}

static bool set_efer(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	uint64_t ok = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
	if (val & ~ok)
		return false;
	if (!host) {
		if ((cpu->cr0 & X86_CR0_PG) && ((cpu->efer ^ val) & X86_EFER_LME))
			return false;
		val = (val & ~X86_EFER_LMA) | (cpu->efer & X86_EFER_LMA);
	}
	if ((val ^ cpu->efer) & X86_EFER_NXE)
		x86_tlb_flush(cpu);
	cpu->efer = val;
	x86_mode_changed(cpu);
	return true;
}

static bool get_seg_base(struct x86_cpu *cpu, uint32_t idx, uint64_t *val)
{
	*val = cpu->seg[idx == MSR_FS_BASE ? X86_FS : X86_GS].base;
	return true;
}

static bool set_seg_base(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if (!host && !x86_canonical(cpu, val))
		return false;
	cpu->seg[idx == MSR_FS_BASE ? X86_FS : X86_GS].base = val;
	return true;
}

static bool pat_valid(uint64_t val)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (val >> (8 * i)) & 0xff;
		if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
			return false;
	}
	return true;
}

/* Without the MISC_ENABLE_NO_MWAIT quirk, the guest may flip the MWAIT bit
 * (18) only when its CPUID has SSE3; CPUID.1:ECX.MONITOR then follows it. */
static bool set_misc_enable(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if (!x86_has_quirk(cpu->vcpu->vm, KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT) &&
	    ((cpu->misc_enable ^ val) & (1ull << 18))) {
		uint32_t r[4];
		x86_cpuid(cpu, 1, 0, r);
		if (!(r[2] & 1))
			return false;
	}
	cpu->misc_enable = val;
	return true;
}

static bool set_pat(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if (!pat_valid(val))
		return false;
	cpu->pat = val;
	return true;
}

static bool mtrr_type_valid(unsigned t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool set_mtrr_fixed(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	for (int i = 0; i < 8; i++)
		if (!mtrr_type_valid((val >> (8 * i)) & 0xff))
			return false;
	int slot = idx == MSR_MTRR_FIX64K ? 0 : idx < MSR_MTRR_FIX4K ? 1 + idx - MSR_MTRR_FIX16K :
									 3 + idx - MSR_MTRR_FIX4K;
	cpu->mtrr_fixed[slot] = val;
	return true;
}

static bool get_mtrr_fixed(struct x86_cpu *cpu, uint32_t idx, uint64_t *val)
{
	int slot = idx == MSR_MTRR_FIX64K ? 0 : idx < MSR_MTRR_FIX4K ? 1 + idx - MSR_MTRR_FIX16K :
									 3 + idx - MSR_MTRR_FIX4K;
	*val = cpu->mtrr_fixed[slot];
	return true;
}

static bool set_mtrr_var(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	unsigned i = idx - MSR_MTRR_VAR;
	uint64_t rsvd = x86_rsvd_gpa(cpu);
	rsvd |= (i & 1) ? 0x7ffull : 0xf00ull;   /* mask: bits 10..0 but V; base: 11..8 */
	if (i & 1)
		rsvd &= ~(1ull << 11);
	if ((val & rsvd) || (!(i & 1) && !mtrr_type_valid(val & 0xff)))
		return false;
	cpu->mtrr_var[i] = val;
	return true;
}

static bool set_mtrr_def(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if ((val & ~0xcffull) || !mtrr_type_valid(val & 0xff))
		return false;
	cpu->mtrr_def_type = val;
	return true;
}

static bool get_const(struct x86_cpu *cpu, uint32_t idx, uint64_t *val)
{
	switch (idx) {
	case MSR_MTRRCAP: *val = 0x508; break;   /* 8 variable, fixed, WC */
	case MSR_UCODE_REV: *val = UCODE_REV_VALUE; break;
	default: *val = 0; break;
	}
	return true;
}

static bool set_ignore(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	return true;
}

/* The host picks the vCPU's value (KVM_SET_MSRS); the guest's write #GPs. */
static bool set_arch_cap(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if (host)
		x86_sys(cpu)->arch_capabilities = val;
	return host;
}

/* No PMU: KVM's PDCM-less guest reads #GP, and the host may only set
 * what the feature MSR offers (nothing). */
static bool get_perf_cap(struct x86_cpu *cpu, uint32_t idx, uint64_t *val)
{
	*val = x86_sys(cpu)->perf_capabilities;
	return true;
}

static bool set_perf_cap(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if (!host || val)
		return false;
	x86_sys(cpu)->perf_capabilities = val;
	return true;
}

static bool set_tsc_aux(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if (!host && (val >> 32))
		return false;
	cpu->tsc_aux = val;
	return true;
}

int x86_msr_enable_platform_info(struct sk_vm *vm, uint64_t on)
{
	struct x86_vm *xv = vm->arch_vm;
	atomic_store(&xv->platform_info_hidden, !on);
	return 0;
}

/* The guest's read of MSR_PLATFORM_INFO is refused once the VMM turned
 * KVM_CAP_MSR_PLATFORM_INFO off; the host's never is. */
static bool platform_info_hidden(struct x86_cpu *cpu, uint32_t idx, bool host)
{
	struct x86_vm *xv = cpu->vm->arch_vm;
	return idx == MSR_PLATFORM_INFO && !host && atomic_load(&xv->platform_info_hidden);
}

/* Host only. softkvm does not fault CPUID, so unlike KVM it never offers
 * CPUID faulting (bit 31) and MISC_FEATURES_ENABLES stays 0. */
static bool set_platform_info(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if (!host || (val & PLATFORM_INFO_CPUID_FAULT))
		return false;
	x86_sys(cpu)->platform_info = val;
	return true;
}

/* IA32_XSS: KVM 6.1 supports no supervisor state (supported_xss = 0), so
 * any set bit fails, for the host too. */
static bool set_xss(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if (val)
		return false;
	cpu->xss = val;
	return true;
}

static bool set_misc_features(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	return val == 0;
}

static const struct msr_desc msrs[] = {
	{MSR_TSC, 1, 0, 0, get_tsc, set_tsc},
	/* KVM's PV MSRs (pv.c, kvmclock.c): each needs its KVM_FEATURE_* bit
	 * when the PV CPUID is enforced. */
	{MSR_KVM_WALL_CLOCK, 2, 0, 0, x86_pv_msr_get, x86_pv_msr_set},
	{MSR_KVM_WALL_CLOCK_NEW, 8, 0, 0, x86_pv_msr_get, x86_pv_msr_set},
	{MSR_APIC_BASE, 1, 0, CPU(apic_base), NULL, set_apic_base},
	{MSR_FEATURE_CONTROL, 1, 0, SYS(feature_control), NULL, NULL},
	{MSR_TSC_ADJUST, 1, 0, SYS(ia32_tsc_adjust), NULL, set_tsc_adjust},
	{MSR_UCODE_REV, 1, 0, 0, get_const, set_ignore},
	{MSR_SMBASE, 1, F_HOST_ONLY, SYS(smbase), NULL, NULL},
	{MSR_ARCH_CAPABILITIES, 1, 0, SYS(arch_capabilities), NULL, set_arch_cap},
	{MSR_MTRRCAP, 1, F_RO, 0, get_const, NULL},
	{MSR_SYSENTER_CS, 1, 0, CPU(sysenter_cs), NULL, NULL},
	{MSR_SYSENTER_ESP, 1, F_CANON, CPU(sysenter_esp), NULL, NULL},
	{MSR_SYSENTER_EIP, 1, F_CANON, CPU(sysenter_eip), NULL, NULL},
	{MSR_MISC_ENABLE, 1, 0, CPU(misc_enable), NULL, set_misc_enable},
	{MSR_POWER_CTL, 1, 0, SYS(power_ctl), NULL, NULL},
	{MSR_PLATFORM_INFO, 1, 0, SYS(platform_info), NULL, set_platform_info},
	{MSR_MISC_FEATURES_ENABLES, 1, 0, SYS(misc_features), NULL, set_misc_features},
	{MSR_PERF_CAPABILITIES, 1, F_HOST_ONLY, 0, get_perf_cap, set_perf_cap},
	{MSR_MTRR_VAR, 16, 0, CPU(mtrr_var), NULL, set_mtrr_var},
	{MSR_MTRR_FIX64K, 1, 0, 0, get_mtrr_fixed, set_mtrr_fixed},
	{MSR_MTRR_FIX16K, 2, 0, 0, get_mtrr_fixed, set_mtrr_fixed},
	{MSR_MTRR_FIX4K, 8, 0, 0, get_mtrr_fixed, set_mtrr_fixed},
	{MSR_PAT, 1, 0, CPU(pat), NULL, set_pat},
	{MSR_MTRR_DEF_TYPE, 1, 0, CPU(mtrr_def_type), NULL, set_mtrr_def},
	{MSR_XSS, 1, F_XSAVES, CPU(xss), NULL, set_xss},
	{MSR_EFER, 1, 0, 0, get_efer, set_efer},
	{MSR_STAR, 1, 0, CPU(star), NULL, NULL},
	{MSR_LSTAR, 1, F_CANON, CPU(lstar), NULL, NULL},
	{MSR_CSTAR, 1, F_CANON, CPU(cstar), NULL, NULL},
	{MSR_SFMASK, 1, 0, CPU(sfmask), NULL, NULL},
	{MSR_FS_BASE, 2, 0, 0, get_seg_base, set_seg_base},
	{MSR_KERNEL_GS_BASE, 1, F_CANON, CPU(kernel_gs_base), NULL, NULL},
	{MSR_TSC_AUX, 1, 0, CPU(tsc_aux), NULL, set_tsc_aux},
	/* MSRs KVM reads as 0 whatever the vendor (guests probe them through
	 * CPUID-less paths: Linux reads SYSCFG when QEMU's CPU says AMD). The
	 * first group takes any write, the second none (#GP), as in 6.1. */
	{0xc001001f, 1, 0, 0, get_const, set_ignore},    /* AMD64_NB_CFG */
	{0xc0010117, 1, 0, 0, get_const, set_ignore},    /* VM_HSAVE_PA */
	{0xc001102a, 1, 0, 0, get_const, set_ignore},    /* AMD64_BU_CFG2 */
	{0xc0011022, 2, 0, 0, get_const, set_ignore},    /* AMD64_DC_CFG, TW_CFG */
	{0xc001102c, 1, 0, 0, get_const, set_ignore},    /* F15H_EX_CFG */
	{0xc0010000, 8, 0, 0, get_const, set_ignore},    /* K7 EVNTSEL0-3, PERFCTR0-3: no PMU */
	{0x0c1, 2, 0, 0, get_const, set_ignore},         /* P6_PERFCTR0-1 */
	{0x186, 2, 0, 0, get_const, set_ignore},         /* P6_EVNTSEL0-1 */
	{0x017, 1, F_RO, 0, get_const, NULL},            /* IA32_PLATFORM_ID */
	{0x02a, 1, F_RO, 0, get_const, NULL},            /* IA32_EBL_CR_POWERON */
	{0x1db, 4, F_RO, 0, get_const, NULL},            /* LASTBRANCH/LASTINT FROM/TO IP */
	{0x199, 1, F_RO, 0, get_const, NULL},            /* IA32_PERF_CTL */
	{0x606, 1, F_RO, 0, get_const, NULL},            /* RAPL_POWER_UNIT */
	{0x611, 1, F_RO, 0, get_const, NULL},            /* PKG_ENERGY_STATUS */
	{0x619, 1, F_RO, 0, get_const, NULL},            /* DRAM_ENERGY_STATUS */
	{0x639, 1, F_RO, 0, get_const, NULL},            /* PP0_ENERGY_STATUS */
	{0x641, 1, F_RO, 0, get_const, NULL},            /* PP1_ENERGY_STATUS */
	{0xc0010010, 1, F_RO, 0, get_const, NULL},       /* AMD64_SYSCFG */
	{0xc0010055, 1, F_RO, 0, get_const, NULL},       /* K8_INT_PENDING_MSG */
	{0xc0010058, 1, F_RO, 0, get_const, NULL},       /* FAM10H_MMIO_CONF_BASE */
	{0xc0010112, 2, F_RO, 0, get_const, NULL},       /* K8_TSEG_ADDR, TSEG_MASK */
};

/* KVM_GET_MSR_INDEX_LIST: every MSR above that save/restore should move. */
const uint32_t x86_msr_index_list[] = {
	MSR_TSC, MSR_APIC_BASE, MSR_FEATURE_CONTROL, MSR_TSC_ADJUST, MSR_UCODE_REV, MSR_SMBASE,
	MSR_ARCH_CAPABILITIES, MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
	MSR_MCG_STATUS, MSR_MCG_CTL, MSR_MCG_EXT_CTL, MSR_POWER_CTL, MSR_PERF_CAPABILITIES,
	MSR_PLATFORM_INFO, MSR_MISC_FEATURES_ENABLES, MSR_MISC_ENABLE, MSR_PAT, MSR_EFER, MSR_STAR, MSR_LSTAR,
	MSR_CSTAR, MSR_SFMASK, MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_TSC_AUX,
	MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME_NEW,
	MSR_KVM_ASYNC_PF_EN, 0x4b564d03 /* STEAL_TIME */, 0x4b564d04 /* PV_EOI_EN */,
	0x4b564d06 /* ASYNC_PF_INT */, 0x4b564d07 /* ASYNC_PF_ACK */, 0x4b564d05 /* POLL_CONTROL */,
};
const unsigned x86_msr_index_count = sizeof(x86_msr_index_list) / sizeof(x86_msr_index_list[0]);

/* KVM_GET_MSR_FEATURE_INDEX_LIST: read on the system fd. What 6.1 lists on
 * an Intel host without nested VMX (the VMX capability MSRs need it, and
 * AMD's DE_CFG an AMD host): softkvm's CPUID is an Intel one. */
const uint32_t x86_msr_feature_list[] = {MSR_UCODE_REV, MSR_ARCH_CAPABILITIES,
					 MSR_PERF_CAPABILITIES};
const unsigned x86_msr_feature_count = 3;

bool x86_msr_feature_get(uint32_t idx, uint64_t *val)
{
	switch (idx) {
	case MSR_ARCH_CAPABILITIES: *val = ARCH_CAP_VALUE; return true;
	case MSR_UCODE_REV: *val = UCODE_REV_VALUE; return true;
	case MSR_PERF_CAPABILITIES: *val = 0; return true;   /* no PMU */
	default: return false;
	}
}

static const struct msr_desc *lookup(uint32_t idx)
{
	for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		if (idx - msrs[i].idx < msrs[i].n)
			return &msrs[i];
	return NULL;
}

static uint64_t *storage(struct x86_cpu *cpu, const struct msr_desc *d, uint32_t idx)
{
	return (uint64_t *)(void *)((char *)x86_sys(cpu) + d->off) + (idx - d->idx);
}

/* The local APIC's MSRs: x2APIC registers and IA32_TSC_DEADLINE (lapic.c). */
static bool is_apic_msr(uint32_t idx)
{
	return idx == 0x6e0 || (idx >= 0x800 && idx <= 0x8ff);
}

/* The machine-check MSRs (mce.c): MCG_*, MCi_CTL2, the banks, P5_MC_*. */
static bool is_mce_msr(uint32_t idx)
{
	return idx <= 1 || (idx >= 0x179 && idx <= 0x17b) || idx == MSR_MCG_EXT_CTL ||
	       (idx >= 0x280 && idx < 0x280 + X86_MCE_MAX_BANKS) ||
	       (idx >= 0x400 && idx < 0x400 + 4 * X86_MCE_MAX_BANKS);
}

/* Why an access failed, as KVM tells userspace (KVM_MSR_EXIT_REASON_*):
 * an MSR KVM does not know, or a known one refusing the access. */
enum { MSR_OK = 0, MSR_INVAL = KVM_MSR_EXIT_REASON_INVAL, MSR_UNKNOWN = KVM_MSR_EXIT_REASON_UNKNOWN };

static int msr_get(struct x86_cpu *cpu, uint32_t idx, uint64_t *val, bool host)
{
	if (is_apic_msr(idx))
		return x86_lapic_msr_get(cpu, idx, val) ? MSR_OK : MSR_INVAL;
	if (is_mce_msr(idx))
		return x86_mce_msr_get(cpu, idx, val, host) ? MSR_OK : MSR_INVAL;
	const struct msr_desc *d = lookup(idx);
	if (!d)
		return MSR_UNKNOWN;
	if (((d->flags & F_HOST_ONLY) && !host) || platform_info_hidden(cpu, idx, host))
		return MSR_INVAL;
	if ((d->flags & F_XSAVES) && !host && !x86_guest_has_xsaves(cpu))
		return MSR_INVAL;
	if (d->get)
		return d->get(cpu, idx, val) ? MSR_OK : MSR_INVAL;
	*val = *storage(cpu, d, idx);
	return MSR_OK;
}

static int msr_set(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	if (is_apic_msr(idx))
		return x86_lapic_msr_set(cpu, idx, val, host) ? MSR_OK : MSR_INVAL;
	if (is_mce_msr(idx))
		return x86_mce_msr_set(cpu, idx, val, host) ? MSR_OK : MSR_INVAL;
	const struct msr_desc *d = lookup(idx);
	if (!d)
		return MSR_UNKNOWN;
	if ((d->flags & F_HOST_ONLY) && !host)
		return MSR_INVAL;
	if ((d->flags & F_XSAVES) && !host && !x86_guest_has_xsaves(cpu))
		return MSR_INVAL;
	if (d->flags & F_RO) {
		uint64_t cur;
		return host && d->get(cpu, idx, &cur) && cur == val ? MSR_OK : MSR_INVAL;
	}
	if ((d->flags & F_CANON) && !host && !x86_canonical(cpu, val))
		return MSR_INVAL;
	if (d->set)
		return d->set(cpu, idx, val, host) ? MSR_OK : MSR_INVAL;
	*storage(cpu, d, idx) = val;
	return MSR_OK;
}

bool x86_msr_get(struct x86_cpu *cpu, uint32_t idx, uint64_t *val, bool host)
{
	return msr_get(cpu, idx, val, host) == MSR_OK;
}

bool x86_msr_set(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	return msr_set(cpu, idx, val, host) == MSR_OK;
}

/* Guest RDMSR/WRMSR (kvm_emulate_rdmsr/wrmsr): the filter first, then the
 * MSR; a failure goes to userspace when it asked for that reason. */
bool x86_msr_read(struct x86_cpu *cpu, uint32_t idx, uint64_t *val)
{
	bool ok;
	if (x86_msr_exit_reply(cpu, idx, false, val, &ok))
		return ok;
	uint32_t reason = KVM_MSR_EXIT_REASON_FILTER;
	if (x86_msr_allowed(cpu, idx, KVM_MSR_FILTER_READ)) {
		reason = (uint32_t)msr_get(cpu, idx, val, false);
		if (reason == MSR_OK)
			return true;
	}
	x86_msr_exit(cpu, idx, false, 0, reason);
	return false;
}

bool x86_msr_write(struct x86_cpu *cpu, uint32_t idx, uint64_t val)
{
	bool ok;
	uint64_t unused;
	if (x86_msr_exit_reply(cpu, idx, true, &unused, &ok))
		return ok;
	uint32_t reason = KVM_MSR_EXIT_REASON_FILTER;
	if (x86_msr_allowed(cpu, idx, KVM_MSR_FILTER_WRITE)) {
		reason = (uint32_t)msr_set(cpu, idx, val, false);
		if (reason == MSR_OK)
			return true;
	}
	x86_msr_exit(cpu, idx, true, val, reason);
	return false;
}

void x86_msr_reset(struct x86_cpu *cpu)
{
	struct x86_sys *sys = x86_sys(cpu);
	cpu->star = cpu->lstar = cpu->cstar = cpu->sfmask = cpu->kernel_gs_base = 0;
	cpu->tsc_aux = 0;
	cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
	cpu->pat = 0x0007040600070406ull;
	cpu->misc_enable = 0x1800;   /* PEBS and BTS unavailable, as KVM */
	cpu->spec_ctrl = 0;
	cpu->xss = 0;
	cpu->mtrr_def_type = 0;
	memset(cpu->mtrr_fixed, 0, sizeof(cpu->mtrr_fixed));
	memset(cpu->mtrr_var, 0, sizeof(cpu->mtrr_var));
	cpu->apic_base = 0;
	sys->ia32_tsc_adjust = 0;   /* the TSC itself: x86_tsc_vcpu_init */
	sys->power_ctl = 0;
	sys->perf_capabilities = 0;
	sys->platform_info = sys->misc_features = 0;
	sys->msr_exit.pending = false;
	x86_mce_vcpu_init(cpu);
	sys->smbase = 0x30000;
	sys->feature_control = 0;
	sys->arch_capabilities = ARCH_CAP_VALUE;
	sys->kvmclock_wall_clock = sys->kvmclock_system_time = 0;
	x86_pv_reset(cpu);
}
