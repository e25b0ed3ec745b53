/* HVC and SMC: the SMCCC and PSCI firmware interface KVM provides to the
 * guest (PSCI 0.1, 0.2, 1.0 and 1.1 as the vCPU's PSCI version register
 * says), and KVM's other SMCCC services: TRNG, paravirtual stolen time,
 * the KVM vendor services (UID, features, PTP), each gated by the VM's
 * KVM_REG_ARM_*_BMAP firmware registers. As in Linux 6.1, HVC is the
 * conduit; SMC answers "not supported" in x0. Functions return in x0 with
 * x1..x3 cleared.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "arch/arm64/a64.h"

enum {
	RET_SUCCESS = 0,
	RET_NOT_SUPPORTED = -1,
	RET_INVALID_PARAMS = -2,
	RET_ALREADY_ON = -4,
	RET_INTERNAL_FAILURE = -6,
	SF_NOT_REQUIRED = -2,
};

#define FN64 0x40000000u
#define PF_VERSION 0x84000000u
#define PF_CPU_SUSPEND 0x84000001u
#define PF_CPU_OFF 0x84000002u
#define PF_CPU_ON 0x84000003u
#define PF_AFFINITY_INFO 0x84000004u
#define PF_MIGRATE 0x84000005u
#define PF_MIGRATE_INFO_TYPE 0x84000006u
#define PF_MIGRATE_INFO_UP_CPU 0x84000007u
#define PF_SYSTEM_OFF 0x84000008u
#define PF_SYSTEM_RESET 0x84000009u
#define PF_FEATURES 0x8400000au
#define PF_SYSTEM_SUSPEND 0x8400000eu
#define PF_SYSTEM_RESET2 0x84000012u
#define RESET2_VENDOR 0x80000000u
#define SF_VERSION 0x80000000u
#define SF_ARCH_FEATURES 0x80000001u
#define SF_WORKAROUND_1 0x80008000u
#define SF_WORKAROUND_2 0x80007fffu
#define SF_WORKAROUND_3 0x80003fffu
#define PSCI01_BASE 0x95c1ba5eu
#define TRNG_VERSION 0x84000050u
#define TRNG_FEATURES 0x84000051u
#define TRNG_GET_UUID 0x84000052u
#define TRNG_RND32 0x84000053u
#define TRNG_RND64 0xc4000053u
#define PV_TIME_FEATURES 0xc5000020u
#define PV_TIME_ST 0xc5000021u
#define KVM_HYP_FEATURES 0x86000000u
#define KVM_HYP_PTP 0x86000001u
#define KVM_HYP_CALL_UID 0x8600ff01u
#define WA_UNAFFECTED 1
#define MPIDR_HWID 0xff00ffffffull

static void ret4(struct a64 *c, int64_t v)
{
	c->x[0] = (uint64_t)v;
	c->x[1] = c->x[2] = c->x[3] = 0;
}

static uint64_t arg(struct a64 *c, unsigned i, uint32_t fn)
{
	return (fn & FN64) ? c->x[i] : (uint32_t)c->x[i];
}

static bool stopped(struct a64 *t)
{
	return atomic_load(&t->power) != PWR_ON;
}

static int64_t cpu_on(struct a64 *c, uint32_t fn, bool v01)
{
	uint64_t id = arg(c, 1, fn);
	if (id & ~MPIDR_HWID)
		return RET_INVALID_PARAMS;
	struct a64 *t = a64_vcpu_by_mpidr(c->vm, id);
	if (!t)
		return RET_INVALID_PARAMS;
	pthread_mutex_lock(&c->avm->psci_lock);
	int64_t r = RET_SUCCESS;
	if (!stopped(t)) {
		r = v01 ? RET_INVALID_PARAMS : RET_ALREADY_ON;
	} else {
		t->on_entry = arg(c, 2, fn);
		t->on_ctx = arg(c, 3, fn);
		t->on_pending = true;
		atomic_store(&t->power, PWR_ON);
	}
	pthread_mutex_unlock(&c->avm->psci_lock);
	if (r == RET_SUCCESS)
		a64_kick(t);
	return r;
}

static int64_t affinity_info(struct a64 *c, uint32_t fn)
{
	uint64_t target = arg(c, 1, fn), level = arg(c, 2, fn);
	if (target & ~MPIDR_HWID)
		return RET_INVALID_PARAMS;
	if (level > 3)
		return RET_INVALID_PARAMS;
	uint64_t mask = MPIDR_HWID & ~((1ull << (level * 8)) - 1);
	target &= mask;
	struct a64_vm *v = c->avm;
	int64_t r = 1;   /* OFF */
	pthread_mutex_lock(&v->psci_lock);
	for (int i = 0; i < v->ncpus; i++) {
		struct a64 *t = v->cpus[i];
		if ((t->sr[SR_MPIDR] & mask) == target && !stopped(t)) {
			r = 0;   /* ON */
			break;
		}
	}
	pthread_mutex_unlock(&v->psci_lock);
	return r;
}

/* SYSTEM_OFF / SYSTEM_RESET: every vCPU stops, this one exits. */
_Noreturn static void system_event(struct a64 *c, uint32_t type, uint64_t flags)
{
	struct a64_vm *v = c->avm;
	pthread_mutex_lock(&v->psci_lock);
	for (int i = 0; i < v->ncpus; i++) {
		struct a64 *t = v->cpus[i];
		atomic_store(&t->power, PWR_OFF);
		if (t != c)
			a64_kick(t);
	}
	pthread_mutex_unlock(&v->psci_lock);
	ret4(c, RET_INTERNAL_FAILURE);
	struct kvm_run *run = a64_run(c);
	memset(&run->system_event, 0, sizeof(run->system_event));
	run->system_event.type = type;
	run->system_event.ndata = 1;
	run->system_event.data[0] = flags;
	run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
	c->pc = c->npc;   /* the HVC retired */
	a64_exit(c);
}

static int64_t psci_features(struct a64 *c, uint32_t minor)
{
	uint32_t f = (uint32_t)c->x[1];
	switch (f) {
	case PF_VERSION:
	case PF_CPU_SUSPEND: case PF_CPU_SUSPEND | FN64:
	case PF_CPU_OFF:
	case PF_CPU_ON: case PF_CPU_ON | FN64:
	case PF_AFFINITY_INFO: case PF_AFFINITY_INFO | FN64:
	case PF_MIGRATE_INFO_TYPE:
	case PF_SYSTEM_OFF:
	case PF_SYSTEM_RESET:
	case PF_FEATURES:
	case SF_VERSION:
		return 0;
	case PF_SYSTEM_RESET2: case PF_SYSTEM_RESET2 | FN64:
		return minor >= 1 ? 0 : RET_NOT_SUPPORTED;
	case PF_SYSTEM_SUSPEND: case PF_SYSTEM_SUSPEND | FN64:
		return c->avm->system_suspend ? 0 : RET_NOT_SUPPORTED;
	}
	return RET_NOT_SUPPORTED;
}

/* SYSTEM_SUSPEND (with KVM_CAP_ARM_SYSTEM_SUSPEND): the VMM implements it
 * from the untouched SMCCC arguments; the HVC has retired. */
_Noreturn static void system_suspend(struct a64 *c)
{
	struct kvm_run *run = a64_run(c);
	memset(&run->system_event, 0, sizeof(run->system_event));
	run->system_event.type = KVM_SYSTEM_EVENT_SUSPEND;
	run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
	c->pc = c->npc;
	a64_exit(c);
}

static int64_t psci_02(struct a64 *c, uint32_t fn)
{
	switch (fn) {
	case PF_VERSION:
		return 2;
	case PF_CPU_SUSPEND: case PF_CPU_SUSPEND | FN64:
		c->wfi = true;   /* a standby state: as WFI */
		c->brk = true;
		return RET_SUCCESS;
	case PF_CPU_OFF:
		atomic_store(&c->power, PWR_OFF);
		c->brk = true;
		return RET_SUCCESS;
	case PF_CPU_ON: case PF_CPU_ON | FN64:
		return cpu_on(c, fn, false);
	case PF_AFFINITY_INFO: case PF_AFFINITY_INFO | FN64:
		return affinity_info(c, fn);
	case PF_MIGRATE_INFO_TYPE:
		return 2;   /* Trusted OS not present / MP */
	case PF_SYSTEM_OFF:
		system_event(c, KVM_SYSTEM_EVENT_SHUTDOWN, 0);
	case PF_SYSTEM_RESET:
		system_event(c, KVM_SYSTEM_EVENT_RESET, 0);
	}
	return RET_NOT_SUPPORTED;
}

static int64_t psci_1x(struct a64 *c, uint32_t fn, uint32_t minor)
{
	switch (fn) {
	case PF_VERSION:
		return 0x10000 | minor;
	case PF_FEATURES:
		return psci_features(c, minor);
	case PF_SYSTEM_RESET2: case PF_SYSTEM_RESET2 | FN64:
		if (minor < 1)
			return RET_NOT_SUPPORTED;
		/* SYSTEM_WARM_RESET, or a vendor-specific reset */
		if ((uint32_t)c->x[1] == 0 || (uint32_t)c->x[1] >= RESET2_VENDOR)
			system_event(c, KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2);
		return RET_INVALID_PARAMS;
	case PF_SYSTEM_SUSPEND: case PF_SYSTEM_SUSPEND | FN64:
		if (c->avm->system_suspend)
			system_suspend(c);
		return RET_NOT_SUPPORTED;
	}
	return psci_02(c, fn);
}

static int64_t psci_01(struct a64 *c, uint32_t fn)
{
	if (fn == PSCI01_BASE + 1) {
		atomic_store(&c->power, PWR_OFF);
		c->brk = true;
		return RET_SUCCESS;
	}
	if (fn == PSCI01_BASE + 2)
		return cpu_on(c, fn | FN64, true);
	return RET_NOT_SUPPORTED;
}

/* ---- the services behind the firmware bitmaps ---- */

/* May the guest call fn? Not with its service's bit cleared by the VMM. */
static bool allowed(struct a64 *c, uint32_t fn)
{
	switch (fn) {
	case TRNG_VERSION: case TRNG_FEATURES: case TRNG_GET_UUID: case TRNG_RND32: case TRNG_RND64:
		return a64_fw_bmap(c->avm, 0) & (1u << KVM_REG_ARM_STD_BIT_TRNG_V1_0);
	case PV_TIME_FEATURES: case PV_TIME_ST:
		return a64_fw_bmap(c->avm, 1) & (1u << KVM_REG_ARM_STD_HYP_BIT_PV_TIME);
	case KVM_HYP_FEATURES: case KVM_HYP_CALL_UID:
		return a64_fw_bmap(c->avm, 2) & (1u << KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT);
	case KVM_HYP_PTP:
		return a64_fw_bmap(c->avm, 2) & (1u << KVM_REG_ARM_VENDOR_HYP_BIT_PTP);
	case SF_VERSION: case SF_ARCH_FEATURES:
		return true;
	}
	/* PSCI (standard service, functions 0..0x1f) and KVM's PSCI 0.1 ids */
	if ((fn & 0x3f00ffe0u) == 0x04000000u)
		return true;
	return fn >= PSCI01_BASE && fn <= PSCI01_BASE + 3;
}

static void ret_all(struct a64 *c, uint64_t a, uint64_t b, uint64_t d, uint64_t e)
{
	c->x[0] = a, c->x[1] = b, c->x[2] = d, c->x[3] = e;
}

/* TRNG 1.0 (DEN0098) from the host's entropy; KVM's UUID. */
static void trng(struct a64 *c, uint32_t fn)
{
	uint32_t bits = (uint32_t)c->x[1];
	uint64_t r[3] = {0, 0, 0};
	switch (fn) {
	case TRNG_VERSION:
		ret4(c, 0x10000);
		return;
	case TRNG_FEATURES:
		switch (bits) {
		case TRNG_VERSION: case TRNG_FEATURES: case TRNG_GET_UUID: case TRNG_RND32: case TRNG_RND64:
			ret4(c, RET_SUCCESS);
			return;
		}
		ret4(c, RET_NOT_SUPPORTED);
		return;
	case TRNG_GET_UUID:   /* 0d21e000-4384-11eb-8070-524455 4e5a4c, as 4 LE words */
		ret_all(c, 0x00e0210d, 0xeb118443, 0x44527080, 0x4c5a4e55);
		return;
	}
	unsigned size = fn == TRNG_RND32 ? 32 : 64;
	if (bits > 3 * size) {
		ret4(c, RET_INVALID_PARAMS);
		return;
	}
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		ret4(c, -3);   /* NO_ENTROPY */
		return;
	}
	/* bits past the request are zero; r[0] holds the lowest ones */
	for (unsigned i = 0; i < 3; i++) {
		unsigned lo = i * 64;
		if (bits <= lo)
			r[i] = 0;
		else if (bits - lo < 64)
			r[i] &= (1ull << (bits - lo)) - 1;
	}
	if (size == 32)
		ret_all(c, 0, (uint32_t)r[1], r[0] >> 32, (uint32_t)r[0]);
	else
		ret_all(c, 0, r[2], r[1], r[0]);
}

/* KVM PTP: wall-clock time and a counter read together. */
static void ptp(struct a64 *c)
{
	uint32_t which = (uint32_t)c->x[1];
	if (which > 1) {
		ret4(c, RET_NOT_SUPPORTED);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t cnt = which ? a64_cntpct() : a64_cntvct(c);
	uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	ret_all(c, ns >> 32, (uint32_t)ns, cnt >> 32, (uint32_t)cnt);
}

/* ---- paravirtual stolen time (DEN0057A) ---- */

static void *guest_ptr(struct a64 *c, uint64_t gpa, size_t n)
{
	const struct sk_memslot *s = c->slots ? sk_mem_find(c->slots, gpa) : NULL;
	if (!s || !sk_slot_contains(s, gpa + n - 1) || (s->flags & KVM_MEM_READONLY))
		return NULL;
	sk_mem_mark_dirty(s, gpa);
	return s->hva + (gpa - s->gpa);
}

/* Time this thread waited for a host CPU (schedstat's run_delay, ns). */
static uint64_t run_delay(void)
{
	char buf[96];
	int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	unsigned long long run, delay;
	return sscanf(buf, "%llu %llu", &run, &delay) == 2 ? delay : 0;
}

/* KVM_RUN entry (KVM: each vcpu_load): add the time the vCPU thread waited
 * since the last time to the guest's stolen_time. */
void a64_pvtime_update(struct a64 *c)
{
	if (!c->steal_set)
		return;
	uint64_t now = run_delay();
	_Atomic uint64_t *st = guest_ptr(c, c->steal_base + 8, 8);
	if (st)
		atomic_fetch_add_explicit(st, now - c->steal_last, memory_order_relaxed);
	c->steal_last = now;
}

static int64_t pv_features(struct a64 *c)
{
	uint32_t f = (uint32_t)c->x[1];
	return (f == PV_TIME_FEATURES || f == PV_TIME_ST) && c->steal_set ? RET_SUCCESS : RET_NOT_SUPPORTED;
}

/* PV_TIME_ST: the structure starts over, counting from now. */
static int64_t pv_st(struct a64 *c)
{
	if (!c->steal_set)
		return RET_NOT_SUPPORTED;
	c->steal_last = run_delay();
	void *p = guest_ptr(c, c->steal_base, 64);
	if (p)
		memset(p, 0, 64);
	return (int64_t)c->steal_base;
}

static int64_t arch_features(struct a64 *c)
{
	switch ((uint32_t)c->x[1]) {
	case SF_WORKAROUND_1: case SF_WORKAROUND_3:
		return WA_UNAFFECTED;
	case SF_WORKAROUND_2:
		return SF_NOT_REQUIRED;
	case PV_TIME_FEATURES:
		return a64_fw_bmap(c->avm, 1) & (1u << KVM_REG_ARM_STD_HYP_BIT_PV_TIME) ? RET_SUCCESS
										   : RET_NOT_SUPPORTED;
	}
	return RET_NOT_SUPPORTED;
}

static void psci_call(struct a64 *c)
{
	uint32_t fn = (uint32_t)c->x[0];
	int64_t r;
	if (!allowed(c, fn)) {
		ret4(c, RET_NOT_SUPPORTED);
		return;
	}
	switch (fn) {
	case SF_VERSION:
		r = 0x10001;
		break;
	case SF_ARCH_FEATURES:
		r = arch_features(c);
		break;
	case PV_TIME_FEATURES:
		r = pv_features(c);
		break;
	case PV_TIME_ST:
		r = pv_st(c);
		break;
	case KVM_HYP_CALL_UID:   /* 28b46fb6-2ec5-11e9-a9ca-4b564d003a74 */
		ret_all(c, 0xb66fb428u, 0xe911c52eu, 0x564bcaa9u, 0x743a004du);
		return;
	case KVM_HYP_FEATURES:
		r = (int64_t)a64_fw_bmap(c->avm, 2);
		break;
	case KVM_HYP_PTP:
		ptp(c);
		return;
	case TRNG_VERSION: case TRNG_FEATURES: case TRNG_GET_UUID: case TRNG_RND32: case TRNG_RND64:
		trng(c, fn);
		return;
	default:
		switch (c->psci_version) {
		case 0x10001: r = psci_1x(c, fn, 1); break;
		case 0x10000: r = psci_1x(c, fn, 0); break;
		case 2: r = psci_02(c, fn); break;
		default: r = psci_01(c, fn); break;
		}
	}
	ret4(c, r);
}

/* With EL2 in the guest, HVC belongs to the guest's hypervisor and PSCI
 * is reached with SMC (as KVM does for a guest hypervisor); without it,
 * HVC is PSCI's conduit and SMC is not implemented. */
void a64_hvc(struct a64 *c, uint32_t imm)
{
	if (!a64_has_el2(c)) {
		psci_call(c);
		return;
	}
	if (c->el == 1 && (c->sr[SR_HCR2] & HCR_HCD))
		a64_undef(c);
	a64_take_hvc_el2(c, imm);
}

void a64_smc(struct a64 *c, uint32_t imm)
{
	(void)imm;
	if (a64_has_el2(c))
		psci_call(c);
	else
		c->x[0] = ~0ull;
}
