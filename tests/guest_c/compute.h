/* What the C guest computes: ordinary code as gcc compiles it by default
 * for x86-64 (SSE2 doubles, x87 long double, inlined struct copies with
 * XMM moves, varargs with XMM registers saved). Included by the guest
 * (guest.c) and by the test (x86_guest_c.c), which runs the same code
 * natively and compares the bytes of the results.
 */
#ifndef GUEST_COMPUTE_H
#define GUEST_COMPUTE_H

#include <stdarg.h>
#include <stdint.h>

struct item {
	char name[24];
	double v[5];
	float f[3];
	int32_t k;
};

struct results {
	double d[16];
	long double ld[4];
	int64_t i[8];
	float f[4];
	struct item items[4];
	char text[96];
	uint32_t done;
};

static double vsum(int n, ...)
{
	va_list ap;
	double s = 0;
	va_start(ap, n);
	for (int k = 0; k < n; k++)
		s += va_arg(ap, double) * (k + 1);
	va_end(ap);
	return s;
}

/* Fixed-point text of a double, like %.6f for modest values. */
static int fmt_double(char *out, double x)
{
	int n = 0;
	if (x < 0) {
		out[n++] = '-';
		x = -x;
	}
	int64_t ip = (int64_t)x;
	double frac = x - (double)ip;
	char tmp[24];
	int t = 0;
	do {
		tmp[t++] = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip);
	while (t)
		out[n++] = tmp[--t];
	out[n++] = '.';
	for (int k = 0; k < 6; k++) {
		frac *= 10;
		int d = (int)frac;
		out[n++] = (char)('0' + d);
		frac -= d;
	}
	out[n] = 0;
	return n;
}

static double newton_sqrt(double a)
{
	double x = a > 1 ? a / 2 : 1;
	for (int k = 0; k < 40; k++)
		x = 0.5 * (x + a / x);
	return x;
}

__attribute__((noinline)) static struct item make_item(int k, double base)
{
	struct item it = { .k = k };
	for (int j = 0; j < 5; j++)
		it.v[j] = base * j + k / 3.0;
	for (int j = 0; j < 3; j++)
		it.f[j] = (float)(base / (j + 1));
	for (int j = 0; j < 23; j++)
		it.name[j] = (char)('a' + (k * 7 + j) % 26);
	it.name[23] = 0;
	return it;
}

static void compute(struct results *r)
{
	__builtin_memset(r, 0, sizeof(*r));
	double s = 0, p = 1;
	for (int k = 1; k <= 1000; k++) {
		s += 1.0 / ((double)k * k);
		p *= 1.0 + 1.0 / (k * 1000.0);
	}
	r->d[0] = s;
	r->d[1] = p;
	r->d[2] = newton_sqrt(2.0);
	r->d[3] = __builtin_sqrt(12345.678);
	r->d[4] = vsum(5, 1.5, -2.25, 3.125, 1e10, -7e-3);
	double poly = 0, x = 0.7312;
	for (int k = 0; k < 12; k++)
		poly = poly * x + (k % 3 - 1) * 0.5;
	r->d[5] = poly;
	r->d[6] = (double)(int64_t)-7.99 + (double)(uint32_t)3000000000u;
	r->d[7] = s > p ? s - p : p / s;
	float fs = 0;
	for (int k = 1; k < 100; k++)
		fs += 1.0f / (float)k;
	r->f[0] = fs;
	r->f[1] = (float)r->d[2];
	r->i[0] = (int64_t)(r->d[3] * 1000.0);
	r->i[1] = (int64_t)(r->f[0] * 1e6f);
	r->i[2] = (int32_t)-12345.9;
	r->i[3] = (int64_t)(uint64_t)1.8e19;
	long double l = 1;
	for (int k = 1; k <= 20; k++)
		l *= k;
	r->ld[0] = l;
	r->ld[1] = 1.0L / 3.0L;
	r->ld[2] = (long double)r->d[2] * r->d[2];
	for (int k = 0; k < 4; k++)
		r->items[k] = make_item(k, r->d[k]);
	struct item t = r->items[0];
	r->items[0] = r->items[3];
	r->items[3] = t;
	int n = fmt_double(r->text, r->d[0]);
	r->text[n++] = ' ';
	n += fmt_double(r->text + n, -r->d[4] / 1e6);
	r->text[n++] = ' ';
	fmt_double(r->text + n, r->d[5]);
	r->done = 0x600d;
}

#endif
