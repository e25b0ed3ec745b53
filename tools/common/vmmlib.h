/* What the two reference VMMs (tools/vmm for x86, tools/vmm-arm64) share:
 * exit reason names and the exit count summary, option parsing, and the
 * stop signals (Ctrl-C, --timeout) that end a run cleanly. Each VMM is
 * compiled against its own arch's uapi headers; nothing here depends on
 * the arch. */
#ifndef VMMLIB_H
#define VMMLIB_H

#include <linux/kvm.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

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

/* SIGINT, SIGTERM, SIGHUP and SIGALRM (armed for timeout_s, 0: none) set
 * vmm_stop_signal and the run's immediate_exit, so a signal that comes
 * just before KVM_RUN is not lost. 0 or -1 (message printed). */
extern volatile sig_atomic_t vmm_stop_signal;
int vmm_catch_stop_signals(const char *prog, struct kvm_run *run, unsigned long timeout_s);
/* Prints why the run stopped; returns the VMM's status for it: the
 * timeout status for SIGALRM, else 128 + the signal. */
int vmm_stop_status(const char *prog, int timeout_status);

#endif
