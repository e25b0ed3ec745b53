/* System registers as a table: encoding, where the value lives, reset
 * value, who may access it and, where plain storage is not enough, an
 * access function. The same table serves MRS/MSR from the guest and
 * KVM_GET/SET_ONE_REG / KVM_GET_REG_LIST from userspace.
 *
 * The CPU is a Cortex-A72-class AArch64-only core: EL0 and EL1 in AArch64,
 * FP and Advanced SIMD, CRC32 and LSE atomics, 4K/16K/64K granules, a
 * 40-bit PA, 16-bit ASIDs, no PMU, no GIC system registers, no EL2/EL3.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "arch/arm64/a64.h"

#define ENC(op0, op1, crn, crm, op2) \
	(((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2))

enum {
	F_EL0R = 1, F_EL0W = 2,   /* accessible from EL0 */
	F_RO = 4,                 /* writes UNDEFINED */
	F_WO = 8,                 /* reads UNDEFINED */
	F_USER = 16,              /* in KVM_GET_REG_LIST / ONE_REG */
	F_FLUSH = 32,             /* a write changes translation */
	F_ASID = 64,              /* a write may change the ASID */
	F_EL2 = 128,              /* EL2 only: UNDEFINED below; listed with HAS_EL2 */
	F_PMU = 256,              /* listed / ONE_REG only with KVM_ARM_VCPU_PMU_V3 */
	F_UONLY = 512,            /* userspace state only: UNDEFINED to the guest */
	F_AA32 = 1024,            /* AArch32 ID register: RAZ, userspace writes ignored */
};

struct a64_sysreg {
	uint16_t enc;
	uint16_t flags;
	int8_t slot;              /* index in c->sr, -1 for none */
	uint64_t reset;           /* also the constant of a slot-less RO reg */
	/* Guest access when plain storage does not do. Read returns false
	 * for UNDEFINED (may raise its own trap instead). */
	bool (*read)(struct a64 *c, uint64_t *v);
	bool (*write)(struct a64 *c, uint64_t v);
	/* KVM_GET/SET_ONE_REG when storage (or the constant) is not it */
	int (*uget)(struct a64 *c, uint32_t enc, uint64_t *v);
	int (*uset)(struct a64 *c, uint32_t enc, uint64_t v);
};

#define MIDR_A72 0x410fd083ull
#define CTR_VAL 0x8444c004ull

static void fp_trap(struct a64 *c)
{
	a64_fp_check(c);
}

/* ---- special registers ---- */
static bool rd_currentel(struct a64 *c, uint64_t *v) { *v = (uint64_t)c->el << 2; return true; }
static bool rd_spsel(struct a64 *c, uint64_t *v) { *v = c->pstate & 1; return true; }
static bool wr_spsel(struct a64 *c, uint64_t v)
{
	a64_set_pstate(c, (c->pstate & ~1u) | (v & 1));
	return true;
}
/* An EL0 access that EL1 configuration traps: i_mrs/i_msr raise EC 0x18
 * with the instruction's syndrome. */
static bool sys_trap(struct a64 *c)
{
	c->sys_trap = true;
	return false;
}

static bool uma_ok(struct a64 *c)
{
	return c->el || (c->sr[SR_SCTLR] & (1u << 9));
}
static bool rd_daif(struct a64 *c, uint64_t *v)
{
	if (!uma_ok(c))
		return sys_trap(c);
	*v = c->pstate & PS_DAIF;
	return true;
}
static bool wr_daif(struct a64 *c, uint64_t v)
{
	if (!uma_ok(c))
		return sys_trap(c);
	c->pstate = (c->pstate & ~PS_DAIF) | ((uint32_t)v & PS_DAIF);
	c->brk = true;
	return true;
}
static bool rd_nzcv(struct a64 *c, uint64_t *v) { *v = c->pstate & PS_NZCV; return true; }
static bool wr_nzcv(struct a64 *c, uint64_t v)
{
	c->pstate = (c->pstate & ~PS_NZCV) | ((uint32_t)v & PS_NZCV);
	return true;
}
static bool rd_fpcr(struct a64 *c, uint64_t *v) { fp_trap(c); *v = c->fpcr; return true; }
static bool wr_fpcr(struct a64 *c, uint64_t v) { fp_trap(c); c->fpcr = (uint32_t)v & 0x07ff9f00u; return true; }
static bool rd_fpsr(struct a64 *c, uint64_t *v) { fp_trap(c); *v = c->fpsr; return true; }
static bool wr_fpsr(struct a64 *c, uint64_t v) { fp_trap(c); c->fpsr = (uint32_t)v & 0xf800009fu; return true; }
static bool rd_sp_el0(struct a64 *c, uint64_t *v)
{
	if (!(c->pstate & 1))
		return false;
	*v = c->sp_el0;
	return true;
}
static bool wr_sp_el0(struct a64 *c, uint64_t v)
{
	if (!(c->pstate & 1))
		return false;
	c->sp_el0 = v;
	return true;
}
/* CSV2 and CSV3 (an interpreter does not speculate) unless the VMM
 * restored a VM from a host that had them 0. */
static bool rd_pfr0(struct a64 *c, uint64_t *v)
{
	uint8_t off = c->avm->pfr0_csv_off;
	*v = 0x11 | (a64_has_el2(c) ? 0x100 : 0) | ((off & 1) ? 0 : 1ull << 56) | ((off & 2) ? 0 : 1ull << 60);
	return true;
}
/* PMU registers: thin adapters to pmu.c */
static bool rd_dfr0(struct a64 *c, uint64_t *v)
{
	/* PMUVer 1 (PMUv3) with KVM_ARM_VCPU_PMU_V3 */
	*v = 0x10305006ull | ((c->features & (1u << KVM_ARM_VCPU_PMU_V3)) ? 0x100 : 0);
	return true;
}
#define PM_SETCLR(name, which)                                                               \
	static bool rd_##name(struct a64 *c, uint64_t *v) { return a64_pm_setclr_read(c, which, v); } \
	static bool wr_##name##set(struct a64 *c, uint64_t v) { return a64_pm_setclr_write(c, which, true, v); } \
	static bool wr_##name##clr(struct a64 *c, uint64_t v) { return a64_pm_setclr_write(c, which, false, v); }
PM_SETCLR(pmcnten, 0)
PM_SETCLR(pminten, 1)
PM_SETCLR(pmovs, 2)
#define PM_CNT(name, n)                                                                        \
	static bool rd_##name(struct a64 *c, uint64_t *v) { return a64_pmcnt_read(c, n, v); }  \
	static bool wr_##name(struct a64 *c, uint64_t v) { return a64_pmcnt_write(c, n, v); }
#define PM_TYPE(name, n)                                                                       \
	static bool rd_##name(struct a64 *c, uint64_t *v) { return a64_pmtype_read(c, n, v); } \
	static bool wr_##name(struct a64 *c, uint64_t v) { return a64_pmtype_write(c, n, v); }
PM_CNT(pmevcntr0, 0) PM_CNT(pmevcntr1, 1) PM_CNT(pmevcntr2, 2) PM_CNT(pmevcntr3, 3)
PM_CNT(pmccntr, A64_PMU_N) PM_CNT(pmxevcntr, -1)
PM_TYPE(pmevtyper0, 0) PM_TYPE(pmevtyper1, 1) PM_TYPE(pmevtyper2, 2) PM_TYPE(pmevtyper3, 3)
PM_TYPE(pmccfiltr, A64_PMU_N) PM_TYPE(pmxevtyper, -1)
static bool rd_pmceid0(struct a64 *c, uint64_t *v) { return a64_pmceid_read(c, 0, v); }
static bool rd_pmceid1(struct a64 *c, uint64_t *v) { return a64_pmceid_read(c, 1, v); }

static bool rd_sp_el1(struct a64 *c, uint64_t *v)
{
	*v = a64_get_sp(c, 1);
	return true;
}
static bool wr_sp_el1(struct a64 *c, uint64_t v)
{
	a64_set_sp(c, 1, v);
	return true;
}
static bool rd_isr(struct a64 *c, uint64_t *v)
{
	uint32_t l = atomic_load(&c->lines);
	*v = ((l & 1) ? PS_I : 0) | ((l & 2) ? PS_F : 0) | (c->serror_pending ? PS_A : 0);
	return true;
}
uint32_t a64_ccsidr(unsigned csselr)
{
	/* L1D 32K 2-way? A72: L1D 32K 2-way 64B, L1I 48K 3-way, L2 1M 16-way. */
	switch (csselr) {
	case 0: return 0x701fe01au;  /* L1 D */
	case 1: return 0x201fe012u;  /* L1 I */
	case 2: return 0x707fe07au;  /* L2 */
	default: return 0;
	}
}
static bool rd_ccsidr(struct a64 *c, uint64_t *v)
{
	*v = a64_ccsidr(c->sr[SR_CSSELR] & 0xf);
	return true;
}
static bool ctr_ok(struct a64 *c, uint64_t *v)
{
	if (c->el == 0 && !(c->sr[SR_SCTLR] & (1u << 15)))
		return sys_trap(c);
	*v = CTR_VAL;
	return true;
}

/* ---- timer registers: EL0 access as CNTKCTL_EL1 allows (else a trap) ---- */
#define el0_timer_check(c, bit)                                       \
	do {                                                              \
		if ((c)->el == 0 && !((c)->sr[SR_CNTKCTL] & (1u << (bit)))) \
			return sys_trap(c);                               \
	} while (0)
static bool rd_cntfrq(struct a64 *c, uint64_t *v)
{
	if (c->el == 0 && !(c->sr[SR_CNTKCTL] & 3))
		return sys_trap(c);
	*v = A64_CNTFRQ;
	return true;
}
/* The block ends after a counter read: a timer the value shows due is
 * taken before the guest acts on it (the thread may have slept past it). */
static bool rd_cntpct(struct a64 *c, uint64_t *v) { el0_timer_check(c, 0); *v = a64_cntpct(); c->brk = true; return true; }
static bool rd_cntvct(struct a64 *c, uint64_t *v) { el0_timer_check(c, 1); *v = a64_cntvct(c); c->brk = true; return true; }
static bool rd_cntv_ctl(struct a64 *c, uint64_t *v) { el0_timer_check(c, 8); *v = a64_timer_ctl_read(c, 0); return true; }
static bool rd_cntp_ctl(struct a64 *c, uint64_t *v) { el0_timer_check(c, 9); *v = a64_timer_ctl_read(c, 1); return true; }
static bool wr_cntv_ctl(struct a64 *c, uint64_t v) { el0_timer_check(c, 8); c->sr[SR_CNTV_CTL] = v & 3; c->brk = true; return true; }
static bool wr_cntp_ctl(struct a64 *c, uint64_t v) { el0_timer_check(c, 9); c->sr[SR_CNTP_CTL] = v & 3; c->brk = true; return true; }
static bool rd_cntv_cval(struct a64 *c, uint64_t *v) { el0_timer_check(c, 8); *v = c->sr[SR_CNTV_CVAL]; return true; }
static bool rd_cntp_cval(struct a64 *c, uint64_t *v) { el0_timer_check(c, 9); *v = c->sr[SR_CNTP_CVAL]; return true; }
static bool wr_cntv_cval(struct a64 *c, uint64_t v) { el0_timer_check(c, 8); c->sr[SR_CNTV_CVAL] = v; c->brk = true; return true; }
static bool wr_cntp_cval(struct a64 *c, uint64_t v) { el0_timer_check(c, 9); c->sr[SR_CNTP_CVAL] = v; c->brk = true; return true; }
static bool rd_cntv_tval(struct a64 *c, uint64_t *v)
{
	el0_timer_check(c, 8);
	*v = (uint32_t)(c->sr[SR_CNTV_CVAL] - a64_cntvct(c));
	return true;
}
static bool rd_cntp_tval(struct a64 *c, uint64_t *v)
{
	el0_timer_check(c, 9);
	*v = (uint32_t)(c->sr[SR_CNTP_CVAL] - a64_cntpct());
	return true;
}
static bool wr_cntv_tval(struct a64 *c, uint64_t v)
{
	el0_timer_check(c, 8);
	c->sr[SR_CNTV_CVAL] = a64_cntvct(c) + (uint64_t)(int64_t)(int32_t)v;
	c->brk = true;
	return true;
}
static bool wr_cntp_tval(struct a64 *c, uint64_t v)
{
	el0_timer_check(c, 9);
	c->sr[SR_CNTP_CVAL] = a64_cntpct() + (uint64_t)(int64_t)(int32_t)v;
	c->brk = true;
	return true;
}

/* ---- what KVM_GET/SET_ONE_REG see where it is not the storage ----
 * KVM copies values in and out with no guest-visible side effect (a
 * counter is not reset by writing PMCR.P, a set/clear pair is one word). */
static int u_raz(struct a64 *c, uint32_t enc, uint64_t *v)
{
	(void)c, (void)enc;
	*v = 0;
	return 0;
}
static int u_wi(struct a64 *c, uint32_t enc, uint64_t v)
{
	(void)c, (void)enc, (void)v;
	return 0;
}
static int u_ctr(struct a64 *c, uint32_t enc, uint64_t *v)
{
	(void)c, (void)enc;
	*v = CTR_VAL;
	return 0;
}
static int u_pfr0(struct a64 *c, uint32_t enc, uint64_t *v)
{
	(void)enc;
	rd_pfr0(c, v);
	return 0;
}
/* KVM: only CSV2 / CSV3 may differ, and promise no more than 1. */
static int u_pfr0_set(struct a64 *c, uint32_t enc, uint64_t v)
{
	uint64_t cur;
	rd_pfr0(c, &cur);
	unsigned csv2 = (v >> 56) & 0xf, csv3 = (v >> 60) & 0xf;
	if (csv2 > 1 || csv3 > 1 || ((v ^ cur) & ~(0xffull << 56)))
		return -EINVAL;
	c->avm->pfr0_csv_off = (uint8_t)((csv2 ? 0 : 1) | (csv3 ? 0 : 2));
	return 0;
}
static int u_dfr0(struct a64 *c, uint32_t enc, uint64_t *v)
{
	(void)enc;
	rd_dfr0(c, v);
	return 0;
}
/* OSLSR_EL1: only OSLK (bit 1) may differ from the reset value (KVM). */
static int u_oslsr_set(struct a64 *c, uint32_t enc, uint64_t v)
{
	(void)enc;
	if ((v ^ 0x8) & ~2ull)
		return -EINVAL;
	c->sr[SR_OSLSR] = v;
	return 0;
}
static int u_sp_el2_get(struct a64 *c, uint32_t enc, uint64_t *v)
{
	(void)enc;
	*v = a64_get_sp(c, 2);
	return 0;
}
static int u_sp_el2_set(struct a64 *c, uint32_t enc, uint64_t v)
{
	(void)enc;
	a64_set_sp(c, 2, v);
	return 0;
}

#define PM_VALID ((1u << 31) | ((1u << A64_PMU_N) - 1))
/* The word behind a set/clear pair or PMSELR_EL0. */
static uint32_t *pm_word(struct a64 *c, uint32_t enc)
{
	switch (enc) {
	case ENC(3, 3, 9, 12, 1): case ENC(3, 3, 9, 12, 2): return &c->pmu.cnten;
	case ENC(3, 0, 9, 14, 1): case ENC(3, 0, 9, 14, 2): return &c->pmu.inten;
	case ENC(3, 3, 9, 12, 3): case ENC(3, 3, 9, 14, 3): return &c->pmu.ovs;
	default: return &c->pmu.selr;
	}
}
static int u_pm_get(struct a64 *c, uint32_t enc, uint64_t *v)
{
	*v = *pm_word(c, enc);
	return 0;
}
static int u_pm_set(struct a64 *c, uint32_t enc, uint64_t v)
{
	uint32_t *w = pm_word(c, enc);
	a64_pmu_sync(c);
	*w = (uint32_t)v & (w == &c->pmu.selr ? 0x1fu : PM_VALID);
	return 0;
}
static int u_pmcr_get(struct a64 *c, uint32_t enc, uint64_t *v)
{
	(void)enc;
	*v = (0x41ull << 24) | ((uint64_t)A64_PMU_N << 11) | c->pmu.pmcr;
	return 0;
}
static int u_pmcr_set(struct a64 *c, uint32_t enc, uint64_t v)
{
	(void)enc;
	a64_pmu_sync(c);
	c->pmu.pmcr = (uint32_t)v & 0xf9u;   /* E D X DP LC LP; P and C act only from the guest */
	return 0;
}
/* PMEVCNTR<n>_EL0 / PMEVTYPER<n>_EL0: n from CRm[1:0]:op2. Counters past
 * PMCR_EL0.N do not exist here: they read as zero and ignore writes. */
static unsigned pm_n(uint32_t enc)
{
	return ((enc >> 3) & 3) << 3 | (enc & 7);
}
static int u_pmcnt_get(struct a64 *c, uint32_t enc, uint64_t *v)
{
	unsigned n = enc == ENC(3, 3, 9, 13, 0) ? A64_PMU_N : pm_n(enc);
	if (enc != ENC(3, 3, 9, 13, 0) && n >= A64_PMU_N) {
		*v = 0;
		return 0;
	}
	a64_pmu_sync(c);
	*v = c->pmu.cnt[n];
	return 0;
}
static int u_pmcnt_set(struct a64 *c, uint32_t enc, uint64_t v)
{
	unsigned n = enc == ENC(3, 3, 9, 13, 0) ? A64_PMU_N : pm_n(enc);
	if (enc != ENC(3, 3, 9, 13, 0) && n >= A64_PMU_N)
		return 0;
	a64_pmu_sync(c);
	c->pmu.cnt[n] = n < A64_PMU_N ? (uint32_t)v : v;
	return 0;
}
static int u_pmtype_get(struct a64 *c, uint32_t enc, uint64_t *v)
{
	unsigned n = pm_n(enc);
	*v = enc == ENC(3, 3, 14, 15, 7) ? c->pmu.ccfiltr : n < A64_PMU_N ? c->pmu.evtyper[n] : 0;
	return 0;
}
static int u_pmtype_set(struct a64 *c, uint32_t enc, uint64_t v)
{
	unsigned n = pm_n(enc);
	a64_pmu_sync(c);
	if (enc == ENC(3, 3, 14, 15, 7))
		c->pmu.ccfiltr = (uint32_t)v & 0xfc000000u;
	else if (n < A64_PMU_N)
		c->pmu.evtyper[n] = (uint32_t)v & 0xfc00ffffu;
	return 0;
}

#define RO(op0, op1, crn, crm, op2, val, fl) {ENC(op0, op1, crn, crm, op2), F_RO | (fl), -1, val, NULL, NULL, NULL, NULL}
#define RW(op0, op1, crn, crm, op2, slot, reset, fl) {ENC(op0, op1, crn, crm, op2), (fl), slot, reset, NULL, NULL, NULL, NULL}
#define FN(op0, op1, crn, crm, op2, fl, r, w) {ENC(op0, op1, crn, crm, op2), (fl), -1, 0, r, w, NULL, NULL}
/* PMU registers: guest access through pmu.c, userspace through ug/us */
#define PM(op0, op1, crn, crm, op2, fl, r, w, ug, us) \
	{ENC(op0, op1, crn, crm, op2), (fl) | F_USER | F_PMU, -1, 0, r, w, ug, us}
#define PM_HI(crm, op2, ug, us) PM(3, 3, 14, crm, op2, F_UONLY, NULL, NULL, ug, us)
#define AA32_ID(crm, op2) {ENC(3, 0, 0, crm, op2), F_RO | F_USER | F_AA32, -1, 0, NULL, NULL, NULL, NULL}
/* AArch32 registers KVM keeps for a 32-bit EL1 and lists anyway */
#define KEEP(op0, op1, crn, crm, op2, slot, reset) \
	{ENC(op0, op1, crn, crm, op2), F_USER | F_UONLY, slot, reset, NULL, NULL, NULL, NULL}

/* Sorted by encoding (KVM_GET_REG_LIST order). */
static const struct a64_sysreg regs[] = {
	/* debug */
	RW(2, 0, 0, 2, 0, SR_MDCCINT, 0, F_USER),
	{.enc = ENC(2, 0, 0, 2, 2), .flags = F_USER, .slot = SR_MDSCR, .write = a64_dbg_mdscr_write},
	FN(2, 0, 1, 0, 4, F_WO, NULL, a64_dbg_oslar_write),
	{ENC(2, 0, 1, 1, 4), F_USER | F_RO, SR_OSLSR, 0x8, NULL, NULL, NULL, u_oslsr_set},
	/* OSDLR_EL1: not in Linux 6.1's KVM_GET_REG_LIST (trapped RAZ/WI there) */
	{.enc = ENC(2, 0, 1, 3, 4), .flags = 0, .slot = SR_OSDLR, .write = a64_dbg_osdlr_write},
	KEEP(2, 4, 0, 7, 0, SR_DBGVCR32, 0),
	/* identification */
	RO(3, 0, 0, 0, 0, MIDR_A72, F_USER),
	RW(3, 0, 0, 0, 5, SR_MPIDR, 0, F_USER | F_RO),
	RO(3, 0, 0, 0, 6, 0, F_USER),
	/* ID_AA64PFR0: EL0/EL1 AArch64 (and EL2 with HAS_EL2), FP, AdvSIMD */
	/* the AArch32 ID registers: RAZ, as there is no AArch32 at any EL */
	AA32_ID(1, 0), AA32_ID(1, 1), AA32_ID(1, 2), AA32_ID(1, 4), AA32_ID(1, 5), AA32_ID(1, 6), AA32_ID(1, 7),
	AA32_ID(2, 0), AA32_ID(2, 1), AA32_ID(2, 2), AA32_ID(2, 3), AA32_ID(2, 4), AA32_ID(2, 5), AA32_ID(2, 6),
	AA32_ID(2, 7), AA32_ID(3, 0), AA32_ID(3, 1), AA32_ID(3, 2), AA32_ID(3, 4), AA32_ID(3, 6),
	{ENC(3, 0, 0, 4, 0), F_RO | F_USER, -1, 0x11, rd_pfr0, NULL, u_pfr0, u_pfr0_set},
	RO(3, 0, 0, 4, 1, 0, F_USER),
	/* ID_AA64DFR0: v8 debug; PMUv3 with KVM_ARM_VCPU_PMU_V3 */
	{ENC(3, 0, 0, 5, 0), F_RO | F_USER, -1, 0x10305006ull, rd_dfr0, NULL, u_dfr0, NULL},
	RO(3, 0, 0, 6, 0, 0x210000, F_USER),      /* ID_AA64ISAR0: CRC32, LSE atomics */
	RO(3, 0, 0, 7, 0, 0x100022, F_USER),      /* ID_AA64MMFR0: 40-bit PA, 16-bit ASID, 4K/16K/64K */
	/* system control */
	RW(3, 0, 1, 0, 0, SR_SCTLR, 0x00c50078ull, F_USER | F_FLUSH),
	RW(3, 0, 1, 0, 1, SR_ACTLR, 0, F_USER),
	RW(3, 0, 1, 0, 2, SR_CPACR, 0, F_USER),
	RW(3, 0, 2, 0, 0, SR_TTBR0, 0, F_USER | F_ASID),
	RW(3, 0, 2, 0, 1, SR_TTBR1, 0, F_USER | F_ASID),
	RW(3, 0, 2, 0, 2, SR_TCR, 0, F_USER | F_FLUSH | F_ASID),
	RW(3, 0, 4, 0, 0, SR_SPSR, 0, 0),
	RW(3, 0, 4, 0, 1, SR_ELR, 0, 0),
	FN(3, 0, 4, 1, 0, 0, rd_sp_el0, wr_sp_el0),
	FN(3, 0, 4, 2, 0, 0, rd_spsel, wr_spsel),
	FN(3, 0, 4, 2, 2, F_RO, rd_currentel, NULL),
	RW(3, 0, 5, 1, 0, SR_AFSR0, 0, F_USER),
	RW(3, 0, 5, 1, 1, SR_AFSR1, 0, F_USER),
	RW(3, 0, 5, 2, 0, SR_ESR, 0, F_USER),
	RW(3, 0, 6, 0, 0, SR_FAR, 0, F_USER),
	RW(3, 0, 7, 4, 0, SR_PAR, 0, F_USER),
	RW(3, 0, 10, 2, 0, SR_MAIR, 0, F_USER),
	RW(3, 0, 10, 3, 0, SR_AMAIR, 0, F_USER),
	RW(3, 0, 12, 0, 0, SR_VBAR, 0, F_USER),
	FN(3, 0, 12, 1, 0, F_RO, rd_isr, NULL),
	KEEP(3, 0, 12, 1, 1, SR_DISR, 0),         /* DISR_EL1: no RAS here, kept for KVM's list */
	RW(3, 0, 13, 0, 1, SR_CONTEXTIDR, 0, F_USER),
	RW(3, 0, 13, 0, 4, SR_TPIDR_EL1, 0, F_USER),
	RW(3, 0, 14, 1, 0, SR_CNTKCTL, 0, F_USER),
	FN(3, 1, 0, 0, 0, F_RO, rd_ccsidr, NULL),
	RO(3, 1, 0, 0, 1, 0x0a200023ull, F_USER), /* CLIDR: L1 I+D, L2 unified */
	RO(3, 1, 0, 0, 7, 0, F_USER),             /* AIDR */
	RW(3, 2, 0, 0, 0, SR_CSSELR, 0, F_USER),
	{ENC(3, 3, 0, 0, 1), F_RO | F_EL0R | F_USER, -1, 0, ctr_ok, NULL, u_ctr, NULL},
	RO(3, 3, 0, 0, 7, 4, F_EL0R),             /* DCZID: 64-byte DC ZVA */
	FN(3, 3, 4, 2, 0, F_EL0R | F_EL0W, rd_nzcv, wr_nzcv),
	FN(3, 3, 4, 2, 1, F_EL0R | F_EL0W, rd_daif, wr_daif),
	FN(3, 3, 4, 4, 0, F_EL0R | F_EL0W, rd_fpcr, wr_fpcr),
	FN(3, 3, 4, 4, 1, F_EL0R | F_EL0W, rd_fpsr, wr_fpsr),
	RW(3, 3, 13, 0, 2, SR_TPIDR_EL0, 0, F_USER | F_EL0R | F_EL0W),
	RW(3, 3, 13, 0, 3, SR_TPIDRRO_EL0, 0, F_USER | F_EL0R),
	FN(3, 3, 14, 0, 0, F_RO | F_EL0R, rd_cntfrq, NULL),
	FN(3, 3, 14, 0, 1, F_RO | F_EL0R, rd_cntpct, NULL),
	FN(3, 3, 14, 0, 2, F_RO | F_EL0R, rd_cntvct, NULL),
	FN(3, 3, 14, 2, 0, F_EL0R | F_EL0W, rd_cntp_tval, wr_cntp_tval),
	FN(3, 3, 14, 2, 1, F_EL0R | F_EL0W, rd_cntp_ctl, wr_cntp_ctl),
	FN(3, 3, 14, 2, 2, F_EL0R | F_EL0W, rd_cntp_cval, wr_cntp_cval),
	FN(3, 3, 14, 3, 0, F_EL0R | F_EL0W, rd_cntv_tval, wr_cntv_tval),
	FN(3, 3, 14, 3, 1, F_EL0R | F_EL0W, rd_cntv_ctl, wr_cntv_ctl),
	FN(3, 3, 14, 3, 2, F_EL0R | F_EL0W, rd_cntv_cval, wr_cntv_cval),
	/* PMUv3 (pmu.c): EL0 access as PMUSERENR_EL0 allows */
	PM(3, 3, 9, 12, 0, F_EL0R | F_EL0W, a64_pmcr_read, a64_pmcr_write, u_pmcr_get, u_pmcr_set),
	PM(3, 3, 9, 12, 1, F_EL0R | F_EL0W, rd_pmcnten, wr_pmcntenset, u_pm_get, u_pm_set),
	PM(3, 3, 9, 12, 2, F_EL0R | F_EL0W, rd_pmcnten, wr_pmcntenclr, u_pm_get, u_pm_set),
	PM(3, 3, 9, 12, 3, F_EL0R | F_EL0W, rd_pmovs, wr_pmovsclr, u_pm_get, u_pm_set),
	PM(3, 3, 9, 12, 4, F_EL0W | F_WO, NULL, a64_pmswinc_write, u_raz, u_wi),
	PM(3, 3, 9, 12, 5, F_EL0R | F_EL0W, a64_pmselr_read, a64_pmselr_write, u_pm_get, u_pm_set),
	FN(3, 3, 9, 12, 6, F_EL0R | F_RO, rd_pmceid0, NULL),
	FN(3, 3, 9, 12, 7, F_EL0R | F_RO, rd_pmceid1, NULL),
	PM(3, 3, 9, 13, 0, F_EL0R | F_EL0W, rd_pmccntr, wr_pmccntr, u_pmcnt_get, u_pmcnt_set),
	FN(3, 3, 9, 13, 1, F_EL0R | F_EL0W, rd_pmxevtyper, wr_pmxevtyper),
	FN(3, 3, 9, 13, 2, F_EL0R | F_EL0W, rd_pmxevcntr, wr_pmxevcntr),
	{ENC(3, 3, 9, 14, 0), F_EL0R | F_USER | F_PMU, SR_PMUSERENR, 0, NULL, NULL, NULL, NULL},
	PM(3, 3, 9, 14, 3, F_EL0R | F_EL0W, rd_pmovs, wr_pmovsset, u_pm_get, u_pm_set),
	PM(3, 0, 9, 14, 1, 0, rd_pminten, wr_pmintenset, u_pm_get, u_pm_set),
	PM(3, 0, 9, 14, 2, 0, rd_pminten, wr_pmintenclr, u_pm_get, u_pm_set),
	PM(3, 3, 14, 8, 0, F_EL0R | F_EL0W, rd_pmevcntr0, wr_pmevcntr0, u_pmcnt_get, u_pmcnt_set),
	PM(3, 3, 14, 8, 1, F_EL0R | F_EL0W, rd_pmevcntr1, wr_pmevcntr1, u_pmcnt_get, u_pmcnt_set),
	PM(3, 3, 14, 8, 2, F_EL0R | F_EL0W, rd_pmevcntr2, wr_pmevcntr2, u_pmcnt_get, u_pmcnt_set),
	PM(3, 3, 14, 8, 3, F_EL0R | F_EL0W, rd_pmevcntr3, wr_pmevcntr3, u_pmcnt_get, u_pmcnt_set),
	/* PMEVCNTR4..30_EL0: beyond PMCR_EL0.N, KVM lists them all */
	PM_HI(8, 4, u_pmcnt_get, u_pmcnt_set), PM_HI(8, 5, u_pmcnt_get, u_pmcnt_set), PM_HI(8, 6, u_pmcnt_get, u_pmcnt_set),
	PM_HI(8, 7, u_pmcnt_get, u_pmcnt_set), PM_HI(9, 0, u_pmcnt_get, u_pmcnt_set), PM_HI(9, 1, u_pmcnt_get, u_pmcnt_set),
	PM_HI(9, 2, u_pmcnt_get, u_pmcnt_set), PM_HI(9, 3, u_pmcnt_get, u_pmcnt_set), PM_HI(9, 4, u_pmcnt_get, u_pmcnt_set),
	PM_HI(9, 5, u_pmcnt_get, u_pmcnt_set), PM_HI(9, 6, u_pmcnt_get, u_pmcnt_set), PM_HI(9, 7, u_pmcnt_get, u_pmcnt_set),
	PM_HI(10, 0, u_pmcnt_get, u_pmcnt_set), PM_HI(10, 1, u_pmcnt_get, u_pmcnt_set), PM_HI(10, 2, u_pmcnt_get, u_pmcnt_set),
	PM_HI(10, 3, u_pmcnt_get, u_pmcnt_set), PM_HI(10, 4, u_pmcnt_get, u_pmcnt_set), PM_HI(10, 5, u_pmcnt_get, u_pmcnt_set),
	PM_HI(10, 6, u_pmcnt_get, u_pmcnt_set), PM_HI(10, 7, u_pmcnt_get, u_pmcnt_set), PM_HI(11, 0, u_pmcnt_get, u_pmcnt_set),
	PM_HI(11, 1, u_pmcnt_get, u_pmcnt_set), PM_HI(11, 2, u_pmcnt_get, u_pmcnt_set), PM_HI(11, 3, u_pmcnt_get, u_pmcnt_set),
	PM_HI(11, 4, u_pmcnt_get, u_pmcnt_set), PM_HI(11, 5, u_pmcnt_get, u_pmcnt_set), PM_HI(11, 6, u_pmcnt_get, u_pmcnt_set),
	PM(3, 3, 14, 12, 0, F_EL0R | F_EL0W, rd_pmevtyper0, wr_pmevtyper0, u_pmtype_get, u_pmtype_set),
	PM(3, 3, 14, 12, 1, F_EL0R | F_EL0W, rd_pmevtyper1, wr_pmevtyper1, u_pmtype_get, u_pmtype_set),
	PM(3, 3, 14, 12, 2, F_EL0R | F_EL0W, rd_pmevtyper2, wr_pmevtyper2, u_pmtype_get, u_pmtype_set),
	PM(3, 3, 14, 12, 3, F_EL0R | F_EL0W, rd_pmevtyper3, wr_pmevtyper3, u_pmtype_get, u_pmtype_set),
	/* PMEVTYPER4..30_EL0 */
	PM_HI(12, 4, u_pmtype_get, u_pmtype_set), PM_HI(12, 5, u_pmtype_get, u_pmtype_set), PM_HI(12, 6, u_pmtype_get, u_pmtype_set),
	PM_HI(12, 7, u_pmtype_get, u_pmtype_set), PM_HI(13, 0, u_pmtype_get, u_pmtype_set), PM_HI(13, 1, u_pmtype_get, u_pmtype_set),
	PM_HI(13, 2, u_pmtype_get, u_pmtype_set), PM_HI(13, 3, u_pmtype_get, u_pmtype_set), PM_HI(13, 4, u_pmtype_get, u_pmtype_set),
	PM_HI(13, 5, u_pmtype_get, u_pmtype_set), PM_HI(13, 6, u_pmtype_get, u_pmtype_set), PM_HI(13, 7, u_pmtype_get, u_pmtype_set),
	PM_HI(14, 0, u_pmtype_get, u_pmtype_set), PM_HI(14, 1, u_pmtype_get, u_pmtype_set), PM_HI(14, 2, u_pmtype_get, u_pmtype_set),
	PM_HI(14, 3, u_pmtype_get, u_pmtype_set), PM_HI(14, 4, u_pmtype_get, u_pmtype_set), PM_HI(14, 5, u_pmtype_get, u_pmtype_set),
	PM_HI(14, 6, u_pmtype_get, u_pmtype_set), PM_HI(14, 7, u_pmtype_get, u_pmtype_set), PM_HI(15, 0, u_pmtype_get, u_pmtype_set),
	PM_HI(15, 1, u_pmtype_get, u_pmtype_set), PM_HI(15, 2, u_pmtype_get, u_pmtype_set), PM_HI(15, 3, u_pmtype_get, u_pmtype_set),
	PM_HI(15, 4, u_pmtype_get, u_pmtype_set), PM_HI(15, 5, u_pmtype_get, u_pmtype_set), PM_HI(15, 6, u_pmtype_get, u_pmtype_set),
	PM(3, 3, 14, 15, 7, F_EL0R | F_EL0W, rd_pmccfiltr, wr_pmccfiltr, u_pmtype_get, u_pmtype_set),
	/* GICv3 CPU interface (vgic_cpu.c): UNDEFINED without a vGIC */
	FN(3, 0, 4, 6, 0, 0, a64_icc_rd_pmr, a64_icc_wr_pmr),
	FN(3, 0, 12, 8, 0, F_RO, a64_icc_rd_iar0, NULL),
	FN(3, 0, 12, 8, 1, F_WO, NULL, a64_icc_wr_eoir0),
	FN(3, 0, 12, 8, 2, F_RO, a64_icc_rd_hppir0, NULL),
	FN(3, 0, 12, 8, 3, 0, a64_icc_rd_bpr0, a64_icc_wr_bpr0),
	FN(3, 0, 12, 8, 4, 0, a64_icc_rd_ap0r0, a64_icc_wr_ap0r0),
	FN(3, 0, 12, 8, 5, 0, a64_icc_rd_ap0r1, a64_icc_wr_ap0r1),
	FN(3, 0, 12, 8, 6, 0, a64_icc_rd_ap0r2, a64_icc_wr_ap0r2),
	FN(3, 0, 12, 8, 7, 0, a64_icc_rd_ap0r3, a64_icc_wr_ap0r3),
	FN(3, 0, 12, 9, 0, 0, a64_icc_rd_ap1r0, a64_icc_wr_ap1r0),
	FN(3, 0, 12, 9, 1, 0, a64_icc_rd_ap1r1, a64_icc_wr_ap1r1),
	FN(3, 0, 12, 9, 2, 0, a64_icc_rd_ap1r2, a64_icc_wr_ap1r2),
	FN(3, 0, 12, 9, 3, 0, a64_icc_rd_ap1r3, a64_icc_wr_ap1r3),
	FN(3, 0, 12, 11, 1, F_WO, NULL, a64_icc_wr_dir),
	FN(3, 0, 12, 11, 3, F_RO, a64_icc_rd_rpr, NULL),
	FN(3, 0, 12, 11, 5, F_WO, NULL, a64_icc_wr_sgi1r),
	FN(3, 0, 12, 11, 6, F_WO, NULL, a64_icc_wr_asgi1r),
	FN(3, 0, 12, 11, 7, F_WO, NULL, a64_icc_wr_sgi0r),
	FN(3, 0, 12, 12, 0, F_RO, a64_icc_rd_iar1, NULL),
	FN(3, 0, 12, 12, 1, F_WO, NULL, a64_icc_wr_eoir1),
	FN(3, 0, 12, 12, 2, F_RO, a64_icc_rd_hppir1, NULL),
	FN(3, 0, 12, 12, 3, 0, a64_icc_rd_bpr1, a64_icc_wr_bpr1),
	FN(3, 0, 12, 12, 4, 0, a64_icc_rd_ctlr, a64_icc_wr_ctlr),
	FN(3, 0, 12, 12, 5, 0, a64_icc_rd_sre, a64_icc_wr_sre),
	FN(3, 0, 12, 12, 6, 0, a64_icc_rd_igrpen0, a64_icc_wr_igrpen0),
	FN(3, 0, 12, 12, 7, 0, a64_icc_rd_igrpen1, a64_icc_wr_igrpen1),
	/* EL2: storage, with the effects except.c / psci.c give them
	 * (VBAR, ELR, SPSR, ESR, FAR; HCR_EL2.RW and HCD) */
	RW(3, 4, 0, 0, 0, SR_VPIDR2, MIDR_A72, F_EL2 | F_USER),
	RW(3, 4, 0, 0, 5, SR_VMPIDR2, 0, F_EL2 | F_USER),
	RW(3, 4, 1, 0, 0, SR_SCTLR2, 0x30c50830ull, F_EL2 | F_USER),
	RW(3, 4, 1, 0, 1, SR_ACTLR2, 0, F_EL2 | F_USER),
	RW(3, 4, 1, 1, 0, SR_HCR2, 0, F_EL2 | F_USER),
	RW(3, 4, 1, 1, 1, SR_MDCR2, 0, F_EL2 | F_USER),
	RW(3, 4, 1, 1, 2, SR_CPTR2, 0x33ff, F_EL2 | F_USER),
	RW(3, 4, 1, 1, 3, SR_HSTR2, 0, F_EL2 | F_USER),
	RW(3, 4, 1, 1, 7, SR_HACR2, 0, F_EL2 | F_USER),
	RW(3, 4, 2, 0, 0, SR_TTBR02, 0, F_EL2 | F_USER),
	RW(3, 4, 2, 0, 2, SR_TCR2, 0, F_EL2 | F_USER),
	RW(3, 4, 2, 1, 0, SR_VTTBR2, 0, F_EL2 | F_USER),
	RW(3, 4, 2, 1, 2, SR_VTCR2, 0, F_EL2 | F_USER),
	KEEP(3, 4, 3, 0, 0, SR_DACR32, 0),
	RW(3, 4, 4, 0, 0, SR_SPSR2, 0, F_EL2 | F_USER),
	RW(3, 4, 4, 0, 1, SR_ELR2, 0, F_EL2 | F_USER),
	FN(3, 4, 4, 1, 0, F_EL2, rd_sp_el1, wr_sp_el1),
	KEEP(3, 4, 5, 0, 1, SR_IFSR32, 0),
	KEEP(3, 4, 5, 3, 0, SR_FPEXC32, 0x700),
	RW(3, 4, 5, 2, 0, SR_ESR2, 0, F_EL2 | F_USER),
	RW(3, 4, 6, 0, 0, SR_FAR2, 0, F_EL2 | F_USER),
	RW(3, 4, 6, 0, 4, SR_HPFAR2, 0, F_EL2 | F_USER),
	RW(3, 4, 10, 2, 0, SR_MAIR2, 0, F_EL2 | F_USER),
	RW(3, 4, 12, 0, 0, SR_VBAR2, 0, F_EL2 | F_USER),
	RW(3, 4, 13, 0, 2, SR_TPIDR2, 0, F_EL2 | F_USER),
	RW(3, 4, 14, 0, 3, SR_CNTVOFF2, 0, F_EL2 | F_USER),
	RW(3, 4, 14, 1, 0, SR_CNTHCTL2, 0, F_EL2 | F_USER),
	/* SP_EL2: EL3's to access; the VMM's to save */
	{ENC(3, 6, 4, 1, 0), F_EL2 | F_USER | F_UONLY, -1, 0, NULL, NULL, u_sp_el2_get, u_sp_el2_set},
};
#define NREGS (sizeof(regs) / sizeof(regs[0]))

static uint16_t index_of[65536];  /* enc -> regs index + 1 */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build_index(void)
{
	for (size_t i = 0; i < NREGS; i++)
		index_of[regs[i].enc] = (uint16_t)(i + 1);
}

static const struct a64_sysreg *a64_sysreg_find(uint32_t enc)
{
	pthread_once(&once, build_index);
	unsigned i = index_of[enc & 0xffff];
	return i ? &regs[i - 1] : NULL;
}

/* The ID space (op0 3, op1 0, CRn 0, CRm 0..7) reads as zero where not
 * allocated; so do the debug breakpoint/watchpoint registers. */
static bool id_space(uint32_t enc)
{
	return (enc & 0xfffe0000u) == 0 && (enc >> 7) == (ENC(3, 0, 0, 0, 0) >> 7) && ((enc >> 3) & 0xf) <= 7;
}

/* What ONE_REG reaches of it: CRm 1..7 (KVM_GET_REG_LIST lists them all). */
static bool user_id_space(uint32_t enc)
{
	return id_space(enc) && ((enc >> 3) & 0xf) != 0;
}

static bool dbg_bkpt(uint32_t enc)
{
	/* DBGBVR/BCR/WVR/WCR<n>_EL1: op0 2, op1 0, CRn 0, op2 4..7 */
	return (enc >> 7) == (ENC(2, 0, 0, 0, 0) >> 7) && (enc & 7) >= 4;
}

void a64_sysreg_reset(struct a64 *c)
{
	uint64_t mpidr = c->sr[SR_MPIDR];
	memset(c->sr, 0, sizeof(c->sr));
	for (size_t i = 0; i < NREGS; i++)
		if (regs[i].slot >= 0)
			c->sr[regs[i].slot] = regs[i].reset;
	c->sr[SR_MPIDR] = mpidr;
	a64_dbg_reset(c);
}

static void after_write(struct a64 *c, const struct a64_sysreg *r)
{
	if (r->flags & F_ASID) {
		uint64_t tcr = c->sr[SR_TCR];
		uint64_t ttbr = (tcr & (1ull << 22)) ? c->sr[SR_TTBR1] : c->sr[SR_TTBR0];
		c->asid = (uint16_t)(ttbr >> 48);
		if (!(tcr & (1ull << 36)))
			c->asid &= 0xff;
		c->brk = true;
	}
	if (r->flags & F_FLUSH)
		a64_tlb_flush(c);
}

bool a64_sysreg_read(struct a64 *c, uint32_t enc, uint64_t *v)
{
	const struct a64_sysreg *r = a64_sysreg_find(enc);
	if (!r) {
		if (c->el >= 1 && dbg_bkpt(enc))
			return a64_dbg_reg_read(c, enc, v);
		if (c->el >= 1 && id_space(enc)) {
			*v = 0;
			return true;
		}
		return false;
	}
	if ((c->el == 0 && !(r->flags & F_EL0R)) || (r->flags & (F_WO | F_UONLY)) || ((r->flags & F_EL2) && c->el < 2))
		return false;
	if (r->read)
		return r->read(c, v);
	*v = r->slot >= 0 ? c->sr[r->slot] : r->reset;
	return true;
}

bool a64_sysreg_write(struct a64 *c, uint32_t enc, uint64_t v)
{
	const struct a64_sysreg *r = a64_sysreg_find(enc);
	if (!r)
		return c->el >= 1 && dbg_bkpt(enc) && a64_dbg_reg_write(c, enc, v);
	if ((c->el == 0 && !(r->flags & F_EL0W)) || (r->flags & (F_RO | F_UONLY)) || ((r->flags & F_EL2) && c->el < 2))
		return false;
	if (r->write)
		return r->write(c, v);
	c->sr[r->slot] = v;
	after_write(c, r);
	return true;
}

/* ---- ONE_REG ---- */

/* Listed and reachable through ONE_REG for a vCPU with these features
 * (KVM hides the PMU's registers without a PMU, EL2's without EL2). */
static bool user_visible(uint32_t features, const struct a64_sysreg *r)
{
	if (!(r->flags & F_USER))
		return false;
	if ((r->flags & F_PMU) && !(features & (1u << KVM_ARM_VCPU_PMU_V3)))
		return false;
	if ((r->flags & F_EL2) && !(features & (1u << KVM_ARM_VCPU_HAS_EL2)))
		return false;
	return true;
}

static int user_value(struct a64 *c, const struct a64_sysreg *r, uint64_t *v)
{
	if (r->uget)
		return r->uget(c, r->enc, v);
	*v = r->flags & F_AA32 ? 0 : r->slot >= 0 ? c->sr[r->slot] : r->reset;
	return 0;
}

int a64_sysreg_get_user(struct a64 *c, uint32_t enc, uint64_t *v)
{
	const struct a64_sysreg *r = a64_sysreg_find(enc);
	if (!r || !user_visible(c->features, r)) {
		if (dbg_bkpt(enc))
			return a64_dbg_reg_get_user(c, enc, v);
		if (user_id_space(enc)) {
			*v = 0;
			return 0;
		}
		return -ENOENT;
	}
	return user_value(c, r, v);
}

int a64_sysreg_set_user(struct a64 *c, uint32_t enc, uint64_t v)
{
	const struct a64_sysreg *r = a64_sysreg_find(enc);
	if (!r || !user_visible(c->features, r)) {
		if (dbg_bkpt(enc))
			return a64_dbg_reg_set_user(c, enc, v);
		if (user_id_space(enc))
			return v ? -EINVAL : 0;
		return -ENOENT;
	}
	if (r->uset) {
		int err = r->uset(c, enc, v);
		if (!err && (enc >> 14) == 2)
			a64_dbg_update(c);
		return err;
	}
	if (r->flags & F_AA32)
		return 0;   /* RAZ, and KVM ignores the VMM's writes */
	if (r->slot < 0 || (r->flags & F_RO && r->slot != SR_MPIDR)) {
		uint64_t cur;
		user_value(c, r, &cur);
		return v == cur ? 0 : -EINVAL;   /* ID registers: only their value */
	}
	c->sr[r->slot] = v;
	after_write(c, r);
	if ((enc >> 14) == 2)
		a64_dbg_update(c);   /* MDSCR, OSLSR, OSDLR */
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The ONE_REG ids of the system registers of a vCPU with these
 * KVM_ARM_VCPU_INIT features, sorted; returns the count. */
unsigned a64_sysreg_list_for(uint32_t features, uint64_t *ids)
{
	uint64_t tmp[NREGS + 56 + 64];
	unsigned n = 0;
	for (size_t i = 0; i < NREGS; i++)
		if (user_visible(features, &regs[i]))
			tmp[n++] = regs[i].enc;
	/* the 16 breakpoint and watchpoint register sets (debug.c's) */
	for (unsigned crm = 0; crm < 16; crm++)
		for (unsigned op2 = 4; op2 < 8; op2++)
			if (!a64_sysreg_find(ENC(2, 0, 0, crm, op2)))
				tmp[n++] = ENC(2, 0, 0, crm, op2);
	for (unsigned crm = 1; crm <= 7; crm++)
		for (unsigned op2 = 0; op2 < 8; op2++) {
			uint32_t e = ENC(3, 0, 0, crm, op2);
			const struct a64_sysreg *r = a64_sysreg_find(e);
			if (!r)
				tmp[n++] = e;
		}
	qsort(tmp, n, sizeof(tmp[0]), cmp_u64);
	if (ids)
		for (unsigned i = 0; i < n; i++)
			ids[i] = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | tmp[i];
	return n;
}

unsigned a64_sysreg_list(uint64_t *ids)
{
	return a64_sysreg_list_for(0, ids);
}

/* ---- SYS: cache maintenance, address translation, TLB maintenance ---- */

static void dc_va(struct a64 *c, uint64_t va, bool zero)
{
	if (zero) {
		uint64_t base = va & ~63ull;
		for (unsigned i = 0; i < 64; i += 8)
			a64_st(c, base + i, 8, 0, 0, false);
		return;
	}
	uint64_t pa;
	(void)a64_xlate_slow(c, va, ACC_R, false, ISS_CM, &pa);   /* faults as the DC would */
}

static void tlbi(struct a64 *c, bool broadcast)
{
	a64_tlb_flush(c);
	if (broadcast)
		atomic_fetch_add(&c->avm->tlb_gen, 1);
	c->tlb_gen_seen = atomic_load(&c->avm->tlb_gen);
}

/* ISS of EC 0x18 (trapped MSR/MRS/SYS): Op0 Op2 Op1 CRn Rt CRm Direction. */
uint32_t a64_sys_iss(uint32_t insn)
{
	bool read = BIT(insn, 21);
	return ((uint32_t)BITS(insn, 20, 19) << 20) | ((uint32_t)BITS(insn, 7, 5) << 17) |
	       ((uint32_t)BITS(insn, 18, 16) << 14) | ((uint32_t)BITS(insn, 15, 12) << 10) |
	       ((insn & 31) << 5) | ((uint32_t)BITS(insn, 11, 8) << 1) | (read ? 1 : 0);
}

void a64_sys_insn(struct a64 *c, uint32_t insn)
{
	bool l = BIT(insn, 21);
	unsigned op1 = BITS(insn, 18, 16), crn = BITS(insn, 15, 12), crm = BITS(insn, 11, 8);
	unsigned op2 = BITS(insn, 7, 5), rt = insn & 31;
	uint64_t v = xr(c, rt);
	if (l)
		a64_undef(c);
	uint32_t e = ENC(1, op1, crn, crm, op2);
	bool el0 = c->el == 0;
	uint64_t sctlr = c->sr[SR_SCTLR];
	switch (e) {
	case ENC(1, 3, 7, 4, 1):   /* DC ZVA */
		if (el0 && !(sctlr & (1u << 14)))
			a64_exception(c, EC_SYS64, a64_sys_iss(insn), 0, false, c->pc);
		dc_va(c, v, true);
		return;
	case ENC(1, 3, 7, 10, 1):  /* DC CVAC */
	case ENC(1, 3, 7, 11, 1):  /* DC CVAU */
	case ENC(1, 3, 7, 12, 1):  /* DC CVAP */
	case ENC(1, 3, 7, 14, 1):  /* DC CIVAC */
		if (el0 && !(sctlr & (1u << 26)))
			a64_exception(c, EC_SYS64, a64_sys_iss(insn), 0, false, c->pc);
		dc_va(c, v, false);
		return;
	case ENC(1, 3, 7, 5, 1):   /* IC IVAU */
		if (el0 && !(sctlr & (1u << 26)))
			a64_exception(c, EC_SYS64, a64_sys_iss(insn), 0, false, c->pc);
		c->brk = true;
		return;
	}
	if (el0)
		a64_undef(c);
	switch (e) {
	case ENC(1, 0, 7, 6, 1):   /* DC IVAC */
		dc_va(c, v, false);
		return;
	case ENC(1, 0, 7, 6, 2):   /* DC ISW */
	case ENC(1, 0, 7, 10, 2):  /* DC CSW */
	case ENC(1, 0, 7, 14, 2):  /* DC CISW */
		return;
	case ENC(1, 0, 7, 1, 0):   /* IC IALLUIS */
	case ENC(1, 0, 7, 5, 0):   /* IC IALLU */
		c->brk = true;
		return;
	case ENC(1, 0, 7, 8, 0):   /* AT S1E1R */
	case ENC(1, 0, 7, 8, 1):   /* AT S1E1W */
	case ENC(1, 0, 7, 8, 2):   /* AT S1E0R */
	case ENC(1, 0, 7, 8, 3):   /* AT S1E0W */
		c->sr[SR_PAR] = a64_at(c, v, (op2 & 1) ? ACC_W : ACC_R, op2 >= 2);
		return;
	}
	if (op1 == 0 && crn == 8) {   /* TLBI ...E1 (IS, OS, local) */
		bool bcast = crm == 3 || crm == 1 || crm == 2 || crm == 5;
		tlbi(c, bcast);
		return;
	}
	a64_undef(c);
}
