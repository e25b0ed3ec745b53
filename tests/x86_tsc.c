/* The guest TSC as Linux 6.1's KVM gives it:
 * - KVM_CAP_TSC_CONTROL / KVM_CAP_VM_TSC_CONTROL, KVM_SET/GET_TSC_KHZ on
 *   the VM (the default of vCPUs created later) and on a vCPU, their EINVAL;
 * - an unscaled guest TSC is the host's TSC plus the vCPU's offset
 *   (KVM_VCPU_TSC_OFFSET), a scaled one runs at the rate asked for;
 * - host writes of IA32_TSC: a new vCPU, and a write within a second of
 *   the last one's course, take the VM's offset exactly; others do not;
 * - guest writes of IA32_TSC move IA32_TSC_ADJUST, host writes do not;
 * - kvmclock: the pvclock record the guest reads gives the VM's clock
 *   (KVM_GET_CLOCK, with KVM_CLOCK_HOST_TSC and its host_tsc) at any TSC.
 */
#include "vm.h"

#include <cpuid.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <x86intrin.h>

#define MSR_TSC 0x10
#define MSR_TSC_ADJUST 0x3b
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define PVCLOCK_GPA 0x30000
#define TEST_KHZ 2345678u

/* rdtsc -> OUT 0x10 (low), OUT 0x11 (high), again and again. */
GUEST_CODE(rd_code, 32,
	"1: rdtsc\n"
	"out %eax, $0x10\n"
	"mov %edx, %eax\n"
	"out %eax, $0x11\n"
	"jmp 1b\n");

/* WRMSR(ECX, EDX:EAX) once, then as rd_code. */
GUEST_CODE(wr_code, 32,
	"wrmsr\n"
	"1: rdtsc\n"
	"out %eax, $0x10\n"
	"mov %edx, %eax\n"
	"out %eax, $0x11\n"
	"jmp 1b\n");

/* softkvm's guest TSC counts from the host's TSC when KVM_GET_CLOCK says
 * so (KVM_CLOCK_HOST_TSC), from the monotonic clock (1 GHz) otherwise. */
static bool host_tsc_real(void)
{
	static int real = -1;
	if (real < 0) {
		struct vm vm;
		vm_init_bare(&vm);
		struct kvm_clock_data d;
		CHECK_OK(ioctl(vm.fd, KVM_GET_CLOCK, &d));
		real = !!(d.flags & KVM_CLOCK_HOST_TSC);
		vm_fini(&vm);
		unsigned a, b, c, e = 0;
		__get_cpuid(0x80000007u, &a, &b, &c, &e);
		if (real)
			CHECK(e & (1u << 8));   /* only an invariant TSC */
	}
	return real;
}

static uint64_t host_tsc(void)
{
	struct timespec ts;
	if (host_tsc_real())
		return __rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void set_msr(struct vcpu *v, uint32_t idx, uint64_t val)
{
	CHECK(msr_set(v->fd, idx, val));
}

static uint64_t get_msr(struct vcpu *v, uint32_t idx)
{
	uint64_t val = 0;
	CHECK(msr_get(v->fd, idx, &val));
	return val;
}

static uint64_t get_offset(struct vcpu *v)
{
	uint64_t off = 0;
	struct kvm_device_attr a = {.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
				    .addr = (uint64_t)(uintptr_t)&off};
	CHECK_OK(ioctl(v->fd, KVM_GET_DEVICE_ATTR, &a));
	return off;
}

static void set_offset(struct vcpu *v, uint64_t off)
{
	struct kvm_device_attr a = {.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
				    .addr = (uint64_t)(uintptr_t)&off};
	CHECK_OK(ioctl(v->fd, KVM_SET_DEVICE_ATTR, &a));
}

/* One guest RDTSC (the vCPU runs rd_code or wr_code). */
static uint64_t guest_tsc(struct vcpu *v)
{
	uint64_t lo = RUN_EXPECT_OUT(v, 0x10);
	uint64_t hi = RUN_EXPECT_OUT(v, 0x11);
	return hi << 32 | lo;
}

static void start(struct vm *vm, struct vcpu *v, int id)
{
	vcpu_init(vm, v, id);
	vcpu_setup(v, MODE_PROT32, G_CODE);
}

static void caps_and_errno(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	GUEST_LOAD(&vm, rd_code);
	CHECK_EQ(1, check_ext(vm.fd, KVM_CAP_TSC_CONTROL));
	CHECK_EQ(1, check_ext(vm.fd, KVM_CAP_VM_TSC_CONTROL));
	CHECK_EQ(1, check_ext(vm.fd, KVM_CAP_GET_TSC_KHZ));
	CHECK_EQ(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC,
		 check_ext(vm.fd, KVM_CAP_ADJUST_CLOCK));
	long host_khz = ioctl(vm.fd, KVM_GET_TSC_KHZ, 0);
	CHECK(host_khz >= 1000);
	CHECK_ERRNO(ioctl(vm.fd, KVM_SET_TSC_KHZ, 0x7fffffffUL), EINVAL);
	CHECK_ERRNO(ioctl(vm.fd, KVM_SET_TSC_KHZ, 0xffffffffUL), EINVAL);
	CHECK_EQ(host_khz, ioctl(vm.fd, KVM_GET_TSC_KHZ, 0));
	/* The argument is a u32: the upper half is ignored. */
	CHECK_OK(ioctl(vm.fd, KVM_SET_TSC_KHZ, (1UL << 32) | TEST_KHZ));
	CHECK_EQ(TEST_KHZ, ioctl(vm.fd, KVM_GET_TSC_KHZ, 0));
	start(&vm, &v, 0);
	CHECK_EQ(TEST_KHZ, ioctl(v.fd, KVM_GET_TSC_KHZ, 0));
	/* 0 means the host's rate, on the VM and on a vCPU. */
	CHECK_OK(ioctl(vm.fd, KVM_SET_TSC_KHZ, 0UL));
	CHECK_EQ(host_khz, ioctl(vm.fd, KVM_GET_TSC_KHZ, 0));
	CHECK_EQ(TEST_KHZ, ioctl(v.fd, KVM_GET_TSC_KHZ, 0));   /* vCPUs keep theirs */
	CHECK_OK(ioctl(v.fd, KVM_SET_TSC_KHZ, 0UL));
	CHECK_EQ(host_khz, ioctl(v.fd, KVM_GET_TSC_KHZ, 0));
	CHECK_ERRNO(ioctl(v.fd, KVM_SET_TSC_KHZ, 0x7fffffffUL), EINVAL);
	CHECK_OK(ioctl(v.fd, KVM_SET_TSC_KHZ, 1000UL));
	CHECK_EQ(1000, ioctl(v.fd, KVM_GET_TSC_KHZ, 0));
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* Unscaled: guest TSC = host TSC + offset, read between two host reads. */
static void unscaled_is_host_tsc(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	GUEST_LOAD(&vm, rd_code);
	start(&vm, &v, 0);
	/* One host CPU: a host TSC is only guaranteed monotonic on one. */
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	const uint64_t off = 1ull << 50;
	set_offset(&v, off);
	CHECK_EQ(off, get_offset(&v));
	for (int i = 0; i < 20; i++) {
		uint64_t before = host_tsc();
		uint64_t lo = RUN_EXPECT_OUT(&v, 0x10);
		uint64_t after = host_tsc();
		uint64_t hi = RUN_EXPECT_OUT(&v, 0x11);
		uint64_t g = (hi << 32 | lo) - off;
		if (!CHECK(g >= before && g <= after))
			printf("  host %llu..%llu guest %llu\n", (unsigned long long)before,
			       (unsigned long long)after, (unsigned long long)g);
	}
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* Does the guest's TSC run at khz? Over ~100 ms of host time; each read
 * is bracketed by host times, so preemption widens the bounds instead of
 * skewing the estimate. */
static bool rate_is(struct vcpu *v, double khz)
{
	double a0 = mono_s();
	uint64_t g0 = guest_tsc(v);
	double b0 = mono_s(), a1, b1;
	uint64_t g1;
	do {
		a1 = mono_s();
		g1 = guest_tsc(v);
		b1 = mono_s();
	} while (a1 - b0 < 0.1);
	double lo = (double)(g1 - g0) / (b1 - a0) / 1000.0;
	double hi = (double)(g1 - g0) / (a1 - b0) / 1000.0;
	printf("rate %.0f kHz: measured %.0f..%.0f kHz\n", khz, lo, hi);
	return khz >= lo * 0.99 && khz <= hi * 1.01;
}

static void rates(void)
{
	struct vm vm;
	struct vcpu v, w;
	vm_init(&vm);
	GUEST_LOAD(&vm, rd_code);
	long host_khz = ioctl(vm.fd, KVM_GET_TSC_KHZ, 0);
	start(&vm, &v, 0);
	CHECK(rate_is(&v, (double)host_khz));
	/* Three times the host's, and a tenth of it. */
	CHECK_OK(ioctl(v.fd, KVM_SET_TSC_KHZ, (unsigned long)(host_khz * 3)));
	CHECK(rate_is(&v, host_khz * 3.0));
	CHECK_OK(ioctl(v.fd, KVM_SET_TSC_KHZ, (unsigned long)(host_khz / 10)));
	CHECK(rate_is(&v, (double)(host_khz / 10)));
	/* The VM's default for a new vCPU. */
	CHECK_OK(ioctl(vm.fd, KVM_SET_TSC_KHZ, (unsigned long)TEST_KHZ));
	start(&vm, &w, 1);
	CHECK(rate_is(&w, TEST_KHZ));
	vcpu_fini(&w);
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* KVM's matching of host TSC writes. */
static void host_write_matching(void)
{
	struct vm vm;
	struct vcpu v0, v1, v2;
	vm_init(&vm);
	GUEST_LOAD(&vm, rd_code);
	start(&vm, &v0, 0);
	set_msr(&v0, MSR_TSC, 1ull << 40);
	CHECK_EQ(0, get_msr(&v0, MSR_TSC_ADJUST));   /* a host write */
	uint64_t off0 = get_offset(&v0);
	/* A vCPU created afterwards (a write of 0) joins that offset. */
	start(&vm, &v1, 1);
	CHECK_EQ(off0, get_offset(&v1));
	uint64_t t1 = guest_tsc(&v1);
	CHECK(t1 >= (1ull << 40));
	/* A write near where the last write's TSC is now: matched, the same
	 * offset. (The last write was vCPU 1's 0 at creation: start anew.) */
	set_msr(&v0, MSR_TSC, 1ull << 41);
	off0 = get_offset(&v0);
	set_msr(&v1, MSR_TSC, get_msr(&v0, MSR_TSC) + 1000);
	CHECK_EQ(off0, get_offset(&v1));
	/* Seconds away: its own offset. */
	long khz = ioctl(v1.fd, KVM_GET_TSC_KHZ, 0);
	set_msr(&v1, MSR_TSC, get_msr(&v0, MSR_TSC) + 5000ull * (uint64_t)khz);
	uint64_t off1 = get_offset(&v1);
	CHECK(off1 - off0 >= 4990ull * (uint64_t)khz && off1 - off0 <= 5010ull * (uint64_t)khz);
	/* That is the VM's offset now: the next new vCPU takes it. */
	start(&vm, &v2, 2);
	CHECK_EQ(off1, get_offset(&v2));
	/* KVM_VCPU_TSC_OFFSET writes are tracked too. */
	set_offset(&v2, off0);
	CHECK_EQ(off0, get_offset(&v2));
	vcpu_fini(&v2);
	vcpu_fini(&v1);
	vcpu_fini(&v0);
	vm_fini(&vm);
}

/* A guest WRMSR to IA32_TSC moves IA32_TSC_ADJUST by the same amount. */
static void guest_write(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	GUEST_LOAD(&vm, wr_code);
	start(&vm, &v, 0);
	const uint64_t target = 7ull << 40;
	struct kvm_regs r = get_regs(&v);
	r.rcx = MSR_TSC;
	r.rax = (uint32_t)target;
	r.rdx = target >> 32;
	set_regs(&v, &r);
	uint64_t before = get_msr(&v, MSR_TSC);
	uint64_t g = guest_tsc(&v);
	CHECK(g >= target && g < target + (1ull << 36));
	uint64_t adj = get_msr(&v, MSR_TSC_ADJUST);
	CHECK(adj >= target - before - (1ull << 36) && adj <= target - before);
	/* A guest write of IA32_TSC_ADJUST moves the TSC. */
	r = get_regs(&v);
	r.rip = G_CODE;
	r.rcx = MSR_TSC_ADJUST;
	r.rax = (uint32_t)(adj + (1ull << 41));
	r.rdx = (adj + (1ull << 41)) >> 32;
	set_regs(&v, &r);
	uint64_t g2 = guest_tsc(&v);
	CHECK(g2 - g >= (1ull << 41) && g2 - g < (1ull << 41) + (1ull << 36));
	CHECK_EQ(adj + (1ull << 41), get_msr(&v, MSR_TSC_ADJUST));
	vcpu_fini(&v);
	vm_fini(&vm);
}

struct pvclock_rec {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad[2];
};

static uint64_t pvclock_at(const struct pvclock_rec *p, uint64_t tsc)
{
	uint64_t d = tsc - p->tsc_timestamp;
	if (p->tsc_shift >= 0)
		d <<= p->tsc_shift;
	else
		d >>= -p->tsc_shift;
	return p->system_time + (uint64_t)(((unsigned __int128)d * p->tsc_to_system_mul) >> 32);
}

/* The record read at a guest TSC gives the VM's clock between two
 * KVM_GET_CLOCKs around the read, at the host's rate and a scaled one. */
static void kvmclock_at(unsigned long khz)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	GUEST_LOAD(&vm, wr_code);
	start(&vm, &v, 0);
	if (khz)
		CHECK_OK(ioctl(v.fd, KVM_SET_TSC_KHZ, khz));
	struct kvm_clock_data set = {.clock = 123ull * 1000000000ull};
	CHECK_OK(ioctl(vm.fd, KVM_SET_CLOCK, &set));
	struct kvm_regs r = get_regs(&v);
	r.rcx = MSR_KVM_SYSTEM_TIME_NEW;
	r.rax = PVCLOCK_GPA | 1;
	r.rdx = 0;
	set_regs(&v, &r);
	for (int i = 0; i < 10; i++) {
		struct kvm_clock_data a, b;
		CHECK_OK(ioctl(vm.fd, KVM_GET_CLOCK, &a));
		uint64_t g = guest_tsc(&v);
		CHECK_OK(ioctl(vm.fd, KVM_GET_CLOCK, &b));
		struct pvclock_rec p;
		memcpy(&p, vm.mem + PVCLOCK_GPA, sizeof(p));
		CHECK_EQ(0, p.version & 1);
		uint64_t t = pvclock_at(&p, g);
		if (!CHECK(t >= a.clock && t <= b.clock))
			printf("  kvmclock %llu not in %llu..%llu\n", (unsigned long long)t,
			       (unsigned long long)a.clock, (unsigned long long)b.clock);
		CHECK(a.clock >= set.clock && a.clock < set.clock + 10ull * 1000000000ull);
		if (host_tsc_real()) {
			CHECK(a.flags & KVM_CLOCK_HOST_TSC);
			CHECK(a.host_tsc > 0 && b.host_tsc >= a.host_tsc);
		}
		CHECK(a.flags & KVM_CLOCK_REALTIME);
		if (i == 4) {
			struct timespec ts = {0, 20000000};
			nanosleep(&ts, NULL);   /* let the record age */
		}
	}
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void kvmclock(void)
{
	kvmclock_at(0);
	kvmclock_at(TEST_KHZ);
	kvmclock_at(100000);
}

/* The cases once more with the guest TSC on the host's TSC
 * (SOFTKVM_HOST_TSC=1), where the host has an invariant one: the default
 * only where the host kernel's clocksource is tsc. */
static void host_tsc_mode(const char *self)
{
	unsigned a, b, c, d = 0;
	__get_cpuid(0x80000007u, &a, &b, &c, &d);
	if (getenv("SOFTKVM_HOST_TSC") || !(d & (1u << 8)))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		setenv("SOFTKVM_HOST_TSC", "1", 1);
		execl("/proc/self/exe", self, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	printf("guest TSC from the host's %s\n", host_tsc_real() ? "TSC" : "monotonic clock");
	RUN_CASE(caps_and_errno);
	RUN_CASE(unscaled_is_host_tsc);
	RUN_CASE(rates);
	RUN_CASE(host_write_matching);
	RUN_CASE(guest_write);
	RUN_CASE(kvmclock);
	fflush(stdout);
	host_tsc_mode(argv[0]);
	return t_done();
}
