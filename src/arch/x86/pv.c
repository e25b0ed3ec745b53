/* KVM's paravirtual interface (leaf 0x40000001, the 0x4b564dxx MSRs, the
 * hypercalls): steal time, PV EOI's MSR, async PF's MSRs, poll control,
 * PV unhalt/IPI/yield, KVM_CAP_ENFORCE_PV_FEATURE_CPUID and the vCPU's
 * TSC offset attribute. The semantics are Linux 6.1's.
 *
 * softkvm never takes a host page fault on the guest's behalf, so async PF
 * only ever delivers the "wake all" KVM queues when the guest enables it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/irq.h"
#include "arch/x86/sys.h"
#include "kvm/uaccess.h"

/* KVM_FEATURE_* bit numbers (cpuid.rst). */
enum {
	F_CLOCKSOURCE = 0, F_CLOCKSOURCE2 = 3, F_ASYNC_PF = 4, F_STEAL_TIME = 5, F_PV_EOI = 6,
	F_PV_UNHALT = 7, F_PV_TLB_FLUSH = 9, F_ASYNC_PF_VMEXIT = 10, F_PV_SEND_IPI = 11,
	F_POLL_CONTROL = 12, F_PV_SCHED_YIELD = 13, F_ASYNC_PF_INT = 14,
};

#define MSR_KVM_WALL_CLOCK 0x11
#define MSR_KVM_SYSTEM_TIME 0x12
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define MSR_ASYNC_PF_EN 0x4b564d02
#define MSR_STEAL_TIME 0x4b564d03
#define MSR_PV_EOI_EN 0x4b564d04
#define MSR_POLL_CONTROL 0x4b564d05
#define MSR_ASYNC_PF_INT 0x4b564d06
#define MSR_ASYNC_PF_ACK 0x4b564d07

#define MSR_ENABLED 1ull
#define APF_ENABLED 1ull
#define APF_SEND_ALWAYS 2ull
#define APF_DELIVERY_AS_PF_VMEXIT 4ull
#define APF_DELIVERY_AS_INT 8ull
#define APF_TOKEN_OFF 4          /* struct kvm_vcpu_pv_apf_data.token */
#define STEAL_RESERVED 0x3eull   /* bits 1-5: the record is 64-byte aligned */
#define ST_PREEMPTED_OFF 16      /* struct kvm_steal_time.preempted */
#define ST_VERSION_OFF 8
#define ST_FLUSH_TLB 2           /* KVM_VCPU_FLUSH_TLB */

#define KVM_EINVAL 22
#define KVM_EOPNOTSUPP 95

static struct x86_pv *pv_of(struct x86_cpu *cpu)
{
	return &x86_sys(cpu)->pv;
}

void x86_pv_vcpu_init(struct x86_cpu *cpu)
{
	struct x86_pv *pv = pv_of(cpu);
	pv->st_fd = -1;
	pv->poll_control = 1;   /* host polling allowed (kvm_arch_vcpu_create) */
}

void x86_pv_vcpu_destroy(struct x86_cpu *cpu)
{
	struct x86_pv *pv = pv_of(cpu);
	if (pv->st_fd >= 0)
		close(pv->st_fd);
	pv->st_fd = -1;
}

void x86_pv_reset(struct x86_cpu *cpu)
{
	struct x86_pv *pv = pv_of(cpu);
	pv->apf_en = pv->apf_int = 0;
	pv->apf_wakeup = pv->apf_ready_pending = pv->apf_check = false;
	pv->st_msr = 0;
	x86_sys(cpu)->kvmclock_system_time = 0;   /* kvmclock_reset */
	pv->eoi_msr = 0;
	pv->eoi_pending = false;
	pv->eoi_isr = 0;
	atomic_store(&pv->unhalted, false);
}

/* ---- CPUID ---- */

/* kvm_update_kvm_cpuid_base + kvm_update_pv_runtime. */
void x86_pv_cpuid_changed(struct x86_cpu *cpu)
{
	static const char sig[12] = "KVMKVMKVM\0\0\0";
	struct x86_pv *pv = pv_of(cpu);
	pv->cpuid_base = 0;
	for (uint32_t fn = 0x40000000; fn < 0x40010000; fn += 0x100) {
		for (int i = 0; i < cpu->ncpuid; i++) {
			const struct kvm_cpuid_entry2 *e = &cpu->cpuid[i];
			uint32_t s[3] = {e->ebx, e->ecx, e->edx};
			if (e->function == fn && !memcmp(s, sig, sizeof(s))) {
				pv->cpuid_base = fn;
				break;
			}
		}
		if (pv->cpuid_base)
			break;
	}
	if (!pv->cpuid_base)
		return;
	/* KVM keeps the old bitmap when the features leaf is missing. */
	for (int i = 0; i < cpu->ncpuid; i++)
		if (cpu->cpuid[i].function == (pv->cpuid_base | 1)) {
			pv->features = cpu->cpuid[i].eax;
			break;
		}
}

int x86_pv_enable_cap(struct x86_cpu *cpu, uint64_t arg)
{
	pv_of(cpu)->enforce = arg != 0;
	if (arg)
		x86_pv_cpuid_changed(cpu);
	return 0;
}

bool x86_pv_has(struct x86_cpu *cpu, unsigned feature)
{
	struct x86_pv *pv = pv_of(cpu);
	return !pv->enforce || (pv->features >> feature) & 1;
}

/* ---- steal time ---- */

/* This thread's run-queue wait (schedstat's second field), in ns; false
 * when the host kernel does not account it (!sched_info_on()). */
static bool run_delay(struct x86_pv *pv, uint64_t *ns)
{
	int tid = gettid();
	if (pv->st_fd < 0 || pv->st_tid != tid) {
		if (pv->st_fd >= 0)
			close(pv->st_fd);
		pv->st_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
		pv->st_tid = tid;
		if (pv->st_fd < 0)
			return false;
	}
	char buf[96];
	ssize_t n = pread(pv->st_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = 0;
	unsigned long long run, wait;
	if (sscanf(buf, "%llu %llu", &run, &wait) != 2)
		return false;
	*ns = wait;
	return true;
}

static bool sched_info_on(struct x86_pv *pv)
{
	uint64_t ns;
	return run_delay(pv, &ns);
}

/* record_steal_time: clear preempted (taking a TLB flush the guest asked
 * for), then add the run delay since the last report, version odd while
 * the record changes. */
static void record_steal_time(struct x86_cpu *cpu)
{
	struct x86_pv *pv = pv_of(cpu);
	pv->st_update = false;
	if (!(pv->st_msr & MSR_ENABLED))
		return;
	uint64_t gpa = pv->st_msr & ~0x3full;
	const struct sk_memslot *slot;
	uint8_t *h = x86_gpa_host(cpu, gpa, &slot);
	if (!h || (slot->flags & KVM_MEM_READONLY))
		return;
	uint8_t preempted = atomic_exchange((_Atomic uint8_t *)(h + ST_PREEMPTED_OFF), 0);
	if (x86_pv_has(cpu, F_PV_TLB_FLUSH) && (preempted & ST_FLUSH_TLB))
		x86_tlb_flush(cpu);
	uint32_t version;
	uint64_t steal, delay = pv->st_last;
	x86_read_phys(cpu, gpa + ST_VERSION_OFF, &version, 4);
	version += (version & 1) + 1;   /* junk from a first enable may be odd */
	x86_write_phys(cpu, gpa + ST_VERSION_OFF, &version, 4);
	atomic_thread_fence(memory_order_release);
	x86_read_phys(cpu, gpa, &steal, 8);
	run_delay(pv, &delay);
	steal += delay - pv->st_last;
	pv->st_last = delay;
	x86_write_phys(cpu, gpa, &steal, 8);
	atomic_thread_fence(memory_order_release);
	version++;
	x86_write_phys(cpu, gpa + ST_VERSION_OFF, &version, 4);
}

void x86_pv_load(struct x86_cpu *cpu)
{
	pv_of(cpu)->st_update = true;
}

/* ---- async PF ---- */

static bool apf_int_enabled(const struct x86_pv *pv)
{
	const uint64_t mask = APF_ENABLED | APF_DELIVERY_AS_INT;
	return (pv->apf_en & mask) == mask;
}

static void apf_deliver(struct x86_cpu *cpu);

/* KVM_REQ_APF_READY: the guest's own write is followed by an entry. */
static void apf_request(struct x86_cpu *cpu, bool host)
{
	pv_of(cpu)->apf_check = true;
	if (!host)
		apf_deliver(cpu);
}

static bool set_apf_en(struct x86_cpu *cpu, uint64_t val, bool host)
{
	struct x86_pv *pv = pv_of(cpu);
	if (val & 0x30)
		return false;   /* reserved */
	if (!x86_pv_has(cpu, F_ASYNC_PF_VMEXIT) && (val & APF_DELIVERY_AS_PF_VMEXIT))
		return false;
	if (!x86_pv_has(cpu, F_ASYNC_PF_INT) && (val & APF_DELIVERY_AS_INT))
		return false;
	if (!x86_lapic(cpu))
		return !val;
	pv->apf_en = val;
	if (!apf_int_enabled(pv)) {
		pv->apf_wakeup = false;   /* the completion queue is flushed */
		return true;
	}
	if (!x86_gpa_host(cpu, val & ~0x3full, NULL))
		return false;
	pv->apf_wakeup = true;   /* kvm_async_pf_wakeup_all */
	apf_request(cpu, host);
	return true;
}

/* kvm_check_async_pf_completion for the one event softkvm queues: token
 * ~0 ("wake everything") in the guest's record, then the vector. */
static void apf_deliver(struct x86_cpu *cpu)
{
	struct x86_pv *pv = pv_of(cpu);
	pv->apf_check = false;
	if (!pv->apf_wakeup)
		return;
	if (apf_int_enabled(pv)) {
		uint32_t token = 1;
		uint64_t gpa = (pv->apf_en & ~0x3full) + APF_TOKEN_OFF;
		struct x86_lapic *a = x86_lapic(cpu);
		bool enabled = a && (cpu->apic_base & APIC_BASE_ENABLE) &&
			       (apic_reg(a, 0xf0) & 0x100);
		if (!enabled || !x86_read_phys(cpu, gpa, &token, 4) || token)
			return;   /* kvm_arch_can_dequeue_async_page_present: not yet */
		pv->apf_wakeup = false;
		token = ~0u;
		if (!x86_write_phys(cpu, gpa, &token, 4))
			return;
		pv->apf_ready_pending = true;
		struct irq_msg m = {.dest = x86_lapic(cpu)->vcpu_id, .vector = (uint8_t)pv->apf_int,
				    .mode = DM_FIXED, .shorthand = 1};
		x86_irq_deliver(a->ic, a, &m);
		return;
	}
	pv->apf_wakeup = false;
}

/* ---- MSRs ---- */

bool x86_pv_msr_get(struct x86_cpu *cpu, uint32_t idx, uint64_t *val)
{
	struct x86_pv *pv = pv_of(cpu);
	struct x86_sys *sys = x86_sys(cpu);
	switch (idx) {
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_SYSTEM_TIME:
		if (!x86_pv_has(cpu, F_CLOCKSOURCE))
			return false;
		*val = idx == MSR_KVM_WALL_CLOCK ? sys->kvmclock_wall_clock : sys->kvmclock_system_time;
		return true;
	case MSR_KVM_WALL_CLOCK_NEW:
	case MSR_KVM_SYSTEM_TIME_NEW:
		if (!x86_pv_has(cpu, F_CLOCKSOURCE2))
			return false;
		*val = idx == MSR_KVM_WALL_CLOCK_NEW ? sys->kvmclock_wall_clock :
						       sys->kvmclock_system_time;
		return true;
	case MSR_ASYNC_PF_EN:
		*val = pv->apf_en;
		return x86_pv_has(cpu, F_ASYNC_PF);
	case MSR_ASYNC_PF_INT:
		*val = pv->apf_int;
		return x86_pv_has(cpu, F_ASYNC_PF_INT);
	case MSR_ASYNC_PF_ACK:
		*val = 0;
		return x86_pv_has(cpu, F_ASYNC_PF_INT);
	case MSR_STEAL_TIME:
		*val = pv->st_msr;
		return x86_pv_has(cpu, F_STEAL_TIME);
	case MSR_PV_EOI_EN:
		*val = pv->eoi_msr;
		return x86_pv_has(cpu, F_PV_EOI);
	case MSR_POLL_CONTROL:
		*val = pv->poll_control;
		return x86_pv_has(cpu, F_POLL_CONTROL);
	}
	return false;
}

bool x86_pv_msr_set(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	struct x86_pv *pv = pv_of(cpu);
	switch (idx) {
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_SYSTEM_TIME:
		if (!x86_pv_has(cpu, F_CLOCKSOURCE))
			return false;
		break;
	case MSR_KVM_WALL_CLOCK_NEW:
	case MSR_KVM_SYSTEM_TIME_NEW:
		if (!x86_pv_has(cpu, F_CLOCKSOURCE2))
			return false;
		break;
	case MSR_ASYNC_PF_EN:
		return x86_pv_has(cpu, F_ASYNC_PF) && set_apf_en(cpu, val, host);
	case MSR_ASYNC_PF_INT:
		if (!x86_pv_has(cpu, F_ASYNC_PF_INT) || (val & ~0xffull))
			return false;
		pv->apf_int = val;
		return true;
	case MSR_ASYNC_PF_ACK:
		if (!x86_pv_has(cpu, F_ASYNC_PF_INT))
			return false;
		if (val & 1) {
			pv->apf_ready_pending = false;
			apf_request(cpu, host);
		}
		return true;
	case MSR_STEAL_TIME:
		if (!x86_pv_has(cpu, F_STEAL_TIME) || !sched_info_on(pv) || (val & STEAL_RESERVED))
			return false;
		pv->st_msr = val;
		if (val & MSR_ENABLED) {
			pv->st_update = true;
			if (!host)   /* the guest's write: KVM records at the re-entry */
				record_steal_time(cpu);
		}
		return true;
	case MSR_PV_EOI_EN:
		if (!x86_pv_has(cpu, F_PV_EOI) || ((val & ~MSR_ENABLED) & 3))
			return false;
		if ((val & MSR_ENABLED) && !x86_gpa_host(cpu, val & ~MSR_ENABLED, NULL))
			return false;   /* kvm_gfn_to_hva_cache_init fails */
		pv->eoi_msr = val;
		return true;
	case MSR_POLL_CONTROL:
		if (!x86_pv_has(cpu, F_POLL_CONTROL) || (val & ~1ull))
			return false;
		pv->poll_control = val;
		return true;
	default:
		return false;
	}
	/* kvmclock */
	if (idx == MSR_KVM_WALL_CLOCK || idx == MSR_KVM_WALL_CLOCK_NEW)
		return x86_kvmclock_set_wall_clock(cpu, val, host);
	return x86_kvmclock_set_system_time(cpu, val, host);
}

/* ---- the run loop ---- */

void x86_pv_exit(struct x86_cpu *cpu)
{
	if (x86_sys(cpu)->pv.eoi_pending)
		x86_lapic_pv_eoi_exit(cpu);
}

void x86_pv_entry(struct x86_cpu *cpu)
{
	struct x86_pv *pv = pv_of(cpu);
	if (pv->st_update)
		record_steal_time(cpu);
	if (pv->apf_check)
		apf_deliver(cpu);
	if (pv->eoi_msr & MSR_ENABLED)
		x86_lapic_pv_eoi_entry(cpu);
}

/* ---- hypercalls ---- */

int64_t x86_pv_kick_cpu(struct x86_cpu *cpu, uint64_t apic_id)
{
	struct x86_irqchip *ic = x86_irqchip(cpu->vm);
	if (!ic)
		return 0;
	/* APIC_DM_REMRD to a physical destination: the LAPIC sets pv_unhalted. */
	struct irq_msg m = {.dest = (uint32_t)apic_id, .mode = 3};
	x86_irq_deliver(ic, NULL, &m);
	x86_pv_sched_yield(cpu, apic_id);
	return 0;
}

/* kvm_pv_send_ipi: two bitmaps of physical APIC IDs from min, fixed IPIs. */
int64_t x86_pv_send_ipi(struct x86_cpu *cpu, uint64_t lo, uint64_t hi, uint64_t min,
			uint64_t icr, bool wide)
{
	struct x86_irqchip *ic = x86_irqchip(cpu->vm);
	struct x86_lapic *src = x86_lapic(cpu);
	if (icr & (1u << 11))
		return -KVM_EINVAL;   /* logical destination */
	if (icr & (3u << 18))
		return -KVM_EINVAL;   /* shorthand */
	if (!ic || !src)
		return -KVM_EOPNOTSUPP;
	struct irq_msg m = {
		.vector = icr & 0xff,
		.mode = (icr >> 8) & 7,
		.level = icr & (1u << 14),
		.trig_level = icr & (1u << 15),
	};
	bool x2 = cpu->apic_base & APIC_BASE_EXTD;
	uint32_t cluster = wide ? 64 : 32;
	int64_t count = 0;
	uint64_t maps[2] = {lo, hi};
	for (int half = 0; half < 2; half++, min += cluster) {
		for (unsigned i = 0; i < 64 && maps[half]; i++) {
			if (!((maps[half] >> i) & 1))
				continue;
			uint64_t id = min + i;
			/* A map lookup, never a broadcast. */
			if (id > 0xfffffffeull || (!x2 && id >= 0xff))
				continue;
			m.dest = (uint32_t)id;
			int n = x86_irq_deliver(ic, src, &m);
			if (n > 0)
				count += n;
		}
	}
	return count;
}

void x86_pv_sched_yield(struct x86_cpu *cpu, uint64_t apic_id)
{
	struct x86_lapic *a = x86_lapic(cpu);
	/* Yield only to another vCPU: the host scheduler picks which. */
	if (a && apic_id != a->vcpu_id && x86_irqchip(cpu->vm))
		sched_yield();
}

/* ---- vCPU attributes: KVM_VCPU_TSC_CTRL ---- */

long x86_ioc_vcpu_has_attr(void *obj, void *arg)
{
	const struct kvm_device_attr *at = arg;
	if (at->group == KVM_VCPU_TSC_CTRL && at->attr == KVM_VCPU_TSC_OFFSET)
		return 0;
	return -ENXIO;
}

long x86_ioc_vcpu_get_attr(void *obj, void *arg)
{
	const struct kvm_device_attr *at = arg;
	struct x86_cpu *cpu = ((struct sk_vcpu *)obj)->arch_vcpu;
	if (at->group != KVM_VCPU_TSC_CTRL || at->attr != KVM_VCPU_TSC_OFFSET)
		return -ENXIO;
	uint64_t off = x86_tsc_get_offset(cpu);
	return sk_copy_to_user((void *)(uintptr_t)at->addr, &off, 8) ? -EFAULT : 0;
}

long x86_ioc_vcpu_set_attr(void *obj, void *arg)
{
	const struct kvm_device_attr *at = arg;
	struct x86_cpu *cpu = ((struct sk_vcpu *)obj)->arch_vcpu;
	if (at->group != KVM_VCPU_TSC_CTRL || at->attr != KVM_VCPU_TSC_OFFSET)
		return -ENXIO;
	uint64_t off;
	if (sk_copy_from_user(&off, (const void *)(uintptr_t)at->addr, 8))
		return -EFAULT;
	x86_tsc_set_offset(cpu, off);
	return 0;
}
