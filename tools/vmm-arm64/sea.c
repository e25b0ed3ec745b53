/* Flow "sea": memory errors. The VMM poisons one guest page with softkvm's
 * fault-injection call (looked up at run time: a program on real KVM has no
 * such call; hardware poison arrives the same way). The guest's access to
 * it sends the vCPU thread SIGBUS (BUS_OBJERR, si_addr = the host address)
 * and KVM_RUN fails with EINTR; the VMM's handler records the signal, and
 * the VMM then injects a synchronous external abort into the guest
 * (KVM_SET_VCPU_EVENTS ext_dabt_pending), as it would on real KVM. It then
 * enables KVM_CAP_ARM_SEA_TO_USER, so the guest's access to a second
 * poisoned page is a KVM_EXIT_ARM_SEA exit (esr, gva, gpa), answered with
 * the same injection. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* RTLD_DEFAULT */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm.h"

/* Upstream's KVM_EXIT_ARM_SEA, newer than the 6.1 headers. */
#ifndef KVM_CAP_ARM_SEA_TO_USER
#define KVM_CAP_ARM_SEA_TO_USER 245
#endif
#define KVM_EXIT_ARM_SEA_FLAG_GPA_VALID (1ULL << 0)
struct arm_sea_exit {
	uint64_t flags, esr, gva, gpa;
};

static volatile sig_atomic_t sigbus_count;
static volatile int sigbus_code;
static void *volatile sigbus_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	sigbus_code = si->si_code;
	sigbus_addr = si->si_addr;
	sigbus_count++;
}

static int poison_page(struct vmm *vmm)
{
	int (*poison)(int, uint64_t, uint64_t, unsigned);

	*(void **)&poison = dlsym(RTLD_DEFAULT, "softkvm_poison");
	if (!poison) {
		fprintf(stderr, "softkvm-vmm-arm64: softkvm_poison not found "
			"(the sea flow needs softkvm)\n");
		return -1;
	}
	if (poison(vmm->vm_fd, VMM_POISON_GPA, 2 * 4096, 0) < 0) {
		fprintf(stderr, "softkvm-vmm-arm64: softkvm_poison: %s\n",
			strerror(errno));
		return -1;
	}
	printf("vmm: poisoned GPA %#llx (8 KiB) with softkvm_poison\n",
	       VMM_POISON_GPA);
	return 0;
}

int sea_init(struct vmm *vmm)
{
	struct sigaction sa;

	if (VMM_POISON_GPA + 2 * 4096 > VMM_RAM_BASE + vmm->mem_size) {
		fprintf(stderr, "softkvm-vmm-arm64: RAM too small for sea\n");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0) {
		perror("softkvm-vmm-arm64: sigaction SIGBUS");
		return -1;
	}
	vmm->sea = true;
	return poison_page(vmm);
}

static int inject_sea(struct vmm *vmm)
{
	if (vmm_inject_ext_dabt(vmm) < 0)
		return -1;
	vmm->sea_injected++;
	printf("vmm: external abort injected (ext_dabt_pending)\n");
	return 0;
}

/* From now on memory errors are exits, not signals. */
static int enable_sea_exits(struct vmm *vmm)
{
	struct kvm_enable_cap cap = {.cap = KVM_CAP_ARM_SEA_TO_USER};
	if (ioctl(vmm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_SEA_TO_USER) <= 0)
		return 0;
	if (ioctl(vmm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		fprintf(stderr, "softkvm-vmm-arm64: KVM_ENABLE_CAP(SEA_TO_USER): %s\n",
			strerror(errno));
		return -1;
	}
	printf("vmm: KVM_CAP_ARM_SEA_TO_USER enabled: memory errors now exit KVM_RUN\n");
	return 0;
}

/* KVM_EXIT_ARM_SEA: the error's syndrome and addresses come in kvm_run. */
int sea_handle_exit(struct vmm *vmm)
{
	struct arm_sea_exit e;
	memcpy(&e, &vmm->run->mmio, sizeof(e));	/* the start of the exit union */
	printf("vmm: KVM_EXIT_ARM_SEA esr=%#llx gva=%#llx gpa=%#llx%s\n",
	       (unsigned long long)e.esr, (unsigned long long)e.gva,
	       (unsigned long long)e.gpa,
	       e.flags & KVM_EXIT_ARM_SEA_FLAG_GPA_VALID ? "" : " (gpa not valid)");
	return inject_sea(vmm);
}

/* After KVM_RUN failed with EINTR: a recorded SIGBUS becomes an SEA. */
int sea_after_eintr(struct vmm *vmm)
{
	if (!sigbus_count)
		return 0;
	sigbus_count = 0;
	uintptr_t host = (uintptr_t)sigbus_addr;
	uintptr_t mem = (uintptr_t)vmm->mem;
	printf("vmm: SIGBUS %s, KVM_RUN: EINTR; si_addr = guest RAM + %#lx "
	       "(GPA %#llx)\n",
	       sigbus_code == BUS_OBJERR ? "BUS_OBJERR" :
	       sigbus_code == BUS_MCEERR_AR ? "BUS_MCEERR_AR" : "(other)",
	       (unsigned long)(host - mem),
	       (unsigned long long)(VMM_RAM_BASE + (host - mem)));
	if (host - mem >= vmm->mem_size)
		return -1;	/* not guest memory: not ours to forward */

	if (inject_sea(vmm) < 0)
		return -1;
	return enable_sea_exits(vmm);
}

void sea_report(const struct vmm *vmm)
{
	printf("vmm: %u memory errors forwarded to the guest as SEA\n",
	       vmm->sea_injected);
}
