#include "lib.h"

volatile uint64_t last_esr, last_far, last_elr, last_kind, exc_count, resume_pc;
void (*volatile irq_hook)(struct frame *f, uint64_t kind);
int (*volatile sync_hook)(struct frame *f, uint64_t kind);

static void port_write(unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(PORT + off) = v;
}

void check(uint64_t id, uint64_t got, uint64_t exp)
{
	port_write(PORT_ID, id);
	port_write(PORT_GOT, got);
	port_write(PORT_EXP, exp);
}

void value(uint64_t v)
{
	port_write(PORT_VALUE, v);
}

void puts_(const char *s)
{
	while (*s)
		*(volatile uint8_t *)(PORT + PORT_PUTC) = (uint8_t)*s++;
}

uint64_t hvc(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;
	__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	return x0;
}

void exc_entry(struct frame *f, uint64_t kind)
{
	if ((kind & 3) != 0) {   /* IRQ, FIQ, SError */
		if (irq_hook)
			irq_hook(f, kind);
		return;
	}
	if (sync_hook && sync_hook(f, kind))
		return;
	last_esr = read_sysreg(esr_el1);
	last_far = read_sysreg(far_el1);
	last_elr = f->elr;
	last_kind = kind;
	exc_count++;
	if (resume_pc) {
		f->elr = resume_pc;
		resume_pc = 0;
	} else {
		uint64_t ec = last_esr >> 26;
		/* SVC/HVC/SMC already return past the instruction; a bad
		 * branch target (instruction abort, PC alignment) returns to
		 * the caller, as tests reach those through a call. */
		if (ec == 0x20 || ec == 0x21 || ec == 0x22)
			f->elr = f->x[30];
		else if (ec != 0x15 && ec != 0x16 && ec != 0x17)
			f->elr += 4;
	}
	/* back to EL1h when the test dropped to EL0 and asked to come back */
}

void secondary_main(uint64_t ctx) __attribute__((weak));
void secondary_main(uint64_t ctx)
{
	(void)ctx;
}
