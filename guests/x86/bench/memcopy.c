/* Memory-bound copy: a few MiB copied back and forth many times, either by
 * a C loop of 64-bit words (memcopy) or, built with MEMCOPY_REP, by one
 * `rep movsq` per copy (repmovs), what a libc memcpy ends up doing. */
#include <stddef.h>

#include "bench.h"

#define WORDS  ((size_t)BENCH_SCALE(2u << 20, 256u << 10) / 8)	/* bytes */
#define PASSES BENCH_SCALE(80, 2)

#ifdef MEMCOPY_REP
const char bench_name[] = "repmovs";
#else
const char bench_name[] = "memcopy";
#endif
const int bench_native_ok = 1;

static uint64_t buf_a[WORDS], buf_b[WORDS];

#ifdef MEMCOPY_REP
static void copy_words(uint64_t *dst, const uint64_t *src, size_t n)
{
	__asm__ volatile("rep movsq"
			 : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}
#else
static void copy_words(uint64_t *restrict dst, const uint64_t *restrict src,
		       size_t n)
{
	for (size_t i = 0; i < n; i += 4) {
		uint64_t w0 = src[i], w1 = src[i + 1];
		uint64_t w2 = src[i + 2], w3 = src[i + 3];

		dst[i] = w0;
		dst[i + 1] = w1;
		dst[i + 2] = w2;
		dst[i + 3] = w3;
	}
}
#endif

int bench_run(uint64_t *checksum)
{
	uint64_t seed = 0x2545f4914f6cdd1dull, sum = 0;
	int failures = 0;

	for (size_t i = 0; i < WORDS; i++)
		buf_a[i] = bench_rand(&seed);
	for (uint64_t pass = 0; pass < PASSES; pass++) {
		size_t probe = (size_t)(bench_rand(&seed) % WORDS);

		/* A change each pass, so no copy repeats the last one. */
		buf_a[probe] ^= pass + 1;
		copy_words(buf_b, buf_a, WORDS);
		BENCH_CLOBBER();
		buf_b[(probe + WORDS / 2) % WORDS] += pass;
		copy_words(buf_a, buf_b, WORDS);
		BENCH_CLOBBER();
		failures += buf_a[probe] != buf_b[probe];
		sum = (sum ^ buf_a[probe]) * 0x100000001b3ull;
	}
	for (size_t i = 0; i < WORDS; i += 512)
		sum = (sum ^ buf_a[i]) * 0x100000001b3ull;
	*checksum = sum;
	return failures;
}
