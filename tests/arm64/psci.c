/* PSCI CPU_ON / CPU_OFF / AFFINITY_INFO across two vCPU threads: the
 * secondary starts powered off and sleeps inside KVM_RUN until CPU_ON. */
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "a64t.h"

static struct tvcpu v0, v1;
/* Shared by the two vCPU threads of the test. */
static atomic_int sec_reports, sec_done;
static int sec_exit;

static void on_usr1(int sig)
{
	(void)sig;
}

static void *secondary(void *arg)
{
	(void)arg;
	for (;;) {
		int handled;
		int r = run_once(&v1, &handled);
		if (handled) {
			atomic_store(&sec_reports, v1.nvalues);
			continue;
		}
		if (r == -EINTR) {
			if (atomic_load(&sec_done))
				break;
			continue;
		}
		sec_exit = r;
		break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct tvm vm;
	if (argc < 2 || tvm_create(&vm) < 0 || load_guest(&vm, argv[1]) < 0 ||
	    tvcpu_create(&vm, &v0, 0, 1u << KVM_ARM_VCPU_PSCI_0_2) < 0 ||
	    tvcpu_create(&vm, &v1, 1, (1u << KVM_ARM_VCPU_PSCI_0_2) | (1u << KVM_ARM_VCPU_POWER_OFF)) < 0) {
		perror("setup");
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	struct kvm_mp_state mp;
	CHECK_OK(ioctl(v1.fd, KVM_GET_MP_STATE, &mp));
	CHECK_EQ(KVM_MP_STATE_STOPPED, mp.mp_state);
	pthread_t th;
	pthread_create(&th, NULL, secondary, NULL);
	usleep(20000);   /* the secondary sleeps in KVM_RUN */
	set_reg(&v0, CORE_REG(regs.pc), RAM_GPA);
	int r = run_guest(&v0);
	CHECK_EQ(KVM_EXIT_SYSTEM_EVENT, r);
	if (argc > 2) {   /* another guest (smp): its own count of checks */
		CHECK_EQ(strtol(argv[2], NULL, 0), v0.checks);
	} else {
		CHECK_EQ(8, v0.checks);
		CHECK_EQ(2, atomic_load(&sec_reports));
	}
	atomic_store(&sec_done, 1);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	CHECK_EQ(0, sec_exit);
	CHECK_OK(ioctl(v1.fd, KVM_GET_MP_STATE, &mp));
	CHECK_EQ(KVM_MP_STATE_STOPPED, mp.mp_state);
	return t_done();
}
