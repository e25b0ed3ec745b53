/* Counting exits by kind, and the one-line summary printed at the end. */
#include <stdio.h>

#include "vmm.h"

static const char *const reason_names[VMM_MAX_EXIT_REASON] = {
	[KVM_EXIT_UNKNOWN] = "unknown",
	[KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io",
	[KVM_EXIT_HYPERCALL] = "hypercall",
	[KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open",
	[KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail_entry",
	[KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_SET_TPR] = "set_tpr",
	[KVM_EXIT_TPR_ACCESS] = "tpr_access",
	[KVM_EXIT_NMI] = "nmi",
	[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	[KVM_EXIT_SYSTEM_EVENT] = "system_event",
	[KVM_EXIT_IOAPIC_EOI] = "ioapic_eoi",
	[KVM_EXIT_HYPERV] = "hyperv",
	[KVM_EXIT_X86_RDMSR] = "x86_rdmsr",
	[KVM_EXIT_X86_WRMSR] = "x86_wrmsr",
	[KVM_EXIT_DIRTY_RING_FULL] = "dirty_ring_full",
	[KVM_EXIT_X86_BUS_LOCK] = "x86_bus_lock",
};

const char *exit_reason_name(uint32_t reason)
{
	if (reason < VMM_MAX_EXIT_REASON && reason_names[reason])
		return reason_names[reason];
	return "other";
}

void stats_count_exit(struct vmm *vmm, uint32_t reason)
{
	vmm->stats.total++;
	if (reason < VMM_MAX_EXIT_REASON)
		vmm->stats.by_reason[reason]++;
	else
		vmm->stats.other_reason++;
}

static void print_io_detail(const struct vmm *vmm)
{
	const char *sep = " (";

	for (unsigned i = 0; i < vmm->npio; i++) {
		fprintf(stderr, "%s%s=%llu", sep, vmm->pio[i].name,
			(unsigned long long)vmm->pio[i].accesses);
		sep = " ";
	}
	if (vmm->stats.pio_unclaimed)
		fprintf(stderr, "%sunclaimed=%llu", sep,
			(unsigned long long)vmm->stats.pio_unclaimed);
	if (vmm->npio || vmm->stats.pio_unclaimed)
		fputc(')', stderr);
}

/* "softkvm-vmm: exits=N io=N (uart=N debug-exit=N) hlt=N ..." */
void stats_print(const struct vmm *vmm)
{
	const struct exit_stats *s = &vmm->stats;

	fprintf(stderr, "softkvm-vmm: exits=%llu", (unsigned long long)s->total);
	for (uint32_t r = 0; r < VMM_MAX_EXIT_REASON; r++) {
		if (!s->by_reason[r])
			continue;
		if (reason_names[r])
			fprintf(stderr, " %s=%llu", reason_names[r],
				(unsigned long long)s->by_reason[r]);
		else
			fprintf(stderr, " reason%u=%llu", r,
				(unsigned long long)s->by_reason[r]);
		if (r == KVM_EXIT_IO)
			print_io_detail(vmm);
	}
	if (s->other_reason)
		fprintf(stderr, " other=%llu", (unsigned long long)s->other_reason);
	fprintf(stderr, " status=%d\n", vmm->status);
}
