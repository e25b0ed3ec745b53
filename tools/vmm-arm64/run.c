/* The vCPU loop: KVM_RUN, handle the exit, go back in, until the guest
 * powers off (PSCI SYSTEM_OFF / SYSTEM_RESET -> KVM_EXIT_SYSTEM_EVENT)
 * with the status last written to the exit register (exitdev.c). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm.h"

static void finish(struct vmm *vmm, int status)
{
	fflush(stdout);
	vmm->status = status;
	vmm->done = true;
}

static void stop_on_signal(struct vmm *vmm)
{
	finish(vmm, vmm_stop_status("softkvm-vmm-arm64", VMM_STATUS_TIMEOUT));
}

static void dump_pc(struct vmm *vmm)
{
	uint64_t pc = 0, pstate = 0;

	vmm_get_reg(vmm, vmm_core_reg_id(offsetof(struct kvm_regs, regs.pc)),
		    &pc);
	vmm_get_reg(vmm, vmm_core_reg_id(offsetof(struct kvm_regs,
						   regs.pstate)), &pstate);
	fprintf(stderr, "softkvm-vmm-arm64:   pc=%#llx pstate=%#llx\n",
		(unsigned long long)pc, (unsigned long long)pstate);
}

static void fail(struct vmm *vmm, const char *what, unsigned long long v)
{
	fflush(stdout);
	fprintf(stderr, "softkvm-vmm-arm64: %s %llu\n", what, v);
	dump_pc(vmm);
	finish(vmm, VMM_STATUS_ERROR);
}

static void handle_system_event(struct vmm *vmm)
{
	/* A reset too ends the run: there is nothing to reboot into. */
	finish(vmm, vmm->guest_status);
}

static void handle_exit(struct vmm *vmm)
{
	struct kvm_run *run = vmm->run;

	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		mmio_dispatch(vmm);
		break;
	case KVM_EXIT_INTR:
		break;
	case KVM_EXIT_ARM_NISV:	/* only with the nisv flow's capability */
		nisv_handle(vmm);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(vmm);
		break;
	case VMM_EXIT_ARM_SEA:	/* only with the sea flow's capability */
		if (sea_handle_exit(vmm) < 0)
			finish(vmm, VMM_STATUS_ERROR);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		fail(vmm, "KVM internal error, suberror",
		     run->internal.suberror);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		fail(vmm, "entry failed, reason",
		     run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		fprintf(stderr, "softkvm-vmm-arm64: unhandled exit %s\n",
			vmm_exit_name(run->exit_reason));
		fail(vmm, "exit reason", run->exit_reason);
		break;
	}
}

int vmm_run(struct vmm *vmm, unsigned long timeout_s)
{
	if (vmm_catch_stop_signals("softkvm-vmm-arm64", vmm->run, timeout_s) < 0)
		return VMM_STATUS_ERROR;
	while (!vmm->done) {
		if (vmm_stop_signal) {
			stop_on_signal(vmm);
			break;
		}
		int r = ioctl(vmm->vcpu_fd, KVM_RUN, 0);
		int err = errno;
		if (vmm->user_irq && userirq_sync(vmm) < 0) {
			finish(vmm, VMM_STATUS_ERROR);
			break;
		}
		errno = err;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vmm->run->immediate_exit = 0;
				if (vmm->sea && sea_after_eintr(vmm) < 0) {
					finish(vmm, VMM_STATUS_ERROR);
					break;
				}
				continue;
			}
			fflush(stdout);
			perror("softkvm-vmm-arm64: KVM_RUN");
			dump_pc(vmm);
			finish(vmm, VMM_STATUS_ERROR);
			break;
		}
		vmm_count_exit(&vmm->stats, vmm->run->exit_reason);
		handle_exit(vmm);
	}
	return vmm->status;
}
