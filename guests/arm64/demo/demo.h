/* The arm64 demo guest: what its parts share. */
#ifndef DEMO_ARM64_H
#define DEMO_ARM64_H

#include <stdint.h>

#define read_sysreg(r) ({ uint64_t v_; __asm__ volatile("mrs %0, " #r : "=r"(v_)); v_; })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" ::"r"((uint64_t)(v)) : "memory")
#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb() __asm__ volatile("dsb sy" ::: "memory")

/* uart.c: the PL011 at 0x09000000 (QEMU virt's). */
void uart_putc(char c);
void uart_puts(const char *s);
void uart_put_hex(uint64_t v, unsigned digits);
void uart_put_dec(uint64_t v);

/* mmu.c: identity map (4K granule) and a checkable alias; 0 when on. */
#define DEMO_ALIAS_VA 0x80000000ull	/* maps the RAM at 0x40000000 */
#define DEMO_HOLE_VA 0xc0000000ull	/* not mapped: a data abort */
int mmu_enable(void);

/* The registers the vectors save (start.S). */
struct frame {
	uint64_t x[19];
	uint64_t lr;
	uint64_t elr;
	uint64_t spsr;
	uint64_t pad[2];
};

void demo_exception(struct frame *f, uint64_t kind);
int demo_main(void);

#endif
