/* Counting exits by kind, and the one-line summary printed at the end:
 * "softkvm-vmm-arm64: exits=N mmio=N (uart=N exit=1) system_event=1
 * status=S". */
#include <stdio.h>

#include "vmm.h"

static const char *const reason_names[VMM_MAX_EXIT_REASON] = {
	[KVM_EXIT_UNKNOWN] = "unknown",
	[KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_HYPERCALL] = "hypercall",
	[KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail_entry",
	[KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	[KVM_EXIT_SYSTEM_EVENT] = "system_event",
	[KVM_EXIT_ARM_NISV] = "arm_nisv",
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

static void print_mmio_detail(const struct vmm *vmm)
{
	const char *sep = " (";

	for (unsigned i = 0; i < vmm->nmmio; i++) {
		fprintf(stderr, "%s%s=%llu", sep, vmm->mmio[i].name,
			(unsigned long long)vmm->mmio[i].accesses);
		sep = " ";
	}
	if (vmm->stats.mmio_unclaimed)
		fprintf(stderr, "%sunclaimed=%llu", sep,
			(unsigned long long)vmm->stats.mmio_unclaimed);
	if (vmm->nmmio || vmm->stats.mmio_unclaimed)
		fputc(')', stderr);
}

void stats_print(const struct vmm *vmm)
{
	const struct exit_stats *s = &vmm->stats;

	fprintf(stderr, "softkvm-vmm-arm64: exits=%llu",
		(unsigned long long)s->total);
	for (uint32_t r = 0; r < VMM_MAX_EXIT_REASON; r++) {
		if (!s->by_reason[r])
			continue;
		if (reason_names[r])
			fprintf(stderr, " %s=%llu", reason_names[r],
				(unsigned long long)s->by_reason[r]);
		else
			fprintf(stderr, " reason%u=%llu", r,
				(unsigned long long)s->by_reason[r]);
		if (r == KVM_EXIT_MMIO)
			print_mmio_detail(vmm);
	}
	if (s->other_reason)
		fprintf(stderr, " other=%llu",
			(unsigned long long)s->other_reason);
	fprintf(stderr, " status=%d\n", vmm->status);
}
