/* Exit loop: alternating port writes and MMIO writes that no device
 * claims, so each is one exit to the VMM and back (on QEMU/TCG one trip
 * through its memory and I/O dispatch). Guest only. */
#include "bench.h"
#include "machine.h"

#define ROUNDS BENCH_SCALE(2000000, 1000)

const char bench_name[] = "exitloop";
const int bench_native_ok = 0;

int bench_run(uint64_t *checksum)
{
	volatile uint8_t *mmio = (volatile uint8_t *)EXIT_LOOP_MMIO;
	uint64_t n;

	for (n = 0; n < ROUNDS; n++) {
		__asm__ volatile("outb %0, %1"
				 : : "a"((uint8_t)n), "Nd"(EXIT_LOOP_PORT));
		*mmio = (uint8_t)n;
	}
	*checksum = n;
	return 0;
}
