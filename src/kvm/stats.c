/* Which statistics a VM and a vCPU keep (KVM_GET_STATS_FD): KVM's generic
 * ones, with KVM's names, units and histogram shapes, plus the arch's exit
 * counters (sk_arch_ops.exit_stats). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "arch/arch.h"
#include "kvm/kvm.h"

#define COUNTER(n) {n, KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE | KVM_STATS_BASE_POW10, 0, 1}
#define TIME_NS(n) {n, KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS | KVM_STATS_BASE_POW10, -9, 1}
#define LOG_HIST_NS(n) {n, KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_SECONDS | KVM_STATS_BASE_POW10, -9, HIST_BUCKETS}
#define HIST_BUCKETS 32

static const struct sk_stat_desc vm_generic[] = {
	COUNTER("remote_tlb_flush"),
	COUNTER("remote_tlb_flush_requests"),
	{0},
};

/* Indices into the data block: the order of vcpu_generic. */
enum {
	HALT_SUCCESSFUL_POLL, HALT_ATTEMPTED_POLL, HALT_POLL_INVALID, HALT_WAKEUP,
	HALT_POLL_SUCCESS_NS, HALT_POLL_FAIL_NS, HALT_WAIT_NS,
	HALT_POLL_SUCCESS_HIST, HALT_POLL_FAIL_HIST = HALT_POLL_SUCCESS_HIST + HIST_BUCKETS,
	HALT_WAIT_HIST = HALT_POLL_FAIL_HIST + HIST_BUCKETS,
	BLOCKING = HALT_WAIT_HIST + HIST_BUCKETS,
	GENERIC_VALUES,
};

/* softkvm never polls before sleeping (a halted vCPU sleeps at once), so
 * the poll counters stay 0, which is what they measure. */
static const struct sk_stat_desc vcpu_generic[] = {
	COUNTER("halt_successful_poll"),
	COUNTER("halt_attempted_poll"),
	COUNTER("halt_poll_invalid"),
	COUNTER("halt_wakeup"),
	TIME_NS("halt_poll_success_ns"),
	TIME_NS("halt_poll_fail_ns"),
	TIME_NS("halt_wait_ns"),
	LOG_HIST_NS("halt_poll_success_hist"),
	LOG_HIST_NS("halt_poll_fail_hist"),
	LOG_HIST_NS("halt_wait_hist"),
	{"blocking", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN | KVM_STATS_BASE_POW10, 0, 1},
	{0},
};

/* The arch's exit counters as descriptors, built once per arch. */
static const struct sk_stat_desc *exit_descs(const struct sk_arch_ops *arch)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct {
		const struct sk_arch_ops *arch;
		struct sk_stat_desc *descs;
	} cache[4];
	if (!arch->exit_stats)
		return NULL;
	struct sk_stat_desc *d = NULL;
	pthread_mutex_lock(&lock);
	unsigned i = 0;
	for (; i < 4 && cache[i].arch; i++)
		if (cache[i].arch == arch)
			break;
	if (i < 4 && cache[i].arch) {
		d = cache[i].descs;
	} else if (i < 4) {
		unsigned n = 0;
		while (arch->exit_stats[n].name)
			n++;
		d = calloc(n + 1, sizeof(*d));
		for (unsigned k = 0; d && k < n; k++)
			d[k] = (struct sk_stat_desc)COUNTER(arch->exit_stats[k].name);
		if (d) {
			cache[i].arch = arch;
			cache[i].descs = d;
		}
	}
	pthread_mutex_unlock(&lock);
	return d;
}

int sk_vm_stats_init(struct sk_vm *vm)
{
	char id[48];
	snprintf(id, sizeof(id), "kvm-%d", (int)getpid());
	const struct sk_stat_desc *lists[] = {vm_generic};
	return sk_stats_init(&vm->stats, id, lists, 1);
}

int sk_vcpu_stats_init(struct sk_vcpu *vcpu)
{
	char id[48];
	snprintf(id, sizeof(id), "kvm-%d/vcpu-%u", (int)getpid(), vcpu->id);
	const struct sk_stat_desc *lists[] = {vcpu_generic, exit_descs(vcpu->vm->arch)};
	return sk_stats_init(&vcpu->stats, id, lists, 2);
}

void sk_vcpu_count_exit(struct sk_vcpu *vcpu, uint32_t reason)
{
	const struct sk_exit_stat *e = vcpu->vm->arch->exit_stats;
	if (!e)
		return;
	for (int i = 0; e[i].name; i++)
		if (e[i].reason == reason || e[i].reason == SK_STAT_EVERY_EXIT)
			sk_stat_add(vcpu->stats.data, GENERIC_VALUES + i, 1);
}

void sk_vm_count_flush(struct sk_vm *vm)
{
	sk_stat_add(vm->stats.data, 0, 1);
	sk_stat_add(vm->stats.data, 1, 1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Bucket 0 holds [0, 1) ns, bucket n (1 <= n < last) [2^(n-1), 2^n). */
static int log_bucket(uint64_t ns)
{
	int b = ns ? 64 - __builtin_clzll(ns) : 0;
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

void sk_vcpu_block(struct sk_vcpu *vcpu, uint32_t seen, const struct timespec *rel)
{
	uint64_t *s = vcpu->stats.data;
	sk_stat_set(s, BLOCKING, 1);
	uint64_t t0 = now_ns();
	long r = syscall(SYS_futex, &vcpu->requests, FUTEX_WAIT_PRIVATE, seen, rel, NULL, 0);
	uint64_t waited = now_ns() - t0;
	sk_stat_set(s, BLOCKING, 0);
	sk_stat_add(s, HALT_WAIT_NS, waited);
	sk_stat_add(s, HALT_WAIT_HIST + log_bucket(waited), 1);
	if (r == 0 || (r < 0 && errno == EAGAIN))
		sk_stat_add(s, HALT_WAKEUP, 1);
}
