/* The generic timer: counters from the host monotonic clock at CNTFRQ
 * (62.5 MHz: one tick is 16 ns), the EL1 virtual and physical timers and
 * their output lines. */
#include <time.h>

#include "arch/arm64/a64.h"

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
	return l;
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
