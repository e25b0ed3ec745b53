/* HVC and SMC: the SMCCC and PSCI firmware interface KVM provides to the
 * guest (PSCI 0.1, 0.2, 1.0 and 1.1 as the vCPU's PSCI version register
 * says). As in Linux 6.1, HVC is the conduit; SMC answers "not supported"
 * in x0. Functions return in x0 with x1..x3 cleared.
 */
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
#define PF_SYSTEM_RESET2 0x84000012u
#define SF_VERSION 0x80000000u
#define SF_ARCH_FEATURES 0x80000001u
#define SF_WORKAROUND_1 0x80008000u
#define SF_WORKAROUND_2 0x80007fffu
#define SF_WORKAROUND_3 0x80003fffu
#define PSCI01_BASE 0x95c1ba5eu
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
	}
	return RET_NOT_SUPPORTED;
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
		if ((uint32_t)c->x[1] == 0)   /* SYSTEM_WARM_RESET */
			system_event(c, KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2);
		return RET_INVALID_PARAMS;
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

static void psci_call(struct a64 *c)
{
	uint32_t fn = (uint32_t)c->x[0];
	int64_t r;
	switch (fn) {
	case SF_VERSION:
		r = 0x10001;
		break;
	case SF_ARCH_FEATURES:
		switch ((uint32_t)c->x[1]) {
		case SF_WORKAROUND_1: case SF_WORKAROUND_2: case SF_WORKAROUND_3:
			r = SF_NOT_REQUIRED;
			break;
		default:
			r = RET_NOT_SUPPORTED;
		}
		break;
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
