/* Compiled C: integer, logic, division, bit manipulation, FP and SIMD
 * (gcc vectorizes the loops), atomics, checked against known results. */
#include "lib.h"

static uint32_t crc32_sw(const uint8_t *p, unsigned n)
{
	uint32_t c = 0xffffffffu;
	for (unsigned i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static uint32_t crc32_hw(const uint8_t *p, unsigned n)
{
	uint32_t c = 0xffffffffu;
	for (unsigned i = 0; i < n; i++)
		__asm__("crc32b %w0, %w0, %w1" : "+r"(c) : "r"(p[i]));
	return ~c;
}

static uint8_t buf[1024];
static int32_t va[256], vb[256], vc[256];
static double dv[64];
static volatile uint64_t counter;

static void sort(int32_t *a, int n)
{
	for (int i = 1; i < n; i++) {
		int32_t x = a[i];
		int j = i - 1;
		while (j >= 0 && a[j] > x) {
			a[j + 1] = a[j];
			j--;
		}
		a[j + 1] = x;
	}
}

int main(void)
{
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	check(1, crc32_sw((const uint8_t *)"123456789", 9), 0xcbf43926);
	check(2, crc32_hw(buf, sizeof(buf)), crc32_sw(buf, sizeof(buf)));

	volatile int64_t a = -1234567890123ll, b = 1000;
	check(3, (uint64_t)(a / b), (uint64_t)-1234567890ll);
	check(4, (uint64_t)(a % b), (uint64_t)-123ll);
	volatile uint64_t u = 0xfedcba9876543210ull;
	check(5, __builtin_clzll(u >> 9), 9);
	check(6, __builtin_ctzll(u), 4);
	check(7, __builtin_popcountll(u), 32);
	check(8, __builtin_bswap64(u), 0x1032547698badcfeull);
	check(9, (u * 0x9e3779b97f4a7c15ull) >> 7, 0xaa69bd1dcb8fb6ull);

	for (int i = 0; i < 256; i++) {
		va[i] = i * 3 - 100;
		vb[i] = 1000 - i * 5;
	}
	for (int i = 0; i < 256; i++)
		vc[i] = va[i] * vb[i] + (va[i] > vb[i] ? va[i] : vb[i]);
	int64_t sum = 0;
	for (int i = 0; i < 256; i++)
		sum += vc[i];
	check(10, (uint64_t)sum, (uint64_t)5393296ll);
	sort(vc, 256);
	int sorted = 1;
	for (int i = 1; i < 256; i++)
		sorted &= vc[i - 1] <= vc[i];
	check(11, sorted, 1);

	double s = 0;
	for (int i = 0; i < 64; i++)
		dv[i] = (double)i / 8.0 + 0.5;
	for (int i = 0; i < 64; i++)
		s += dv[i] * dv[i];
	check(12, (uint64_t)(s * 1000), 1601500);
	volatile float f = 2.0f;
	check(13, (uint64_t)(__builtin_sqrtf(f) * 1e6f), 1414213);
	volatile double d = -7.75;
	check(14, (uint64_t)(int64_t)d, (uint64_t)-7ll);
	check(15, (uint64_t)(d * d), 60);
	check(16, (uint32_t)(float)(uint32_t)4000000000u, 4000000000u);

	for (int i = 0; i < 1000; i++)
		__atomic_fetch_add(&counter, 3, __ATOMIC_SEQ_CST);
	check(17, counter, 3000);
	uint64_t expect = 3000;
	check(18, __atomic_compare_exchange_n(&counter, &expect, 7, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST), 1);
	check(19, __atomic_exchange_n(&counter, 9, __ATOMIC_SEQ_CST), 7);
	check(20, __atomic_fetch_or(&counter, 0x30, __ATOMIC_SEQ_CST), 9);
	check(21, counter, 0x39);
	/* LL/SC too: the same operations with LDXR/STXR */
	uint64_t old, tmp;
	uint32_t fail;
	__asm__ volatile("1: ldxr %0, [%3]\n add %1, %0, #5\n stxr %w2, %1, [%3]\n cbnz %w2, 1b"
			 : "=&r"(old), "=&r"(tmp), "=&r"(fail) : "r"(&counter) : "memory");
	check(22, counter, 0x3e);
	puts_("alu done\n");
	return 0;
}
