/* A freestanding x86-64 guest: sets up a stack, runs compute() (compute.h)
 * into RESULT_ADDR and reports with OUT to port 0xe9, then halts. Built
 * with the C compiler's defaults for x86-64 plus -O2 (SSE2 on). */
#include <stddef.h>

#include "compute.h"

#define RESULT_ADDR 0x1f0000ul

__asm__(".section .text.start, \"ax\"\n"
	".globl _start\n"
	"_start:\n"
	"  mov $0x1e0000, %rsp\n"
	"  call guest_main\n"
	"  mov $0x600d, %eax\n"
	"  out %eax, $0xe9\n"
	"  hlt\n"
	"  jmp _start\n"
	".previous\n");

/* The compiler may call these for copies and clears. */
void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memset(void *d, int c, size_t n)
{
	unsigned char *dp = d;
	while (n--)
		*dp++ = (unsigned char)c;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	return memcpy(d, s, n);
}

void guest_main(void);
void guest_main(void)
{
	compute((struct results *)RESULT_ADDR);
}
