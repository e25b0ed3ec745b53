/* PMUv3 (KVM_ARM_VCPU_PMU_V3): the cycle counter and four event counters,
 * overflow status and its interrupt line, which a VM without an in-kernel
 * irqchip sees in device_irq_level (KVM_ARM_DEV_PMU).
 *
 * Counting model: the cycle counter and CPU_CYCLES (0x11) count host
 * nanoseconds (a 1 GHz core) while enabled; SW_INCR (0x00) counts
 * PMSWINC_EL0 writes; other events are not implemented (PMCEID0 says so)
 * and never count. Counters are folded lazily: a running counter keeps
 * its value at `since` and grows with time; overflow is found when it is
 * next looked at (every block boundary and exit, through the device line).
 */
#include <errno.h>

#include "arch/arm64/a64.h"

#define PMCR_E 1u
#define PMCR_P 2u
#define PMCR_C 4u
#define PMCR_LC (1u << 6)
#define PMCR_WMASK 0xfbu          /* E P C D X DP, LC: what a write keeps (P, C act) */
#define CYC 31                    /* the cycle counter's bit */

static unsigned bit_of(unsigned i)
{
	return i == A64_PMU_N ? 1u << CYC : 1u << i;
}

/* Does counter i (A64_PMU_N: the cycle counter) count time right now? */
static bool runs(const struct a64_pmu *p, unsigned i)
{
	if (!(p->pmcr & PMCR_E) || !(p->cnten & bit_of(i)))
		return false;
	return i == A64_PMU_N || (p->evtyper[i] & 0xffff) == 0x11;
}

static unsigned width(const struct a64_pmu *p, unsigned i)
{
	return i == A64_PMU_N && (p->pmcr & PMCR_LC) ? 64 : 32;
}

static void add(struct a64_pmu *p, unsigned i, uint64_t n)
{
	uint64_t old = p->cnt[i], v = old + n;
	bool ovf;
	if (width(p, i) == 64) {
		ovf = v < old;
	} else {
		ovf = ((old & 0xffffffffull) + n) >> 32 != 0;
		if (i < A64_PMU_N)
			v &= 0xffffffffull;
	}
	p->cnt[i] = v;
	if (ovf)
		p->ovs |= bit_of(i);
}

/* Bring every counter up to now. */
void a64_pmu_sync(struct a64 *c)
{
	struct a64_pmu *p = &c->pmu;
	uint64_t now = a64_host_ns();
	for (unsigned i = 0; i <= A64_PMU_N; i++) {
		if (runs(p, i) && now > p->since[i])
			add(p, i, now - p->since[i]);
		p->since[i] = now;
	}
}

bool a64_pmu_line(struct a64 *c)
{
	struct a64_pmu *p = &c->pmu;
	if (!p->created)
		return false;
	a64_pmu_sync(c);
	return (p->pmcr & PMCR_E) && (p->ovs & p->cnten & p->inten);
}

uint64_t a64_pmu_next_ns(struct a64 *c)
{
	struct a64_pmu *p = &c->pmu;
	uint64_t best = UINT64_MAX;
	if (!p->created)
		return best;
	a64_pmu_sync(c);
	uint64_t now = a64_host_ns();
	for (unsigned i = 0; i <= A64_PMU_N; i++) {
		if (!runs(p, i) || !(p->inten & bit_of(i)) || width(p, i) == 64)
			continue;
		uint64_t left = (1ull << 32) - (p->cnt[i] & 0xffffffffull);
		if (now + left < best)
			best = now + left;
	}
	return best;
}

void a64_pmu_reset(struct a64 *c)
{
	bool created = c->pmu.created;
	memset(&c->pmu, 0, sizeof(c->pmu));
	c->pmu.created = created;
}

/* ---- system registers (sysreg.c's table points here) ---- */

/* No PMU: UNDEFINED. EL0: only with PMUSERENR_EL0.EN, else a trap. */
static bool ok(struct a64 *c, bool el1_only)
{
	if (!(c->features & (1u << KVM_ARM_VCPU_PMU_V3)))
		return false;
	if (c->el == 0) {
		if (el1_only)
			return false;
		if (!(c->sr[SR_PMUSERENR] & 1)) {
			c->sys_trap = true;
			return false;
		}
	}
	a64_pmu_sync(c);
	return true;
}

bool a64_pmcr_read(struct a64 *c, uint64_t *v)
{
	if (!ok(c, false))
		return false;
	*v = (0x41ull << 24) | ((uint64_t)A64_PMU_N << 11) | (c->pmu.pmcr & ~(PMCR_P | PMCR_C));
	return true;
}

bool a64_pmcr_write(struct a64 *c, uint64_t v)
{
	if (!ok(c, false))
		return false;
	struct a64_pmu *p = &c->pmu;
	if (v & PMCR_P)
		for (unsigned i = 0; i < A64_PMU_N; i++)
			p->cnt[i] = 0;
	if (v & PMCR_C)
		p->cnt[A64_PMU_N] = 0;
	p->pmcr = (uint32_t)v & PMCR_WMASK & ~(PMCR_P | PMCR_C);
	return true;
}

#define VALID_BITS ((1u << CYC) | ((1u << A64_PMU_N) - 1))

/* The set/clear register pairs: which field, and set or clear. */
static uint32_t *field(struct a64 *c, int which)
{
	return which == 0 ? &c->pmu.cnten : which == 1 ? &c->pmu.inten : &c->pmu.ovs;
}

bool a64_pm_setclr_read(struct a64 *c, int which, uint64_t *v)
{
	if (!ok(c, which == 1))
		return false;
	*v = *field(c, which);
	return true;
}

bool a64_pm_setclr_write(struct a64 *c, int which, bool set, uint64_t v)
{
	if (!ok(c, which == 1))
		return false;
	uint32_t *f = field(c, which);
	if (set)
		*f |= (uint32_t)v & VALID_BITS;
	else
		*f &= ~((uint32_t)v & VALID_BITS);
	return true;
}

bool a64_pmswinc_write(struct a64 *c, uint64_t v)
{
	if (!ok(c, false))
		return false;
	struct a64_pmu *p = &c->pmu;
	for (unsigned i = 0; i < A64_PMU_N; i++)
		if ((v & (1u << i)) && (p->pmcr & PMCR_E) && (p->cnten & (1u << i)) &&
		    (p->evtyper[i] & 0xffff) == 0)
			add(p, i, 1);
	return true;
}

bool a64_pmselr_read(struct a64 *c, uint64_t *v)
{
	if (!ok(c, false))
		return false;
	*v = c->pmu.selr;
	return true;
}

bool a64_pmselr_write(struct a64 *c, uint64_t v)
{
	if (!ok(c, false))
		return false;
	c->pmu.selr = (uint32_t)v & 0x1f;
	return true;
}

bool a64_pmceid_read(struct a64 *c, int which, uint64_t *v)
{
	if (!ok(c, false))
		return false;
	*v = which ? 0 : (1ull << 0) | (1ull << 0x11);   /* SW_INCR, CPU_CYCLES */
	return true;
}

/* Counter n (A64_PMU_N: cycle counter; -1: the one PMSELR selects). */
static int pick(struct a64 *c, int n)
{
	if (n >= 0)
		return n;
	unsigned s = c->pmu.selr;
	return s == CYC ? A64_PMU_N : s < A64_PMU_N ? (int)s : -1;
}

bool a64_pmcnt_read(struct a64 *c, int n, uint64_t *v)
{
	if (!ok(c, false))
		return false;
	int i = pick(c, n);
	*v = i < 0 ? 0 : c->pmu.cnt[i];
	return true;
}

bool a64_pmcnt_write(struct a64 *c, int n, uint64_t v)
{
	if (!ok(c, false))
		return false;
	int i = pick(c, n);
	if (i >= 0)
		c->pmu.cnt[i] = i < A64_PMU_N ? (uint32_t)v : v;
	return true;
}

bool a64_pmtype_read(struct a64 *c, int n, uint64_t *v)
{
	if (!ok(c, false))
		return false;
	int i = pick(c, n);
	*v = i < 0 ? 0 : i == A64_PMU_N ? c->pmu.ccfiltr : c->pmu.evtyper[i];
	return true;
}

bool a64_pmtype_write(struct a64 *c, int n, uint64_t v)
{
	if (!ok(c, false))
		return false;
	int i = pick(c, n);
	if (i == A64_PMU_N)
		c->pmu.ccfiltr = (uint32_t)v & 0xfc000000u;
	else if (i >= 0)
		c->pmu.evtyper[i] = (uint32_t)v & 0xfc00ffffu;
	return true;
}

/* ---- KVM_{SET,GET,HAS}_DEVICE_ATTR on the vCPU: KVM_ARM_VCPU_PMU_V3_CTRL ----
 * There is never an in-kernel irqchip here, so the overflow line goes to
 * userspace (device_irq_level) and an IRQ number cannot be set. */

int a64_pmu_has_attr(struct a64 *c, const struct kvm_device_attr *a)
{
	if (a->group != KVM_ARM_VCPU_PMU_V3_CTRL)
		return -ENXIO;
	if (a->attr != KVM_ARM_VCPU_PMU_V3_IRQ && a->attr != KVM_ARM_VCPU_PMU_V3_INIT)
		return -ENXIO;
	return (c->features & (1u << KVM_ARM_VCPU_PMU_V3)) ? 0 : -ENXIO;
}

int a64_pmu_set_attr(struct a64 *c, const struct kvm_device_attr *a)
{
	if (a->group != KVM_ARM_VCPU_PMU_V3_CTRL)
		return -ENXIO;
	if (!(c->features & (1u << KVM_ARM_VCPU_PMU_V3)))
		return -ENODEV;
	switch (a->attr) {
	case KVM_ARM_VCPU_PMU_V3_IRQ:
		return a64_vgic_pmu_irq(c, a, 0);   /* EINVAL without an in-kernel irqchip */
	case KVM_ARM_VCPU_PMU_V3_INIT:
		if (c->pmu.created)
			return -EBUSY;
		c->pmu.created = true;
		return 0;
	}
	return -ENXIO;
}

int a64_pmu_get_attr(struct a64 *c, const struct kvm_device_attr *a)
{
	if (a->group != KVM_ARM_VCPU_PMU_V3_CTRL)
		return -ENXIO;
	if (a->attr == KVM_ARM_VCPU_PMU_V3_IRQ)
		return a64_vgic_pmu_irq(c, a, 1);   /* EINVAL without an in-kernel irqchip */
	return -ENXIO;
}
