/* Private to the x86 system part: state the interpreter never needs.
 *
 * struct x86_cpu is the first member of struct x86_sys, so the pointer the
 * rest of softkvm holds (vcpu->arch_vcpu) is both.
 */
#ifndef SK_X86_SYS_H
#define SK_X86_SYS_H

#include <stddef.h>

#include "arch/arch.h"
#include "arch/x86/tsc.h"
#include "arch/x86/x86.h"
#include "kvm/kvm.h"
#include "mem/poison.h"

struct x86_lapic;
struct x86_irqchip;
struct x86_pit;

/* KVM's paravirtual interface of one vCPU (pv.c). */
struct x86_pv {
	bool enforce;               /* KVM_CAP_ENFORCE_PV_FEATURE_CPUID */
	uint32_t cpuid_base;        /* the KVMKVMKVM leaf, 0 = none */
	uint32_t features;          /* its KVM_CPUID_FEATURES EAX, as last set */
	uint64_t apf_en, apf_int;   /* MSR_KVM_ASYNC_PF_EN / _INT */
	bool apf_wakeup;            /* the "wake all" KVM queues on enabling */
	bool apf_check;             /* KVM_REQ_APF_READY */
	bool apf_ready_pending;     /* a page-ready interrupt awaits its ACK */
	uint64_t st_msr;            /* MSR_KVM_STEAL_TIME */
	uint64_t st_last;           /* run delay already reported (ns) */
	bool st_update;             /* KVM_REQ_STEAL_UPDATE */
	int st_fd;                  /* this thread's schedstat, or -1 */
	int st_tid;                 /* the thread st_fd belongs to */
	uint64_t eoi_msr;           /* MSR_KVM_PV_EOI_EN */
	bool eoi_pending;           /* KVM_APIC_PV_EOI_PENDING */
	int eoi_isr;                /* highest_isr_cache + 1: 0 = invalid */
	uint64_t poll_control;      /* MSR_KVM_POLL_CONTROL */
	_Atomic bool unhalted;      /* KVM_HC_KICK_CPU arrived (pv_unhalted) */
};

struct x86_sys {
	struct x86_cpu cpu;
	uint64_t slots_gen;        /* generation of cpu->slots */
	uint32_t dr6_hits;         /* DR6.Bn bits of data breakpoints hit by this insn */
	bool soft_int_delivered;   /* INT n/INT3/INTO ran in the current step */
	bool stepping;             /* the run loop executes one insn at a time */
	bool dbg_exit;             /* a KVM_EXIT_DEBUG is being reported */
	uint32_t hidden_req;       /* vcpu->requests held back by complete_io */
	bool has_run;              /* KVM_RUN was called (CPUID is frozen) */
	bool in_delivery;          /* MMIO during event delivery: no exit */
	uint64_t tsc_ratio;        /* guest TSC per host TSC, 48 fraction bits (tsc.c) */
	uint32_t tsc_khz;          /* KVM_GET_TSC_KHZ */
	uint64_t ia32_tsc_adjust;
	uint64_t mcg_status, mcg_ctl;
	uint64_t smbase;
	uint64_t feature_control;
	uint64_t arch_capabilities; /* IA32_ARCH_CAPABILITIES, host-settable */
	uint64_t mce_banks[4 * 32]; /* MCi_CTL/STATUS/ADDR/MISC, KVM_MAX_MCE_BANKS */
	uint64_t mcg_cap;           /* KVM_X86_SETUP_MCE (mce.c) */
	uint64_t mcg_ext_ctl;       /* IA32_MCG_EXT_CTL (LMCE) */
	uint64_t mci_ctl2[32];      /* MCi_CTL2: CMCI enable and threshold */
	uint64_t power_ctl;         /* MSR_IA32_POWER_CTL, held only */
	uint64_t perf_capabilities; /* 0: no PMU */
	uint64_t platform_info;     /* MSR_PLATFORM_INFO, host-settable */
	uint64_t misc_features;     /* MSR_MISC_FEATURES_ENABLES (no CPUID faulting) */
	/* A RDMSR/WRMSR that exited to userspace (msr_filter.c): the
	 * instruction runs again on re-entry and takes run->msr's answer. */
	struct { bool pending, write; uint32_t index; uint64_t rip; } msr_exit;
	uint64_t poison_gen;        /* x86_vm.poison_gen this vCPU's TLB matches */
	/* KVM_REQ_TRIPLE_FAULT: KVM_X86_SET_MCE or KVM_SET_VCPU_EVENTS
	 * (triple_fault.pending) asked for a shutdown at the next entry. */
	bool mce_shutdown;
	uint64_t vapic_addr;        /* KVM_SET_VAPIC_ADDR; the TPR is not mirrored there */
	uint64_t kvmclock_wall_clock, kvmclock_system_time; /* kvmclock.c */
	uint32_t kvmclock_gen;      /* x86_vm's kvmclock_gen last published */
	bool kvmclock_dirty;        /* republish at the next entry */
	struct x86_pv pv;           /* KVM's PV features (pv.c) */
	struct x86_lapic *lapic;   /* in-kernel local APIC (irq.h), or NULL */
	/* SMM (smm.c). */
	bool smm;                  /* in System Management Mode: memslot address space 1 */
	bool smm_inside_nmi;       /* NMIs were already blocked when SMM was entered */
	_Atomic bool smi_pending;  /* an SMI waits (posted from any thread) */
	/* The queued exception beyond cpu->exc_* (meaningful while
	 * cpu->exc_pending): KVM's "injected" (delivery had begun: set so by
	 * userspace) rather than "pending", and the payload of a pending #PF
	 * or #DB, written to CR2 / DR6 only at delivery (except.c). */
	bool exc_injected;
	bool exc_has_payload;
	uint64_t exc_payload;
};

struct x86_vm {
	uint64_t tss_addr;
	uint64_t identity_map_addr;
	bool identity_map_set;
	bool tss_set;
	struct x86_irqchip *irqchip; /* KVM_CREATE_IRQCHIP (irq.h), or NULL */
	uint32_t bsp_vcpu_id;        /* KVM_SET_BOOT_CPU_ID */
	struct x86_pit *pit;         /* KVM_CREATE_PIT2 (pit.c), or NULL */
	bool x2apic_format;          /* KVM_CAP_X2APIC_API: 32-bit IDs in KVM_GET/SET_LAPIC */
	uint32_t max_vcpu_ids;       /* KVM_CAP_MAX_VCPU_ID, 0 = not set */
	_Atomic uint64_t kvmclock_offset; /* kvmclock = host TSC's ns + this (kvmclock.c) */
	_Atomic uint32_t kvmclock_gen;    /* bumped by KVM_SET_CLOCK */
	struct x86_ioeventfds *ioeventfds; /* KVM_IOEVENTFD (ioeventfd.c), or NULL */
	_Atomic uint32_t nr_ioeventfds;
	/* KVM_CAP_X86_USER_SPACE_MSR and KVM_X86_SET_MSR_FILTER (msr_filter.c) */
	_Atomic uint32_t user_space_msr_mask;
	_Atomic bool platform_info_hidden; /* KVM_CAP_MSR_PLATFORM_INFO turned off */
	struct x86_msr_filter *_Atomic msr_filter;
	pthread_rwlock_t msr_filter_lock;
	/* Poisoned guest pages (mce.c); poison_gen bumps on every poisoning. */
	struct sk_poison poison;
	_Atomic uint64_t poison_gen;
	uint64_t nr_mmu_pages;       /* KVM_SET_NR_MMU_PAGES, 0 = not set (x86.c) */
	_Atomic uint64_t disabled_quirks; /* KVM_CAP_DISABLE_QUIRKS(2) */
	_Atomic bool exception_payload;   /* KVM_CAP_EXCEPTION_PAYLOAD */
	_Atomic bool triple_fault_event;  /* KVM_CAP_X86_TRIPLE_FAULT_EVENT */
	struct x86_tsc_vm tsc;       /* TSC rate and write matching (tsc.c) */
};

/* The quirks whose on and off behaviours softkvm models. */
#define X86_VALID_QUIRKS (KVM_X86_QUIRK_FIX_HYPERCALL_INSN | KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS | \
			  KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT)

/* The hypercall instruction of the vCPU's vendor (hypercall.c): VMMCALL
 * when CPUID says AMD or Hygon, else VMCALL; the other one, run by the
 * guest, is patched (an X86_* handler result). */
bool x86_hypercall_is_vmmcall(struct x86_cpu *cpu);
int x86_hypercall_foreign(struct x86_cpu *cpu);

static inline bool x86_has_quirk(const struct sk_vm *vm, uint64_t quirk)
{
	return !(((struct x86_vm *)vm->arch_vm)->disabled_quirks & quirk);
}

static inline struct x86_sys *x86_sys(struct x86_cpu *cpu)
{
	return (struct x86_sys *)cpu;
}

static inline struct kvm_run *x86_run(struct x86_cpu *cpu)
{
	return cpu->vcpu->run;
}

/* mmu.c: implicit supervisor accesses (descriptor tables, TSS, IDT,
 * stacks of delivery use the explicit form). */
void x86_sys_read(struct x86_cpu *cpu, uint64_t lin, void *buf, unsigned size);
void x86_sys_write(struct x86_cpu *cpu, uint64_t lin, const void *buf, unsigned size);
/* A linear access with the permissions of privilege level cpl. */
void x86_access_cpl(struct x86_cpu *cpu, uint64_t lin, void *buf, unsigned size,
		    enum x86_access acc, int cpl);
/* Host pointer to gpa's page in RAM (slot in *slotp), or NULL. */
uint8_t *x86_gpa_host(struct x86_cpu *cpu, uint64_t gpa, const struct sk_memslot **slotp);
/* Adopt the VM's current memslot set (drop translations if it changed). */
void x86_refresh_slots(struct x86_cpu *cpu);
/* Max physical address bits the guest sees (reserved-bit checks). */
#define X86_MAXPHYADDR 40

/* seg.c */
void x86_reset_state(struct x86_cpu *cpu, bool init_only);
uint64_t x86_cr4_reserved(struct x86_cpu *cpu);

/* except.c */
bool x86_deliver_pending(struct x86_cpu *cpu);
uint64_t x86_dr6_fixed(void);
/* kvm_queue_exception: queue vec as pending (not injected, no payload),
 * merged with an exception already queued as KVM does (#DF, or a triple
 * fault request after a #DF). */
void x86_exc_queue(struct x86_cpu *cpu, int vec, bool has_err, uint32_t err);
/* kvm_deliver_exception_payload: write a queued #PF's / #DB's payload to
 * CR2 / DR6 now and drop it. */
void x86_exc_deliver_payload(struct x86_cpu *cpu);

/* msr.c */
void x86_msr_reset(struct x86_cpu *cpu);
extern const uint32_t x86_msr_index_list[];
extern const unsigned x86_msr_index_count;
extern const uint32_t x86_msr_feature_list[];
extern const unsigned x86_msr_feature_count;
bool x86_msr_feature_get(uint32_t idx, uint64_t *val);
/* host: KVM_GET/SET_MSRS (host_initiated), with KVM's relaxed checks. */
bool x86_msr_get(struct x86_cpu *cpu, uint32_t idx, uint64_t *val, bool host);
bool x86_msr_set(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host);
uint64_t x86_host_ns(void);

/* kvmclock.c */
void x86_kvmclock_vm_init(struct x86_vm *xv);
uint64_t x86_kvmclock_ns(struct x86_vm *xv);
void x86_kvmclock_update(struct x86_cpu *cpu);
void x86_kvmclock_enter(struct x86_cpu *cpu);
void x86_kvmclock_tsc_changed(struct x86_cpu *cpu, bool host);
bool x86_kvmclock_set_system_time(struct x86_cpu *cpu, uint64_t val, bool host);
bool x86_kvmclock_set_wall_clock(struct x86_cpu *cpu, uint64_t val, bool host);
long x86_ioc_get_clock(void *obj, void *arg);
long x86_ioc_set_clock(void *obj, void *arg);

/* ioeventfd.c */
struct x86_ioeventfds;
long x86_ioc_ioeventfd(void *obj, void *arg);
bool x86_ioeventfd_write(struct sk_vm *vm, bool pio, uint64_t addr, unsigned size, uint64_t val);
void x86_ioeventfd_destroy(struct sk_vm *vm);

/* cpuid.c */
int x86_supported_cpuid(struct kvm_cpuid_entry2 *out, int max);
int x86_set_cpuid(struct x86_cpu *cpu, const struct kvm_cpuid_entry2 *e, int n);
/* cpu->maxphyaddr from the guest's CPUID (36 without leaf 0x80000008). */
void x86_cpuid_maxphyaddr(struct x86_cpu *cpu);

/* pv.c: KVM's paravirtual features (Documentation/virt/kvm/x86/msr.rst,
 * cpuid.rst, hypercalls.rst). */
#define X86_KVM_FEATURES_SUPPORTED 0x0100fefbu   /* leaf 0x40000001 EAX offered */
void x86_pv_vcpu_init(struct x86_cpu *cpu);
void x86_pv_vcpu_destroy(struct x86_cpu *cpu);
/* INIT or RESET: what kvm_vcpu_reset and kvm_lapic_reset clear. */
void x86_pv_reset(struct x86_cpu *cpu);
void x86_pv_cpuid_changed(struct x86_cpu *cpu);
int x86_pv_enable_cap(struct x86_cpu *cpu, uint64_t arg);
/* guest_pv_has(): a feature may be used (always, unless enforced). */
bool x86_pv_has(struct x86_cpu *cpu, unsigned feature);
bool x86_pv_msr_get(struct x86_cpu *cpu, uint32_t idx, uint64_t *val);
bool x86_pv_msr_set(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host);
/* KVM_RUN entry (vcpu_load): steal time is due. */
void x86_pv_load(struct x86_cpu *cpu);
/* Every pass of the run loop, before the LAPIC picks an interrupt (the
 * exit side: a guest PV EOI) and after (the entry side: steal time,
 * async PF delivery, PV EOI offered). */
void x86_pv_exit(struct x86_cpu *cpu);
void x86_pv_entry(struct x86_cpu *cpu);
/* A halted vCPU was kicked (KVM_HC_KICK_CPU): consume it. */
static inline bool x86_pv_take_unhalt(struct x86_cpu *cpu)
{
	struct x86_pv *pv = &x86_sys(cpu)->pv;
	return atomic_load_explicit(&pv->unhalted, memory_order_relaxed) &&
	       atomic_exchange(&pv->unhalted, false);
}
/* KVM_HC_KICK_CPU, KVM_HC_SEND_IPI, KVM_HC_SCHED_YIELD */
int64_t x86_pv_kick_cpu(struct x86_cpu *cpu, uint64_t apic_id);
int64_t x86_pv_send_ipi(struct x86_cpu *cpu, uint64_t lo, uint64_t hi, uint64_t min,
			uint64_t icr, bool wide);
void x86_pv_sched_yield(struct x86_cpu *cpu, uint64_t apic_id);
/* The vCPU device attributes (KVM_VCPU_TSC_CTRL). */
long x86_ioc_vcpu_has_attr(void *obj, void *arg);
long x86_ioc_vcpu_get_attr(void *obj, void *arg);
long x86_ioc_vcpu_set_attr(void *obj, void *arg);
/* lapic.c: the PV EOI protocol's two halves. */
void x86_lapic_pv_eoi_exit(struct x86_cpu *cpu);
void x86_lapic_pv_eoi_entry(struct x86_cpu *cpu);

/* io.c */
void x86_io_log_clear(struct x86_cpu *cpu);
bool x86_io_take_result(struct x86_cpu *cpu);

/* state.c */
int x86_sync_regs_in(struct x86_cpu *cpu);
void x86_sync_regs_out(struct x86_cpu *cpu);
long x86_check_extension(struct sk_vm *vm, long ext);
extern const struct sk_ioctl x86_sys_ioctls[], x86_vm_ioctls[], x86_vcpu_ioctls[];

/* x86.c */
bool x86_interrupt_allowed(struct x86_cpu *cpu);

/* smm.c: System Management Mode. */
/* An SMI for this vCPU (KVM_SMI, an SMI IPI/MSI); any thread. */
void x86_smm_post(struct x86_cpu *cpu);
/* The run loop, at an instruction boundary: enter SMM for a pending SMI. */
void x86_smm_inject(struct x86_cpu *cpu);
/* A pending SMI that can be taken wakes a halted vCPU. */
bool x86_smm_wakes(struct x86_cpu *cpu);
/* The LAPIC's INIT/SIPI acceptance: true in SMM, where INIT stays latched
 * (and a SIPI is dropped); the caller then takes nothing. */
bool x86_smm_latch_init(struct x86_cpu *cpu);
/* KVM_RUN's end: KVM_RUN_X86_SMM in kvm_run->flags while in SMM. */
void x86_smm_post_run(struct x86_cpu *cpu);
/* The smi fields of struct kvm_vcpu_events. */
void x86_smm_get_events(struct x86_cpu *cpu, struct kvm_vcpu_events *e);
bool x86_smm_events_valid(struct x86_cpu *cpu, const struct kvm_vcpu_events *e);
void x86_smm_set_events(struct x86_cpu *cpu, const struct kvm_vcpu_events *e);
long x86_ioc_smi(void *obj, void *arg);

/* msr_filter.c: KVM_CAP_X86_USER_SPACE_MSR, KVM_X86_SET_MSR_FILTER */
struct x86_msr_filter;
void x86_msr_filter_vm_init(struct sk_vm *vm);
void x86_msr_filter_vm_destroy(struct sk_vm *vm);
int x86_msr_enable_user_space(struct sk_vm *vm, uint64_t mask);
long x86_ioc_set_msr_filter(void *obj, void *arg);
/* msr.c: KVM_CAP_MSR_PLATFORM_INFO (may the guest read MSR_PLATFORM_INFO) */
int x86_msr_enable_platform_info(struct sk_vm *vm, uint64_t on);
/* type: KVM_MSR_FILTER_READ / _WRITE */
bool x86_msr_allowed(struct x86_cpu *cpu, uint32_t idx, uint32_t type);
/* The instruction that exited runs again: true when userspace answered
 * for it (*ok false: #GP; *val: RDMSR's data). */
bool x86_msr_exit_reply(struct x86_cpu *cpu, uint32_t idx, bool write, uint64_t *val, bool *ok);
/* Exit to userspace (never returns) if it asked for reason
 * (KVM_MSR_EXIT_REASON_*); returns otherwise. */
void x86_msr_exit(struct x86_cpu *cpu, uint32_t idx, bool write, uint64_t data, uint32_t reason);

/* mce.c: machine checks (KVM_X86_SETUP_MCE / SET_MCE) and guest memory
 * poison (softkvm_poison): a guest access to a poisoned page ends KVM_RUN
 * with SIGBUS BUS_MCEERR_AR, as KVM on a host with a hwpoisoned page. */
#define X86_MCE_MAX_BANKS 32
void x86_mce_vcpu_init(struct x86_cpu *cpu);
bool x86_mce_msr_get(struct x86_cpu *cpu, uint32_t idx, uint64_t *val, bool host);
bool x86_mce_msr_set(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host);
long x86_ioc_mce_cap_supported(void *obj, void *arg);
long x86_ioc_setup_mce(void *obj, void *arg);
long x86_ioc_set_mce(void *obj, void *arg);
/* Take the shutdown KVM_X86_SET_MCE requested (MCIP already set or
 * CR4.MCE clear): KVM_RUN then exits with KVM_EXIT_SHUTDOWN. */
bool x86_mce_shutdown_pending(struct x86_cpu *cpu);
/* MCG_CAP.MCG_CMCI_P: the LAPIC then has its LVT CMCI (7 LVT entries). */
static inline bool x86_mce_has_cmci(struct x86_cpu *cpu)
{
	return (x86_sys(cpu)->mcg_cap >> 10) & 1;
}
/* lapic.c: MCG_CAP changed (LVT count, LVR); signal a CMCI through the
 * LVT CMCI (kvm_apic_local_deliver). */
void x86_lapic_mcg_cap_changed(struct x86_cpu *cpu);
void x86_lapic_cmci(struct x86_cpu *cpu);
void x86_mce_vm_init(struct sk_vm *vm);
void x86_mce_vm_destroy(struct sk_vm *vm);
/* The guest touches gpa (host address host) on a path where KVM would
 * fault on the page: consumes poison if the page is poisoned. */
void x86_poison_hit(struct x86_cpu *cpu, uint64_t gpa, const uint8_t *host);
static inline void x86_poison_check(struct x86_cpu *cpu, uint64_t gpa, const uint8_t *host)
{
	struct x86_vm *xv = cpu->vm->arch_vm;
	if (__builtin_expect(atomic_load_explicit(&xv->poison.count, memory_order_relaxed) != 0, 0))
		x86_poison_hit(cpu, gpa, host);
}
/* A poisoning happened since this vCPU last flushed its translations. */
static inline bool x86_poison_stale(struct x86_cpu *cpu)
{
	struct x86_vm *xv = cpu->vm->arch_vm;
	return atomic_load_explicit(&xv->poison_gen, memory_order_acquire) != x86_sys(cpu)->poison_gen;
}

/* KVM_SET_NR_MMU_PAGES / KVM_GET_NR_MMU_PAGES (x86.c). */
long x86_ioc_set_nr_mmu_pages(void *obj, void *arg);
long x86_ioc_get_nr_mmu_pages(void *obj, void *arg);

#endif
