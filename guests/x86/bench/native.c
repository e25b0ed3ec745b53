/* The host side of a benchmark: the same kernel as the guest, run as an
 * ordinary program, printing the same result line. */
#include <stdio.h>

#include "bench.h"

int main(void)
{
	uint64_t sum = 0;
	int failures;

	if (!bench_native_ok) {
		fprintf(stderr, "bench %s: guest only\n", bench_name);
		return 2;
	}
	failures = bench_run(&sum);
	printf("bench %s checksum=%016llx %s\n", bench_name,
	       (unsigned long long)sum, failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
