/* Arm floating point per element (see fpu.h). The arithmetic itself runs on
 * the host (SSE on x86-64, the FPU on arm64) in the rounding mode FPCR
 * asks for; what the host does differently is fixed around it:
 * - NaN operands never reach the host (Arm's propagation and default NaN);
 * - denormal inputs are flushed here under FPCR.FZ;
 * - x86 detects tininess after rounding, Arm before. A result at or below
 *   the smallest normal is recomputed rounding toward zero: the exact value
 *   is tiny iff that truncation is below the smallest normal (and not an
 *   exact zero). This decides UFC and, under FZ, the flush to zero.
 */
#include <fenv.h>
#include <math.h>

#include "arch/arm64/fpu.h"

/* Pins a value in memory at this point: GCC may otherwise move FP
 * arithmetic across fesetround (GCC bug 34678), even with -frounding-math. */
#define FP_PIN(x) __asm__ volatile("" : "+m"(x))

static const int host_rmode[4] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};

/* ---- bit-level classification ---- */

static uint64_t sign_of(bool d) { return d ? 1ull << 63 : 1ull << 31; }
static uint64_t mag(uint64_t x, bool d) { return x & (sign_of(d) - 1); }
static uint64_t inf_bits(bool d) { return d ? 0x7ff0000000000000ull : 0x7f800000u; }
static uint64_t min_normal(bool d) { return d ? 1ull << 52 : 1ull << 23; }
static uint64_t max_normal(bool d) { return d ? 0x7fefffffffffffffull : 0x7f7fffffu; }
static bool is_nan(uint64_t x, bool d) { return mag(x, d) > inf_bits(d); }
static bool is_inf(uint64_t x, bool d) { return mag(x, d) == inf_bits(d); }
static bool is_zero(uint64_t x, bool d) { return mag(x, d) == 0; }
static bool is_snan(uint64_t x, bool d)
{
	return is_nan(x, d) && !(x & (d ? 1ull << 51 : 1ull << 22));
}
static bool is_denormal(uint64_t x, bool d) { return mag(x, d) && mag(x, d) < min_normal(d); }

uint64_t fpu_default_nan(bool d)
{
	return d ? 0x7ff8000000000000ull : 0x7fc00000u;
}

static double bits_d(uint64_t x) { double v; memcpy(&v, &x, 8); return v; }
static float bits_f(uint64_t x) { uint32_t w = (uint32_t)x; float v; memcpy(&v, &w, 4); return v; }
static uint64_t d_bits(double v) { uint64_t x; memcpy(&x, &v, 8); return x; }
static uint64_t f_bits(float v) { uint32_t w; memcpy(&w, &v, 4); return w; }
/* The value as a double (exact for singles). */
static double val(uint64_t x, bool d) { return d ? bits_d(x) : (double)bits_f(x); }

/* FPUnpack under FPCR.FZ: a denormal input is a signed zero, IDC. */
static uint64_t flush_in(struct a64 *c, uint64_t x, bool d)
{
	if ((c->fpcr & FPCR_FZ) && is_denormal(x, d)) {
		c->fpsr |= FPSR_IDC;
		return x & sign_of(d);
	}
	return x;
}

/* FPProcessNaNs: the first signalling NaN (IOC), else the first quiet one,
 * made quiet; the default NaN under FPCR.DN. False when there is none. */
static bool nans(struct a64 *c, const uint64_t *o, unsigned n, bool d, uint64_t *out)
{
	int pick = -1;
	for (unsigned i = 0; i < n && pick < 0; i++)
		if (is_snan(o[i], d))
			pick = (int)i, c->fpsr |= FPSR_IOC;
	for (unsigned i = 0; i < n && pick < 0; i++)
		if (is_nan(o[i], d))
			pick = (int)i;
	if (pick < 0)
		return false;
	*out = (c->fpcr & FPCR_DN) ? fpu_default_nan(d) : o[pick] | (d ? 1ull << 51 : 1ull << 22);
	return true;
}

/* ---- the host's arithmetic ---- */

enum { H_ADD, H_SUB, H_MUL, H_DIV, H_FMA, H_SQRT, H_CVT_DS, H_RECPS, H_RSQRTS };

/* (3 - a*b) / 2 with one rounding: the larger operand is halved first
 * (exact while it is well above the denormals); when both are that small
 * the product is negligible beside 3 and halving the sum is exact. */
static double rsqrts_d(double a, double b)
{
	if (fabs(a) >= 0x1p-900 && fabs(a) >= fabs(b))
		return fma(-(a * 0.5), b, 1.5);
	if (fabs(b) >= 0x1p-900)
		return fma(-a, b * 0.5, 1.5);
	return fma(-a, b, 3.0) * 0.5;
}

static float rsqrts_f(float a, float b)
{
	if (fabsf(a) >= 0x1p-100f && fabsf(a) >= fabsf(b))
		return fmaf(-(a * 0.5f), b, 1.5f);
	if (fabsf(b) >= 0x1p-100f)
		return fmaf(-a, b * 0.5f, 1.5f);
	return fmaf(-a, b, 3.0f) * 0.5f;
}

static __attribute__((noinline)) uint64_t host_d(unsigned op, double a, double b, double e)
{
	double r;
	FP_PIN(a);
	FP_PIN(b);
	FP_PIN(e);
	switch (op) {
	case H_ADD: r = a + b; break;
	case H_SUB: r = a - b; break;
	case H_MUL: r = a * b; break;
	case H_DIV: r = a / b; break;
	case H_FMA: r = fma(a, b, e); break;
	case H_SQRT: r = sqrt(a); break;
	case H_RECPS: r = fma(-a, b, 2.0); break;
	default: r = rsqrts_d(a, b); break;
	}
	FP_PIN(r);
	return d_bits(r);
}

static __attribute__((noinline)) uint64_t host_f(unsigned op, float a, float b, float e, double ad)
{
	float r;
	FP_PIN(a);
	FP_PIN(b);
	FP_PIN(e);
	FP_PIN(ad);
	switch (op) {
	case H_ADD: r = a + b; break;
	case H_SUB: r = a - b; break;
	case H_MUL: r = a * b; break;
	case H_DIV: r = a / b; break;
	case H_FMA: r = fmaf(a, b, e); break;
	case H_SQRT: r = sqrtf(a); break;
	case H_CVT_DS: r = (float)ad; break;
	case H_RECPS: r = fmaf(-a, b, 2.0f); break;
	default: r = rsqrts_f(a, b); break;
	}
	FP_PIN(r);
	return f_bits(r);
}

/* One host operation in a host rounding mode; *fl gets its exceptions.
 * d is the result's precision (H_CVT_DS: single from a double o[0]). */
static uint64_t host(unsigned op, const uint64_t *o, bool d, int mode, int *fl)
{
	int saved = fegetround();
	fesetround(mode);
	feclearexcept(FE_ALL_EXCEPT);
	uint64_t r;
	if (d)
		r = host_d(op, bits_d(o[0]), bits_d(o[1]), bits_d(o[2]));
	else if (op == H_CVT_DS)
		r = host_f(op, 0, 0, 0, bits_d(o[0]));
	else
		r = host_f(op, bits_f(o[0]), bits_f(o[1]), bits_f(o[2]), 0);
	*fl = fetestexcept(FE_ALL_EXCEPT);
	fesetround(saved);
	return r;
}

/* FPRound around a host operation on non-NaN operands: FPCR.RMode (or
 * round-to-odd), Arm's tininess, FZ's flush to zero, the default NaN. */
static uint64_t rounded(struct a64 *c, unsigned op, const uint64_t *o, bool d, unsigned mode)
{
	unsigned rm = mode == FR_ODD ? FR_Z : (c->fpcr >> 22) & 3;
	int fl, flz;
	uint64_t r = host(op, o, d, host_rmode[rm], &fl);
	uint32_t out = (fl & FE_INVALID ? FPSR_IOC : 0) | (fl & FE_DIVBYZERO ? FPSR_DZC : 0) |
		       (fl & FE_OVERFLOW ? FPSR_OFC : 0) | (fl & FE_INEXACT ? FPSR_IXC : 0);
	if (is_nan(r, d))
		r = fpu_default_nan(d);
	else if (mag(r, d) <= min_normal(d) && (mag(r, d) || (fl & FE_INEXACT))) {
		uint64_t t = rm == FR_Z ? r : host(op, o, d, FE_TOWARDZERO, &flz);
		bool exact_zero = !mag(t, d) && !((rm == FR_Z ? fl : flz) & FE_INEXACT);
		if (mag(t, d) < min_normal(d) && !exact_zero) {
			if (c->fpcr & FPCR_FZ) {
				c->fpsr |= FPSR_UFC;
				return t & sign_of(d);
			}
			if (fl & FE_INEXACT)
				out |= FPSR_UFC;
		}
	}
	if (mode == FR_ODD && (fl & FE_INEXACT))
		r |= 1;
	c->fpsr |= out;
	return r;
}

/* ---- two operands ---- */

static uint64_t max_min(uint64_t a, uint64_t b, bool d, bool is_max)
{
	uint64_t s = sign_of(d);
	if (is_zero(a, d) && is_zero(b, d))
		return is_max ? (a & b) : (a | b);   /* +0 beats -0 for max, -0 for min */
	double x = val(a, d), y = val(b, d);
	return (is_max ? x > y : x < y) ? a : (x == y ? (a & s ? b : a) : b);
}

uint64_t fpu_op2(struct a64 *c, unsigned op, uint64_t a, uint64_t b, bool d)
{
	uint64_t s = sign_of(d), out;
	a = flush_in(c, a, d);
	b = flush_in(c, b, d);
	if (op == FO_RECPS || op == FO_RSQRTS)
		a ^= s;   /* the step functions negate op1 first, NaN or not */
	if ((op == FO_MAXNM || op == FO_MINNM) && is_nan(a, d) != is_nan(b, d)) {
		/* a single quiet NaN loses to a number: it acts as -inf (max) or +inf (min) */
		uint64_t inf = inf_bits(d) | (op == FO_MAXNM ? s : 0);
		if (is_nan(a, d) && !is_snan(a, d))
			a = inf;
		else if (is_nan(b, d) && !is_snan(b, d))
			b = inf;
	}
	uint64_t o[3] = {a, b, 0};
	if (nans(c, o, 2, d, &out))
		return op == FO_NMUL ? out ^ s : op == FO_ABD ? out & ~s : out;
	bool inf_zero = (is_inf(a, d) && is_zero(b, d)) || (is_zero(a, d) && is_inf(b, d));
	switch (op) {
	case FO_ADD: return rounded(c, H_ADD, o, d, FR_FPCR);
	case FO_SUB: return rounded(c, H_SUB, o, d, FR_FPCR);
	case FO_MUL: return rounded(c, H_MUL, o, d, FR_FPCR);
	case FO_DIV: return rounded(c, H_DIV, o, d, FR_FPCR);
	case FO_NMUL: return rounded(c, H_MUL, o, d, FR_FPCR) ^ s;
	case FO_ABD: return rounded(c, H_SUB, o, d, FR_FPCR) & ~s;
	case FO_MAX: case FO_MAXNM: return max_min(a, b, d, true);
	case FO_MIN: case FO_MINNM: return max_min(a, b, d, false);
	case FO_MULX:
		if (inf_zero)   /* 2.0 with the product's sign */
			return ((a ^ b) & s) | (d ? 0x4000000000000000ull : 0x40000000u);
		return rounded(c, H_MUL, o, d, FR_FPCR);
	case FO_RECPS:
		/* RECPS/RSQRTS take the negated a back: host computes with -a */
		o[0] ^= s;
		if (inf_zero)
			return d ? 0x4000000000000000ull : 0x40000000u;   /* 2.0 */
		if (is_inf(a, d) || is_inf(b, d))
			return inf_bits(d) | ((a ^ b) & s);
		return rounded(c, H_RECPS, o, d, FR_FPCR);
	default:   /* FO_RSQRTS */
		o[0] ^= s;
		if (inf_zero)
			return d ? 0x3ff8000000000000ull : 0x3fc00000u;   /* 1.5 */
		if (is_inf(a, d) || is_inf(b, d))
			return inf_bits(d) | ((a ^ b) & s);
		return rounded(c, H_RSQRTS, o, d, FR_FPCR);
	}
}

uint64_t fpu_fma(struct a64 *c, uint64_t acc, uint64_t n, uint64_t m, bool d)
{
	uint64_t o[3], out;
	acc = flush_in(c, acc, d);
	n = flush_in(c, n, d);
	m = flush_in(c, m, d);
	bool inf_zero = (is_inf(n, d) && is_zero(m, d)) || (is_zero(n, d) && is_inf(m, d));
	o[0] = acc, o[1] = n, o[2] = m;
	bool nan = nans(c, o, 3, d, &out);
	if (is_nan(acc, d) && !is_snan(acc, d) && inf_zero) {
		c->fpsr |= FPSR_IOC;   /* qNaN + inf*0: invalid, the default NaN */
		return fpu_default_nan(d);
	}
	if (nan)
		return out;
	o[0] = n, o[1] = m, o[2] = acc;
	return rounded(c, H_FMA, o, d, FR_FPCR);
}

uint64_t fpu_sqrt(struct a64 *c, uint64_t x, bool d)
{
	uint64_t o[3] = {flush_in(c, x, d), 0, 0}, out;
	if (nans(c, o, 1, d, &out))
		return out;
	return rounded(c, H_SQRT, o, d, FR_FPCR);
}

/* ---- estimates (RecipEstimate, RecipSqrtEstimate: 8-bit tables by formula) ---- */

static unsigned recip_est(unsigned a)   /* a in [256, 512) */
{
	a = a * 2 + 1;
	unsigned b = (1u << 19) / a;
	return (b + 1) / 2;
}

static unsigned rsqrt_est(unsigned a)   /* a in [128, 512) */
{
	if (a < 256)
		a = a * 2 + 1;
	else
		a = ((a >> 1) << 1), a = (a + 1) * 2;
	unsigned b = 512;
	while ((uint64_t)a * (b + 1) * (b + 1) < (1ull << 28))
		b++;
	return (b + 1) / 2;
}

/* A 52-bit fraction and biased exponent of a single or double. */
static void frac_exp(uint64_t x, bool d, uint64_t *frac, int *exp)
{
	if (d) {
		*frac = x & ((1ull << 52) - 1);
		*exp = (int)((x >> 52) & 0x7ff);
	} else {
		*frac = (x & 0x7fffffu) << 29;
		*exp = (int)((x >> 23) & 0xff);
	}
}

static uint64_t pack(uint64_t sign, int exp, uint64_t frac, bool d)
{
	if (d)
		return sign | ((uint64_t)(exp & 0x7ff) << 52) | (frac & ((1ull << 52) - 1));
	return sign | ((uint64_t)(exp & 0xff) << 23) | ((frac >> 29) & 0x7fffffu);
}

uint64_t fpu_recpe(struct a64 *c, uint64_t x, bool d)
{
	uint64_t s = sign_of(d), sign = x & s, out, o[1];
	x = flush_in(c, x, d);
	o[0] = x;
	if (nans(c, o, 1, d, &out))
		return out;
	if (is_inf(x, d))
		return sign;
	if (is_zero(x, d)) {
		c->fpsr |= FPSR_DZC;
		return sign | inf_bits(d);
	}
	/* so small the reciprocal overflows */
	if (mag(x, d) < (d ? 1ull << 50 : 1ull << 21)) {
		unsigned rm = (c->fpcr >> 22) & 3;
		bool to_inf = rm == FR_N || (rm == FR_P && !sign) || (rm == FR_M && sign);
		c->fpsr |= FPSR_OFC | FPSR_IXC;
		return sign | (to_inf ? inf_bits(d) : max_normal(d));
	}
	if ((c->fpcr & FPCR_FZ) && mag(x, d) >= (d ? 0x7fd0000000000000ull : 0x7e800000u)) {
		c->fpsr |= FPSR_UFC;   /* >= 2^1022 / 2^126: the reciprocal is flushed */
		return sign;
	}
	uint64_t frac;
	int exp;
	frac_exp(x, d, &frac, &exp);
	if (exp == 0) {
		if (!(frac >> 51))
			exp = -1, frac = (frac << 2) & ((1ull << 52) - 1);
		else
			frac = (frac << 1) & ((1ull << 52) - 1);
	}
	unsigned scaled = 256 | (unsigned)(frac >> 44);
	int rexp = (d ? 2045 : 253) - exp;
	uint64_t est = recip_est(scaled);
	frac = (est & 0xff) << 44;
	if (rexp == 0)
		frac = (1ull << 51) | (frac >> 1);
	else if (rexp == -1)
		frac = (1ull << 50) | (frac >> 2), rexp = 0;
	return pack(sign, rexp, frac, d);
}

uint64_t fpu_rsqrte(struct a64 *c, uint64_t x, bool d)
{
	uint64_t s = sign_of(d), out, o[1];
	x = flush_in(c, x, d);
	o[0] = x;
	if (nans(c, o, 1, d, &out))
		return out;
	if (is_zero(x, d)) {
		c->fpsr |= FPSR_DZC;
		return (x & s) | inf_bits(d);
	}
	if (x & s) {
		c->fpsr |= FPSR_IOC;
		return fpu_default_nan(d);
	}
	if (is_inf(x, d))
		return 0;
	uint64_t frac;
	int exp;
	frac_exp(x, d, &frac, &exp);
	if (exp == 0) {
		while (!(frac >> 51))
			frac = (frac << 1) & ((1ull << 52) - 1), exp--;
		frac = (frac << 1) & ((1ull << 52) - 1);
	}
	unsigned scaled = (exp & 1) ? 128 | (unsigned)(frac >> 45) : 256 | (unsigned)(frac >> 44);
	int rexp = ((d ? 3068 : 380) - exp) / 2;
	uint64_t est = rsqrt_est(scaled);
	return pack(0, rexp, (est & 0xff) << 44, d);
}

uint64_t fpu_recpx(struct a64 *c, uint64_t x, bool d)
{
	uint64_t out, o[1];
	x = flush_in(c, x, d);
	o[0] = x;
	if (nans(c, o, 1, d, &out))
		return out;
	uint64_t frac;
	int exp;
	frac_exp(x, d, &frac, &exp);
	int max = d ? 0x7ff : 0xff;
	return pack(x & sign_of(d), exp == 0 ? max - 1 : ~exp & max, 0, d);
}

/* ---- conversions ---- */

uint64_t fpu_cvt(struct a64 *c, uint64_t x, bool to_d, unsigned mode)
{
	bool from_d = !to_d;
	x = flush_in(c, x, from_d);
	if (is_nan(x, from_d)) {
		if (is_snan(x, from_d))
			c->fpsr |= FPSR_IOC;
		if (c->fpcr & FPCR_DN)
			return fpu_default_nan(to_d);
		/* FPConvertNaN: the sign and the top of the fraction, made quiet */
		if (to_d)
			return ((x & 0x80000000u) << 32) | 0x7ff8000000000000ull | ((x & 0x3fffffu) << 29);
		return ((x >> 32) & 0x80000000u) | 0x7fc00000u | ((x >> 29) & 0x3fffffu);
	}
	if (to_d)
		return d_bits((double)bits_f(x));
	uint64_t o[3] = {x, 0, 0};
	return rounded(c, H_CVT_DS, o, false, mode);
}

/* ---- half precision conversions (FPCR.AHP: no infinities or NaNs) ---- */

#define FPCR_AHP (1u << 26)

static uint64_t half_of(struct a64 *c, double v, bool neg, bool ahp)
{
	unsigned rm = (c->fpcr >> 22) & 3;
	uint64_t sign = neg ? 0x8000 : 0;
	int e;
	frexp(v, &e);
	int ue = e - 1 < -14 ? -14 : e - 1;   /* denormals share the smallest exponent */
	double m = ldexp(v, 10 - ue), r;      /* the significand, 11 integer bits */
	switch (rm) {
	case FR_N: r = nearbyint(m); break;   /* the host's mode is to nearest here */
	case FR_P: r = neg ? trunc(m) : ceil(m); break;
	case FR_M: r = neg ? ceil(m) : trunc(m); break;
	default: r = trunc(m); break;
	}
	double res = ldexp(r, ue - 10);
	if (res > (ahp ? 131008.0 : 65504.0)) {
		if (ahp) {
			c->fpsr |= FPSR_IOC;
			return sign | 0x7fff;
		}
		bool to_inf = rm == FR_N || (rm == FR_P && !neg) || (rm == FR_M && neg);
		c->fpsr |= FPSR_OFC | FPSR_IXC;
		return sign | (to_inf ? 0x7c00 : 0x7bff);
	}
	if (r != m)
		c->fpsr |= FPSR_IXC | (v < 0x1p-14 ? FPSR_UFC : 0);   /* tiny before rounding */
	if (res < 0x1p-14)
		return sign | (uint64_t)ldexp(res, 24);
	frexp(res, &e);
	return sign | (uint64_t)(e + 14) << 10 | ((uint64_t)ldexp(res, 11 - e) - 1024);
}

/* Between half and single/double: from_bits/to_bits are 16, 32 or 64. */
uint64_t fpu_cvt_half(struct a64 *c, uint64_t x, unsigned from_bits, unsigned to_bits)
{
	bool ahp = c->fpcr & FPCR_AHP;
	if (from_bits == 16) {
		bool to_d = to_bits == 64, neg = x & 0x8000;
		unsigned e = (x >> 10) & 31, f = x & 0x3ff;
		uint64_t sign = neg ? sign_of(to_d) : 0;
		if (e == 31 && !ahp) {
			if (!f)
				return sign | inf_bits(to_d);
			if (!(f & 0x200))
				c->fpsr |= FPSR_IOC;
			if (c->fpcr & FPCR_DN)
				return fpu_default_nan(to_d);
			return to_d ? sign | 0x7ff8000000000000ull | (uint64_t)f << 42 : sign | 0x7fc00000u | (uint64_t)f << 13;
		}
		double v = e ? ldexp(1024 + f, (int)e - 25) : ldexp(f, -24);
		if (neg)
			v = -v;
		return to_d ? d_bits(v) : f_bits((float)v);
	}
	bool d = from_bits == 64;
	x = flush_in(c, x, d);
	bool neg = x & sign_of(d);
	uint64_t sign = neg ? 0x8000 : 0;
	if (is_nan(x, d)) {
		if (is_snan(x, d) || ahp)
			c->fpsr |= FPSR_IOC;
		if (ahp)
			return sign;
		if (c->fpcr & FPCR_DN)
			return 0x7e00;
		return sign | 0x7e00 | ((d ? x >> 42 : x >> 13) & 0x1ff);
	}
	if (is_inf(x, d)) {
		if (ahp)
			c->fpsr |= FPSR_IOC;
		return sign | (ahp ? 0x7fff : 0x7c00);
	}
	if (is_zero(x, d))
		return sign;
	return half_of(c, fabs(val(x, d)), neg, ahp);
}

static double round_to(double v, unsigned mode)
{
	switch (mode) {
	case FR_N: return nearbyint(v);   /* the host's mode is to nearest here */
	case FR_P: return ceil(v);
	case FR_M: return floor(v);
	case FR_Z: return trunc(v);
	default: return round(v);         /* ties away */
	}
}

uint64_t fpu_rint(struct a64 *c, uint64_t x, bool d, unsigned mode, bool exact)
{
	uint64_t out, o[1];
	x = flush_in(c, x, d);
	o[0] = x;
	if (nans(c, o, 1, d, &out))
		return out;
	if (is_inf(x, d) || is_zero(x, d))
		return x;
	if (mode == FR_FPCR)
		mode = (c->fpcr >> 22) & 3;
	double v = val(x, d), r = round_to(v, mode);
	if (exact && r != v)
		c->fpsr |= FPSR_IXC;
	/* a zero result keeps the operand's sign */
	if (r == 0)
		r = copysign(0.0, v);
	return d ? d_bits(r) : f_bits((float)r);
}

/* FPToFixed: NaN and out of range saturate with IOC, else IXC if inexact. */
uint64_t fpu_to_int(struct a64 *c, uint64_t x, bool d, unsigned fbits, unsigned mode, bool is_signed,
		    unsigned ibits)
{
	x = flush_in(c, x, d);
	if (is_nan(x, d)) {
		c->fpsr |= FPSR_IOC;
		return 0;
	}
	if (mode == FR_FPCR)
		mode = (c->fpcr >> 22) & 3;
	double v = ldexp(val(x, d), (int)fbits);   /* exact, or inf: saturates */
	double r = round_to(v, mode);
	uint64_t mask = ibits == 64 ? ~0ull : (1ull << ibits) - 1;
	if (is_signed) {
		double lim = ldexp(1.0, (int)ibits - 1);
		if (r >= lim || r < -lim) {
			c->fpsr |= FPSR_IOC;
			return (r < 0 ? (uint64_t)1 << (ibits - 1) : mask >> 1) & mask;
		}
		if (r != v)
			c->fpsr |= FPSR_IXC;
		return (uint64_t)(int64_t)r & mask;
	}
	double lim = ldexp(1.0, (int)ibits);
	if (r >= lim || r < 0) {
		c->fpsr |= FPSR_IOC;
		return r < 0 ? 0 : mask;
	}
	if (r != v)
		c->fpsr |= FPSR_IXC;
	return (uint64_t)r;
}

static __attribute__((noinline)) uint64_t host_i2f(int64_t v, bool d)
{
	FP_PIN(v);
	if (d) {
		double r = (double)v;
		FP_PIN(r);
		return d_bits(r);
	}
	float r = (float)v;
	FP_PIN(r);
	return f_bits(r);
}

/* FixedToFP: one rounding, in FPCR's mode. Unsigned values with the top
 * bit set are halved keeping a sticky bit, converted, then doubled (exact). */
uint64_t fpu_from_int(struct a64 *c, uint64_t v, bool is_signed, unsigned ibits, unsigned fbits, bool d)
{
	if (ibits < 64)
		v = is_signed ? (uint64_t)sext(v, ibits) : v & ((1ull << ibits) - 1);
	if (!v)
		return 0;
	bool halve = !is_signed && (int64_t)v < 0;
	int64_t iv = halve ? (int64_t)((v >> 1) | (v & 1)) : (int64_t)v;
	int saved = fegetround();
	fesetround(host_rmode[(c->fpcr >> 22) & 3]);
	feclearexcept(FE_ALL_EXCEPT);
	uint64_t r = host_i2f(iv, d);
	int fl = fetestexcept(FE_INEXACT);
	fesetround(saved);
	if (fl)
		c->fpsr |= FPSR_IXC;
	int scale = (halve ? 1 : 0) - (int)fbits;
	if (d)
		return d_bits(ldexp(bits_d(r), scale));
	return f_bits(ldexpf(bits_f(r), scale));
}

unsigned fpu_cmp(struct a64 *c, uint64_t a, uint64_t b, bool d, bool signal_qnan)
{
	a = flush_in(c, a, d);
	b = flush_in(c, b, d);
	if (is_nan(a, d) || is_nan(b, d)) {
		if (signal_qnan || is_snan(a, d) || is_snan(b, d))
			c->fpsr |= FPSR_IOC;
		return FC_UN;
	}
	double x = val(a, d), y = val(b, d);
	return x == y ? FC_EQ : x < y ? FC_LT : FC_GT;
}
