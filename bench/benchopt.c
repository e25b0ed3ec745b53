/* The host benchmarks' shared option parsing (benchopt.h). */
#include "benchopt.h"

#include <getopt.h>
#include <stdlib.h>

int bench_options(int argc, char **argv, uint64_t def, uint64_t short_n,
		  uint64_t max, void (*usage)(FILE *), uint64_t *n)
{
	static const struct option opts[] = {
		{ "short", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*n = def;
	while ((c = getopt_long(argc, argv, "n:sh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			*n = strtoull(optarg, NULL, 0);
			if (!*n || *n > max) {
				usage(stderr);
				return 2;
			}
			break;
		case 's':
			*n = short_n;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	return -1;
}
