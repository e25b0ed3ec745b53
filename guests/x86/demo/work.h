/* The demo's small, checkable computations. */
#ifndef DEMO_WORK_H
#define DEMO_WORK_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32(const void *buf, size_t len);
unsigned count_primes_below(unsigned limit);
/* Sorts a pseudo-random array of n values from seed; returns 1 if the result
 * is ordered and holds the same values, 0 otherwise. *sum gets their sum. */
int sort_check(unsigned n, uint32_t seed, uint64_t *sum);

#endif
