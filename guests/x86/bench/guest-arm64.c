/* The guest side of a benchmark on arm64, prepared for when the arm64 vCPU
 * can run it: linked with guests/arm64/start.S, lib.c and guest.ld (RAM at
 * 0x40000000, MMU off, output through the MMIO port of guests/arm64/lib.h,
 * PSCI SYSTEM_OFF at the end). Reports the same line as guest.c, then the
 * checksum as a value and the failure count as a check the host can read.
 * The portable kernels (intmix.c, memcopy.c without MEMCOPY_REP, empty.c)
 * build for it unchanged. */
#include <stddef.h>
#include <stdint.h>

#include "bench.h"
#include "lib.h"

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

static void put_hex(uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char s[17];

	for (int i = 0; i < 16; i++)
		s[i] = hex[(v >> (4 * (15 - i))) & 0xf];
	s[16] = '\0';
	puts_(s);
}

int main(void)
{
	uint64_t sum = 0;
	int failures = bench_run(&sum);

	puts_("bench ");
	puts_(bench_name);
	puts_(" checksum=");
	put_hex(sum);
	puts_(failures ? " FAILED\n" : " ok\n");
	value(sum);
	check(1, (uint64_t)failures, 0);
	return failures ? 1 : 0;
}

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}
