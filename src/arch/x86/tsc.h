/* The guest TSC (tsc.c).
 *
 * A vCPU's TSC is the host's TSC scaled to the vCPU's rate (KVM_SET_TSC_KHZ;
 * unscaled within 250 ppm of the host's, as KVM) plus a per-vCPU offset,
 * with KVM's rules for matching host writes across vCPUs so that they keep
 * one offset. Unless the host's TSC is invariant and the host kernel uses
 * it as its clocksource (so it is one clock across CPUs), the host's
 * monotonic clock stands in for it as a 1 GHz TSC. The VM's clock
 * (kvmclock) counts from the same source, so the pvclock records the guest
 * reads are exact and never go back from one vCPU to another.
 */
#ifndef SK_X86_TSC_H
#define SK_X86_TSC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct x86_cpu;
struct sk_vm;

/* KVM's TSC write tracking of one VM (kvm->arch.last_tsc_*, cur_tsc_*). */
struct x86_tsc_vm {
	pthread_mutex_t lock;
	_Atomic uint32_t default_khz;   /* VM-wide KVM_SET_TSC_KHZ */
	uint32_t last_khz;
	uint64_t last_nsec, last_write, last_offset;
	uint64_t cur_offset;
};

/* The host's TSC (or monotonic ns), its rate, and the host ns it stands at. */
uint64_t x86_host_tsc(void);
uint32_t x86_host_tsc_khz(void);
bool x86_host_tsc_is_real(void);
uint64_t x86_host_tsc_ns(uint64_t host_tsc);

void x86_tsc_vm_init(struct x86_tsc_vm *t);
void x86_tsc_vm_destroy(struct x86_tsc_vm *t);
/* A new vCPU: the VM's default rate, then a host write of 0 (which joins
 * the other vCPUs' offset). */
void x86_tsc_vcpu_init(struct x86_cpu *cpu);

/* The guest TSC when the host's reads host_tsc. */
uint64_t x86_tsc_at(struct x86_cpu *cpu, uint64_t host_tsc);
/* Guest TSC ticks -> ns at the vCPU's rate, and back. */
uint64_t x86_tsc_ticks_to_ns(struct x86_cpu *cpu, uint64_t ticks);
uint64_t x86_tsc_ns_to_ticks(struct x86_cpu *cpu, uint64_t ns);
/* pvclock's tsc_to_system_mul/tsc_shift for the vCPU's rate. */
void x86_tsc_pvclock_scale(struct x86_cpu *cpu, uint32_t *mul, int8_t *shift);

/* IA32_TSC written by the host (KVM_SET_MSRS) or by the guest, IA32_TSC_ADJUST
 * by the guest (the host's only sets the MSR). */
void x86_tsc_host_write(struct x86_cpu *cpu, uint64_t data);
void x86_tsc_guest_write(struct x86_cpu *cpu, uint64_t data);
void x86_tsc_guest_adjust(struct x86_cpu *cpu, uint64_t adjust);
/* The vCPU attribute KVM_VCPU_TSC_OFFSET. */
uint64_t x86_tsc_get_offset(struct x86_cpu *cpu);
void x86_tsc_set_offset(struct x86_cpu *cpu, uint64_t offset);

/* KVM_SET_TSC_KHZ / KVM_GET_TSC_KHZ on a vCPU and on the VM. */
long x86_ioc_set_tsc_khz(void *obj, void *arg);
long x86_ioc_get_tsc_khz(void *obj, void *arg);
long x86_ioc_vm_set_tsc_khz(void *obj, void *arg);
long x86_ioc_vm_get_tsc_khz(void *obj, void *arg);

#endif
