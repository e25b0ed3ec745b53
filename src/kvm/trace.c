/* --trace: one readable line per KVM ioctl and per exit, on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/kvm.h"

static bool trace_enabled(void)
{
	const char *v = getenv("SOFTKVM_TRACE");
	return v && *v && strcmp(v, "0") != 0;
}

bool sk_trace_on;

__attribute__((constructor)) static void trace_init(void)
{
	sk_trace_on = trace_enabled();
}

struct name {
	unsigned long val;
	const char *name;
};

#define N(x) {x, #x}
static const struct name ioctls[] = {
	N(KVM_GET_API_VERSION), N(KVM_CREATE_VM), N(KVM_CHECK_EXTENSION),
	N(KVM_GET_VCPU_MMAP_SIZE), N(KVM_CREATE_VCPU),
	N(KVM_SET_USER_MEMORY_REGION), N(KVM_GET_DIRTY_LOG), N(KVM_CLEAR_DIRTY_LOG),
	N(KVM_ENABLE_CAP), N(KVM_IRQ_LINE), N(KVM_IRQ_LINE_STATUS), N(KVM_RUN),
	N(KVM_GET_MP_STATE), N(KVM_SET_MP_STATE), N(KVM_SET_GUEST_DEBUG), N(KVM_SET_SIGNAL_MASK),
	N(KVM_GET_ONE_REG), N(KVM_SET_ONE_REG), N(KVM_GET_REG_LIST),
	N(KVM_CREATE_DEVICE), N(KVM_SET_DEVICE_ATTR), N(KVM_GET_DEVICE_ATTR),
	N(KVM_HAS_DEVICE_ATTR), N(KVM_GET_STATS_FD), N(KVM_IRQFD), N(KVM_IOEVENTFD),
	N(KVM_SIGNAL_MSI), N(KVM_SET_GSI_ROUTING),
#ifdef __x86_64__
	N(KVM_GET_SUPPORTED_CPUID), N(KVM_GET_EMULATED_CPUID),
	N(KVM_GET_MSR_INDEX_LIST), N(KVM_GET_MSR_FEATURE_INDEX_LIST),
	N(KVM_SET_TSS_ADDR), N(KVM_SET_IDENTITY_MAP_ADDR), N(KVM_CREATE_IRQCHIP),
	N(KVM_GET_REGS), N(KVM_SET_REGS), N(KVM_GET_SREGS), N(KVM_SET_SREGS),
	N(KVM_GET_FPU), N(KVM_SET_FPU), N(KVM_GET_VCPU_EVENTS), N(KVM_SET_VCPU_EVENTS),
	N(KVM_GET_DEBUGREGS), N(KVM_SET_DEBUGREGS),
	N(KVM_GET_MSRS), N(KVM_SET_MSRS), N(KVM_SET_CPUID), N(KVM_SET_CPUID2), N(KVM_GET_CPUID2),
	N(KVM_INTERRUPT), N(KVM_NMI), N(KVM_TRANSLATE),
	N(KVM_GET_XSAVE), N(KVM_SET_XSAVE), N(KVM_GET_XCRS),
	N(KVM_SET_XCRS), N(KVM_GET_LAPIC), N(KVM_SET_LAPIC), N(KVM_GET_TSC_KHZ),
	N(KVM_SET_TSC_KHZ), N(KVM_GET_CLOCK), N(KVM_SET_CLOCK),
	N(KVM_GET_XSAVE2), N(KVM_GET_IRQCHIP), N(KVM_SET_IRQCHIP), N(KVM_CREATE_PIT2),
	N(KVM_GET_PIT2), N(KVM_SET_PIT2), N(KVM_SET_BOOT_CPU_ID), N(KVM_SET_VAPIC_ADDR),
	N(KVM_SMI), N(KVM_SET_NR_MMU_PAGES), N(KVM_GET_NR_MMU_PAGES),
	N(KVM_X86_SETUP_MCE), N(KVM_X86_SET_MCE), N(KVM_X86_GET_MCE_CAP_SUPPORTED),
	N(KVM_X86_SET_MSR_FILTER),
#endif
#ifdef __aarch64__
	N(KVM_ARM_VCPU_INIT), N(KVM_ARM_PREFERRED_TARGET),
#endif
};

static const char *const exits[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN", [KVM_EXIT_EXCEPTION] = "EXCEPTION", [KVM_EXIT_IO] = "IO",
	[KVM_EXIT_HYPERCALL] = "HYPERCALL", [KVM_EXIT_DEBUG] = "DEBUG", [KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO", [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN", [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR", [KVM_EXIT_SET_TPR] = "SET_TPR", [KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
	[KVM_EXIT_NMI] = "NMI", [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT", [KVM_EXIT_ARM_NISV] = "ARM_NISV",
	[KVM_EXIT_X86_RDMSR] = "X86_RDMSR", [KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
	[41] = "ARM_SEA",   /* upstream's KVM_EXIT_ARM_SEA, newer than the 6.1 headers */
};

static const char *ioctl_name(unsigned long cmd, char *buf, size_t n)
{
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		if (ioctls[i].val == cmd)
			return ioctls[i].name;
	snprintf(buf, n, "ioctl(0x%lx)", cmd);
	return buf;
}

static const char *exit_name(uint32_t r)
{
	if (r < sizeof(exits) / sizeof(exits[0]) && exits[r])
		return exits[r];
	return "?";
}

static void trace_exit(const struct kvm_run *run)
{
	fprintf(stderr, " exit=%s", exit_name(run->exit_reason));
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		fprintf(stderr, " %s port=0x%x size=%u count=%u", run->io.direction ? "out" : "in",
			run->io.port, run->io.size, run->io.count);
		break;
	case KVM_EXIT_MMIO:
		fprintf(stderr, " %s gpa=0x%llx len=%u", run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr, run->mmio.len);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		fprintf(stderr, " suberror=%u", run->internal.suberror);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		fprintf(stderr, " reason=0x%llx",
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	}
}

void sk_trace_ioctl(int fd, enum sk_file_kind kind, void *obj, unsigned long cmd,
		    unsigned long arg, long ret)
{
	static const char *const kinds[] = {"?", "kvm", "vm", "vcpu", "device"};
	char buf[32];
	flockfile(stderr);
	fprintf(stderr, "softkvm: %s fd=%d %s(0x%lx) = %ld", kinds[kind], fd,
		ioctl_name(cmd, buf, sizeof(buf)), arg, ret);
	if (ret < 0)
		fprintf(stderr, " (%s)", strerror((int)-ret));
	if (kind == SK_FILE_VCPU && cmd == KVM_RUN)
		trace_exit(((struct sk_vcpu *)obj)->run);
	fputc('\n', stderr);
	funlockfile(stderr);
}
