/* The guest side of a benchmark on arm64: linked with guests/arm64/start.S,
 * lib.c, guests/common/libc.c and guest.ld (RAM at 0x40000000, MMU off). It talks only to what
 * QEMU's virt machine also has, so that the same image runs on softkvm
 * (through softkvm-vmm-arm64) and on qemu-system-aarch64: the result line
 * (the same as guest.c's) goes out through the PL011 at 0x09000000, the
 * status to softkvm-vmm-arm64's exit register at 0x09010000 (on QEMU the
 * PL031's read-only DR: ignored, the line says "ok" or "FAILED"), then
 * PSCI SYSTEM_OFF. The portable kernels
 * (intmix.c, memcopy.c without MEMCOPY_REP, empty.c) build for it
 * unchanged. */
#include <stddef.h>
#include <stdint.h>

#include "bench.h"
#include "lib.h"

#define PL011_DR 0x09000000ul
#define PL011_FR 0x09000018ul
#define FR_TXFF (1u << 5)
#define EXIT_REG 0x09010000ul
#define PSCI_SYSTEM_OFF 0x84000008ul

static void put(const char *s)
{
	for (; *s; s++) {
		while (*(volatile uint32_t *)PL011_FR & FR_TXFF)
			;
		*(volatile uint32_t *)PL011_DR = (uint8_t)*s;
	}
}

static void put_hex(uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char s[17];

	for (int i = 0; i < 16; i++)
		s[i] = hex[(v >> (4 * (15 - i))) & 0xf];
	s[16] = '\0';
	put(s);
}

int main(void)
{
	uint64_t sum = 0;
	int failures = bench_run(&sum);

	put("bench ");
	put(bench_name);
	put(" checksum=");
	put_hex(sum);
	put(failures ? " FAILED\n" : " ok\n");
	*(volatile uint32_t *)EXIT_REG = failures ? 1 : 0;
	hvc(PSCI_SYSTEM_OFF, 0, 0, 0);
	return failures ? 1 : 0;
}
