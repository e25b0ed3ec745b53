/* kvmclock: KVM's paravirtual clock. The VM's clock is the host TSC in ns
 * plus an offset (KVM_GET/SET_CLOCK), as KVM's master clock; each vCPU
 * publishes a pvclock record at the address it gave MSR_KVM_SYSTEM_TIME
 * (_NEW), the wall clock a boot-time record at MSR_KVM_WALL_CLOCK(_NEW).
 * The guest TSC counts from the same host TSC (tsc.c), so one record stays
 * exact until the TSC, its rate or the clock offset is changed; then it is
 * rewritten.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "arch/x86/sys.h"

/* struct pvclock_vcpu_time_info, the guest ABI. */
struct pvclock_rec {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
};

#define PVCLOCK_TSC_STABLE 1u
#define CLOCK_FLAGS_VALID (KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC)

static uint64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static struct x86_vm *xvm(struct x86_cpu *cpu)
{
	return cpu->vm->arch_vm;
}

/* The host time the VM's clock counts: the TSC source's, in ns. */
static uint64_t base_ns(void)
{
	return x86_host_tsc_ns(x86_host_tsc());
}

void x86_kvmclock_vm_init(struct x86_vm *xv)
{
	atomic_store(&xv->kvmclock_offset, -base_ns());   /* starts at 0 */
}

uint64_t x86_kvmclock_ns(struct x86_vm *xv)
{
	return base_ns() + atomic_load(&xv->kvmclock_offset);
}

/* Write this vCPU's record (guest memory: slots must be current). The
 * version is odd while the fields change, as readers on other vCPUs expect. */
void x86_kvmclock_update(struct x86_cpu *cpu)
{
	struct x86_sys *sys = x86_sys(cpu);
	struct x86_vm *xv = xvm(cpu);
	sys->kvmclock_gen = atomic_load_explicit(&xv->kvmclock_gen, memory_order_acquire);
	sys->kvmclock_dirty = false;
	uint64_t msr = sys->kvmclock_system_time;
	if (!(msr & 1))
		return;
	uint64_t gpa = msr & ~1ull;
	struct pvclock_rec r;
	if (!x86_read_phys(cpu, gpa, &r.version, 4))
		return;   /* no memory there: KVM leaves the clock unpublished */
	uint64_t host_tsc = x86_host_tsc();
	r.version = (r.version + 1) | 1;
	r.pad0 = 0;
	x86_write_phys(cpu, gpa, &r.version, 4);
	r.tsc_timestamp = x86_tsc_at(cpu, host_tsc);
	r.system_time = x86_host_tsc_ns(host_tsc) + atomic_load(&xv->kvmclock_offset);
	x86_tsc_pvclock_scale(cpu, &r.tsc_to_system_mul, &r.tsc_shift);
	r.flags = PVCLOCK_TSC_STABLE;
	memset(r.pad, 0, sizeof(r.pad));
	x86_write_phys(cpu, gpa + 4, (const uint8_t *)&r + 4, sizeof(r) - 4);
	atomic_thread_fence(memory_order_release);
	r.version++;
	x86_write_phys(cpu, gpa, &r.version, 4);
}

/* Before entering the guest: publish what changed while it was out. */
void x86_kvmclock_enter(struct x86_cpu *cpu)
{
	struct x86_sys *sys = x86_sys(cpu);
	if (sys->kvmclock_dirty ||
	    sys->kvmclock_gen != atomic_load_explicit(&xvm(cpu)->kvmclock_gen,
						      memory_order_relaxed))
		x86_kvmclock_update(cpu);
}

/* The TSC moved: the guest's writes take effect at once, the host's at entry. */
void x86_kvmclock_tsc_changed(struct x86_cpu *cpu, bool host)
{
	x86_sys(cpu)->kvmclock_dirty = true;
	if (!host)
		x86_kvmclock_update(cpu);
}

bool x86_kvmclock_set_system_time(struct x86_cpu *cpu, uint64_t val, bool host)
{
	x86_sys(cpu)->kvmclock_system_time = val;
	x86_kvmclock_tsc_changed(cpu, host);
	return true;
}

/* struct pvclock_wall_clock: the real time at which the VM's clock was 0. */
bool x86_kvmclock_set_wall_clock(struct x86_cpu *cpu, uint64_t val, bool host)
{
	x86_sys(cpu)->kvmclock_wall_clock = val;
	if (host)
		return true;   /* KVM: only the guest's write publishes it */
	uint32_t version = 0;
	if (!x86_read_phys(cpu, val, &version, 4))
		return true;
	uint64_t boot = real_ns() - x86_kvmclock_ns(xvm(cpu));
	uint32_t rec[3] = {(version + 1) | 1, (uint32_t)(boot / 1000000000ull),
			   (uint32_t)(boot % 1000000000ull)};
	x86_write_phys(cpu, val, &rec[0], 4);
	x86_write_phys(cpu, val + 4, &rec[1], 8);
	rec[0]++;
	x86_write_phys(cpu, val, &rec[0], 4);
	return true;
}

/* ---- VM ioctls ---- */

long x86_ioc_get_clock(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	struct kvm_clock_data *d = arg;
	struct x86_vm *xv = vm->arch_vm;
	memset(d, 0, sizeof(*d));
	uint64_t host_tsc = x86_host_tsc();
	d->realtime = real_ns();
	d->clock = x86_host_tsc_ns(host_tsc) + atomic_load(&xv->kvmclock_offset);
	d->flags = KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME;
	if (x86_host_tsc_is_real()) {
		d->host_tsc = host_tsc;
		d->flags |= KVM_CLOCK_HOST_TSC;
	}
	return 0;
}

long x86_ioc_set_clock(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	struct x86_vm *xv = vm->arch_vm;
	const struct kvm_clock_data *d = arg;
	if (d->flags & ~(uint32_t)CLOCK_FLAGS_VALID)
		return -EINVAL;
	uint64_t clock = d->clock;
	if (d->flags & KVM_CLOCK_REALTIME) {
		uint64_t now = real_ns();
		if (now > d->realtime)
			clock += now - d->realtime;   /* time passed since it was read */
	}
	atomic_store(&xv->kvmclock_offset, clock - base_ns());
	atomic_fetch_add_explicit(&xv->kvmclock_gen, 1, memory_order_release);
	return 0;
}
