/* X9: KVM_GET_MP_STATE / KVM_SET_MP_STATE.
 * Without an in-kernel irqchip real KVM keeps every vCPU RUNNABLE and
 * refuses any other state (EINVAL): userspace keeps the MP state itself, and
 * HLT exits to userspace. With KVM_CREATE_IRQCHIP: APs start UNINITIALIZED,
 * INIT_RECEIVED can be set, SIPI_RECEIVED starts the AP at the SIPI vector
 * given through KVM_SET_VCPU_EVENTS, and HLT is HALTED inside KVM_RUN. */
#include "vm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/ioctl.h>

static uint32_t mp_get(struct vcpu *v)
{
	struct kvm_mp_state s = {.mp_state = 0xdead};
	CHECK_OK(ioctl(v->fd, KVM_GET_MP_STATE, &s));
	return s.mp_state;
}

static int mp_set(struct vcpu *v, uint32_t state)
{
	struct kvm_mp_state s = {.mp_state = state};
	return ioctl(v->fd, KVM_SET_MP_STATE, &s);
}

GUEST_CODE(x9_hlt, 16, "out %al, $0x10\nhlt\nout %al, $0x11\nhlt\n");

static void without_irqchip(void)
{
	struct vm vm;
	struct vcpu v0, v1;
	vm_init(&vm);
	CHECK(check_ext(vm.kvm, KVM_CAP_MP_STATE) > 0);
	vcpu_init(&vm, &v0, 0);
	vcpu_init(&vm, &v1, 1);
	CHECK_EQ(KVM_MP_STATE_RUNNABLE, mp_get(&v0));
	CHECK_EQ(KVM_MP_STATE_RUNNABLE, mp_get(&v1));
	CHECK_OK(mp_set(&v1, KVM_MP_STATE_RUNNABLE));
	CHECK_ERRNO(mp_set(&v1, KVM_MP_STATE_UNINITIALIZED), EINVAL);
	CHECK_ERRNO(mp_set(&v1, KVM_MP_STATE_INIT_RECEIVED), EINVAL);
	CHECK_ERRNO(mp_set(&v1, KVM_MP_STATE_HALTED), EINVAL);
	CHECK_ERRNO(mp_set(&v1, KVM_MP_STATE_SIPI_RECEIVED), EINVAL);
	CHECK_ERRNO(mp_set(&v1, 0x1234), EINVAL);
	CHECK_EQ(KVM_MP_STATE_RUNNABLE, mp_get(&v1));
	CHECK_ERRNO(ioctl(v1.fd, KVM_GET_MP_STATE, (void *)1), EFAULT);

	/* HLT exits to userspace; the vCPU stays RUNNABLE, and KVM_RUN
	 * continues after the HLT. */
	GUEST_LOAD(&vm, x9_hlt);
	vcpu_setup(&v0, MODE_REAL, G_CODE);
	RUN_EXPECT_OUT(&v0, 0x10);
	RUN_EXPECT_EXIT(&v0, KVM_EXIT_HLT);
	CHECK_EQ(KVM_MP_STATE_RUNNABLE, mp_get(&v0));
	RUN_EXPECT_OUT(&v0, 0x11);
	vcpu_fini(&v1);
	vcpu_fini(&v0);
	vm_fini(&vm);
}

static volatile sig_atomic_t got_signal;
static void on_usr1(int sig)
{
	(void)sig;
	got_signal = 1;
}

struct kicker {
	pthread_t target;
	atomic_int stop;
};

/* Signal the vCPU thread every 50 ms until told to stop. */
static void *kick(void *arg)
{
	struct kicker *k = arg;
	while (!atomic_load(&k->stop)) {
		usleep(50000);
		if (!atomic_load(&k->stop))
			pthread_kill(k->target, SIGUSR1);
	}
	return NULL;
}

/* The AP's code at the SIPI vector's page 0x3000: OUT, then HLT. */
GUEST_CODE(x9_ap, 16, "out %al, $0x10\nhlt\nout %al, $0x11\n");

static void with_irqchip(void)
{
	struct vm vm;
	struct vcpu bsp, ap;
	vm_init(&vm);
	if (check_ext(vm.kvm, KVM_CAP_IRQCHIP) <= 0) {
		SKIP("KVM_CAP_IRQCHIP not reported: the in-kernel irqchip part of X9 is not tested");
		vm_fini(&vm);
		return;
	}
	if (!CHECK_OK(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0UL))) {
		vm_fini(&vm);
		return;
	}
	vcpu_init(&vm, &bsp, 0);
	vcpu_init(&vm, &ap, 1);
	CHECK_EQ(KVM_MP_STATE_RUNNABLE, mp_get(&bsp));
	CHECK_EQ(KVM_MP_STATE_UNINITIALIZED, mp_get(&ap));
	/* An UNINITIALIZED AP with immediate_exit returns EINTR at once. */
	ap.run->immediate_exit = 1;
	CHECK_ERRNO(vcpu_run(&ap), EINTR);
	ap.run->immediate_exit = 0;

	CHECK_OK(mp_set(&ap, KVM_MP_STATE_INIT_RECEIVED));
	CHECK_EQ(KVM_MP_STATE_INIT_RECEIVED, mp_get(&ap));
	struct kvm_vcpu_events e = get_events(&ap);
	e.flags = KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	e.sipi_vector = 0x03;
	CHECK_OK(ioctl(ap.fd, KVM_SET_VCPU_EVENTS, &e));
	CHECK_OK(mp_set(&ap, KVM_MP_STATE_SIPI_RECEIVED));
	/* The SIPI is taken as soon as KVM looks at the AP: RUNNABLE at
	 * CS = vector << 8, IP = 0. */
	CHECK_EQ(KVM_MP_STATE_RUNNABLE, mp_get(&ap));
	struct kvm_sregs s = get_sregs(&ap);
	CHECK_EQ(0x0300, s.cs.selector);
	CHECK_EQ(0x3000, s.cs.base);
	CHECK_EQ(0, get_regs(&ap).rip);

	guest_load(&vm, 0x3000, x9_ap, x9_ap_end);
	RUN_EXPECT_OUT(&ap, 0x10);

	/* HLT with an in-kernel LAPIC sleeps inside KVM_RUN until an
	 * interrupt; a signal gets the thread out with EINTR. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	struct kicker k = {.target = pthread_self()};
	pthread_t t;
	pthread_create(&t, NULL, kick, &k);
	CHECK_ERRNO(vcpu_run(&ap), EINTR);
	atomic_store(&k.stop, 1);
	pthread_join(t, NULL);
	CHECK_EQ(KVM_EXIT_INTR, ap.run->exit_reason);
	CHECK_EQ(1, got_signal);
	CHECK_EQ(KVM_MP_STATE_HALTED, mp_get(&ap));
	CHECK_OK(mp_set(&ap, KVM_MP_STATE_RUNNABLE));
	RUN_EXPECT_OUT(&ap, 0x11);
	vcpu_fini(&ap);
	vcpu_fini(&bsp);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(without_irqchip);
	RUN_CASE(with_irqchip);
	return t_done();
}
