/* The vCPU loop: KVM_RUN, handle the exit, go back in. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm.h"

static void stop_on_signal(struct vmm *vmm)
{
	uart_flush();
	vmm->status = vmm_stop_status("softkvm-vmm", VMM_STATUS_TIMEOUT);
	vmm->done = true;
}

static void handle_io(struct vmm *vmm)
{
	struct kvm_run *run = vmm->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* A string instruction (INS/OUTS with REP) hands over count items. */
	for (uint32_t i = 0; i < run->io.count && !vmm->done; i++)
		pio_dispatch(vmm, run->io.port, is_write,
			     data + (size_t)i * run->io.size, run->io.size);
}

static void handle_mmio(struct vmm *vmm)
{
	struct kvm_run *run = vmm->run;

	/* No MMIO devices: reads of unbacked memory float high. */
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
}

static int fail(struct vmm *vmm, const char *what)
{
	uart_flush();
	fprintf(stderr, "softkvm-vmm: %s\n", what);
	vmm_dump_state(vmm);
	vmm->status = VMM_STATUS_ERROR;
	vmm->done = true;
	return -1;
}

static int handle_internal_error(struct vmm *vmm)
{
	struct kvm_run *run = vmm->run;
	char msg[128];

	snprintf(msg, sizeof(msg), "KVM internal error, suberror %u",
		 run->internal.suberror);
	for (uint32_t i = 0; i < run->internal.ndata && i < 16; i++)
		fprintf(stderr, "softkvm-vmm:   data[%u] = %#llx\n", i,
			(unsigned long long)run->internal.data[i]);
	return fail(vmm, msg);
}

static int handle_exit(struct vmm *vmm)
{
	struct kvm_run *run = vmm->run;
	char msg[128];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vmm);
		return 0;
	case KVM_EXIT_MMIO:
		handle_mmio(vmm);
		return 0;
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_HLT:
		/* No interrupt controller, so nothing would ever wake it. */
		vmm->done = true;
		return 0;
	case KVM_EXIT_SYSTEM_EVENT:
		vmm->done = true;
		return 0;
	case KVM_EXIT_SHUTDOWN:
		return fail(vmm, "guest shut down (triple fault)");
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(msg, sizeof(msg), "VM entry failed, reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return fail(vmm, msg);
	case KVM_EXIT_INTERNAL_ERROR:
		return handle_internal_error(vmm);
	default:
		snprintf(msg, sizeof(msg), "unexpected exit %u (%s)",
			 run->exit_reason, vmm_exit_name(run->exit_reason));
		return fail(vmm, msg);
	}
}

int vmm_run(struct vmm *vmm)
{
	while (!vmm->done) {
		if (vmm_stop_signal) {
			stop_on_signal(vmm);
			break;
		}
		if (ioctl(vmm->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			char msg[96];
			snprintf(msg, sizeof(msg), "KVM_RUN: %s", strerror(errno));
			fail(vmm, msg);
			break;
		}
		vmm_count_exit(&vmm->stats, vmm->run->exit_reason);
		handle_exit(vmm);
	}
	uart_flush();
	return vmm->status;
}

static void dump_segment(const char *name, const struct kvm_segment *s)
{
	fprintf(stderr, "softkvm-vmm:   %-3s sel=%04x base=%016llx limit=%08x "
		"type=%x s=%u dpl=%u p=%u l=%u db=%u\n", name, s->selector,
		(unsigned long long)s->base, s->limit, s->type, s->s, s->dpl,
		s->present, s->l, s->db);
}

void vmm_dump_state(struct vmm *vmm)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vmm->vcpu_fd, KVM_GET_REGS, &r) == 0) {
		fprintf(stderr, "softkvm-vmm:   rip=%016llx rsp=%016llx "
			"rflags=%016llx\n", (unsigned long long)r.rip,
			(unsigned long long)r.rsp, (unsigned long long)r.rflags);
		fprintf(stderr, "softkvm-vmm:   rax=%016llx rbx=%016llx "
			"rcx=%016llx rdx=%016llx\n", (unsigned long long)r.rax,
			(unsigned long long)r.rbx, (unsigned long long)r.rcx,
			(unsigned long long)r.rdx);
	}
	if (ioctl(vmm->vcpu_fd, KVM_GET_SREGS, &s) == 0) {
		fprintf(stderr, "softkvm-vmm:   cr0=%llx cr2=%llx cr3=%llx "
			"cr4=%llx efer=%llx\n", (unsigned long long)s.cr0,
			(unsigned long long)s.cr2, (unsigned long long)s.cr3,
			(unsigned long long)s.cr4, (unsigned long long)s.efer);
		dump_segment("cs", &s.cs);
		dump_segment("ss", &s.ss);
		dump_segment("ds", &s.ds);
	}
}
