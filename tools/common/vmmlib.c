/* The reference VMMs' shared parts (vmmlib.h). */
#include "vmmlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "softkvm-config.h"

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
	[KVM_EXIT_ARM_NISV] = "arm_nisv",
	[KVM_EXIT_X86_RDMSR] = "x86_rdmsr",
	[KVM_EXIT_X86_WRMSR] = "x86_wrmsr",
	[KVM_EXIT_DIRTY_RING_FULL] = "dirty_ring_full",
	[KVM_EXIT_X86_BUS_LOCK] = "x86_bus_lock",
	[VMM_EXIT_ARM_SEA] = "arm_sea",
};

const char *vmm_exit_name(uint32_t reason)
{
	if (reason < VMM_MAX_EXIT_REASON && reason_names[reason])
		return reason_names[reason];
	return "other";
}

void vmm_count_exit(struct vmm_exit_stats *s, uint32_t reason)
{
	s->total++;
	if (reason < VMM_MAX_EXIT_REASON)
		s->by_reason[reason]++;
	else
		s->other_reason++;
}

static void print_devs(const struct vmm_dev_count *devs, size_t ndevs, uint64_t unclaimed)
{
	const char *sep = " (";

	for (size_t i = 0; i < ndevs; i++) {
		fprintf(stderr, "%s%s=%llu", sep, devs[i].name,
			(unsigned long long)devs[i].accesses);
		sep = " ";
	}
	if (unclaimed)
		fprintf(stderr, "%sunclaimed=%llu", sep, (unsigned long long)unclaimed);
	if (ndevs || unclaimed)
		fputc(')', stderr);
}

void vmm_print_exits(const char *prog, const struct vmm_exit_stats *s,
		     uint32_t dev_reason, const struct vmm_dev_count *devs,
		     size_t ndevs, uint64_t unclaimed, int status)
{
	fprintf(stderr, "%s: exits=%llu", prog, (unsigned long long)s->total);
	for (uint32_t r = 0; r < VMM_MAX_EXIT_REASON; r++) {
		if (!s->by_reason[r])
			continue;
		if (reason_names[r])
			fprintf(stderr, " %s=%llu", reason_names[r],
				(unsigned long long)s->by_reason[r]);
		else
			fprintf(stderr, " reason%u=%llu", r,
				(unsigned long long)s->by_reason[r]);
		if (r == dev_reason)
			print_devs(devs, ndevs, unclaimed);
	}
	if (s->other_reason)
		fprintf(stderr, " other=%llu", (unsigned long long)s->other_reason);
	fprintf(stderr, " status=%d\n", status);
}

int vmm_parse_size(const char *s, size_t max, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	unsigned shift = 20;

	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 'b': case 'B': shift = 0; end++; break;
	default: return -1;
	}
	if (*end || v > (max >> shift))
		return -1;
	*out = (size_t)(v << shift);
	return 0;
}

int vmm_parse_timeout(const char *s, unsigned long *out)
{
	char *end;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return (errno || end == s || *end || *s == '-' ||
		*out > 86400ul * 365) ? -1 : 0;
}

/* "128K", "3G": the largest unit that divides n. */
static const char *size_text(size_t n, char buf[24])
{
	static const char units[] = "GMK";
	for (int i = 0; i < 3; i++) {
		size_t u = (size_t)1 << (30 - 10 * i);
		if (n % u == 0) {
			snprintf(buf, 24, "%zu%c", n / u, units[i]);
			return buf;
		}
	}
	snprintf(buf, 24, "%zuB", n);
	return buf;
}

/* One shared option: -1 to go on, or the status to exit with. */
static int common_opt(struct vmm_args *a, int c, const char *arg)
{
	char lo[24], hi[24];
	switch (c) {
	case 'm':
		if (vmm_parse_size(arg, a->mem_max, &a->mem_size) == 0 &&
		    a->mem_size >= a->mem_min && a->mem_size % 4096 == 0)
			return -1;
		fprintf(stderr, "%s: bad memory size '%s' (a multiple of 4K, %s..%s)\n",
			a->prog, arg, size_text(a->mem_min, lo), size_text(a->mem_max, hi));
		return a->error_status;
	case 'q':
		a->quiet = true;
		return -1;
	case 't':
		if (vmm_parse_timeout(arg, &a->timeout_s) == 0)
			return -1;
		fprintf(stderr, "%s: bad timeout '%s'\n", a->prog, arg);
		return a->error_status;
	case 'h':
		a->usage(stdout);
		return 0;
	case 'V':
		printf("%s %s\n", a->prog, SOFTKVM_VERSION);
		return 0;
	}
	a->usage(stderr);
	return a->error_status;
}

int vmm_getopt(struct vmm_args *a, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	static const struct option common[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
	};
	struct option all[32] = {{0}};
	char all_short[64];
	size_t n = 0;

	for (; n < sizeof(common) / sizeof(common[0]); n++)
		all[n] = common[n];
	for (const struct option *o = longopts; o && o->name && n < 31; o++)
		all[n++] = *o;
	snprintf(all_short, sizeof(all_short), "m:qt:hV%s", shortopts);
	a->exit = -1;
	int c;
	while ((c = getopt_long(argc, argv, all_short, all, NULL)) != -1) {
		if (c != '?' && c != ':' && strchr(shortopts, c))
			return c;
		a->exit = common_opt(a, c, optarg);
		if (a->exit >= 0)
			return 0;
	}
	if (optind == argc - 1) {
		a->image = argv[optind];
	} else {
		a->usage(stderr);
		a->exit = a->error_status;
	}
	return 0;
}

volatile sig_atomic_t vmm_stop_signal;
static struct kvm_run *volatile signalled_run;

static void on_stop_signal(int sig)
{
	vmm_stop_signal = sig;
	if (signalled_run)
		signalled_run->immediate_exit = 1;
}

int vmm_catch_stop_signals(const char *prog, struct kvm_run *run, unsigned long timeout_s)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	signalled_run = run;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0) {
			fprintf(stderr, "%s: sigaction: %m\n", prog);
			return -1;
		}
	if (timeout_s)
		alarm((unsigned)timeout_s);
	return 0;
}

int vmm_stop_status(const char *prog, int timeout_status)
{
	int sig = vmm_stop_signal;

	fflush(stdout);
	if (sig == SIGALRM)
		fprintf(stderr, "%s: timed out\n", prog);
	else
		fprintf(stderr, "%s: stopped by signal %d\n", prog, sig);
	return sig == SIGALRM ? timeout_status : 128 + sig;
}
