/* Private to the x86 system part: state the interpreter never needs.
 *
 * struct x86_cpu is the first member of struct x86_sys, so the pointer the
 * rest of softkvm holds (vcpu->arch_vcpu) is both.
 */
#ifndef SK_X86_SYS_H
#define SK_X86_SYS_H

#include <stddef.h>

#include "arch/arch.h"
#include "arch/x86/x86.h"
#include "kvm/kvm.h"

struct x86_lapic;
struct x86_irqchip;
struct x86_pit;
struct x86_irqfds;

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
	uint64_t tsc_epoch_ns;     /* host ns at which guest TSC was tsc_at_epoch */
	uint64_t tsc_at_epoch;
	uint32_t tsc_khz;
	uint64_t ia32_tsc_adjust;
	uint64_t mcg_status, mcg_ctl;
	uint64_t smbase;
	uint64_t feature_control;
	uint64_t arch_capabilities; /* IA32_ARCH_CAPABILITIES, host-settable */
	uint64_t mce_banks[4 * 32]; /* MCi_CTL/STATUS/ADDR/MISC, KVM_MAX_MCE_BANKS */
	uint64_t vapic_addr;        /* KVM_SET_VAPIC_ADDR; the TPR is not mirrored there */
	uint64_t kvmclock_wall_clock, kvmclock_system_time; /* kvmclock.c */
	uint32_t kvmclock_gen;      /* x86_vm's kvmclock_gen last published */
	bool kvmclock_dirty;        /* republish at the next entry */
	uint64_t kvm_pv_msrs[4];    /* 0x4b564d02..05: async PF, steal time, PV EOI, poll: held only */
	struct x86_lapic *lapic;   /* in-kernel local APIC (irq.h), or NULL */
};

struct x86_vm {
	uint64_t tss_addr;
	uint64_t identity_map_addr;
	bool identity_map_set;
	bool tss_set;
	struct x86_irqchip *irqchip; /* KVM_CREATE_IRQCHIP (irq.h), or NULL */
	uint32_t bsp_vcpu_id;        /* KVM_SET_BOOT_CPU_ID */
	struct x86_pit *pit;         /* KVM_CREATE_PIT2 (pit.c), or NULL */
	struct x86_irqfds *irqfds;   /* KVM_IRQFD (irqfd.c), or NULL */
	bool x2apic_format;          /* KVM_CAP_X2APIC_API: 32-bit IDs in KVM_GET/SET_LAPIC */
	uint32_t max_vcpu_ids;       /* KVM_CAP_MAX_VCPU_ID, 0 = not set */
	_Atomic uint64_t kvmclock_offset; /* kvmclock = host ns + this (kvmclock.c) */
	_Atomic uint32_t kvmclock_gen;    /* bumped by KVM_SET_CLOCK */
	struct x86_ioeventfds *ioeventfds; /* KVM_IOEVENTFD (ioeventfd.c), or NULL */
	_Atomic uint32_t nr_ioeventfds;
};

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

#endif
