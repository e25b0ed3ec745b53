#include "work.h"

/* Bitwise CRC-32 (IEEE 802.3, reflected, polynomial 0xedb88320). */
uint32_t crc32(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffffu;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

#define SIEVE_MAX 100000
static uint8_t composite[SIEVE_MAX];

unsigned count_primes_below(unsigned limit)
{
	unsigned count = 0;

	if (limit > SIEVE_MAX)
		limit = SIEVE_MAX;
	for (unsigned i = 2; i < limit; i++) {
		if (composite[i])
			continue;
		count++;
		for (uint64_t j = (uint64_t)i * i; j < limit; j += i)
			composite[j] = 1;
	}
	return count;
}

#define SORT_MAX 1024
static uint32_t values[SORT_MAX];

static uint32_t lcg(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

static void insertion_sort(uint32_t *a, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		uint32_t v = a[i];
		unsigned j = i;

		for (; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

int sort_check(unsigned n, uint32_t seed, uint64_t *sum)
{
	uint64_t before = 0, after = 0;

	if (n > SORT_MAX)
		n = SORT_MAX;
	for (unsigned i = 0; i < n; i++) {
		values[i] = lcg(&seed);
		before += values[i];
	}
	insertion_sort(values, n);
	for (unsigned i = 0; i < n; i++) {
		if (i && values[i - 1] > values[i])
			return 0;
		after += values[i];
	}
	*sum = after;
	return before == after;
}
