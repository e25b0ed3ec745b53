/* The arm64 test guests' small runtime: reporting to the host through the
 * MMIO port, PSCI calls, system register access, exception recording. */
#ifndef GUEST_ARM64_LIB_H
#define GUEST_ARM64_LIB_H

#include <stdint.h>

/* Host protocol, one 64-bit store each (see tests/arm64/a64t.c). */
#define PORT 0x09000000ul
#define PORT_ID 0x00
#define PORT_GOT 0x08
#define PORT_EXP 0x10      /* compares got with this, counts a check */
#define PORT_PUTC 0x18
#define PORT_VALUE 0x20    /* a value for the host's own checks */

struct frame {
	uint64_t x[31];
	uint64_t elr;
	uint64_t spsr;
	uint64_t pad;
};

#define read_sysreg(r) ({ uint64_t v_; __asm__ volatile("mrs %0, " #r : "=r"(v_)); v_; })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" ::"r"((uint64_t)(v)))
#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb() __asm__ volatile("dsb sy" ::: "memory")

void check(uint64_t id, uint64_t got, uint64_t exp);
void value(uint64_t v);
void puts_(const char *s);
uint64_t hvc(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
void guest_exit(void) __attribute__((noreturn));

/* The last synchronous exception the default handler saw. It skips the
 * faulting instruction unless resume_pc is set. */
extern volatile uint64_t last_esr, last_far, last_elr, last_kind, exc_count;
extern volatile uint64_t resume_pc;
/* A test may take over interrupts (kind 5 = IRQ from EL1 with SP_EL1). */
extern void (*volatile irq_hook)(struct frame *f, uint64_t kind);
/* Called first for synchronous exceptions; nonzero: handled. */
extern int (*volatile sync_hook)(struct frame *f, uint64_t kind);
void exc_entry(struct frame *f, uint64_t kind);

int main(void);
void secondary_main(uint64_t ctx);

#endif
