/* The command line every host benchmark takes: [-n N] [--short] [--help].
 * N is how many operations to time; --short is a small N for a
 * correctness check in the test suite. */
#ifndef BENCHOPT_H
#define BENCHOPT_H

#include <stdint.h>
#include <stdio.h>

/* Parses argv into *n (def without -n, short_n with --short, -n N in
 * 1..max). Returns -1 to go on, or the status main should return (0 after
 * --help, 2 after a bad option; usage printed). */
int bench_options(int argc, char **argv, uint64_t def, uint64_t short_n,
		  uint64_t max, void (*usage)(FILE *), uint64_t *n);

#endif
