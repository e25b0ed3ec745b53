/* Exclusive pairs and CASP across two vCPUs on two host threads: 128-bit
 * counters updated with LDXP/STXP, LDAXP/STLXP, CASP(AL) and a 64-bit one
 * with the 32-bit LDXP/STXP, no update lost; then one vCPU writes pairs
 * {i, i} while the other reads them with LDXP/STXP and CASP and never sees
 * the two halves differ (an LDXP is single-copy atomic when its STXP
 * succeeds, so only those reads are checked).
 */
#include "lib.h"

#define N 20000
#define WRITES 20000
extern char __stack2_top[];
extern void secondary_entry(void);

typedef unsigned __int128 u128;

/* 0x1_00000001 in the high half, 2^63 + 1 in the low: the low half carries */
#define K_LO 0x8000000000000001ul
#define K_HI 0x0000000100000001ul

static volatile uint64_t ctr_xp[2] __attribute__((aligned(16)));
static volatile uint64_t ctr_axp[2] __attribute__((aligned(16)));
static volatile uint64_t ctr_casp[2] __attribute__((aligned(16)));
static volatile uint32_t ctr_w[2] __attribute__((aligned(8)));
static volatile uint64_t pair[2] __attribute__((aligned(16)));
static volatile uint64_t started, phase1_done, writer_done;

static void add_k(uint64_t *lo, uint64_t *hi)
{
	u128 v = ((u128)*hi << 64 | *lo) + ((u128)K_HI << 64 | K_LO);
	*lo = (uint64_t)v;
	*hi = (uint64_t)(v >> 64);
}

static void inc_ldxp(volatile uint64_t *p, int acquire_release)
{
	uint64_t lo, hi;
	uint32_t fail;
	do {
		if (acquire_release)
			__asm__ volatile("ldaxp %0, %1, [%2]" : "=&r"(lo), "=&r"(hi) : "r"(p) : "memory");
		else
			__asm__ volatile("ldxp %0, %1, [%2]" : "=&r"(lo), "=&r"(hi) : "r"(p) : "memory");
		add_k(&lo, &hi);
		if (acquire_release)
			__asm__ volatile("stlxp %w0, %1, %2, [%3]" : "=&r"(fail) : "r"(lo), "r"(hi), "r"(p) : "memory");
		else
			__asm__ volatile("stxp %w0, %1, %2, [%3]" : "=&r"(fail) : "r"(lo), "r"(hi), "r"(p) : "memory");
	} while (fail);
}

/* CASP wants even/odd register pairs: pin them. */
static void casp(volatile uint64_t *p, uint64_t *old_lo, uint64_t *old_hi, uint64_t new_lo, uint64_t new_hi)
{
	register uint64_t x0 __asm__("x0") = *old_lo, x1 __asm__("x1") = *old_hi;
	register uint64_t x2 __asm__("x2") = new_lo, x3 __asm__("x3") = new_hi;
	__asm__ volatile("caspal x0, x1, x2, x3, [%4]" : "+r"(x0), "+r"(x1) : "r"(x2), "r"(x3), "r"(p) : "memory");
	*old_lo = x0;
	*old_hi = x1;
}

static void inc_casp(volatile uint64_t *p)
{
	uint64_t lo = p[0], hi = p[1];   /* may be torn: CASP compares both halves */
	for (;;) {
		uint64_t nlo = lo, nhi = hi, slo = lo, shi = hi;
		add_k(&nlo, &nhi);
		casp(p, &lo, &hi, nlo, nhi);
		if (lo == slo && hi == shi)
			return;
	}
}

static void inc_w(volatile uint32_t *p)
{
	uint32_t lo, hi, fail;
	do {
		__asm__ volatile("ldxp %w0, %w1, [%2]" : "=&r"(lo), "=&r"(hi) : "r"(p) : "memory");
		hi += ++lo == 0;   /* a 64-bit counter in two 32-bit halves */
		__asm__ volatile("stxp %w0, %w1, %w2, [%3]" : "=&r"(fail) : "r"(lo), "r"(hi), "r"(p) : "memory");
	} while (fail);
}

static void phase1(void)
{
	for (int i = 0; i < N; i++) {
		inc_ldxp(ctr_xp, 0);
		inc_ldxp(ctr_axp, 1);
		inc_casp(ctr_casp);
		inc_w(ctr_w);
	}
}

/* The writer: {i, i} for i = 1..WRITES, through STXP and CASP in turn. */
static void writer(void)
{
	for (uint64_t i = 1; i <= WRITES; i++) {
		if (i & 1) {
			uint64_t lo, hi;
			uint32_t fail;
			do {
				__asm__ volatile("ldxp %0, %1, [%2]" : "=&r"(lo), "=&r"(hi) : "r"(pair) : "memory");
				__asm__ volatile("stxp %w0, %1, %1, [%2]" : "=&r"(fail) : "r"(i), "r"(pair) : "memory");
			} while (fail);
		} else {
			uint64_t lo = i - 1, hi = i - 1;
			casp(pair, &lo, &hi, i, i);
		}
	}
}

void secondary_main(uint64_t ctx)
{
	(void)ctx;
	__atomic_store_n(&started, 1, __ATOMIC_RELEASE);
	phase1();
	__atomic_fetch_add(&phase1_done, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&phase1_done, __ATOMIC_ACQUIRE) != 2)
		;
	writer();
	__atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
}

int main(void)
{
	check(1, hvc(0xc4000003, 1, (uint64_t)secondary_entry, (uint64_t)__stack2_top), 0);
	while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
		;
	phase1();
	__atomic_fetch_add(&phase1_done, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&phase1_done, __ATOMIC_ACQUIRE) != 2)
		;
	u128 want = ((u128)K_HI << 64 | K_LO) * (2 * N);
	check(2, ctr_xp[0], (uint64_t)want);
	check(3, ctr_xp[1], (uint64_t)(want >> 64));
	check(4, ctr_axp[0], (uint64_t)want);
	check(5, ctr_axp[1], (uint64_t)(want >> 64));
	check(6, ctr_casp[0], (uint64_t)want);
	check(7, ctr_casp[1], (uint64_t)(want >> 64));
	check(8, (uint64_t)ctr_w[1] << 32 | ctr_w[0], 2 * N);

	/* torn-read check while the secondary writes */
	uint64_t torn = 0, reads = 0, last = 0, backwards = 0;
	while (!__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE) || reads < 100) {
		uint64_t lo, hi;
		uint32_t fail;
		if (reads & 1) {
			__asm__ volatile("ldaxp %0, %1, [%2]" : "=&r"(lo), "=&r"(hi) : "r"(pair) : "memory");
			__asm__ volatile("stlxp %w0, %1, %2, [%3]" : "=&r"(fail) : "r"(lo), "r"(hi), "r"(pair) : "memory");
			if (fail)
				continue;
		} else {
			lo = hi = 0;   /* CASP {0,0} -> {0,0}: an atomic read unless the pair is {0,0} */
			casp(pair, &lo, &hi, 0, 0);
		}
		torn += lo != hi;
		backwards += lo < last;
		last = lo;
		reads++;
	}
	check(9, torn, 0);
	check(10, backwards, 0);
	check(11, pair[0], WRITES);
	check(12, pair[1], WRITES);
	return 0;
}
