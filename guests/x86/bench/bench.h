/* The benchmark guests' common interface.
 *
 * One benchmark = one kernel file defining bench_name and bench_run(). The
 * same kernel file is linked into a freestanding x86-64 guest image (the demo's
 * boot.S + guest.c, see README.md for the machine contract) and into an ordinary
 * hosted program (native.c), so the guest and the host run the same code.
 *
 * The amount of work is fixed at compile time: BENCH_SMALL selects the tiny
 * variant used as a correctness test, otherwise the full-size one.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>

#ifdef BENCH_SMALL
#define BENCH_SCALE(full, small) (small)
#else
#define BENCH_SCALE(full, small) (full)
#endif

/* Name printed in the result line, e.g. "intmix". */
extern const char bench_name[];

/* Runs the benchmark; returns the number of failed self-checks (0: all
 * good) and stores a checksum of the work, identical on every platform. */
int bench_run(uint64_t *checksum);

/* Whether the kernel may run as a hosted program (not the exit loop). */
extern const int bench_native_ok;

/* Word-size pseudo-random numbers (xorshift64), the same everywhere. */
static inline uint64_t bench_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

/* Keeps the compiler from proving work dead across iterations. */
#define BENCH_OPAQUE(v) __asm__ volatile("" : "+r"(v))
#define BENCH_CLOBBER() __asm__ volatile("" : : : "memory")

#endif
