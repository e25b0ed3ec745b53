/* softkvm-diag: a small LD_PRELOAD shim put in front of the softkvm preload
 * library while the KVM selftests run, so a failing test's log says WHY in
 * KVM terms. It changes no result: every call goes on to the next ioctl/mmap
 * (softkvm's) and returns what that returned.
 *
 * It prints, on stderr, lines starting "softkvm-diag: ":
 *  - at a KVM_RUN that ends in KVM_EXIT_INTERNAL_ERROR: the suberror and,
 *    for an emulation failure, the instruction bytes (the selftests only
 *    print the exit reason);
 *  - at KVM_EXIT_SHUTDOWN (x86: a triple fault) and at the internal error:
 *    the guest RIP (KVM_GET_REGS); the selftests load the test's own ELF
 *    into the guest, so addr2line on the test binary names the guest code;
 *  - at process exit: the last ioctl on a KVM fd that failed, with errno
 *    (tests also probe failures on purpose, so it is a hint, not a verdict).
 *
 * Look-ahead (never for results that count): SOFTKVM_DIAG_PRETEND names
 * ioctls, comma-separated (e.g. KVM_CREATE_IRQCHIP), that return 0 here
 * without reaching softkvm, to see what a test would stop at next once a
 * missing ioctl exists. scripts/selftests.sh --lookahead sets it.
 *
 * Built by selftests/build.sh with the target's compiler; not part of the
 * softkvm library. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#define MAX_FD 4096
#define MAX_INTERNAL_REPORTS 3

static void *run_of_fd[MAX_FD];	/* what mmap(fd, offset 0) returned */
static _Atomic unsigned long last_fail_cmd;
static _Atomic int last_fail_errno;
static _Atomic int internal_reports;

struct name {
	unsigned long cmd;
	const char *name;
};

#define N(x) { x, #x }
static const struct name names[] = {
	N(KVM_GET_API_VERSION), N(KVM_CREATE_VM), N(KVM_CHECK_EXTENSION),
	N(KVM_GET_VCPU_MMAP_SIZE),
	N(KVM_CREATE_VCPU), N(KVM_SET_USER_MEMORY_REGION), N(KVM_GET_DIRTY_LOG),
	N(KVM_CLEAR_DIRTY_LOG), N(KVM_ENABLE_CAP), N(KVM_CREATE_IRQCHIP),
	N(KVM_IRQ_LINE), N(KVM_IRQ_LINE_STATUS), N(KVM_RUN), N(KVM_GET_REGS),
	N(KVM_SET_REGS), N(KVM_GET_SREGS), N(KVM_SET_SREGS), N(KVM_GET_MP_STATE),
	N(KVM_SET_MP_STATE), N(KVM_SET_GUEST_DEBUG), N(KVM_SET_SIGNAL_MASK),
	N(KVM_GET_ONE_REG), N(KVM_SET_ONE_REG), N(KVM_GET_REG_LIST),
	N(KVM_CREATE_DEVICE), N(KVM_SET_DEVICE_ATTR), N(KVM_GET_DEVICE_ATTR),
	N(KVM_HAS_DEVICE_ATTR), N(KVM_IOEVENTFD), N(KVM_IRQFD),
	N(KVM_SET_GSI_ROUTING), N(KVM_GET_STATS_FD),
	N(KVM_RESET_DIRTY_RINGS), N(KVM_SIGNAL_MSI), N(KVM_GET_CLOCK),
	N(KVM_SET_CLOCK),
#ifdef __x86_64__
	N(KVM_GET_MSR_INDEX_LIST), N(KVM_GET_SUPPORTED_CPUID), N(KVM_GET_EMULATED_CPUID),
	N(KVM_GET_MSR_FEATURE_INDEX_LIST), N(KVM_SET_TSS_ADDR),
	N(KVM_SET_IDENTITY_MAP_ADDR), N(KVM_GET_FPU), N(KVM_SET_FPU),
	N(KVM_GET_VCPU_EVENTS), N(KVM_SET_VCPU_EVENTS), N(KVM_GET_DEBUGREGS),
	N(KVM_SET_DEBUGREGS), N(KVM_GET_MSRS), N(KVM_SET_MSRS),
	N(KVM_SET_CPUID), N(KVM_SET_CPUID2), N(KVM_GET_CPUID2),
	N(KVM_INTERRUPT), N(KVM_NMI), N(KVM_TRANSLATE), N(KVM_GET_XSAVE),
	N(KVM_SET_XSAVE), N(KVM_GET_XSAVE2), N(KVM_GET_XCRS), N(KVM_SET_XCRS),
	N(KVM_GET_LAPIC), N(KVM_SET_LAPIC), N(KVM_GET_TSC_KHZ),
	N(KVM_SET_TSC_KHZ), N(KVM_GET_NESTED_STATE), N(KVM_SET_NESTED_STATE),
	N(KVM_CREATE_PIT2), N(KVM_GET_PIT2), N(KVM_SET_PIT2),
	N(KVM_GET_IRQCHIP), N(KVM_SET_IRQCHIP), N(KVM_SET_BOOT_CPU_ID),
	N(KVM_X86_SET_MCE), N(KVM_X86_SETUP_MCE), N(KVM_X86_GET_MCE_CAP_SUPPORTED),
	N(KVM_X86_SET_MSR_FILTER), N(KVM_SET_PMU_EVENT_FILTER),
	N(KVM_GET_SREGS2), N(KVM_SET_SREGS2), N(KVM_KVMCLOCK_CTRL),
	N(KVM_XEN_HVM_CONFIG), N(KVM_GET_SUPPORTED_HV_CPUID),
	N(KVM_SET_NR_MMU_PAGES), N(KVM_GET_NR_MMU_PAGES), N(KVM_REINJECT_CONTROL),
	N(KVM_XEN_HVM_SET_ATTR), N(KVM_XEN_HVM_GET_ATTR), N(KVM_XEN_VCPU_SET_ATTR),
	N(KVM_XEN_VCPU_GET_ATTR), N(KVM_HYPERV_EVENTFD),
#endif
#ifdef __aarch64__
	N(KVM_ARM_VCPU_INIT), N(KVM_ARM_PREFERRED_TARGET),
	N(KVM_ARM_SET_DEVICE_ADDR), N(KVM_ARM_MTE_COPY_TAGS),
#endif
};

static const char *cmd_name(unsigned long cmd, char *buf, size_t n)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].cmd == cmd)
			return names[i].name;
	snprintf(buf, n, "ioctl 0x%lx (type 0x%lx nr 0x%lx)", cmd,
		 (cmd >> 8) & 0xff, cmd & 0xff);
	return buf;
}

/* Whether cmd is named in SOFTKVM_DIAG_PRETEND. */
static int pretended(unsigned long cmd)
{
	const char *list = getenv("SOFTKVM_DIAG_PRETEND");
	if (!list || !*list)
		return 0;
	char buf[64];
	const char *name = cmd_name(cmd, buf, sizeof(buf));
	size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

typedef int (*ioctl_fn)(int, unsigned long, ...);

/* " rip=0x..." for an x86 vCPU, or nothing. */
static int guest_rip(ioctl_fn next, int fd, char *buf, size_t size)
{
#ifdef __x86_64__
	struct kvm_regs regs;
	int saved = errno;
	int r = next(fd, KVM_GET_REGS, &regs);
	errno = saved;
	if (r == 0)
		return snprintf(buf, size, " rip=0x%llx", (unsigned long long)regs.rip);
#else
	(void)next, (void)fd;
#endif
	if (size)
		buf[0] = '\0';
	return 0;
}

static void report_exit(ioctl_fn next, int fd, struct kvm_run *run)
{
	if (run->exit_reason == KVM_EXIT_SHUTDOWN) {
		char rip[40];
		if (atomic_fetch_add(&internal_reports, 1) >= MAX_INTERNAL_REPORTS)
			return;
		guest_rip(next, fd, rip, sizeof(rip));
		fprintf(stderr, "softkvm-diag: KVM_EXIT_SHUTDOWN%s\n", rip);
		return;
	}
	if (atomic_fetch_add(&internal_reports, 1) >= MAX_INTERNAL_REPORTS)
		return;
	char line[512];
	int n = snprintf(line, sizeof(line),
			 "softkvm-diag: KVM_EXIT_INTERNAL_ERROR suberror=%u",
			 run->internal.suberror);
	n += guest_rip(next, fd, line + n, sizeof(line) - n);
	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    (run->emulation_failure.flags &
	     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		unsigned len = run->emulation_failure.insn_size;
		if (len > sizeof(run->emulation_failure.insn_bytes))
			len = sizeof(run->emulation_failure.insn_bytes);
		n += snprintf(line + n, sizeof(line) - n, " insn:");
		for (unsigned i = 0; i < len && n < (int)sizeof(line) - 4; i++)
			n += snprintf(line + n, sizeof(line) - n, " %02x",
				      run->emulation_failure.insn_bytes[i]);
	} else {
		unsigned nd = run->internal.ndata;
		if (nd > 16)
			nd = 16;
		n += snprintf(line + n, sizeof(line) - n, " ndata=%u", nd);
		for (unsigned i = 0; i < nd && n < (int)sizeof(line) - 20; i++)
			n += snprintf(line + n, sizeof(line) - n, " %llx",
				      (unsigned long long)run->internal.data[i]);
	}
	fprintf(stderr, "%s\n", line);
}

int ioctl(int fd, unsigned long cmd, ...)
{
	static ioctl_fn next;
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (!next)
		next = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
	if ((cmd >> 8 & 0xff) == KVMIO && pretended(cmd))
		return 0;
	int ret = next(fd, cmd, arg);
	int saved = errno;
	if ((cmd >> 8 & 0xff) == KVMIO) {
		if (ret < 0 && saved != EINTR && saved != EAGAIN) {
			atomic_store(&last_fail_cmd, cmd);
			atomic_store(&last_fail_errno, saved);
		}
		if (cmd == KVM_RUN && fd >= 0 && fd < MAX_FD && run_of_fd[fd]) {
			struct kvm_run *run = run_of_fd[fd];
			if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR ||
			    run->exit_reason == KVM_EXIT_SHUTDOWN)
				report_exit(next, fd, run);
		}
	}
	errno = saved;
	return ret;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	static void *(*next)(void *, size_t, int, int, int, off_t);
	if (!next)
		next = (void *(*)(void *, size_t, int, int, int, off_t))
			dlsym(RTLD_NEXT, "mmap");
	void *p = next(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED && fd >= 0 && fd < MAX_FD && off == 0 &&
	    len >= sizeof(struct kvm_run) && !(flags & MAP_ANONYMOUS))
		run_of_fd[fd] = p;
	return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
	__attribute__((alias("mmap")));

__attribute__((destructor)) static void report_last_failure(void)
{
	unsigned long cmd = atomic_load(&last_fail_cmd);
	if (!cmd)
		return;
	char buf[64];
	int e = atomic_load(&last_fail_errno);
	fprintf(stderr, "softkvm-diag: last failed KVM ioctl: %s errno=%d (%s)\n",
		cmd_name(cmd, buf, sizeof(buf)), e, strerror(e));
}
