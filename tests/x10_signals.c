/* X10 (signals): a signal to the vCPU thread during KVM_RUN makes KVM_RUN
 * return -1/EINTR with KVM_EXIT_INTR once the handler has run, with or
 * without SA_RESTART; KVM_SET_SIGNAL_MASK is the mask while in KVM_RUN: a
 * signal it blocks does not interrupt the guest and is delivered after. */
#include "vm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <time.h>

static volatile sig_atomic_t handled;
static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static void install(int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = flags;
	sigaction(SIGUSR1, &sa, NULL);
}

struct kicker {
	pthread_t target;
	atomic_int stop;        /* set by the vCPU thread, read by the kicker */
	int once;               /* send a single signal after delay_ms */
	int delay_ms;
	/* then, if set, write 1 here after 200 ms: a guest word the guest
	 * polls, written as the other CPU of a real machine would. */
	_Atomic uint32_t *flag;
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void *kick(void *arg)
{
	struct kicker *k = arg;
	if (k->once) {
		sleep_ms(k->delay_ms);
		pthread_kill(k->target, SIGUSR1);
		if (k->flag) {
			sleep_ms(200);
			atomic_store(k->flag, 1);
		}
		return NULL;
	}
	while (!atomic_load(&k->stop)) {
		sleep_ms(k->delay_ms);
		if (!atomic_load(&k->stop))
			pthread_kill(k->target, SIGUSR1);
	}
	return NULL;
}

/* A busy loop that never exits by itself. */
GUEST_CODE(x10_spin, 32, "x10_spin_loop: jmp x10_spin_loop\n");
GUEST_LABEL(x10_spin_loop);

static void interrupted_run(int sa_flags)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x10_spin);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	install(sa_flags);
	for (int round = 0; round < 2; round++) {
		handled = 0;
		struct kicker k = {.target = pthread_self(), .delay_ms = 50};
		pthread_t t;
		pthread_create(&t, NULL, kick, &k);
		int r = vcpu_run(&v);
		int err = errno;
		sig_atomic_t seen = handled;  /* before anything else can run */
		atomic_store(&k.stop, 1);
		pthread_join(t, NULL);
		CHECK_EQ(-1, r);
		CHECK_EQ(EINTR, err);
		CHECK_EQ(KVM_EXIT_INTR, v.run->exit_reason);
		CHECK(seen >= 1);
		CHECK_EQ(GUEST_ADDR(x10_spin, x10_spin_loop), get_regs(&v).rip);
	}
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void signal_interrupts_run(void)
{
	interrupted_run(0);
}

static void signal_interrupts_run_sa_restart(void)
{
	interrupted_run(SA_RESTART);
}

/* Spin until the word at G_MAILBOX becomes nonzero, OUT, clear it, again. */
GUEST_CODE(x10_wait, 32,
	"1: cmpl $0, 0x600\n"
	"je 1b\n"
	"out %al, $0x10\n"
	"movl $0, 0x600\n"
	"jmp 1b\n");

static void signal_mask_blocks(void)
{
	struct vm vm;
	struct vcpu v;
	sigset_t usr1;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x10_wait);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	install(0);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	CHECK_ERRNO(vcpu_set_sigmask(&v, &usr1, 16), EINVAL);
	CHECK_ERRNO(vcpu_set_sigmask(&v, &usr1, 4), EINVAL);
	CHECK_OK(vcpu_set_sigmask(&v, &usr1, 8));

	handled = 0;
	_Atomic uint32_t *flag = (_Atomic uint32_t *)(vm.mem + G_MAILBOX);
	atomic_store(flag, 0);
	struct kicker k = {.target = pthread_self(), .once = 1, .delay_ms = 100, .flag = flag};
	pthread_t t;
	pthread_create(&t, NULL, kick, &k);
	RUN_EXPECT_OUT(&v, 0x10);   /* not EINTR: the signal was blocked */
	pthread_join(t, NULL);
	/* Unblocked again after KVM_RUN: delivered by now. */
	CHECK_EQ(1, handled);

	/* NULL removes the mask: the next signal interrupts KVM_RUN. */
	CHECK_OK(ioctl(v.fd, KVM_SET_SIGNAL_MASK, NULL));
	handled = 0;
	struct kicker k2 = {.target = pthread_self(), .delay_ms = 50};
	pthread_create(&t, NULL, kick, &k2);
	int r = vcpu_run(&v);
	int err = errno;
	atomic_store(&k2.stop, 1);
	pthread_join(t, NULL);
	CHECK_EQ(-1, r);
	CHECK_EQ(EINTR, err);
	CHECK(handled >= 1);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(signal_interrupts_run);
	RUN_CASE(signal_interrupts_run_sa_restart);
	RUN_CASE(signal_mask_blocks);
	return t_done();
}
