/* The generic timer: counters from the host monotonic clock at CNTFRQ
 * (62.5 MHz: one tick is 16 ns), the EL1 virtual and physical timers and
 * their output lines. */
#include <errno.h>
#include <time.h>

#include "arch/arm64/a64.h"
#include "kvm/uaccess.h"

uint64_t a64_host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t a64_cntpct(void)
{
	return a64_host_ns() / 16;
}

uint64_t a64_cntvct(struct a64 *c)
{
	return a64_cntpct() - c->cntvoff;
}

void a64_timer_set_cnt(struct a64 *c, uint64_t vct)
{
	c->cntvoff = a64_cntpct() - vct;
}

/* which: 0 virtual, 1 physical. CTL with ISTATUS as it is now. */
uint64_t a64_timer_ctl_read(struct a64 *c, int which)
{
	uint64_t ctl = c->sr[which ? SR_CNTP_CTL : SR_CNTV_CTL] & 3;
	uint64_t cnt = which ? a64_cntpct() : a64_cntvct(c);
	uint64_t cval = c->sr[which ? SR_CNTP_CVAL : SR_CNTV_CVAL];
	if ((ctl & 1) && cnt >= cval)
		ctl |= 4;
	return ctl;
}

uint32_t a64_timer_levels(struct a64 *c)
{
	uint32_t l = 0;
	if ((a64_timer_ctl_read(c, 0) & 7) == 5)
		l |= KVM_ARM_DEV_EL1_VTIMER;
	if ((a64_timer_ctl_read(c, 1) & 7) == 5)
		l |= KVM_ARM_DEV_EL1_PTIMER;
	if (a64_pmu_line(c))
		l |= KVM_ARM_DEV_PMU;
	return a64_vgic_dev_lines(c, l);   /* with a vGIC, the lines go there */
}

uint64_t a64_timer_next_ns(struct a64 *c)
{
	uint64_t best = UINT64_MAX;
	uint64_t now_p = a64_cntpct();
	for (int which = 0; which < 2; which++) {
		uint64_t ctl = c->sr[which ? SR_CNTP_CTL : SR_CNTV_CTL];
		if ((ctl & 3) != 1)
			continue;
		uint64_t cval = c->sr[which ? SR_CNTP_CVAL : SR_CNTV_CVAL];
		uint64_t cval_p = which ? cval : cval + c->cntvoff;   /* in physical ticks */
		if (cval_p <= now_p)
			continue;   /* already high: a level, not a future edge */
		if (cval_p - now_p > (UINT64_MAX / 16) - now_p)
			continue;
		uint64_t ns = cval_p * 16;
		if (ns < best)
			best = ns;
	}
	uint64_t pmu = a64_pmu_next_ns(c);
	return pmu < best ? pmu : best;
}

/* ---- KVM_ARM_VCPU_TIMER_CTRL: the timers' PPIs, one pair for the VM ---- */

#define TIMER_PPI_DEFAULT(which) ((which) ? 30 : 27)

static int timer_which(const struct kvm_device_attr *a)
{
	switch (a->attr) {
	case KVM_ARM_VCPU_TIMER_IRQ_VTIMER: return 0;
	case KVM_ARM_VCPU_TIMER_IRQ_PTIMER: return 1;
	}
	return -1;
}

/* Only with the in-kernel vGIC, a PPI, before this vCPU's first run. */
int a64_timer_set_attr(struct a64 *c, const struct kvm_device_attr *a)
{
	int irq;
	if (!a64_vgic_present(c->vm))
		return -EINVAL;
	if (sk_copy_from_user(&irq, (void *)(uintptr_t)a->addr, sizeof(irq)))
		return -EFAULT;
	if (irq < 16 || irq >= 32)
		return -EINVAL;
	if (c->ran)
		return -EBUSY;
	int which = timer_which(a);
	if (which < 0)
		return -ENXIO;
	c->avm->timer_ppi[which] = irq;
	return 0;
}

int a64_timer_get_attr(struct a64 *c, const struct kvm_device_attr *a)
{
	int which = timer_which(a);
	if (which < 0)
		return -ENXIO;
	int irq = c->avm->timer_ppi[which] ? c->avm->timer_ppi[which] : TIMER_PPI_DEFAULT(which);
	return sk_copy_to_user((void *)(uintptr_t)a->addr, &irq, sizeof(irq)) ? -EFAULT : 0;
}

int a64_timer_has_attr(struct a64 *c, const struct kvm_device_attr *a)
{
	(void)c;
	return timer_which(a) < 0 ? -ENXIO : 0;
}
