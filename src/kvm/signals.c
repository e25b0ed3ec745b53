/* Signals: how a handled signal ends KVM_RUN, and how a fault on guest
 * memory ends it with EFAULT instead of killing the process.
 *
 * softkvm installs its own trampoline for every signal the program
 * handles (softkvm_sigaction, reached through the preload seam's
 * sigaction). During KVM_RUN the trampoline does not run the program's
 * handler: it records the signal and posts SK_REQ_EXIT; the vCPU sees the
 * request at its next block boundary and KVM_RUN ends with EINTR and
 * KVM_EXIT_INTR. Once the thread's own signal mask is back, the recorded
 * signals are queued to the thread again, so the kernel delivers them as it
 * would on return from the real ioctl: the handler runs before ioctl()
 * returns, or the signal stays pending if the thread's mask blocks it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "softkvm.h"

#define SK_EXPORT __attribute__((visibility("default")))

/* glibc's own entry, which the preload seam does not interpose. */
extern int __sigaction(int, const struct sigaction *, struct sigaction *);

_Thread_local sigjmp_buf *sk_guest_fault_jb;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction user_act[_NSIG]; /* what the program asked for */
static bool user_known[_NSIG];

/* Signals taken during this thread's KVM_RUN, to be queued again. */
#define DEFER_MAX 16
static _Thread_local siginfo_t deferred[DEFER_MAX];
static _Thread_local int n_deferred;

static bool is_fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS;
}

static void call_user(int sig, siginfo_t *info, void *uc)
{
	struct sigaction act = user_act[sig];
	if (act.sa_flags & SA_RESETHAND) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		user_act[sig] = dfl;
		if (!is_fault_signal(sig))
			__sigaction(sig, &dfl, NULL);
	}
	if (act.sa_flags & SA_SIGINFO) {
		act.sa_sigaction(sig, info, uc);
	} else if (act.sa_handler == SIG_DFL) {
		/* Only the fault signals get here with SIG_DFL: let the kernel
		 * take its default action on the re-executed access. */
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		__sigaction(sig, &dfl, NULL);
	} else if (act.sa_handler != SIG_IGN) {
		act.sa_handler(sig);
	}
}

static void defer(const siginfo_t *info)
{
	bool rt = info->si_signo >= SIGRTMIN;
	for (int i = 0; i < n_deferred && !rt; i++)
		if (deferred[i].si_signo == info->si_signo)
			return; /* standard signals do not queue */
	if (n_deferred < DEFER_MAX)
		deferred[n_deferred++] = *info;
}

void sk_signals_defer(const siginfo_t *info)
{
	defer(info);
}

_Thread_local siginfo_t sk_guest_hwpoison;
_Thread_local bool sk_guest_hwpoison_set;

void sk_signals_redeliver(void)
{
	int n = n_deferred;
	n_deferred = 0;
	for (int i = 0; i < n; i++)
		syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), deferred[i].si_signo, &deferred[i]);
}

static void trampoline(int sig, siginfo_t *info, void *uc)
{
	struct sk_vcpu *vcpu = sk_current_vcpu;
	if (is_fault_signal(sig) && sk_guest_fault_jb && vcpu) {
		sigjmp_buf *jb = sk_guest_fault_jb;
		sk_guest_fault_jb = NULL;
		/* Host memory behind the guest is hardware-poisoned: KVM passes
		 * the SIGBUS on to the vCPU thread (KVM_RUN ends with EINTR). */
		if (sig == SIGBUS && info->si_code == BUS_MCEERR_AR) {
			sk_guest_hwpoison = *info;
			sk_guest_hwpoison_set = true;
		}
		siglongjmp(*jb, 1);
	}
	if (vcpu) {
		defer(info);
		sk_vcpu_request(vcpu, SK_REQ_EXIT);
		return;
	}
	int saved = errno;
	call_user(sig, info, uc);
	errno = saved;
}

/* The disposition softkvm installs in the kernel for what the program asked. */
static struct sigaction kernel_act(int sig, const struct sigaction *act)
{
	struct sigaction k = *act;
	bool handled = (act->sa_flags & SA_SIGINFO) ||
		       (act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN);
	if (handled || is_fault_signal(sig)) {
		k.sa_sigaction = trampoline;
		k.sa_flags = (k.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
		if (is_fault_signal(sig))
			k.sa_flags |= SA_NODEFER | SA_ONSTACK;
	}
	return k;
}

SK_EXPORT int softkvm_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig <= 0 || sig >= _NSIG)
		return __sigaction(sig, act, old);
	pthread_mutex_lock(&lock);
	struct sigaction prev;
	int r = 0;
	if (act) {
		struct sigaction k = kernel_act(sig, act);
		r = __sigaction(sig, &k, &prev);
	} else {
		r = __sigaction(sig, NULL, &prev);
	}
	if (r == 0) {
		if (old)
			*old = user_known[sig] ? user_act[sig] : prev;
		if (act) {
			user_act[sig] = *act;
			user_known[sig] = true;
		}
	}
	pthread_mutex_unlock(&lock);
	return r;
}

/* Take over SIGSEGV and SIGBUS, keeping what the program had. */
static void take_over_fault_signals(void)
{
	int sigs[] = {SIGSEGV, SIGBUS};
	for (int i = 0; i < 2; i++) {
		struct sigaction cur;
		if (softkvm_sigaction(sigs[i], NULL, &cur) == 0)
			softkvm_sigaction(sigs[i], &cur, NULL);
	}
}

void sk_signals_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, take_over_fault_signals);
}
