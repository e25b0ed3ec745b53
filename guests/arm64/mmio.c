/* MMIO exits: sizes, sign extension and register width from the syndrome,
 * NISV for forms without a valid syndrome, writes to a read-only slot. */
#include "lib.h"

#define DEV 0x0a000000ul
#define ROM 0x0b000000ul

int main(void)
{
	uint64_t r;
	__asm__ volatile("str %w1, [%0]" ::"r"(DEV), "r"(0xdeadbeef) : "memory");
	__asm__ volatile("ldrsb %0, [%1, #1]" : "=r"(r) : "r"(DEV) : "memory");
	check(1, r, 0xffffffffffffff80ull);
	__asm__ volatile("ldrsh %w0, [%1, #2]" : "=r"(r) : "r"(DEV) : "memory");
	check(2, r, 0xffff8001ull);
	__asm__ volatile("ldr %0, [%1, #8]" : "=r"(r) : "r"(DEV) : "memory");
	check(3, r, 0x1122334455667788ull);
	__asm__ volatile("ldrb %w0, [%1]" : "=r"(r) : "r"(DEV) : "memory");
	check(4, r, 0xff);
	{
		register uint64_t a __asm__("x6");
		register uint64_t b __asm__("x7");
		__asm__ volatile("ldp %0, %1, [%2]" : "=r"(a), "=r"(b) : "r"(DEV) : "memory");
		check(5, a, 0x66);
		check(6, b, 0x77);
	}
	{
		register uint64_t base __asm__("x8") = DEV;
		__asm__ volatile("str xzr, [%0], #8" : "+r"(base)::"memory");
		check(7, base, DEV);   /* the VMM skipped it: no writeback */
	}
	volatile uint64_t *rom = (volatile uint64_t *)ROM;
	check(8, rom[1], 0xabcdef);
	rom[2] = 0x55;
	__asm__ volatile("dc civac, %0" ::"r"(DEV) : "memory");
	check(9, 1, 1);
	return 0;
}
