/* The 8259A pair: master (ports 0x20-0x21, ELCR 0x4d0) and slave (0xa0-0xa1,
 * ELCR 0x4d1) cascaded on the master's IRQ2; its INTR output goes to the
 * LAPIC that takes ExtINT. State is struct kvm_pic_state, under ic->lock.
 */
#include <string.h>

#include "arch/x86/irq.h"

/* Priority 0..7 of the highest bit of mask with rotation, 8 if none. */
static int priority(const struct kvm_pic_state *p, uint8_t mask)
{
	if (!mask)
		return 8;
	int pr = 0;
	while (!(mask & (1u << ((pr + p->priority_add) & 7))))
		pr++;
	return pr;
}

/* The IRQ the chip would raise now, or -1. */
static int chip_irq(const struct kvm_pic_state *p, bool master)
{
	int pr = priority(p, p->irr & ~p->imr);
	if (pr == 8)
		return -1;
	uint8_t mask = p->isr;
	if (p->special_fully_nested_mode && master)
		mask &= ~(1u << 2);
	if (p->special_mask)
		mask &= ~p->imr;
	if (pr < priority(p, mask))
		return (pr + p->priority_add) & 7;
	return -1;
}

/* One input's level; edge inputs latch a rising edge. Returns KVM's
 * pic_set_irq1 answer: 0 when coalesced, -1 when masked. */
static int chip_set(struct kvm_pic_state *p, unsigned irq, bool level)
{
	uint8_t mask = 1u << irq;
	int ret = 1;
	if (p->elcr & mask) {
		if (level) {
			ret = !(p->irr & mask);
			p->irr |= mask;
			p->last_irr |= mask;
		} else {
			p->irr &= ~mask;
			p->last_irr &= ~mask;
		}
	} else if (level) {
		if (!(p->last_irr & mask)) {
			ret = !(p->irr & mask);
			p->irr |= mask;
		}
		p->last_irr |= mask;
	} else {
		p->last_irr &= ~mask;
	}
	return (p->imr & mask) ? -1 : ret;
}

static void kick_extint(struct x86_irqchip *ic)
{
	int n = atomic_load(&ic->nr_apics);
	if (n)
		x86_irq_kick(ic->apics[0]);   /* KVM kicks the first vCPU taking ExtINT */
}

void x86_pic_update(struct x86_irqchip *ic)
{
	struct kvm_pic_state *m = &ic->pic[0], *s = &ic->pic[1];
	chip_set(m, 2, chip_irq(s, false) >= 0);
	bool out = chip_irq(m, true) >= 0;
	bool was = atomic_exchange(&ic->pic_output, out);
	if (out && !was)
		kick_extint(ic);
}

int x86_pic_set_irq(struct x86_irqchip *ic, unsigned irq, bool level)
{
	if (irq >= 16)
		return -1;
	int r = chip_set(&ic->pic[irq >> 3], irq & 7, level);
	x86_pic_update(ic);
	return r;
}

static void chip_ack(struct kvm_pic_state *p, int irq)
{
	uint8_t mask = 1u << irq;
	if (p->auto_eoi) {
		if (p->rotate_on_auto_eoi)
			p->priority_add = (irq + 1) & 7;
	} else {
		p->isr |= mask;
	}
	if (!(p->elcr & mask))
		p->irr &= ~mask;
}

/* INTA: the vector, with the spurious IRQ7 when the request vanished. */
static int ack_locked(struct x86_irqchip *ic)
{
	struct kvm_pic_state *m = &ic->pic[0], *s = &ic->pic[1];
	int irq = chip_irq(m, true), vec;
	if (irq < 0) {
		vec = m->irq_base + 7;
	} else {
		chip_ack(m, irq);
		if (irq == 2) {
			int irq2 = chip_irq(s, false);
			if (irq2 >= 0)
				chip_ack(s, irq2);
			else
				irq2 = 7;
			vec = s->irq_base + irq2;
		} else {
			vec = m->irq_base + irq;
		}
	}
	x86_pic_update(ic);
	return vec;
}

int x86_pic_ack(struct x86_irqchip *ic)
{
	pthread_mutex_lock(&ic->lock);
	int v = ack_locked(ic);
	pthread_mutex_unlock(&ic->lock);
	return v;
}

void x86_pic_reset(struct x86_irqchip *ic)
{
	memset(ic->pic, 0, sizeof(ic->pic));
	ic->pic[0].elcr_mask = 0xf8;
	ic->pic[1].elcr_mask = 0xde;
	atomic_store(&ic->pic_output, false);
}

static void icw1(struct kvm_pic_state *p, uint8_t val)
{
	uint8_t elcr = p->elcr, mask = p->elcr_mask;
	memset(p, 0, sizeof(*p));
	p->elcr = elcr;
	p->elcr_mask = mask;
	p->init4 = val & 1;
	p->init_state = 1;
}

static void ocw2(struct kvm_pic_state *p, uint8_t val)
{
	unsigned cmd = val >> 5;
	switch (cmd) {
	case 0:
	case 4:
		p->rotate_on_auto_eoi = cmd >> 2;
		break;
	case 1:   /* non-specific EOI */
	case 5: { /* ... and rotate */
		int pr = priority(p, p->isr);
		if (pr != 8) {
			int irq = (pr + p->priority_add) & 7;
			p->isr &= ~(1u << irq);
			if (cmd == 5)
				p->priority_add = (irq + 1) & 7;
		}
		break;
	}
	case 3:
		p->isr &= ~(1u << (val & 7));
		break;
	case 6:
		p->priority_add = (val + 1) & 7;
		break;
	case 7:
		p->isr &= ~(1u << (val & 7));
		p->priority_add = (val + 1) & 7;
		break;
	}
}

static void write_cmd(struct kvm_pic_state *p, uint8_t val)
{
	if (val & 0x10) {
		icw1(p, val);
	} else if (val & 0x08) {
		if (val & 0x04)
			p->poll = 1;
		if (val & 0x02)
			p->read_reg_select = val & 1;
		if (val & 0x40)
			p->special_mask = (val >> 5) & 1;
	} else {
		ocw2(p, val);
	}
}

static void write_data(struct kvm_pic_state *p, uint8_t val)
{
	switch (p->init_state) {
	case 0:
		p->imr = val;
		break;
	case 1:
		p->irq_base = val & 0xf8;
		p->init_state = 2;
		break;
	case 2:
		p->init_state = p->init4 ? 3 : 0;
		break;
	case 3:
		p->special_fully_nested_mode = (val >> 4) & 1;
		p->auto_eoi = (val >> 1) & 1;
		p->init_state = 0;
		break;
	}
}

static uint8_t poll_read(struct x86_irqchip *ic, int chip)
{
	struct kvm_pic_state *p = &ic->pic[chip];
	int irq = chip_irq(p, chip == 0);
	p->poll = 0;
	if (irq < 0)
		return 0;
	chip_ack(p, irq);
	x86_pic_update(ic);
	return (uint8_t)(0x80 | irq);
}

bool x86_pic_pio(struct x86_irqchip *ic, uint16_t port, bool write, uint32_t *val)
{
	int chip;
	switch (port) {
	case 0x20: case 0x21: case 0x4d0: chip = 0; break;
	case 0xa0: case 0xa1: case 0x4d1: chip = 1; break;
	default: return false;
	}
	struct kvm_pic_state *p = &ic->pic[chip];
	pthread_mutex_lock(&ic->lock);
	if (write) {
		uint8_t v = (uint8_t)*val;
		if (port >= 0x4d0)
			p->elcr = v & p->elcr_mask;
		else if (port & 1)
			write_data(p, v);
		else
			write_cmd(p, v);
		x86_pic_update(ic);
	} else if (port >= 0x4d0) {
		*val = p->elcr;
	} else if (p->poll) {
		*val = poll_read(ic, chip);
	} else if (port & 1) {
		*val = p->imr;
	} else {
		*val = p->read_reg_select ? p->isr : p->irr;
	}
	pthread_mutex_unlock(&ic->lock);
	return true;
}
