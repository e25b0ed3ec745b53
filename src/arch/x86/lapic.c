/* The local APIC: the register page (xAPIC MMIO and x2APIC MSRs), priority
 * and EOI, the timer (one-shot, periodic, TSC-deadline), IPIs, INIT/SIPI,
 * and the vCPU's side of interrupt acceptance and halting.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/irq.h"

enum {
	R_ID = 0x20, R_LVR = 0x30, R_TPR = 0x80, R_APR = 0x90, R_PPR = 0xa0, R_EOI = 0xb0,
	R_LDR = 0xd0, R_DFR = 0xe0, R_SVR = 0xf0, R_ISR = 0x100, R_TMR = 0x180, R_IRR = 0x200,
	R_ESR = 0x280, R_ICR = 0x300, R_ICR2 = 0x310, R_LVTT = 0x320, R_LVTTHMR = 0x330,
	R_LVTPC = 0x340, R_LVT0 = 0x350, R_LVT1 = 0x360, R_LVTERR = 0x370, R_TMICT = 0x380,
	R_TMCCT = 0x390, R_TDCR = 0x3e0, R_SELF_IPI = 0x3f0,
};

#define LVT_MASKED (1u << 16)
#define LVT_MASK (LVT_MASKED | (1u << 12) | 0xffu)
#define LINT_MASK (LVT_MASK | 0x700u | (1u << 13) | (1u << 14) | (1u << 15))
#define SVR_ENABLE (1u << 8)
#define APIC_VERSION 0x50014u          /* version 0x14, 6 LVT entries */
/* The 7th LVT entry, present while MCG_CAP.MCG_CMCI_P is set (mce.c). */
#define R_LVTCMCI 0x2f0u
#define MSR_TSC_DEADLINE 0x6e0
#define MIN_PERIOD_NS 200000ull         /* KVM's min_timer_period_us */

#define DM_REMRD 3                      /* KVM's "remote read": PV unhalt */

enum { TIMER_ONESHOT = 0, TIMER_PERIODIC = 1, TIMER_TSCDEADLINE = 2 };

/* ---- vector bitmaps (IRR/ISR/TMR: 8 words 16 bytes apart) ---- */

static uint32_t *vec_word(struct x86_lapic *a, unsigned base, unsigned vec)
{
	return (uint32_t *)(void *)(a->regs + base + 0x10 * (vec >> 5));
}

static void vec_set(struct x86_lapic *a, unsigned base, unsigned vec)
{
	__atomic_fetch_or(vec_word(a, base, vec), 1u << (vec & 31), __ATOMIC_RELEASE);
}

static void vec_clear(struct x86_lapic *a, unsigned base, unsigned vec)
{
	__atomic_fetch_and(vec_word(a, base, vec), ~(1u << (vec & 31)), __ATOMIC_RELEASE);
}

static bool vec_test(struct x86_lapic *a, unsigned base, unsigned vec)
{
	return (__atomic_load_n(vec_word(a, base, vec), __ATOMIC_ACQUIRE) >> (vec & 31)) & 1;
}

static int vec_highest(struct x86_lapic *a, unsigned base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = __atomic_load_n(vec_word(a, base, (unsigned)i * 32), __ATOMIC_ACQUIRE);
		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

/* ---- mode ---- */

static uint64_t apic_base(const struct x86_lapic *a)
{
	return a->cpu->apic_base;
}

static bool hw_enabled(const struct x86_lapic *a)
{
	return apic_base(a) & APIC_BASE_ENABLE;
}

static bool x2apic(const struct x86_lapic *a)
{
	return (apic_base(a) & (APIC_BASE_ENABLE | APIC_BASE_EXTD)) ==
	       (APIC_BASE_ENABLE | APIC_BASE_EXTD);
}

static bool sw_enabled(const struct x86_lapic *a)
{
	return apic_reg(a, R_SVR) & SVR_ENABLE;
}

static unsigned timer_mode(const struct x86_lapic *a)
{
	return (apic_reg(a, R_LVTT) >> 17) & 3;
}

static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

void x86_irq_kick(struct x86_lapic *a)
{
	sk_vcpu_request(a->cpu->vcpu, SK_REQ_EVENT);
}

/* ---- priority ---- */

static uint32_t ppr(struct x86_lapic *a)
{
	uint32_t tpr = apic_reg(a, R_TPR) & 0xff;
	int isr = vec_highest(a, R_ISR);
	uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr;
	uint32_t p = (tpr & 0xf0) >= (isrv & 0xf0) ? tpr : (isrv & 0xf0);
	apic_set_reg(a, R_PPR, p);
	return p;
}

/* The highest IRR vector above the processor priority, or -1. */
static int apic_pending(struct x86_lapic *a)
{
	if (!hw_enabled(a))
		return -1;
	int irr = vec_highest(a, R_IRR);
	if (irr < 0 || ((uint32_t)irr & 0xf0) <= ppr(a))
		return -1;
	return irr;
}

/* The 8259's output reaches this CPU (LINT0 in ExtINT mode, or no APIC). */
static bool accepts_pic(struct x86_lapic *a)
{
	uint32_t lvt0 = apic_reg(a, R_LVT0);
	return !hw_enabled(a) || (!(lvt0 & LVT_MASKED) && ((lvt0 >> 8) & 7) == DM_EXTINT);
}

static bool pic_pending(struct x86_lapic *a)
{
	return accepts_pic(a) && x86_pic_has_intr(a->ic);
}

static void set_tpr(struct x86_lapic *a, uint32_t v)
{
	apic_set_reg(a, R_TPR, v & 0xff);
	a->cpu->cr8 = a->cr8_seen = (v >> 4) & 0xf;
	ppr(a);
}

void x86_lapic_sync_tpr(struct x86_cpu *cpu)
{
	struct x86_lapic *a = x86_lapic(cpu);
	if (cpu->cr8 != a->cr8_seen)
		set_tpr(a, (uint32_t)(cpu->cr8 & 0xf) << 4);
}

static void eoi(struct x86_lapic *a)
{
	int v = vec_highest(a, R_ISR);
	if (v < 0)
		return;
	vec_clear(a, R_ISR, (unsigned)v);
	x86_sys(a->cpu)->pv.eoi_isr = 0;   /* KVM's highest_isr_cache */
	ppr(a);
	if (vec_test(a, R_TMR, (unsigned)v))
		x86_ioapic_eoi(a->ic, (uint8_t)v);
	x86_irq_kick(a);   /* a lower-priority interrupt may be deliverable now */
}

/* ---- timer ---- */

static uint64_t divisor(const struct x86_lapic *a)
{
	uint32_t d = apic_reg(a, R_TDCR);
	unsigned v = (d & 3) | ((d & 8) >> 1);
	return v == 7 ? 1 : 2ull << v;
}

static void timer_arm(struct x86_lapic *a, uint64_t deadline)
{
	atomic_store(&a->deadline_ns, deadline);
	if (deadline)
		x86_irqchip_timer_changed(a->ic);
}

static void timer_stop(struct x86_lapic *a)
{
	a->period_ns = 0;
	atomic_store(&a->deadline_ns, 0);
}

/* Start one-shot/periodic counting from count (TMICT, or the current count
 * KVM_SET_LAPIC restores). */
static void timer_start(struct x86_lapic *a, uint32_t count)
{
	timer_stop(a);
	uint32_t init = apic_reg(a, R_TMICT);
	unsigned mode = timer_mode(a);
	if (!init || mode == TIMER_TSCDEADLINE || mode == 3 || !count)
		return;
	uint64_t period = (uint64_t)init * divisor(a);
	uint64_t first = (uint64_t)count * divisor(a);
	if (mode == TIMER_PERIODIC) {
		if (period < MIN_PERIOD_NS)
			period = MIN_PERIOD_NS;
		if (first > period)
			first = period;
		a->period_ns = period;
	}
	timer_arm(a, x86_host_ns() + first);
}

static void tscdeadline_start(struct x86_lapic *a)
{
	timer_stop(a);
	if (timer_mode(a) != TIMER_TSCDEADLINE || !a->tscdeadline)
		return;
	uint64_t now = x86_host_ns(), tsc = x86_rdtsc(a->cpu);
	uint64_t ns = now;
	/* Rounded up, so the guest never sees its deadline not yet reached. */
	if (a->tscdeadline > tsc)
		ns += x86_tsc_ticks_to_ns(a->cpu, a->tscdeadline - tsc) + 1;
	timer_arm(a, ns ? ns : 1);
}

static uint32_t current_count(struct x86_lapic *a)
{
	uint64_t d = atomic_load(&a->deadline_ns);
	unsigned mode = timer_mode(a);
	if (!d || mode == TIMER_TSCDEADLINE)
		return 0;
	uint64_t now = x86_host_ns();
	uint64_t rem = d > now ? d - now : 0;
	if (a->period_ns && rem > a->period_ns)
		rem %= a->period_ns;
	uint64_t c = rem / divisor(a);
	return c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

/* The owner's check: an expired timer raises its LVT vector. */
static void timer_poll(struct x86_lapic *a)
{
	uint64_t d = atomic_load(&a->deadline_ns);
	if (!d)
		return;
	uint64_t now = x86_host_ns();
	if (now < d)
		return;
	uint32_t lvtt = apic_reg(a, R_LVTT);
	if (!(lvtt & LVT_MASKED) && sw_enabled(a)) {
		vec_clear(a, R_TMR, lvtt & 0xff);
		vec_set(a, R_IRR, lvtt & 0xff);
	}
	if (a->period_ns) {
		d += a->period_ns;
		if (d <= now)
			d = now + a->period_ns;   /* we fell behind: coalesce */
		timer_arm(a, d);
	} else {
		atomic_store(&a->deadline_ns, 0);
		if (timer_mode(a) == TIMER_TSCDEADLINE)
			a->tscdeadline = 0;
	}
}

uint64_t x86_lapic_next_deadline(struct x86_lapic *a)
{
	return atomic_load(&a->deadline_ns);
}

/* ---- IPIs and delivery ---- */

static bool dest_match(struct x86_lapic *t, const struct irq_msg *m, bool wide)
{
	if (!hw_enabled(t))
		return false;
	uint32_t dest = m->dest;
	if (x2apic(t)) {
		if (dest == 0xffffffffu || (!wide && dest == 0xff))
			return true;
		if (!m->logical)
			return dest == t->vcpu_id;
		uint32_t ldr = apic_reg(t, R_LDR);
		if (!wide)   /* an 8-bit logical destination: flat model */
			return (dest & 0xff) & (1u << (t->vcpu_id & 7)) && t->vcpu_id < 8;
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if (!m->logical)
		return dest == apic_reg(t, R_ID) >> 24;
	uint32_t ldr = apic_reg(t, R_LDR) >> 24;
	if ((apic_reg(t, R_DFR) >> 28) == 0xf)
		return dest & ldr;
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
}

/* Post one message to one LAPIC (any thread). */
static bool accept(struct x86_lapic *t, const struct irq_msg *m)
{
	switch (m->mode) {
	case DM_FIXED:
	case DM_LOWEST:
		if (!sw_enabled(t))
			return false;
		if (m->trig_level)
			vec_set(t, R_TMR, m->vector);
		else
			vec_clear(t, R_TMR, m->vector);
		vec_set(t, R_IRR, m->vector);
		break;
	case DM_NMI:
		atomic_fetch_or(&t->events, EV_NMI);
		break;
	case DM_INIT:
		if (m->trig_level && !m->level)
			return true;   /* INIT level de-assert: nothing */
		atomic_fetch_or(&t->events, EV_INIT);
		break;
	case DM_SIPI:
		x86_lapic_post_sipi(t, m->vector);
		return true;
	case DM_SMI:
		x86_smm_post(t->cpu);
		break;
	case DM_REMRD:   /* KVM_HC_KICK_CPU (pv.c) */
		atomic_store(&x86_sys(t->cpu)->pv.unhalted, true);
		break;
	default:
		return false;   /* ExtINT: not modelled */
	}
	x86_irq_kick(t);
	return true;
}

void x86_lapic_post_sipi(struct x86_lapic *a, uint32_t vector)
{
	atomic_store(&a->sipi_vector, vector);
	atomic_fetch_or(&a->events, EV_SIPI);
	x86_irq_kick(a);
}

int x86_irq_deliver(struct x86_irqchip *ic, struct x86_lapic *src, const struct irq_msg *m)
{
	int n = atomic_load_explicit(&ic->nr_apics, memory_order_acquire), hit = 0;
	bool wide = src && x2apic(src);
	for (int i = 0; i < n; i++) {
		struct x86_lapic *t = ic->apics[i];
		bool match;
		switch (m->shorthand) {
		case 1: match = t == src; break;
		case 2: match = true; break;
		case 3: match = t != src; break;
		default: match = dest_match(t, m, wide); break;
		}
		if (match && accept(t, m)) {
			hit++;
			if (m->mode == DM_LOWEST && !m->shorthand)
				break;   /* lowest priority: one CPU takes it */
		}
	}
	return hit ? hit : -1;
}

static void send_ipi(struct x86_lapic *a, uint32_t lo, uint32_t hi)
{
	struct irq_msg m = {
		.vector = lo & 0xff,
		.mode = (lo >> 8) & 7,
		.logical = lo & (1u << 11),
		.level = lo & (1u << 14),
		.trig_level = lo & (1u << 15),
		.shorthand = (lo >> 18) & 3,
		.dest = x2apic(a) ? hi : hi >> 24,
	};
	x86_irq_deliver(a->ic, a, &m);
}

/* ---- register access ---- */

/* ---- the LVT CMCI (KVM: kvm_apic_after_set_mcg_cap, APIC_LVTCMCI) ---- */

static bool has_cmci(const struct x86_lapic *a)
{
	return x86_mce_has_cmci(a->cpu);
}

static uint32_t lvr(const struct x86_lapic *a)
{
	return APIC_VERSION + (has_cmci(a) ? 0x10000u : 0);
}

void x86_lapic_mcg_cap_changed(struct x86_cpu *cpu)
{
	struct x86_lapic *a = x86_lapic(cpu);
	if (!a || apic_reg(a, R_LVR) == lvr(a))
		return;
	if (has_cmci(a))
		apic_set_reg(a, R_LVTCMCI, LVT_MASKED);
	apic_set_reg(a, R_LVR, lvr(a));
}

void x86_lapic_cmci(struct x86_cpu *cpu)
{
	struct x86_lapic *a = x86_lapic(cpu);
	if (!a || !hw_enabled(a))
		return;
	uint32_t lvt = apic_reg(a, R_LVTCMCI);
	if (lvt & LVT_MASKED)
		return;
	struct irq_msg m = {.vector = lvt & 0xff, .mode = (lvt >> 8) & 7,
			    .trig_level = lvt & (1u << 15)};
	accept(a, &m);
}

static void mask_all_lvts(struct x86_lapic *a)
{
	for (unsigned off = R_LVTT; off <= R_LVTERR; off += 0x10)
		apic_set_reg(a, off, apic_reg(a, off) | LVT_MASKED);
	if (has_cmci(a))
		apic_set_reg(a, R_LVTCMCI, apic_reg(a, R_LVTCMCI) | LVT_MASKED);
}

static void write_lvtt(struct x86_lapic *a, uint32_t val)
{
	unsigned old = timer_mode(a);
	val &= LVT_MASK | (3u << 17);
	if (!sw_enabled(a))
		val |= LVT_MASKED;
	apic_set_reg(a, R_LVTT, val);
	if (timer_mode(a) != old) {
		/* Switching modes stops the timer (KVM: apic_update_lvtt). */
		apic_set_reg(a, R_TMICT, 0);
		a->tscdeadline = 0;
		timer_stop(a);
	}
}

/* Write a register; false when the write is invalid (#GP in x2APIC mode). */
static bool reg_write(struct x86_lapic *a, unsigned off, uint32_t val)
{
	bool x2 = x2apic(a);
	switch (off) {
	case R_ID:
		if (x2)
			return false;
		apic_set_reg(a, R_ID, val & 0xff000000u);
		break;
	case R_TPR:
		set_tpr(a, val);
		x86_irq_kick(a);
		break;
	case R_EOI:
		if (x2 && val)
			return false;
		eoi(a);
		break;
	case R_LDR:
		if (x2)
			return false;
		apic_set_reg(a, R_LDR, val & 0xff000000u);
		break;
	case R_DFR:
		if (x2)
			return false;
		apic_set_reg(a, R_DFR, val | 0x0fffffffu);
		break;
	case R_SVR:
		apic_set_reg(a, R_SVR, val & 0x3ff);
		if (!(val & SVR_ENABLE)) {
			mask_all_lvts(a);
			timer_stop(a);
		}
		x86_irq_kick(a);
		break;
	case R_ESR:
		if (x2 && val)
			return false;
		break;
	case R_ICR:
		apic_set_reg(a, R_ICR, val & ~(1u << 12));
		send_ipi(a, val, apic_reg(a, R_ICR2));
		break;
	case R_ICR2:
		if (x2)
			return false;
		apic_set_reg(a, R_ICR2, val & 0xff000000u);
		break;
	case R_LVTT:
		write_lvtt(a, val);
		break;
	case R_LVTCMCI:
		if (!has_cmci(a))
			return !x2;
		__attribute__((fallthrough));
	case R_LVTTHMR:
	case R_LVTPC:
	case R_LVTERR:
	case R_LVT0:
	case R_LVT1: {
		uint32_t mask = off == R_LVT0 || off == R_LVT1 ? LINT_MASK :
				off == R_LVTERR ? LVT_MASK : LVT_MASK | 0x700u;
		val &= mask;
		if (!sw_enabled(a))
			val |= LVT_MASKED;
		apic_set_reg(a, off, val);
		if (off == R_LVT0)
			x86_irq_kick(a);
		break;
	}
	case R_TMICT:
		if (timer_mode(a) == TIMER_TSCDEADLINE)
			break;
		apic_set_reg(a, R_TMICT, val);
		timer_start(a, val);
		break;
	case R_TDCR:
		apic_set_reg(a, R_TDCR, val & 0xb);
		break;
	case R_SELF_IPI:
		if (!x2)
			return false;
		send_ipi(a, (val & 0xff) | (1u << 18), 0);
		break;
	default:
		/* Read-only and reserved registers: ignored, #GP through MSRs. */
		return !x2;
	}
	return true;
}

static bool readable(bool x2, unsigned off)
{
	switch (off) {
	case R_ID: case R_LVR: case R_TPR: case R_PPR: case R_LDR: case R_SVR: case R_ESR:
	case R_ICR: case R_LVTT: case R_LVTTHMR: case R_LVTPC: case R_LVT0: case R_LVT1:
	case R_LVTERR: case R_TMICT: case R_TMCCT: case R_TDCR:
		return true;
	case R_APR: case R_DFR: case R_ICR2:
		return !x2;
	default:
		return off >= R_ISR && off < R_ESR && !(off & 0xf);
	}
}

static bool reg_read(struct x86_lapic *a, unsigned off, uint32_t *val)
{
	bool x2 = x2apic(a);
	if (!readable(x2, off) && !(off == R_LVTCMCI && has_cmci(a))) {
		*val = 0;
		return false;
	}
	switch (off) {
	case R_ID:
		*val = x2 ? a->vcpu_id : apic_reg(a, R_ID);
		return true;
	case R_PPR:
		*val = ppr(a);
		return true;
	case R_TMCCT:
		*val = current_count(a);
		return true;
	case R_APR:
		*val = 0;
		return true;
	default:
		*val = apic_reg(a, off);
		return true;
	}
}

bool x86_lapic_mmio(struct x86_cpu *cpu, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
	struct x86_lapic *a = x86_lapic(cpu);
	if (!a || !hw_enabled(a))
		return false;
	uint64_t base = cpu->apic_base & ~0xfffull & ~x86_rsvd_gpa(cpu);
	if (gpa - base >= 4096)
		return false;
	unsigned off = (unsigned)(gpa - base);
	if (x2apic(a)) {   /* KVM_X86_QUIRK_LAPIC_MMIO_HOLE */
		if (!write)
			*val = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
		return true;
	}
	if (write) {
		/* Only aligned 32-bit writes reach a register. */
		if (size == 4 && !(off & 0xf))
			reg_write(a, off, (uint32_t)*val);
		return true;
	}
	uint32_t r = 0;
	if ((off & 0xf) + size <= 4)
		reg_read(a, off & ~0xfu, &r);
	uint64_t v = (uint64_t)r >> (8 * (off & 3));
	*val = size >= 4 ? v : v & ((1ull << (8 * size)) - 1);
	return true;
}

bool x86_lapic_msr_get(struct x86_cpu *cpu, uint32_t idx, uint64_t *val)
{
	struct x86_lapic *a = x86_lapic(cpu);
	if (idx == MSR_TSC_DEADLINE) {
		*val = a && timer_mode(a) == TIMER_TSCDEADLINE ? a->tscdeadline : 0;
		return true;
	}
	if (!a || !x2apic(a))
		return false;
	unsigned off = (idx - 0x800) << 4;
	uint32_t lo;
	if (!reg_read(a, off, &lo))
		return false;
	*val = lo;
	if (off == R_ICR)
		*val |= (uint64_t)apic_reg(a, R_ICR2) << 32;
	return true;
}

bool x86_lapic_msr_set(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	struct x86_lapic *a = x86_lapic(cpu);
	if (idx == MSR_TSC_DEADLINE) {
		if (a && timer_mode(a) == TIMER_TSCDEADLINE) {
			a->tscdeadline = val;
			tscdeadline_start(a);
		}
		return true;
	}
	if (!a || !x2apic(a))
		return false;
	unsigned off = (idx - 0x800) << 4;
	if (off == R_ICR) {   /* 6.1 checks no reserved ICR bits */
		apic_set_reg(a, R_ICR2, (uint32_t)(val >> 32));
		return reg_write(a, R_ICR, (uint32_t)val);
	}
	if (val >> 32)
		return false;
	if (off == R_ID || off == R_LDR || off == R_LVR || off == R_PPR || off == R_TMCCT ||
	    (off >= R_ISR && off < R_ESR))
		return false;   /* read-only in x2APIC mode */
	return reg_write(a, off, (uint32_t)val);
}

bool x86_lapic_set_base(struct x86_cpu *cpu, uint64_t val, bool host)
{
	struct x86_lapic *a = x86_lapic(cpu);
	uint64_t old = cpu->apic_base;
	uint64_t rsvd = x86_rsvd_gpa(cpu) | 0x2ff;
	uint32_t id1[4];
	x86_cpuid(cpu, 1, 0, id1);
	if (!a || !(id1[2] & (1u << 21)))
		rsvd |= APIC_BASE_EXTD;   /* x2APIC needs the guest's CPUID bit */
	/* EXTD without EN is invalid for anyone; the guest may not go
	 * x2APIC -> xAPIC nor disabled -> x2APIC directly. */
	unsigned om = (old >> 10) & 3, nm = (val >> 10) & 3;
	if ((val & rsvd) || nm == 1)
		return false;
	if (!host && ((om == 3 && nm == 2) || (om == 0 && nm == 3)))
		return false;
	cpu->apic_base = val;
	if (!a)
		return true;
	if ((old ^ val) & APIC_BASE_ENABLE) {
		if (val & APIC_BASE_ENABLE)
			apic_set_reg(a, R_ID, a->vcpu_id << 24);
		else
			timer_stop(a);
	}
	if (((old ^ val) & APIC_BASE_EXTD) && x2apic(a))
		apic_set_reg(a, R_LDR, x2apic_ldr(a->vcpu_id));
	x86_irq_kick(a);
	return true;
}

/* ---- reset, state ---- */

void x86_lapic_reset(struct x86_lapic *a, bool init)
{
	struct x86_cpu *cpu = a->cpu;
	bool bsp = cpu->apic_base & APIC_BASE_BSP;
	timer_stop(a);
	a->tscdeadline = 0;
	if (!init) {
		cpu->apic_base = APIC_DEFAULT_BASE | APIC_BASE_ENABLE | (bsp ? APIC_BASE_BSP : 0);
		for (unsigned off = 0; off < sizeof(a->regs); off += 4)
			apic_set_reg(a, off, 0);
		apic_set_reg(a, R_ID, a->vcpu_id << 24);
	}
	apic_set_reg(a, R_LVR, lvr(a));
	for (unsigned off = R_LVTT; off <= R_LVTERR; off += 0x10)
		apic_set_reg(a, off, LVT_MASKED);
	if (has_cmci(a))
		apic_set_reg(a, R_LVTCMCI, LVT_MASKED);
	if (bsp)   /* KVM_X86_QUIRK_LINT0_REENABLED */
		apic_set_reg(a, R_LVT0, DM_EXTINT << 8);
	apic_set_reg(a, R_DFR, 0xffffffffu);
	apic_set_reg(a, R_SVR, 0xff);
	apic_set_reg(a, R_TPR, 0);
	a->cr8_seen = 0;
	if (!x2apic(a))
		apic_set_reg(a, R_LDR, 0);
	apic_set_reg(a, R_ESR, 0);
	apic_set_reg(a, R_ICR, 0);
	apic_set_reg(a, R_ICR2, 0);
	apic_set_reg(a, R_TDCR, 0);
	apic_set_reg(a, R_TMICT, 0);
	x86_pv_reset(cpu);   /* kvm_lapic_reset/kvm_vcpu_reset: PV EOI, steal time, APF */
	for (unsigned i = 0; i < 8; i++) {
		apic_set_reg(a, R_IRR + 0x10 * i, 0);
		apic_set_reg(a, R_ISR + 0x10 * i, 0);
		apic_set_reg(a, R_TMR + 0x10 * i, 0);
	}
	ppr(a);
}

struct x86_lapic *x86_lapic_new(struct x86_cpu *cpu, bool bsp)
{
	struct x86_lapic *a = aligned_alloc(64, sizeof(*a));
	if (!a)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->cpu = cpu;
	a->ic = x86_irqchip(cpu->vm);
	a->vcpu_id = cpu->vcpu->id;
	cpu->apic_base = bsp ? APIC_BASE_BSP : 0;
	x86_lapic_reset(a, false);
	return a;
}

void x86_lapic_free(struct x86_lapic *a)
{
	free(a);
}

int x86_lapic_get_state(struct x86_cpu *cpu, struct kvm_lapic_state *s)
{
	struct x86_lapic *a = x86_lapic(cpu);
	x86_lapic_sync_tpr(cpu);
	ppr(a);
	for (unsigned off = 0; off < sizeof(s->regs); off += 4) {
		uint32_t v = apic_reg(a, off);
		memcpy(s->regs + off, &v, 4);
	}
	uint32_t cc = current_count(a);
	memcpy(s->regs + R_TMCCT, &cc, 4);
	if (x2apic(a)) {   /* without KVM_CAP_X2APIC_API: the ID in xAPIC format */
		bool wide = ((struct x86_vm *)cpu->vm->arch_vm)->x2apic_format;
		uint32_t id = wide ? a->vcpu_id : a->vcpu_id << 24;
		memcpy(s->regs + R_ID, &id, 4);
	}
	return 0;
}

int x86_lapic_set_state(struct x86_cpu *cpu, const struct kvm_lapic_state *s)
{
	struct x86_lapic *a = x86_lapic(cpu);
	uint32_t id;
	memcpy(&id, s->regs + R_ID, 4);
	if (x2apic(a) && ((struct x86_vm *)cpu->vm->arch_vm)->x2apic_format && id != a->vcpu_id)
		return -EINVAL;   /* KVM: the x2APIC ID is the vCPU id */
	for (unsigned off = 0; off < sizeof(a->regs); off += 4) {
		uint32_t v;
		memcpy(&v, s->regs + off, 4);
		apic_set_reg(a, off, v);
	}
	if (x2apic(a))
		apic_set_reg(a, R_LDR, x2apic_ldr(a->vcpu_id));
	apic_set_reg(a, R_LVR, lvr(a));
	x86_sys(cpu)->pv.eoi_isr = 0;
	set_tpr(a, apic_reg(a, R_TPR));
	uint32_t cc = apic_reg(a, R_TMCCT);
	apic_set_reg(a, R_TMCCT, 0);
	if (timer_mode(a) == TIMER_TSCDEADLINE)
		tscdeadline_start(a);
	else
		timer_start(a, cc);
	x86_irq_kick(a);
	return 0;
}

/* ---- the owner's side ---- */

static void deliver_sipi(struct x86_cpu *cpu, uint32_t vector)
{
	cpu->sipi_vector = vector;
	cpu->seg[X86_CS].sel = (uint16_t)(vector << 8);
	cpu->seg[X86_CS].base = (uint64_t)vector << 12;
	cpu->rip = 0;
	x86_mode_changed(cpu);
}

void x86_lapic_accept_events(struct x86_cpu *cpu)
{
	struct x86_lapic *a = x86_lapic(cpu);
	if (!a || !(atomic_load(&a->events) & (EV_INIT | EV_SIPI)))
		return;
	if (x86_smm_latch_init(cpu))
		return;
	if (atomic_fetch_and(&a->events, ~(uint32_t)EV_INIT) & EV_INIT) {
		x86_reset_state(cpu, true);
		x86_lapic_reset(a, true);
		cpu->mp_state = (cpu->apic_base & APIC_BASE_BSP) ? KVM_MP_STATE_RUNNABLE :
								  KVM_MP_STATE_INIT_RECEIVED;
	}
	if (atomic_fetch_and(&a->events, ~(uint32_t)EV_SIPI) & EV_SIPI) {
		if (cpu->mp_state == KVM_MP_STATE_INIT_RECEIVED) {
			deliver_sipi(cpu, atomic_load(&a->sipi_vector));
			cpu->mp_state = KVM_MP_STATE_RUNNABLE;
		}
	}
}

static void take_posted(struct x86_cpu *cpu)
{
	struct x86_lapic *a = x86_lapic(cpu);
	x86_lapic_accept_events(cpu);
	if (atomic_load(&a->events) & EV_NMI) {
		atomic_fetch_and(&a->events, ~(uint32_t)EV_NMI);
		cpu->nmi_pending = true;
	}
	timer_poll(a);
	x86_lapic_sync_tpr(cpu);
}

static bool has_interrupt(struct x86_lapic *a)
{
	return apic_pending(a) >= 0 || pic_pending(a);
}

/* kvm_vcpu_has_events for a halted vCPU. */
static bool wakes_halted(struct x86_cpu *cpu)
{
	struct x86_lapic *a = x86_lapic(cpu);
	if (cpu->nmi_pending && !cpu->nmi_masked)
		return true;
	if (cpu->exc_pending || cpu->nmi_injected || x86_smm_wakes(cpu))
		return true;
	return (cpu->rflags & X86_IF) && (cpu->irq_injected || has_interrupt(a));
}

/* Sleep until a request arrives or the APIC timer is due; handles the
 * requests that do not end the run. -EINTR on SK_REQ_EXIT. */
static int block(struct x86_cpu *cpu)
{
	struct sk_vcpu *vcpu = cpu->vcpu;
	uint32_t req = atomic_load_explicit(&vcpu->requests, memory_order_acquire);
	if (req & SK_REQ_EXIT) {
		x86_run(cpu)->exit_reason = KVM_EXIT_INTR;
		return -EINTR;
	}
	if (req & SK_REQ_TLB_FLUSH) {
		atomic_fetch_and(&vcpu->requests, ~(uint32_t)SK_REQ_TLB_FLUSH);
		x86_refresh_slots(cpu);
		return 0;
	}
	if (req & SK_REQ_EVENT) {
		atomic_fetch_and(&vcpu->requests, ~(uint32_t)SK_REQ_EVENT);
		return 0;
	}
	uint64_t d = atomic_load(&x86_lapic(cpu)->deadline_ns);
	struct timespec ts, *tp = NULL;
	if (d) {
		uint64_t now = x86_host_ns();
		if (d <= now)
			return 0;
		uint64_t rel = d - now;
		ts.tv_sec = (time_t)(rel / 1000000000ull);
		ts.tv_nsec = (long)(rel % 1000000000ull);
		tp = &ts;
	}
	sk_vcpu_block(vcpu, req, tp);
	return 0;
}

static int next_vector(struct x86_lapic *a)
{
	if (pic_pending(a)) {
		int v = x86_pic_ack(a->ic);
		if (v >= 0)
			return v;
	}
	int v = apic_pending(a);
	if (v < 0)
		return -1;
	vec_clear(a, R_IRR, (unsigned)v);
	vec_set(a, R_ISR, (unsigned)v);
	x86_sys(a->cpu)->pv.eoi_isr = v + 1;
	ppr(a);
	return v;
}

int x86_lapic_enter(struct x86_cpu *cpu)
{
	struct x86_lapic *a = x86_lapic(cpu);
	for (;;) {
		take_posted(cpu);
		if (cpu->mp_state == KVM_MP_STATE_RUNNABLE)
			break;
		if (cpu->mp_state == KVM_MP_STATE_HALTED &&
		    (x86_pv_take_unhalt(cpu) || wakes_halted(cpu))) {
			atomic_store(&x86_sys(cpu)->pv.unhalted, false);
			cpu->mp_state = KVM_MP_STATE_RUNNABLE;
			cpu->halted = false;
			break;
		}
		int r = block(cpu);
		if (r)
			return r;
	}
	if (!cpu->irq_injected && !cpu->exc_pending && !cpu->nmi_injected &&
	    x86_interrupt_allowed(cpu)) {
		int v = next_vector(a);
		if (v >= 0) {
			cpu->irq_injected = true;
			cpu->irq_nr = (uint8_t)v;
		}
	}
	return 0;
}

bool x86_lapic_wants_window(struct x86_cpu *cpu)
{
	return has_interrupt(x86_lapic(cpu));
}

int x86_lapic_wait_uninit(struct x86_cpu *cpu)
{
	struct x86_lapic *a = x86_lapic(cpu);
	while (!(atomic_load(&a->events) & (EV_INIT | EV_SIPI))) {
		int r = block(cpu);
		if (r)
			return r;
	}
	x86_lapic_accept_events(cpu);
	return -EAGAIN;
}

/* ---- PV EOI (MSR_KVM_PV_EOI_EN): the guest may acknowledge an interrupt by
 * clearing a flag KVM set, when no EOI broadcast or nesting depends on it. ---- */

static uint64_t pv_eoi_gpa(struct x86_cpu *cpu)
{
	return x86_sys(cpu)->pv.eoi_msr & ~1ull;
}

/* apic_sync_pv_eoi_from_guest: the flag still set means no EOI yet. */
void x86_lapic_pv_eoi_exit(struct x86_cpu *cpu)
{
	struct x86_lapic *a = x86_lapic(cpu);
	uint8_t flag = 0;
	x86_sys(cpu)->pv.eoi_pending = false;
	if (!a || !(x86_sys(cpu)->pv.eoi_msr & 1))
		return;
	if (x86_read_phys(cpu, pv_eoi_gpa(cpu), &flag, 1) && (flag & 1)) {
		flag = 0;
		x86_write_phys(cpu, pv_eoi_gpa(cpu), &flag, 1);
		return;
	}
	eoi(a);
}

/* kvm_ioapic_handles_vector: the IOAPIC wants this vector's EOI (a level
 * entry, the RTC's pin, the PIT's with its ack notifier). */
static bool ioapic_wants_eoi(struct x86_lapic *a, unsigned vec)
{
	if (vec_test(a, R_TMR, vec))
		return true;
	bool hit = false;
	pthread_mutex_lock(&a->ic->lock);
	for (unsigned pin = 0; pin < IOAPIC_PINS && !hit; pin++) {
		uint64_t e = a->ic->ioapic.redir[pin];
		hit = (e & 0xff) == vec && ((e & (1u << 15)) || pin == 8 || pin == 0 || pin == 2);
	}
	pthread_mutex_unlock(&a->ic->lock);
	return hit;
}

/* apic_sync_pv_eoi_to_guest: one interrupt in service, none waiting. */
void x86_lapic_pv_eoi_entry(struct x86_cpu *cpu)
{
	struct x86_lapic *a = x86_lapic(cpu);
	struct x86_pv *pv = &x86_sys(cpu)->pv;
	if (!a || pv->eoi_pending || !pv->eoi_isr || vec_highest(a, R_IRR) >= 0 ||
	    ioapic_wants_eoi(a, (unsigned)pv->eoi_isr - 1))
		return;
	uint8_t flag = 1;
	if (x86_write_phys(cpu, pv_eoi_gpa(cpu), &flag, 1))
		pv->eoi_pending = true;
}
