/* The IOAPIC: 24 redirection entries behind IOREGSEL/IOWIN at 0xfec00000,
 * edge and level pins (remote IRR, re-delivery at EOI).
 */
#include <string.h>

#include "arch/x86/irq.h"

#define IOAPIC_VERSION (0x11u | ((IOAPIC_PINS - 1) << 16))
#define RE_DELIVS (1ull << 12)
#define RE_REMOTE_IRR (1ull << 14)
#define RE_LEVEL (1ull << 15)
#define RE_MASKED (1ull << 16)
#define RE_RO (RE_DELIVS | RE_REMOTE_IRR)

void x86_ioapic_reset(struct ioapic *io)
{
	memset(io, 0, sizeof(*io));
	io->base = IOAPIC_DEFAULT_BASE;
	for (int i = 0; i < IOAPIC_PINS; i++)
		io->redir[i] = RE_MASKED;
}

/* Send pin's interrupt. Under ic->lock. Returns as x86_irq_deliver, or -1
 * when masked or awaiting EOI. */
static int service(struct x86_irqchip *ic, unsigned pin)
{
	struct ioapic *io = &ic->ioapic;
	uint64_t e = io->redir[pin];
	if ((e & RE_MASKED) || ((e & RE_LEVEL) && (e & RE_REMOTE_IRR)))
		return -1;
	struct irq_msg m = {
		.vector = e & 0xff,
		.mode = (e >> 8) & 7,
		.logical = e & (1u << 11),
		.level = true,
		.trig_level = e & RE_LEVEL,
		.dest = (uint32_t)(e >> 56),
	};
	if (!(e & RE_LEVEL))
		io->irr_delivered |= 1u << pin;
	int r = x86_irq_deliver(ic, NULL, &m);
	if (e & RE_LEVEL)
		io->redir[pin] |= RE_REMOTE_IRR;   /* KVM sets it even when nobody took it */
	return r;
}

/* IRR follows the line; an edge pin whose line is already high is
 * coalesced (0), as KVM's ioapic_set_irq. */
int x86_ioapic_set_irq(struct x86_irqchip *ic, unsigned pin, bool level)
{
	struct ioapic *io = &ic->ioapic;
	if (pin >= IOAPIC_PINS)
		return -1;
	uint32_t mask = 1u << pin, old = io->irr;
	if (!level) {
		io->irr &= ~mask;
		return 1;
	}
	io->irr |= mask;
	if (!(io->redir[pin] & RE_LEVEL)) {
		io->irr_delivered &= ~mask;
		if (old == io->irr)
			return 0;
	}
	return service(ic, pin);
}

void x86_ioapic_eoi(struct x86_irqchip *ic, uint8_t vector)
{
	pthread_mutex_lock(&ic->lock);
	struct ioapic *io = &ic->ioapic;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io->redir[pin];
		if ((e & 0xff) != vector || !(e & RE_LEVEL))
			continue;
		io->redir[pin] &= ~RE_REMOTE_IRR;
		if ((io->irr & (1u << pin)) && !(e & RE_MASKED))
			service(ic, pin);
	}
	pthread_mutex_unlock(&ic->lock);
}

static uint32_t read_window(struct ioapic *io)
{
	uint32_t sel = io->ioregsel;
	switch (sel) {
	case 0: return (io->id & 0xf) << 24;
	case 1: return IOAPIC_VERSION;
	case 2: return (io->id & 0xf) << 24;
	}
	if (sel >= 0x10 && sel < 0x10 + 2 * IOAPIC_PINS) {
		uint64_t e = io->redir[(sel - 0x10) / 2];
		return (sel & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0xffffffffu;
}

static void write_window(struct x86_irqchip *ic, uint32_t val)
{
	struct ioapic *io = &ic->ioapic;
	uint32_t sel = io->ioregsel;
	if (sel == 0) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (sel < 0x10 || sel >= 0x10 + 2 * IOAPIC_PINS)
		return;
	unsigned pin = (sel - 0x10) / 2;
	uint64_t e = io->redir[pin];
	if (sel & 1)
		e = (e & 0xffffffffull) | ((uint64_t)val << 32);
	else
		e = (e & ~0xffffffffull) | (val & ~RE_RO) | (e & RE_RO);
	if (!(e & RE_LEVEL))
		e &= ~RE_REMOTE_IRR;
	io->redir[pin] = e;
	/* An asserted level pin that is now unmasked fires. */
	if ((e & RE_LEVEL) && (io->irr & (1u << pin)) && !(e & (RE_MASKED | RE_REMOTE_IRR)))
		service(ic, pin);
}

bool x86_ioapic_mmio(struct x86_irqchip *ic, uint64_t gpa, unsigned size, bool write,
		     uint64_t *val)
{
	struct ioapic *io = &ic->ioapic;
	if (gpa - io->base >= 0x100)
		return false;
	unsigned off = (unsigned)(gpa - io->base);
	pthread_mutex_lock(&ic->lock);
	if (write) {
		uint32_t v = (uint32_t)*val;
		if (off == 0x00)
			io->ioregsel = v & 0xff;
		else if (off == 0x10)
			write_window(ic, v);
		/* 0x40, the EOI register of version 0x20 parts: not on a 0x11. */
	} else {
		uint64_t v = 0;
		if ((off & ~3u) == 0x00)
			v = io->ioregsel;
		else if ((off & ~3u) == 0x10)
			v = read_window(io);
		v >>= 8 * (off & 3);
		*val = size >= 4 ? (uint32_t)v : v & ((1ull << (8 * size)) - 1);
	}
	pthread_mutex_unlock(&ic->lock);
	return true;
}
