/* The guest TSC: host TSC, KVM's scaling ratio, offset and write matching.
 * See tsc.h. The semantics are Linux 6.1's (arch/x86/kvm/x86.c): the
 * scaling ratio has VMX's 48 fraction bits, a rate within 250 ppm of the
 * host's is not scaled, host writes that land within a second of where the
 * last one would be now (or writes of 0) take the VM's current offset.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "arch/x86/sys.h"
#include "arch/x86/tsc.h"

#define RATIO_FRAC 48
#define RATIO_ONE (1ull << RATIO_FRAC)
#define TOLERANCE_PPM 250
#define MAX_GUEST_KHZ 0x7fffffffu   /* KVM: tsc_khz values that fit an int */
#define CAL_NS 5000000ull           /* at least this much host time to calibrate */

/* The host's clock as softkvm's TSC source. */
static struct {
	bool real;           /* the host TSC itself (invariant) */
	uint32_t khz;
	uint64_t tsc_ref, ns_ref;
	uint64_t ns_mult;    /* ns per tick, 32 fraction bits */
} host;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;
static uint64_t cal_tsc0, cal_ns0;

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool invariant_tsc(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
		return false;
	__get_cpuid(0x80000007u, &a, &b, &c, &d);
	return d & (1u << 8);
}

/* A (TSC, ns) pair read as close together as three tries allow. */
static void sample(clockid_t id, uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 3; i++) {
		uint64_t a = __rdtsc(), n = clock_ns(id), b = __rdtsc();
		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*ns = n;
		}
	}
}

/* The first sample is taken when the library loads, so that by the first
 * VM the calibration interval has usually passed already. */
__attribute__((constructor)) static void tsc_first_sample(void)
{
	if (invariant_tsc())
		sample(CLOCK_MONOTONIC_RAW, &cal_tsc0, &cal_ns0);
}

/* Is the host TSC one clock across all CPUs? The host kernel checked it
 * when it chose its clocksource: only "tsc" says yes (kvm-clock under a
 * hypervisor, say, hides a TSC that can differ by hundreds of cycles from
 * CPU to CPU, and vCPU threads move between CPUs). SOFTKVM_HOST_TSC=1 or
 * 0 overrides. */
static bool tsc_is_global(void)
{
	const char *env = getenv("SOFTKVM_HOST_TSC");
	if (env && *env)
		return *env == '1';
	char buf[16] = "";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
	if (!f)
		return false;
	bool tsc = fgets(buf, sizeof(buf), f) && !strcmp(buf, "tsc\n");
	fclose(f);
	return tsc;
}

static void calibrate(void)
{
	host.khz = 1000000;
	host.ns_mult = 1ull << 32;
	if (!cal_ns0 || !tsc_is_global())
		return;   /* the host's monotonic ns as a 1 GHz TSC */
	uint64_t t1 = 0, n1 = 0;
	sample(CLOCK_MONOTONIC_RAW, &t1, &n1);
	if (n1 - cal_ns0 < CAL_NS) {
		uint64_t left = CAL_NS - (n1 - cal_ns0);
		struct timespec ts = {0, (long)left};
		while (nanosleep(&ts, &ts))
			;
		sample(CLOCK_MONOTONIC_RAW, &t1, &n1);
	}
	uint64_t khz = (uint64_t)(((unsigned __int128)(t1 - cal_tsc0) * 1000000u +
				   (n1 - cal_ns0) / 2) / (n1 - cal_ns0));
	if (khz < 1000 || khz > MAX_GUEST_KHZ)
		return;   /* nonsense: keep the fallback */
	host.real = true;
	host.khz = (uint32_t)khz;
	host.ns_mult = (1000000ull << 32) / khz;
	sample(CLOCK_MONOTONIC, &host.tsc_ref, &host.ns_ref);
}

static void host_init(void)
{
	pthread_once(&host_once, calibrate);
}

uint64_t x86_host_tsc(void)
{
	return host.real ? __rdtsc() : x86_host_ns();
}

uint32_t x86_host_tsc_khz(void)
{
	host_init();
	return host.khz;
}

bool x86_host_tsc_is_real(void)
{
	host_init();
	return host.real;
}

uint64_t x86_host_tsc_ns(uint64_t tsc)
{
	if (!host.real)
		return tsc;
	int64_t d = (int64_t)(tsc - host.tsc_ref);
	return host.ns_ref + (uint64_t)(int64_t)(((__int128)d * (__int128)host.ns_mult) >> 32);
}

/* ---- per vCPU ---- */

static uint64_t scale(uint64_t tsc, uint64_t ratio)
{
	if (ratio == RATIO_ONE)
		return tsc;
	return (uint64_t)(((unsigned __int128)tsc * ratio) >> RATIO_FRAC);
}

uint64_t x86_tsc_at(struct x86_cpu *cpu, uint64_t host_tsc)
{
	return scale(host_tsc, x86_sys(cpu)->tsc_ratio) + cpu->tsc_offset;
}

uint64_t x86_rdtsc(struct x86_cpu *cpu)
{
	return x86_tsc_at(cpu, x86_host_tsc());
}

uint64_t x86_tsc_ticks_to_ns(struct x86_cpu *cpu, uint64_t ticks)
{
	uint32_t khz = x86_sys(cpu)->tsc_khz;
	return khz ? (uint64_t)((unsigned __int128)ticks * 1000000u / khz) : ticks;
}

uint64_t x86_tsc_ns_to_ticks(struct x86_cpu *cpu, uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * x86_sys(cpu)->tsc_khz / 1000000u);
}

/* ns = ((delta << shift, or >> -shift) * mul) >> 32 with mul in [2^31, 2^32). */
void x86_tsc_pvclock_scale(struct x86_cpu *cpu, uint32_t *mul, int8_t *shift)
{
	const unsigned __int128 ns_per_s = 1000000000u;
	unsigned __int128 hz = (unsigned __int128)(x86_sys(cpu)->tsc_khz ? x86_sys(cpu)->tsc_khz
								: 1000000u) * 1000u;
	int s = 0;
	while ((s >= 0 ? hz << s : hz >> -s) <= ns_per_s)
		s++;
	while ((s >= 0 ? hz << s : hz >> -s) > 2 * ns_per_s)
		s--;
	unsigned __int128 num = ns_per_s << 32, den = hz;
	if (s >= 0)
		den <<= s;
	else
		num <<= -s;
	*mul = (uint32_t)(num / den);
	*shift = (int8_t)s;
}

static uint32_t adjust_khz(uint32_t khz, int ppm)
{
	return (uint32_t)((uint64_t)khz * (uint64_t)(1000000 + ppm) / 1000000u);
}

/* kvm_set_tsc_khz: the rate is taken even when no ratio can give it. */
static int set_khz(struct x86_cpu *cpu, uint32_t khz)
{
	struct x86_sys *sys = x86_sys(cpu);
	uint32_t hk = x86_host_tsc_khz();
	sys->tsc_khz = khz;
	if (khz >= adjust_khz(hk, -TOLERANCE_PPM) && khz <= adjust_khz(hk, TOLERANCE_PPM)) {
		sys->tsc_ratio = RATIO_ONE;
		return 0;
	}
	uint64_t ratio = (uint64_t)(((unsigned __int128)khz << RATIO_FRAC) / hk);
	if (!ratio)
		return -EINVAL;
	sys->tsc_ratio = ratio;
	return 0;
}

static struct x86_tsc_vm *tvm(struct x86_cpu *cpu)
{
	return &((struct x86_vm *)cpu->vm->arch_vm)->tsc;
}

/* __kvm_synchronize_tsc; the VM's lock is held. */
static void sync_locked(struct x86_cpu *cpu, uint64_t offset, uint64_t tsc, uint64_t ns,
			bool matched)
{
	struct x86_tsc_vm *t = tvm(cpu);
	t->last_nsec = ns;
	t->last_write = tsc;
	t->last_khz = x86_sys(cpu)->tsc_khz;
	t->last_offset = offset;
	cpu->tsc_offset = offset;
	if (!matched)
		t->cur_offset = offset;
	x86_kvmclock_tsc_changed(cpu, true);
}

void x86_tsc_host_write(struct x86_cpu *cpu, uint64_t data)
{
	struct x86_tsc_vm *t = tvm(cpu);
	uint32_t khz = x86_sys(cpu)->tsc_khz;
	pthread_mutex_lock(&t->lock);
	uint64_t offset = data - scale(x86_host_tsc(), x86_sys(cpu)->tsc_ratio);
	uint64_t ns = x86_host_ns();
	bool synchronizing = false, matched = false;
	if (khz) {
		if (!data) {
			synchronizing = true;   /* a vCPU being created */
		} else {
			uint64_t expect = t->last_write + x86_tsc_ns_to_ticks(cpu, ns - t->last_nsec);
			uint64_t hz = (uint64_t)khz * 1000u;
			synchronizing = data < expect + hz && data + hz > expect;
		}
	}
	if (synchronizing && khz == t->last_khz) {
		offset = t->cur_offset;   /* the host TSC is stable: match exactly */
		matched = true;
	}
	sync_locked(cpu, offset, data, ns, matched);
	pthread_mutex_unlock(&t->lock);
}

void x86_tsc_guest_write(struct x86_cpu *cpu, uint64_t data)
{
	uint64_t adj = data - x86_rdtsc(cpu);
	cpu->tsc_offset += adj;
	x86_sys(cpu)->ia32_tsc_adjust += adj;
	x86_kvmclock_tsc_changed(cpu, false);
}

void x86_tsc_guest_adjust(struct x86_cpu *cpu, uint64_t val)
{
	struct x86_sys *sys = x86_sys(cpu);
	cpu->tsc_offset += val - sys->ia32_tsc_adjust;
	sys->ia32_tsc_adjust = val;
	x86_kvmclock_tsc_changed(cpu, false);
}

uint64_t x86_tsc_get_offset(struct x86_cpu *cpu)
{
	return cpu->tsc_offset;
}

void x86_tsc_set_offset(struct x86_cpu *cpu, uint64_t offset)
{
	struct x86_tsc_vm *t = tvm(cpu);
	uint32_t khz = x86_sys(cpu)->tsc_khz;
	pthread_mutex_lock(&t->lock);
	bool matched = khz && t->last_khz == khz && t->last_offset == offset;
	uint64_t tsc = scale(x86_host_tsc(), x86_sys(cpu)->tsc_ratio) + offset;
	sync_locked(cpu, offset, tsc, x86_host_ns(), matched);
	pthread_mutex_unlock(&t->lock);
}

void x86_tsc_vm_init(struct x86_tsc_vm *t)
{
	pthread_mutex_init(&t->lock, NULL);
	t->default_khz = x86_host_tsc_khz();
}

void x86_tsc_vm_destroy(struct x86_tsc_vm *t)
{
	pthread_mutex_destroy(&t->lock);
}

void x86_tsc_vcpu_init(struct x86_cpu *cpu)
{
	x86_sys(cpu)->tsc_ratio = RATIO_ONE;
	set_khz(cpu, tvm(cpu)->default_khz);
	x86_tsc_host_write(cpu, 0);
}

/* ---- ioctls ---- */

/* The rate KVM_SET_TSC_KHZ asks for (the ioctl's argument is a u32), or
 * 0 when it is refused. */
static uint32_t requested_khz(void *arg)
{
	uint32_t khz = (uint32_t)(uintptr_t)arg;
	if (khz >= MAX_GUEST_KHZ)
		return 0;
	return khz ? khz : x86_host_tsc_khz();
}

long x86_ioc_set_tsc_khz(void *obj, void *arg)
{
	struct x86_cpu *cpu = ((struct sk_vcpu *)obj)->arch_vcpu;
	uint32_t khz = requested_khz(arg);
	if (!khz || set_khz(cpu, khz))
		return -EINVAL;
	x86_kvmclock_tsc_changed(cpu, true);
	return 0;
}

long x86_ioc_get_tsc_khz(void *obj, void *arg)
{
	struct x86_cpu *cpu = ((struct sk_vcpu *)obj)->arch_vcpu;
	return x86_sys(cpu)->tsc_khz;
}

long x86_ioc_vm_set_tsc_khz(void *obj, void *arg)
{
	struct x86_vm *xv = ((struct sk_vm *)obj)->arch_vm;
	uint32_t khz = requested_khz(arg);
	if (!khz)
		return -EINVAL;
	xv->tsc.default_khz = khz;
	return 0;
}

long x86_ioc_vm_get_tsc_khz(void *obj, void *arg)
{
	struct x86_vm *xv = ((struct sk_vm *)obj)->arch_vm;
	return xv->tsc.default_khz;
}
