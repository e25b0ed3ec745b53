/* The AArch64 vCPU: architectural state, the software TLB, the decode cache
 * and the interfaces between the parts of arch/arm64.
 *
 * Compiled against arm64's <linux/kvm.h> and <asm/kvm.h> on every host (on
 * x86-64 through a private include dir, see meson.build).
 */
#ifndef SK_ARM64_A64_H
#define SK_ARM64_A64_H

#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/arch.h"
#include "kvm/kvm.h"
#include "mem/poison.h"

struct a64;
struct a64_vgic;
typedef void (*a64_fn)(struct a64 *c, uint32_t insn);

/* PSTATE bits as SPSR lays them out. */
#define PS_N (1u << 31)
#define PS_Z (1u << 30)
#define PS_C (1u << 29)
#define PS_V (1u << 28)
#define PS_NZCV 0xf0000000u
#define PS_SS (1u << 21)
#define PS_IL (1u << 20)
#define PS_D (1u << 9)
#define PS_A (1u << 8)
#define PS_I (1u << 7)
#define PS_F (1u << 6)
#define PS_DAIF 0x3c0u
#define PS_M 0xfu   /* M[3:0]: EL << 2 | SPSel */

/* Exception classes (ESR_ELx.EC) used here. */
enum {
	EC_UNKNOWN = 0x00,
	EC_FP_ACCESS = 0x07,
	EC_ILLEGAL = 0x0e,
	EC_SVC64 = 0x15,
	EC_HVC64 = 0x16,
	EC_SMC64 = 0x17,
	EC_SYS64 = 0x18,
	EC_IABT_LOW = 0x20,
	EC_IABT_CUR = 0x21,
	EC_PC_ALIGN = 0x22,
	EC_DABT_LOW = 0x24,
	EC_DABT_CUR = 0x25,
	EC_SP_ALIGN = 0x26,
	EC_SOFTSTEP_LOW = 0x32,
	EC_SOFTSTEP_CUR = 0x33,
	EC_BRK64 = 0x3c,
};
#define ESR_IL (1u << 25)

/* Fault status codes (DFSC/IFSC). */
enum {
	FSC_ADDR_SIZE = 0x00,   /* + level */
	FSC_TRANS = 0x04,       /* + level */
	FSC_ACCESS = 0x08,      /* + level */
	FSC_PERM = 0x0c,        /* + level */
	FSC_EXT = 0x10,
	FSC_EXT_WALK = 0x14,    /* + level */
	FSC_PARITY = 0x18,      /* parity/ECC on a memory access */
	FSC_PARITY_WALK = 0x1c, /* + level */
	FSC_ALIGN = 0x21,
};

/* The data-abort instruction syndrome a load/store passes down so that an
 * access outside every memslot knows what ESR_EL2 would say. */
#define ISS_ISV (1u << 24)
#define ISS_SAS(s) ((uint32_t)(s) << 22)
#define ISS_SSE (1u << 21)
#define ISS_SRT(r) ((uint32_t)(r) << 16)
#define ISS_SF (1u << 15)
#define ISS_AR (1u << 14)
#define ISS_CM (1u << 8)
#define ISS_WNR (1u << 6)

/* Software TLB: one entry per 4K virtual page, direct mapped. */
#define TLB_BITS 8
#define TLB_SIZE (1u << TLB_BITS)
enum {
	P_R0 = 1, P_W0 = 2, P_X0 = 4,   /* EL0 */
	P_R1 = 8, P_W1 = 16, P_X1 = 32, /* EL1 */
};
struct a64_tlbe {
	uint64_t tag;           /* VA page | 1 (valid); 0 when empty */
	uintptr_t addend;       /* host = addend + va */
	uint64_t pa;            /* physical page */
	const struct sk_memslot *slot;
	uint16_t asid;
	uint8_t perm;
	uint8_t global;
};

/* Decoded code, one 4K guest-physical page at a time. Every entry keeps
 * the word it was decoded from; fetch compares it with the bytes in memory,
 * so code written by the guest, another vCPU or the VMM is never stale. */
#define DCACHE_SIZE 64
struct a64_dpage {
	uint64_t pa;            /* page address | 1 when in use */
	uint32_t raw[1024];
	a64_fn fn[1024];
};

/* System registers with storage (index into cpu->sr); see sysreg.c. */
enum a64_sr {
	SR_SCTLR, SR_ACTLR, SR_CPACR, SR_TTBR0, SR_TTBR1, SR_TCR, SR_ESR, SR_AFSR0, SR_AFSR1,
	SR_FAR, SR_PAR, SR_MAIR, SR_AMAIR, SR_VBAR, SR_CONTEXTIDR, SR_TPIDR_EL1, SR_TPIDR_EL0,
	SR_TPIDRRO_EL0, SR_CNTKCTL, SR_CSSELR, SR_ELR, SR_SPSR, SR_MDSCR, SR_OSLSR, SR_MPIDR,
	SR_CNTV_CTL, SR_CNTV_CVAL, SR_CNTP_CTL, SR_CNTP_CVAL, SR_PMUSERENR, SR_MDCCINT,
	SR_OSDLR, SR_DISR,
	/* EL2, for vCPUs with KVM_ARM_VCPU_HAS_EL2 */
	SR_HCR2, SR_SCTLR2, SR_ACTLR2, SR_VBAR2, SR_ELR2, SR_SPSR2, SR_ESR2, SR_FAR2, SR_HPFAR2,
	SR_TCR2, SR_TTBR02, SR_MAIR2, SR_TPIDR2, SR_CPTR2, SR_HSTR2, SR_MDCR2, SR_HACR2,
	SR_CNTHCTL2, SR_CNTVOFF2, SR_VPIDR2, SR_VMPIDR2, SR_VTTBR2, SR_VTCR2,
	/* AArch32 state KVM keeps and lists: userspace access only (a64regs) */
	SR_DACR32, SR_IFSR32, SR_FPEXC32, SR_DBGVCR32,
	SR_COUNT
};

struct a64_vm {
	atomic_uint_fast64_t tlb_gen;   /* TLBI ...IS broadcast */
	bool nisv_to_user;              /* KVM_CAP_ARM_NISV_TO_USER */
	bool sea_to_user;               /* KVM_CAP_ARM_SEA_TO_USER */
	struct sk_poison poison;        /* poisoned guest pages (ras.c) */
	atomic_bool has_run;            /* a vCPU ran: some setup is frozen */
	uint32_t ipa_bits;
	/* The vCPUs as PSCI sees them. Run loops take this lock, never
	 * vm->lock (which memslot updates hold while they wait for vCPUs). */
	pthread_mutex_t psci_lock;
	struct a64 **cpus;
	int ncpus;
	pthread_mutex_t excl_lock;      /* 128-bit exclusive pairs */
	struct a64_vgic *vgic;          /* the in-kernel GICv3 (vgic*.c), or NULL */
	/* SMCCC services the VMM turned off (KVM_REG_ARM_STD_BMAP,
	 * STD_HYP_BMAP, VENDOR_HYP_BMAP: inverted, so zero is all on) */
	uint64_t fw_bmap_off[3];
	bool system_suspend;            /* KVM_CAP_ARM_SYSTEM_SUSPEND */
	int timer_ppi[2];               /* KVM_ARM_VCPU_TIMER_IRQ_{V,P}TIMER; 0: default 27, 30 */
	uint8_t pfr0_csv_off;           /* ID_AA64PFR0_EL1 CSV2 (bit 0) / CSV3 (bit 1) the VMM cleared */
};

/* Where KVM_RUN must resume after an exit the VMM completes. */
struct a64_mmio {
	bool pending;
	bool is_write;
	uint8_t rt, size, sse, sf;
};

enum a64_power { PWR_ON, PWR_OFF, PWR_ON_PENDING };

/* Self-hosted debug (debug.c): the breakpoint and watchpoint registers
 * (all 16 of each are stored, as KVM does; the first A64_NBRP/A64_NWRP
 * match) and the VMM's with KVM_GUESTDBG_USE_HW. */
#define A64_NBRP 6      /* ID_AA64DFR0_EL1.BRPs + 1 */
#define A64_NWRP 4      /* ID_AA64DFR0_EL1.WRPs + 1 */
struct a64_dbg {
	uint64_t bvr[16], bcr[16], wvr[16], wcr[16];
	uint64_t xbvr[16], xbcr[16], xwvr[16], xwcr[16];   /* the VMM's */
	bool armed;             /* something to check: 1-insn blocks, watched pages off the TLB */
	bool stepping;          /* the instruction running is software-stepped */
};

/* PMUv3 state (pmu.c). Counter A64_PMU_N is the cycle counter. */
#define A64_PMU_N 4
struct a64_pmu {
	bool created;                   /* KVM_ARM_VCPU_PMU_V3_INIT done */
	uint32_t pmcr;
	uint32_t cnten, inten, ovs;     /* bit 31: cycle counter */
	uint32_t selr, ccfiltr;
	uint32_t evtyper[A64_PMU_N];
	uint64_t cnt[A64_PMU_N + 1];
	uint64_t since[A64_PMU_N + 1];  /* host ns the value is for */
};

struct a64 {
	/* x[0..30]; x[31] is the current stack pointer (SP_EL0 or SP_ELx). */
	uint64_t x[32];
	uint64_t pc, npc;
	uint32_t pstate;        /* SPSR layout; NZCV live here */
	uint32_t el;            /* 0, 1, or 2 for a vCPU with KVM_ARM_VCPU_HAS_EL2 */
	uint64_t sp_el0, sp_el1, sp_el2; /* the banked copies not in x[31] */
	union {
		uint8_t b[16];
		uint16_t h[8];
		uint32_t s[4];
		uint64_t d[2];
		float f[4];
		double df[2];
	} v[32];
	uint32_t fpcr, fpsr;
	uint64_t sr[SR_COUNT];

	/* translation */
	struct a64_tlbe tlb[TLB_SIZE];
	uint16_t asid;
	uint64_t tlb_gen_seen;
	const struct sk_slotset *slots;

	/* exclusive monitor */
	bool excl_valid;
	uint8_t excl_size;
	uint64_t excl_va;
	uint64_t excl_val[2];

	/* interrupts: KVM_IRQ_LINE's lines (written by other threads) */
	_Atomic uint32_t lines;         /* bit 0 IRQ, bit 1 FIQ */
	uint32_t reported_irq_level;    /* device_irq_level as last reported */

	/* timers */
	uint64_t cntvoff;
	struct a64_pmu pmu;               /* ticks: CNTVCT = CNTPCT - cntvoff */

	/* power and bring-up */
	_Atomic int power;
	uint64_t on_entry, on_ctx;      /* CPU_ON arguments */
	bool on_pending;
	bool initialized;
	uint32_t features;              /* KVM_ARM_VCPU_INIT features[0] */
	uint64_t psci_version;
	bool ran;                       /* KVM_RUN was entered (timer attributes freeze) */
	bool steal_set;                 /* KVM_ARM_VCPU_PVTIME_IPA given */
	uint64_t steal_base, steal_last; /* its IPA; run_delay ns last accounted */

	struct a64_mmio mmio;
	bool nisv_exit;
	uint64_t abort_va;              /* VA of the last MMIO / NISV exit (ext_dabt's FAR) */
	uint32_t abort_fsc;             /* ext_dabt's FSC: 0 (= FSC_EXT) or a consumed poison's */

	/* RAS: a virtual SError made pending by KVM_SET_VCPU_EVENTS */
	bool serror_pending;
	uint32_t serror_iss;

	/* KVM_SET_GUEST_DEBUG */
	bool stepped;                   /* single-step: an instruction ran, exit next */
	struct a64_dbg dbg;

	/* run loop */
	jmp_buf unwind;
	bool brk;               /* leave the inner loop: context changed */
	bool wfi;               /* WFI retired: sleep before the next instruction */
	bool sys_trap;          /* a system register access traps (EC 0x18), not UNDEF */
	uint32_t guest_debug;
	struct sk_vcpu *vcpu;
	struct sk_vm *vm;
	struct a64_vm *avm;

	struct a64_dpage *dcache[DCACHE_SIZE];
};

enum { A64_UNWIND_NONE, A64_UNWIND_EXC, A64_UNWIND_EXIT, A64_UNWIND_ERR };

static inline struct kvm_run *a64_run(struct a64 *c)
{
	return c->vcpu->run;
}

/* A full barrier for DMB/DSB and acquire/release accesses. gcc refuses
 * atomic_thread_fence under -fsanitize=thread: a seq_cst RMW stands in. */
#if defined(__SANITIZE_THREAD__)
static inline void a64_full_fence(void)
{
	static _Atomic int word;
	atomic_fetch_add_explicit(&word, 0, memory_order_seq_cst);
}
#else
static inline void a64_full_fence(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}
#endif

/* ---- register helpers ---- */
static inline uint64_t xr(const struct a64 *c, unsigned r)
{
	return r == 31 ? 0 : c->x[r];
}
static inline uint64_t wr(const struct a64 *c, unsigned r)
{
	return (uint32_t)xr(c, r);
}
static inline void set_x(struct a64 *c, unsigned r, uint64_t v)
{
	if (r != 31)
		c->x[r] = v;
}
/* sf: 64-bit result; else zero-extend 32. */
static inline void set_r(struct a64 *c, unsigned r, uint64_t v, bool sf)
{
	if (r != 31)
		c->x[r] = sf ? v : (uint32_t)v;
}
static inline uint64_t rr(const struct a64 *c, unsigned r, bool sf)
{
	return sf ? xr(c, r) : wr(c, r);
}
#define BITS(x, hi, lo) (((x) >> (lo)) & ((1ull << ((hi) - (lo) + 1)) - 1))
#define BIT(x, n) (((x) >> (n)) & 1)
static inline int64_t sext(uint64_t v, unsigned bits)
{
	return (int64_t)(v << (64 - bits)) >> (64 - bits);
}

/* ---- EL2 (KVM_ARM_VCPU_HAS_EL2, upstream values the 6.1 headers lack) ---- */
#ifndef KVM_ARM_VCPU_HAS_EL2
#define KVM_ARM_VCPU_HAS_EL2 7
#endif
#ifndef KVM_CAP_ARM_EL2
#define KVM_CAP_ARM_EL2 240
#endif
#define A64_MAX_FEATURES 8      /* feature bits 0..7 */
#define HCR_RW (1ull << 31)
#define HCR_HCD (1ull << 29)
#define HCR_FMO (1ull << 3)
#define HCR_IMO (1ull << 4)
#define HCR_AMO (1ull << 5)
#define HCR_VF (1ull << 6)
#define HCR_VI (1ull << 7)
#define HCR_VSE (1ull << 8)
#define HCR_TSC (1ull << 19)
#define HCR_TVM (1ull << 26)
#define HCR_TGE (1ull << 27)
#define HCR_TRVM (1ull << 30)
static inline bool a64_has_el2(const struct a64 *c)
{
	return (c->features & (1u << KVM_ARM_VCPU_HAS_EL2)) != 0;
}

/* ---- state.c ---- */
void a64_set_sp(struct a64 *c, unsigned which, uint64_t v);
void a64_reset(struct a64 *c);
uint64_t a64_get_sp(struct a64 *c, unsigned el_or_0);
void a64_set_pstate(struct a64 *c, uint32_t ps);   /* banks SP */
uint32_t a64_get_pstate(const struct a64 *c);
uint64_t a64_mpidr(uint32_t vcpu_id);

/* ---- except.c ---- */
_Noreturn void a64_exception(struct a64 *c, uint32_t ec, uint32_t iss, uint64_t far, bool far_valid,
			     uint64_t ret_pc);
/* The same without unwinding (from ioctls and the run loop). */
void a64_raise(struct a64 *c, uint32_t ec, uint32_t iss, uint64_t far, bool far_valid, uint64_t ret_pc);
void a64_take_serror(struct a64 *c);
/* HVC from EL1 (or EL2) of a vCPU with EL2: taken to EL2. */
void a64_take_hvc_el2(struct a64 *c, uint32_t imm);
/* A synchronous exception from EL0/EL1 that HCR_EL2 traps to EL2. */
_Noreturn void a64_exception_el2(struct a64 *c, uint32_t ec, uint32_t iss, uint64_t ret_pc);
_Noreturn void a64_undef(struct a64 *c);
void a64_take_irq(struct a64 *c, bool fiq);
bool a64_irq_pending(struct a64 *c);
bool a64_virt_irq_raised(const struct a64 *c);   /* HCR_EL2.VI/VF/VSE: wakes WFI at EL0/EL1 */
void a64_eret(struct a64 *c);
_Noreturn void a64_exit(struct a64 *c);       /* the run ends (kvm_run filled) */
_Noreturn void a64_fail(struct a64 *c, int err);
int a64_fail_errno(void);   /* the err of the last a64_fail on this thread */

/* ---- mmu.c ---- */
enum { ACC_R = 0, ACC_W = 1, ACC_X = 2 };
void a64_tlb_flush(struct a64 *c);
void a64_tlb_flush_va(struct a64 *c, uint64_t va);
void a64_refresh_slots(struct a64 *c);
/* Host pointer for an access of size bytes at va that does not cross a 4K
 * page, or NULL for MMIO (then *pa is the IPA). Raises guest faults. */
void *a64_xlate_slow(struct a64 *c, uint64_t va, int acc, bool unpriv, uint32_t iss, uint64_t *pa);
/* AT instructions: PAR_EL1 value. */
uint64_t a64_at(struct a64 *c, uint64_t va, int acc, bool unpriv);
uint64_t a64_at_el2(struct a64 *c, uint64_t va, int acc);   /* AT S1E2R/W */

static inline void *a64_tlb_hit(struct a64 *c, uint64_t va, unsigned perm)
{
	struct a64_tlbe *e = &c->tlb[(va >> 12) & (TLB_SIZE - 1)];
	if (e->tag == ((va & ~0xfffull) | 1) && (e->perm & perm) && (e->global || e->asid == c->asid))
		return (void *)(e->addend + (uintptr_t)va);
	return NULL;
}

/* SOFTKVM_TRACE_UNDEF (decode.c): a64_undef prints EL, PC and word when set. */
extern bool a64_trace_undef;
void a64_trace_undef_print(struct a64 *c);

/* ---- mem.c: guest data accesses ---- */
uint64_t a64_ld(struct a64 *c, uint64_t va, unsigned size, uint32_t iss, bool unpriv);
void a64_st(struct a64 *c, uint64_t va, unsigned size, uint64_t v, uint32_t iss, bool unpriv);
/* A host pointer for an atomic access (naturally aligned, not MMIO). */
void *a64_atomic_ptr(struct a64 *c, uint64_t va, unsigned size, bool write);
_Noreturn void a64_mmio_exit(struct a64 *c, uint64_t ipa, uint64_t va, bool write, unsigned size,
			     uint64_t data, uint32_t iss);
_Noreturn void a64_align_fault(struct a64 *c, uint64_t va, bool write);
void a64_complete_mmio(struct a64 *c);

/* ---- ras.c: guest memory poison ---- */
/* upstream uapi newer than the 6.1 headers */
#ifndef KVM_CAP_ARM_SEA_TO_USER
#define KVM_CAP_ARM_SEA_TO_USER 245
#endif
#ifndef KVM_EXIT_ARM_SEA
#define KVM_EXIT_ARM_SEA 41
#define KVM_EXIT_ARM_SEA_FLAG_GPA_VALID (1ULL << 0)
#endif
/* The page of ipa is poisoned (flags SOFTKVM_POISON_*)? */
static inline bool a64_poisoned(struct a64 *c, uint64_t ipa, unsigned *flags)
{
	return sk_poison_test(&c->avm->poison, ipa, flags);
}
/* The guest consumed poison at ipa (host address hva) with access acc at
 * va; fsc is the fault class. Ends KVM_RUN: SIGBUS or KVM_EXIT_ARM_SEA. */
_Noreturn void a64_sea(struct a64 *c, uint64_t va, int acc, uint32_t iss, uint64_t ipa, void *hva, uint32_t fsc);
void a64_ras_vm_init(struct sk_vm *vm, struct a64_vm *v);
/* SIGBUS BUS_MCEERR_AR under a guest access: now softkvm poison (retry). */
bool a64_hwpoison_convert(struct a64 *c);
void a64_ras_vm_destroy(struct sk_vm *vm, struct a64_vm *v);

/* ---- debug.c: breakpoints, watchpoints, software step, OS lock ---- */
#define EC_BKPT_LOW 0x30
#define EC_WATCH_LOW 0x34
void a64_dbg_update(struct a64 *c);            /* after a debug control change */
bool a64_dbg_before(struct a64 *c);            /* c->dbg.armed: true if an exception was taken */
/* A data access passed translation: raise a watchpoint; the TLB
 * permissions to drop for va's page while watchpoints are armed. */
unsigned a64_dbg_watch(struct a64 *c, uint64_t va, int acc, uint32_t iss, bool unpriv);
void a64_dbg_after_eret(struct a64 *c);
void a64_dbg_reset(struct a64 *c);
bool a64_dbg_reg_read(struct a64 *c, uint32_t enc, uint64_t *v);
bool a64_dbg_reg_write(struct a64 *c, uint32_t enc, uint64_t v);
int a64_dbg_reg_get_user(struct a64 *c, uint32_t enc, uint64_t *v);
int a64_dbg_reg_set_user(struct a64 *c, uint32_t enc, uint64_t v);
bool a64_dbg_mdscr_write(struct a64 *c, uint64_t v);
bool a64_dbg_oslar_write(struct a64 *c, uint64_t v);
bool a64_dbg_osdlr_write(struct a64 *c, uint64_t v);
long a64_dbg_set_guest_debug(struct a64 *c, const struct kvm_guest_debug *d);
_Noreturn void a64_dbg_exit(struct a64 *c, uint64_t esr, uint64_t far);   /* KVM_EXIT_DEBUG */

/* ---- decode.c ---- */
a64_fn a64_decode(uint32_t insn);
void a64_dcache_free(struct a64 *c);
struct a64_dpage *a64_dcache_get(struct a64 *c, uint64_t pa);


/* ---- sysreg.c ---- */
bool a64_sysreg_read(struct a64 *c, uint32_t enc, uint64_t *v);   /* from the guest */
bool a64_sysreg_write(struct a64 *c, uint32_t enc, uint64_t v);
int a64_sysreg_get_user(struct a64 *c, uint32_t enc, uint64_t *v);  /* ONE_REG */
int a64_sysreg_set_user(struct a64 *c, uint32_t enc, uint64_t v);
unsigned a64_sysreg_list(uint64_t *ids);  /* ids may be NULL */
/* a64regs: the list for a vCPU with these KVM_ARM_VCPU_INIT features (PMU,
 * EL2 registers); CCSIDR_EL1 of a CSSELR_EL1 value, 0 for no such cache */
unsigned a64_sysreg_list_for(uint32_t features, uint64_t *ids);
uint32_t a64_ccsidr(unsigned csselr);
void a64_sysreg_reset(struct a64 *c);
void a64_sys_insn(struct a64 *c, uint32_t insn);  /* SYS / SYSL: DC, IC, AT, TLBI */
uint32_t a64_sys_iss(uint32_t insn);

/* ---- timer.c ---- */
uint64_t a64_cntpct(void);
uint64_t a64_cntvct(struct a64 *c);
#define A64_CNTFRQ 62500000ull
uint32_t a64_timer_levels(struct a64 *c);    /* KVM_ARM_DEV_EL1_VTIMER | _PTIMER */
uint64_t a64_timer_next_ns(struct a64 *c);   /* host monotonic ns of the next edge, or UINT64_MAX */
uint64_t a64_host_ns(void);
uint64_t a64_timer_ctl_read(struct a64 *c, int which);
void a64_timer_set_cnt(struct a64 *c, uint64_t vct);
/* KVM_ARM_VCPU_TIMER_CTRL vCPU attributes (a64regs) */
int a64_timer_set_attr(struct a64 *c, const struct kvm_device_attr *a);
int a64_timer_get_attr(struct a64 *c, const struct kvm_device_attr *a);
int a64_timer_has_attr(struct a64 *c, const struct kvm_device_attr *a);

/* ---- pmu.c ---- */
void a64_pmu_sync(struct a64 *c);
bool a64_pmu_line(struct a64 *c);
uint64_t a64_pmu_next_ns(struct a64 *c);
void a64_pmu_reset(struct a64 *c);
bool a64_pmcr_read(struct a64 *c, uint64_t *v);
bool a64_pmcr_write(struct a64 *c, uint64_t v);
bool a64_pm_setclr_read(struct a64 *c, int which, uint64_t *v);   /* 0 CNTEN, 1 INTEN, 2 OVS */
bool a64_pm_setclr_write(struct a64 *c, int which, bool set, uint64_t v);
bool a64_pmswinc_write(struct a64 *c, uint64_t v);
bool a64_pmselr_read(struct a64 *c, uint64_t *v);
bool a64_pmselr_write(struct a64 *c, uint64_t v);
bool a64_pmceid_read(struct a64 *c, int which, uint64_t *v);
bool a64_pmcnt_read(struct a64 *c, int n, uint64_t *v);    /* n: counter, A64_PMU_N cycles, -1 selected */
bool a64_pmcnt_write(struct a64 *c, int n, uint64_t v);
bool a64_pmtype_read(struct a64 *c, int n, uint64_t *v);
bool a64_pmtype_write(struct a64 *c, int n, uint64_t v);
int a64_pmu_has_attr(struct a64 *c, const struct kvm_device_attr *a);
int a64_pmu_set_attr(struct a64 *c, const struct kvm_device_attr *a);
int a64_pmu_get_attr(struct a64 *c, const struct kvm_device_attr *a);

/* ---- psci.c ---- */
/* KVM_REG_ARM_{STD,STD_HYP,VENDOR_HYP}_BMAP (which 0..2): the services on */
static inline uint64_t a64_fw_bmap(const struct a64_vm *v, unsigned which)
{
	static const uint64_t all[3] = {1, 1, 3};
	return all[which] & ~v->fw_bmap_off[which];
}
void a64_hvc(struct a64 *c, uint32_t imm);
void a64_smc(struct a64 *c, uint32_t imm);
void a64_pvtime_update(struct a64 *c);   /* KVM_RUN entry: stolen time (a64regs) */

/* ---- arm64.c ---- */
void a64_kick(struct a64 *c);
struct a64 *a64_vcpu_by_mpidr(struct sk_vm *vm, uint64_t mpidr);
void a64_apply_pending_reset(struct a64 *c);   /* a64regs: ONE_REG after CPU_ON */

/* ---- regs.c: the uapi ---- */
extern const struct sk_ioctl a64_vcpu_ioctls[];
extern const struct sk_ioctl a64_vm_ioctls[];
extern const struct sk_ioctl a64_sys_ioctls[];
long a64_check_extension(struct sk_vm *vm, long ext);

/* ---- vgic*.c: the in-kernel GICv3; hooks the other parts call ---- */
/* vCPU creation (first thing in a64_vcpu_init): 0 or -errno. */
int a64_vgic_vcpu_create(struct sk_vcpu *vcpu);
/* VM destruction: frees the vGIC. */
void a64_vgic_vm_destroy(struct a64_vm *v);
/* KVM_RUN entry: maps the vGIC on the first run (KVM's errno), else 0. */
int a64_vgic_ready(struct sk_vm *vm);
/* true when the VM has a vGIC; then KVM_IRQ_LINE goes to a64_vgic_irq_line. */
bool a64_vgic_present(struct sk_vm *vm);
long a64_vgic_irq_line(struct sk_vm *vm, const struct kvm_irq_level *l);
/* The timer/PMU lines (KVM_ARM_DEV_EL1_VTIMER...) of a vCPU: fed to the
 * vGIC when there is one, and then 0 is returned (nothing for userspace). */
uint32_t a64_vgic_dev_lines(struct a64 *c, uint32_t levels);
/* A guest access outside the memslots: true when the vGIC took it. */
bool a64_vgic_mmio(struct a64 *c, uint64_t ipa, bool write, unsigned size, uint64_t *val);
/* KVM_ARM_VCPU_PMU_V3_IRQ: set (op 0) or get (op 1). */
int a64_vgic_pmu_irq(struct a64 *c, const struct kvm_device_attr *a, int op);
long a64_vgic_check_extension(struct sk_vm *vm, long ext);
extern const struct sk_device_ops *const a64_devices[];
extern const struct sk_ioctl a64_vgic_vm_ioctls[];
/* ICC_* system registers (rows of sysreg.c) */
#define A64_ICC(name) \
	bool a64_icc_rd_##name(struct a64 *c, uint64_t *v); \
	bool a64_icc_wr_##name(struct a64 *c, uint64_t v);
A64_ICC(pmr) A64_ICC(iar0) A64_ICC(eoir0) A64_ICC(hppir0) A64_ICC(bpr0)
A64_ICC(ap0r0) A64_ICC(ap0r1) A64_ICC(ap0r2) A64_ICC(ap0r3)
A64_ICC(ap1r0) A64_ICC(ap1r1) A64_ICC(ap1r2) A64_ICC(ap1r3)
A64_ICC(dir) A64_ICC(rpr) A64_ICC(sgi1r) A64_ICC(asgi1r) A64_ICC(sgi0r)
A64_ICC(iar1) A64_ICC(eoir1) A64_ICC(hppir1) A64_ICC(bpr1) A64_ICC(ctlr) A64_ICC(sre)
A64_ICC(igrpen0) A64_ICC(igrpen1)
#undef A64_ICC

/* ---- fp.c ---- */
void a64_fp_check(struct a64 *c);

#endif
