/* What the two reference VMMs (tools/vmm for x86, tools/vmm-arm64) share:
 * exit reason names and the exit count summary, option parsing, and the
 * stop signals (Ctrl-C, --timeout) that end a run cleanly. Each VMM is
 * compiled against its own arch's uapi headers; nothing here depends on
 * the arch. */
#ifndef VMMLIB_H
#define VMMLIB_H

#include <getopt.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VMM_MAX_EXIT_REASON 64
#define VMM_EXIT_ARM_SEA 41	/* upstream's KVM_EXIT_ARM_SEA, newer than 6.1 */

/* KVM's name of an exit reason, lower case ("io", "mmio", ...), or "other". */
const char *vmm_exit_name(uint32_t reason);

struct vmm_exit_stats {
	uint64_t by_reason[VMM_MAX_EXIT_REASON];
	uint64_t other_reason;
	uint64_t total;
};

/* A device whose accesses the summary lists after its exit kind. */
struct vmm_dev_count {
	const char *name;
	uint64_t accesses;
};

void vmm_count_exit(struct vmm_exit_stats *s, uint32_t reason);
/* "PROG: exits=N io=N (uart=N unclaimed=N) hlt=N ... status=S" on stderr;
 * the devices (and unclaimed accesses) follow the count of dev_reason. */
void vmm_print_exits(const char *prog, const struct vmm_exit_stats *s,
		     uint32_t dev_reason, const struct vmm_dev_count *devs,
		     size_t ndevs, uint64_t unclaimed, int status);

/* "64M", "1g", "4096b" (no suffix: MiB) up to max bytes; 0 or -1. */
int vmm_parse_size(const char *s, size_t max, size_t *out);
/* Whole seconds, at most a year; 0 or -1. */
int vmm_parse_timeout(const char *s, unsigned long *out);

/* The command line both VMMs share: OPTIONS IMAGE, with -m/--mem SIZE,
 * -q/--quiet, -t/--timeout S, -h/--help and -V/--version. */
struct vmm_args {
	const char *prog;
	void (*usage)(FILE *out);
	size_t mem_min, mem_max;    /* --mem's range (a multiple of 4K in it) */
	int error_status;           /* the exit status for a mistake */
	size_t mem_size;            /* in: the default */
	unsigned long timeout_s;    /* 0: none */
	bool quiet;
	const char *image;
	int exit;                   /* >= 0: exit with it now (0 after --help) */
};

/* getopt_long over the shared options and the VMM's own (shortopts, and
 * longopts ended by a zero entry, or NULL): returns the VMM's next option
 * (its argument in optarg), or 0 at the end, a->image or a->exit set. */
int vmm_getopt(struct vmm_args *a, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/* SIGINT, SIGTERM, SIGHUP and SIGALRM (armed for timeout_s, 0: none) set
 * vmm_stop_signal and the run's immediate_exit, so a signal that comes
 * just before KVM_RUN is not lost. 0 or -1 (message printed). */
extern volatile sig_atomic_t vmm_stop_signal;
int vmm_catch_stop_signals(const char *prog, struct kvm_run *run, unsigned long timeout_s);
/* Prints why the run stopped; returns the VMM's status for it: the
 * timeout status for SIGALRM, else 128 + the signal. */
int vmm_stop_status(const char *prog, int timeout_status);

#endif
