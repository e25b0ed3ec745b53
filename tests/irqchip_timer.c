/* The in-kernel local APIC timer (KVM_CREATE_IRQCHIP): one-shot, periodic
 * and TSC-deadline modes raise their LVT vector through the IDT; a vCPU in
 * HLT sleeps inside KVM_RUN (MP state HALTED, little CPU used) until the
 * timer wakes it.
 *
 * The guest runs in 32-bit protected mode with the xAPIC at 0xfee00000.
 * Its handler for vector 0x40 counts in the mailbox and writes EOI. */
#include "vm.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>

#define APIC 0xfee00000
#define COUNT G_MAILBOX

/* Enable the APIC (SVR), divide by 1; EBX = initial count / ns. */
#define APIC_ON                                  \
	"movl $0x1ff, 0xfee000f0\n"              \
	"movl $0xb, 0xfee003e0\n"

GUEST_CODE(tm_guest, 32,
	APIC_ON
	/* One-shot: 0x40, count from EBX. */
	"movl $0x40, 0xfee00320\n"
	"sti\n"
	"movl %ebx, 0xfee00380\n"
	"1: hlt\n"
	"cmpl $1, 0x600\n"
	"jb 1b\n"
	"mov 0x600, %eax\n"
	"out %eax, $0x10\n"
	/* The current count of an expired one-shot timer is 0. */
	"mov 0xfee00390, %eax\n"
	"out %eax, $0x11\n"
	/* Periodic, 2 ms: wait for 5 more ticks, then mask. */
	"movl $0x20040, 0xfee00320\n"
	"movl $2000000, 0xfee00380\n"
	"2: hlt\n"
	"cmpl $6, 0x600\n"
	"jb 2b\n"
	"movl $0x10040, 0xfee00320\n"
	"mov 0x600, %eax\n"
	"out %eax, $0x12\n"
	/* TSC deadline: 0x40, now + ECX ticks. */
	"movl $0x40040, 0xfee00320\n"
	"mov %ecx, %esi\n"
	"rdtsc\n"
	"add %esi, %eax\n"
	"adc $0, %edx\n"
	"mov $0x6e0, %ecx\n"
	"wrmsr\n"
	"3: hlt\n"
	"cmpl $7, 0x600\n"
	"jb 3b\n"
	"mov 0x600, %eax\n"
	"out %eax, $0x13\n"
	/* The deadline MSR reads 0 once it fired. */
	"rdmsr\n"
	"out %eax, $0x14\n"
	"cli\n"
	"hlt\n"
	"tm_isr: incl 0x600\n"
	"movl $0, 0xfee000b0\n"
	"iret\n");
GUEST_LABEL(tm_isr);

static double now_s(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_supported_cpuid(struct vcpu *v)
{
	int n = 100;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
	c->nent = n;
	if (CHECK_OK(ioctl(v->vm->kvm, KVM_GET_SUPPORTED_CPUID, c)))
		CHECK_OK(ioctl(v->fd, KVM_SET_CPUID2, c));
	free(c);
}

static void timer_modes(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	CHECK(check_ext(vm.fd, KVM_CAP_IRQCHIP) > 0);
	CHECK(check_ext(vm.fd, KVM_CAP_TSC_DEADLINE_TIMER) > 0);
	if (!CHECK_OK(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0UL)))
		return;
	vcpu_init(&vm, &v, 0);
	set_supported_cpuid(&v);
	GUEST_LOAD(&vm, tm_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 0x40, GUEST_ADDR(tm_guest, tm_isr));
	struct kvm_regs r = get_regs(&v);
	r.rbx = 300 * 1000 * 1000;   /* one-shot: 300 ms at divide 1 (1 ns/tick) */
	long khz = ioctl(v.fd, KVM_GET_TSC_KHZ, 0);
	CHECK(khz > 0);
	r.rcx = (uint64_t)khz * 100;   /* TSC deadline: 100 ms at the vCPU's rate */
	set_regs(&v, &r);

	/* One-shot: the vCPU sleeps in HLT about 300 ms, using little CPU. */
	double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	CHECK_EQ(1, RUN_EXPECT_OUT(&v, 0x10));
	double dt = now_s(CLOCK_MONOTONIC) - t0, dc = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	printf("one-shot: %.3f s elapsed, %.3f s CPU\n", dt, dc);
	CHECK(dt >= 0.29);
	CHECK(dt < 3.0);
	CHECK(dc < 0.1);
	CHECK_EQ(0, RUN_EXPECT_OUT(&v, 0x11));

	/* Periodic: five 2 ms ticks. */
	t0 = now_s(CLOCK_MONOTONIC);
	CHECK_EQ(6, RUN_EXPECT_OUT(&v, 0x12));
	dt = now_s(CLOCK_MONOTONIC) - t0;
	printf("periodic: 5 ticks in %.3f s\n", dt);
	CHECK(dt >= 0.0095);
	CHECK(dt < 2.0);

	/* TSC deadline: 100 ms. */
	t0 = now_s(CLOCK_MONOTONIC);
	CHECK_EQ(7, RUN_EXPECT_OUT(&v, 0x13));
	dt = now_s(CLOCK_MONOTONIC) - t0;
	printf("tsc-deadline: %.3f s\n", dt);
	CHECK(dt >= 0.095);
	CHECK(dt < 3.0);
	CHECK_EQ(0, RUN_EXPECT_OUT(&v, 0x14));
	vcpu_fini(&v);
	vm_fini(&vm);
}

GUEST_CODE(tm_halt, 32, APIC_ON "cli\nhlt\nout %al, $0x10\n");

/* HLT with IF = 0 and nothing pending: HALTED inside KVM_RUN until a
 * signal, which ends KVM_RUN with EINTR; the thread sleeps meanwhile. */
static void *alarm_thread(void *arg)
{
	usleep(300 * 1000);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void halt_sleeps(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	if (!CHECK_OK(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0UL)))
		return;
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, tm_halt);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t self = pthread_self(), t;
	pthread_create(&t, NULL, alarm_thread, &self);
	double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	CHECK_ERRNO(vcpu_run(&v), EINTR);
	double dt = now_s(CLOCK_MONOTONIC) - t0, dc = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	pthread_join(t, NULL);
	printf("halted: %.3f s elapsed, %.3f s CPU\n", dt, dc);
	CHECK_EQ(KVM_EXIT_INTR, v.run->exit_reason);
	CHECK(dt >= 0.25);
	CHECK(dc < 0.1);
	struct kvm_mp_state mp;
	CHECK_OK(ioctl(v.fd, KVM_GET_MP_STATE, &mp));
	CHECK_EQ(KVM_MP_STATE_HALTED, mp.mp_state);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(timer_modes);
	RUN_CASE(halt_sleeps);
	return t_done();
}
