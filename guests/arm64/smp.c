/* Two vCPUs on two host threads hammer shared counters with LDXR/STXR,
 * LDADD, CAS and SWP-based locking: no update may be lost. */
#include "lib.h"

#define N 20000
extern char __stack2_top[];
extern void secondary_entry(void);

static volatile uint64_t llsc, lse, cas_ctr, locked_ctr, done;
static volatile uint32_t lock;

static void work(void)
{
	for (int i = 0; i < N; i++) {
		uint64_t old, tmp;
		uint32_t fail;
		__asm__ volatile("1: ldaxr %0, [%3]\n add %1, %0, #1\n stlxr %w2, %1, [%3]\n cbnz %w2, 1b"
				 : "=&r"(old), "=&r"(tmp), "=&r"(fail) : "r"(&llsc) : "memory");
		__asm__ volatile("ldaddal %1, %0, [%2]" : "=r"(old) : "r"(1ul), "r"(&lse) : "memory");
		uint64_t cur = cas_ctr, seen;
		for (;;) {
			seen = cur;
			__asm__ volatile("casal %0, %2, [%1]" : "+r"(seen) : "r"(&cas_ctr), "r"(cur + 1) : "memory");
			if (seen == cur)
				break;
			cur = seen;
		}
		uint32_t one = 1, prev;
		do
			__asm__ volatile("swpa %w1, %w0, [%2]" : "=r"(prev) : "r"(one), "r"(&lock) : "memory");
		while (prev);
		locked_ctr = locked_ctr + 1;
		__asm__ volatile("stlr wzr, [%0]" ::"r"(&lock) : "memory");
	}
}

void secondary_main(uint64_t ctx)
{
	(void)ctx;
	work();
	__atomic_fetch_add(&done, 1, __ATOMIC_RELEASE);
}

int main(void)
{
	check(1, hvc(0xc4000003, 1, (uint64_t)secondary_entry, (uint64_t)__stack2_top), 0);
	work();
	while (__atomic_load_n(&done, __ATOMIC_ACQUIRE) != 1)
		;
	check(2, llsc, 2 * N);
	check(3, lse, 2 * N);
	check(4, cas_ctr, 2 * N);
	check(5, locked_ctr, 2 * N);
	return 0;
}
