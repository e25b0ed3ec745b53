/* A64 scalar floating point (single and double precision): arithmetic,
 * fused multiply-add, compares, conversions, moves. Arithmetic runs on the
 * host's SSE unit with its rounding mode set from FPCR.RMode; the host's
 * exception flags become FPSR's cumulative flags.
 *
 * One difference stays: Arm detects tininess before rounding (FPRound tests
 * the unrounded exponent), x86 after rounding, so a result that rounds up
 * to the smallest normal sets UFC on Arm but not here. FPCR.FZ and IDC are
 * not modelled.
 */
#include <fenv.h>
#include <math.h>

#include "arch/arm64/insn.h"

/* CPACR_EL1.FPEN: 0b01 traps EL0 only, 0b00 and 0b10 trap EL0 and EL1. */
void a64_fp_check(struct a64 *c)
{
	unsigned fpen = (c->sr[SR_CPACR] >> 20) & 3;
	if (fpen == 3 || (fpen == 1 && c->el == 1))
		return;
	a64_exception(c, EC_FP_ACCESS, 0x1e00000, 0, false, c->pc);
}

void a64_vclear_high(struct a64 *c, unsigned r, unsigned bytes)
{
	memset(&c->v[r].b[bytes], 0, 16 - bytes);
}

/* ---- NaNs as the architecture makes them (FPProcessNaN[s], FPDefaultNaN) ---- */

static bool isnan_bits(uint64_t x, bool d)
{
	return d ? (x & 0x7fffffffffffffffull) > 0x7ff0000000000000ull : (x & 0x7fffffffu) > 0x7f800000u;
}

static bool issnan_bits(uint64_t x, bool d)
{
	return isnan_bits(x, d) && !(d ? (x >> 51) & 1 : (x >> 22) & 1);
}

static uint64_t quiet_bits(uint64_t x, bool d)
{
	return x | (d ? 1ull << 51 : 1ull << 22);
}

uint64_t a64_default_nan(bool d)
{
	return d ? 0x7ff8000000000000ull : 0x7fc00000u;
}

/* The NaN result of an operation on n operands (first SNaN, else first
 * QNaN), or false when no operand is a NaN. FPCR.DN gives the default NaN. */
bool a64_fp_nans(const uint64_t *ops, unsigned n, bool d, uint32_t fpcr, uint64_t *out)
{
	int pick = -1;
	for (unsigned i = 0; i < n && pick < 0; i++)
		if (issnan_bits(ops[i], d))
			pick = (int)i;
	for (unsigned i = 0; i < n && pick < 0; i++)
		if (isnan_bits(ops[i], d))
			pick = (int)i;
	if (pick < 0)
		return false;
	*out = (fpcr & (1u << 25)) ? a64_default_nan(d) : quiet_bits(ops[pick], d);
	return true;
}

/* A NaN the host made from non-NaN operands is the default NaN on Arm. */
uint64_t a64_fp_result(uint64_t r, bool d)
{
	return isnan_bits(r, d) ? a64_default_nan(d) : r;
}

/* FPCR.RMode (RN, RP, RM, RZ) as the host's rounding mode. */
static const int host_rmode[4] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};

/* Brackets one host operation that rounds per FPCR and raises flags; the
 * returned mode is the host's own, given back to fp_leave. */
/* Pins a value in memory at this point: GCC may otherwise move FP
 * arithmetic across fesetround (GCC bug 34678), even with -frounding-math. */
#define FP_PIN(x) __asm__ volatile("" : "+m"(x))

int a64_fp_enter(const struct a64 *c)
{
	int saved = fegetround();
	feclearexcept(FE_ALL_EXCEPT);
	fesetround(host_rmode[(c->fpcr >> 22) & 3]);
	return saved;
}

void a64_fp_leave(struct a64 *c, int saved)
{
	int e = fetestexcept(FE_ALL_EXCEPT);
	fesetround(saved);
	c->fpsr |= (e & FE_INVALID ? 1u : 0) | (e & FE_DIVBYZERO ? 2u : 0) | (e & FE_OVERFLOW ? 4u : 0) |
		   (e & FE_UNDERFLOW ? 8u : 0) | (e & FE_INEXACT ? 16u : 0);
}

/* A signalling NaN operand raises Invalid Operation (IOC); the NaN paths
 * never reach the host's arithmetic, so it is recorded here. */
static void snan_ioc(struct a64 *c, const uint64_t *ops, unsigned n, bool d)
{
	for (unsigned i = 0; i < n; i++)
		if (issnan_bits(ops[i], d))
			c->fpsr |= 1u;
}

static float rs(const struct a64 *c, unsigned r) { return c->v[r].f[0]; }
static double rd(const struct a64 *c, unsigned r) { return c->v[r].df[0]; }
static void ws(struct a64 *c, unsigned r, float v)
{
	c->v[r].d[0] = c->v[r].d[1] = 0;
	c->v[r].f[0] = v;
}
static void wd(struct a64 *c, unsigned r, double v)
{
	c->v[r].d[1] = 0;
	c->v[r].df[0] = v;
}

/* The FP type field: 0 single, 1 double; half precision is not offered. */
static bool dbl(struct a64 *c, uint32_t insn)
{
	unsigned t = BITS(insn, 23, 22);
	if (t > 1)
		a64_undef(c);
	a64_fp_check(c);
	return t;
}

static double round_mode(double v, unsigned mode)
{
	switch (mode) {
	case 0: return rint(v);     /* to nearest, ties to even */
	case 1: return ceil(v);
	case 2: return floor(v);
	case 3: return trunc(v);
	default: return round(v);   /* ties away */
	}
}

/* Float to integer with the architecture's saturation; NaN gives 0. */
/* Float to integer with the architecture's saturation; NaN gives 0.
 * Saturation and NaN raise IOC, an inexact in-range result IXC. */
static uint64_t f2i(double v, unsigned mode, bool is_signed, bool sf, uint32_t *fpsr)
{
	if (isnan(v)) {
		*fpsr |= 1u;
		return 0;
	}
	double r = round_mode(v, mode);
	uint32_t ixc = r != v ? 16u : 0;
	if (is_signed) {
		double lo = sf ? -9223372036854775808.0 : -2147483648.0;
		double hi = sf ? 9223372036854775808.0 : 2147483648.0;
		if (r < lo || r >= hi) {
			*fpsr |= 1u;
			return r < lo ? (sf ? (uint64_t)INT64_MIN : (uint32_t)INT32_MIN)
				      : (sf ? (uint64_t)INT64_MAX : (uint32_t)INT32_MAX);
		}
		*fpsr |= ixc;
		return sf ? (uint64_t)(int64_t)r : (uint32_t)(int32_t)r;
	}
	double hi = sf ? 18446744073709551616.0 : 4294967296.0;
	if (r < 0 || r >= hi) {
		*fpsr |= 1u;
		return r < 0 ? 0 : sf ? UINT64_MAX : UINT32_MAX;
	}
	*fpsr |= ixc;
	return sf ? (uint64_t)r : (uint32_t)r;
}

/* long double keeps 64-bit integer conversions exact where it can. */
static double i2f(uint64_t v, bool is_signed, bool sf, bool to_double, float *f)
{
	if (is_signed) {
		int64_t s = sf ? (int64_t)v : (int64_t)(int32_t)v;
		*f = (float)s;
		return (double)s;
	}
	uint64_t u = sf ? v : (uint32_t)v;
	*f = (float)u;
	(void)to_double;
	return (double)u;
}

void i_fp_conv_int(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	unsigned type = BITS(insn, 23, 22), rmode = BITS(insn, 20, 19), op = BITS(insn, 18, 16);
	unsigned rn = BITS(insn, 9, 5), rd_ = insn & 31;
	if (BIT(insn, 29))
		a64_undef(c);
	if (op == 6 || op == 7) {   /* FMOV between general and SIMD&FP */
		bool to_gen = op == 6;
		a64_fp_check(c);
		if (type == 0 && !sf && rmode == 0) {
			if (to_gen)
				set_x(c, rd_, c->v[rn].s[0]);
			else
				ws(c, rd_, 0), c->v[rd_].s[0] = (uint32_t)xr(c, rn);
		} else if (type == 1 && sf && rmode == 0) {
			if (to_gen)
				set_x(c, rd_, c->v[rn].d[0]);
			else
				c->v[rd_].d[0] = xr(c, rn), c->v[rd_].d[1] = 0;
		} else if (type == 2 && sf && rmode == 1) {
			if (to_gen)
				set_x(c, rd_, c->v[rn].d[1]);
			else
				c->v[rd_].d[1] = xr(c, rn);
		} else {
			a64_undef(c);
		}
		return;
	}
	bool d = dbl(c, insn);
	switch (op) {
	case 0: case 1: case 4: case 5: {
		if (op >= 4 && rmode)
			a64_undef(c);
		double v = d ? rd(c, rn) : (double)rs(c, rn);
		set_r(c, rd_, f2i(v, op >= 4 ? 4 : rmode, !(op & 1), sf, &c->fpsr), sf);
		return;
	}
	case 2: case 3: {
		if (rmode)
			a64_undef(c);
		float f;
		int saved = a64_fp_enter(c);
		double v = i2f(xr(c, rn), op == 2, sf, d, &f);
		a64_fp_leave(c, saved);
		if (d)
			wd(c, rd_, v);
		else
			ws(c, rd_, f);
		return;
	}
	}
	a64_undef(c);
}

void i_fp_conv_fixed(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	unsigned rmode = BITS(insn, 20, 19), op = BITS(insn, 18, 16), scale = BITS(insn, 15, 10);
	unsigned rn = BITS(insn, 9, 5), rd_ = insn & 31;
	if (BIT(insn, 29) || (!sf && scale < 32))
		a64_undef(c);
	bool d = dbl(c, insn);
	unsigned fbits = 64 - scale;
	double mul = ldexp(1.0, (int)fbits);
	if (rmode == 3 && op <= 1) {
		double v = (d ? rd(c, rn) : (double)rs(c, rn)) * mul;
		set_r(c, rd_, f2i(v, 3, op == 0, sf, &c->fpsr), sf);
	} else if (rmode == 0 && (op == 2 || op == 3)) {
		float f;
		int saved = a64_fp_enter(c);
		double v = i2f(xr(c, rn), op == 2, sf, d, &f) / mul;
		float fv = (float)v;
		FP_PIN(v);
		FP_PIN(fv);
		a64_fp_leave(c, saved);
		if (d)
			wd(c, rd_, v);
		else
			ws(c, rd_, fv);
	} else {
		a64_undef(c);
	}
}

void i_fp_1src(struct a64 *c, uint32_t insn)
{
	unsigned op = BITS(insn, 20, 15), rn = BITS(insn, 9, 5), r = insn & 31;
	if (BIT(insn, 31) || BIT(insn, 29))
		a64_undef(c);
	bool d = dbl(c, insn);
	double v = d ? rd(c, rn) : (double)rs(c, rn);
	float f = rs(c, rn);
	switch (op) {
	case 0:   /* FMOV: bit exact */
		if (d)
			c->v[r].d[0] = c->v[rn].d[0], c->v[r].d[1] = 0;
		else
			c->v[r].d[0] = c->v[rn].s[0], c->v[r].d[1] = 0;
		return;
	case 1:
		if (d)
			c->v[r].d[0] = c->v[rn].d[0] & ~(1ull << 63), c->v[r].d[1] = 0;
		else
			c->v[r].d[0] = c->v[rn].s[0] & 0x7fffffffu, c->v[r].d[1] = 0;
		return;
	case 2:
		if (d)
			c->v[r].d[0] = c->v[rn].d[0] ^ (1ull << 63), c->v[r].d[1] = 0;
		else
			c->v[r].d[0] = c->v[rn].s[0] ^ 0x80000000u, c->v[r].d[1] = 0;
		return;
	case 3: {
		uint64_t x = d ? c->v[rn].d[0] : c->v[rn].s[0], out;
		snan_ioc(c, &x, 1, d);
		if (!a64_fp_nans(&x, 1, d, c->fpcr, &out)) {
			int saved = a64_fp_enter(c);
			if (d) {
				double q = sqrt(v);
				memcpy(&out, &q, 8);
			} else {
				float q = sqrtf(f);
				uint32_t w;
				memcpy(&w, &q, 4);
				out = w;
			}
			a64_fp_leave(c, saved);
			out = a64_fp_result(out, d);
		}
		c->v[r].d[0] = out;
		c->v[r].d[1] = 0;
		return;
	}
	case 4: {   /* FCVT to single */
		if (!d)
			a64_undef(c);
		int saved = a64_fp_enter(c);
		FP_PIN(v);
		float n = (float)v;
		FP_PIN(n);
		a64_fp_leave(c, saved);
		ws(c, r, n);
		return;
	}
	case 5: {   /* FCVT to double: exact, only a signalling NaN raises */
		if (d)
			a64_undef(c);
		int saved = a64_fp_enter(c);
		FP_PIN(f);
		double w = (double)f;
		FP_PIN(w);
		a64_fp_leave(c, saved);
		wd(c, r, w);
		return;
	}
	case 14: case 15: {   /* FRINTX, FRINTI: FPCR's mode; only FRINTX is inexact */
		int saved = a64_fp_enter(c);
		if (d)
			wd(c, r, op == 14 ? rint(v) : nearbyint(v));
		else
			ws(c, r, op == 14 ? rintf(f) : nearbyintf(f));
		a64_fp_leave(c, saved);
		return;
	}
	case 8: case 9: case 10: case 11: case 12: {
		unsigned mode = op == 12 ? 4 : op - 8;
		if (d)
			wd(c, r, round_mode(v, mode));
		else
			ws(c, r, (float)round_mode(f, mode));
		return;
	}
	}
	a64_undef(c);
}

static uint32_t cmp_flags(double a, double b)
{
	if (isnan(a) || isnan(b))
		return PS_C | PS_V;
	if (a == b)
		return PS_Z | PS_C;
	return a < b ? PS_N : PS_C;
}

void i_fp_cmp(struct a64 *c, uint32_t insn)
{
	if (BIT(insn, 31) || BIT(insn, 29) || BITS(insn, 15, 14) || (insn & 7))
		a64_undef(c);
	bool d = dbl(c, insn);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16);
	double a = d ? rd(c, rn) : (double)rs(c, rn);
	double b = BIT(insn, 3) ? 0.0 : d ? rd(c, rm) : (double)rs(c, rm);
	c->pstate = (c->pstate & ~PS_NZCV) | cmp_flags(a, b);
}

void i_fp_ccmp(struct a64 *c, uint32_t insn)
{
	if (BIT(insn, 31) || BIT(insn, 29))
		a64_undef(c);
	bool d = dbl(c, insn);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16);
	uint32_t f;
	if (a64_cond(c->pstate, BITS(insn, 15, 12))) {
		double a = d ? rd(c, rn) : (double)rs(c, rn);
		double b = d ? rd(c, rm) : (double)rs(c, rm);
		f = cmp_flags(a, b);
	} else {
		f = (uint32_t)BITS(insn, 3, 0) << 28;
	}
	c->pstate = (c->pstate & ~PS_NZCV) | f;
}

void i_fp_csel(struct a64 *c, uint32_t insn)
{
	if (BIT(insn, 31) || BIT(insn, 29))
		a64_undef(c);
	bool d = dbl(c, insn);
	unsigned src = a64_cond(c->pstate, BITS(insn, 15, 12)) ? BITS(insn, 9, 5) : BITS(insn, 20, 16);
	unsigned r = insn & 31;
	uint64_t v = d ? c->v[src].d[0] : c->v[src].s[0];
	c->v[r].d[0] = v;
	c->v[r].d[1] = 0;
}

void i_fp_imm(struct a64 *c, uint32_t insn)
{
	if (BIT(insn, 31) || BIT(insn, 29) || BITS(insn, 9, 5))
		a64_undef(c);
	bool d = dbl(c, insn);
	unsigned imm8 = BITS(insn, 20, 13);
	/* VFPExpandImm: sign, exponent NOT(b):b:b..:cd, fraction efgh */
	unsigned sign = imm8 >> 7, b6 = (imm8 >> 6) & 1, exp2 = (imm8 >> 4) & 3, frac = imm8 & 15;
	uint64_t v;
	if (d) {
		uint64_t e = ((uint64_t)(!b6) << 10) | (b6 ? 0xffull << 2 : 0) | exp2;
		v = ((uint64_t)sign << 63) | (e << 52) | ((uint64_t)frac << 48);
	} else {
		uint32_t e = ((uint32_t)(!b6) << 7) | (b6 ? 0x1fu << 2 : 0) | exp2;
		v = ((uint32_t)sign << 31) | (e << 23) | ((uint32_t)frac << 19);
	}
	c->v[insn & 31].d[0] = v;
	c->v[insn & 31].d[1] = 0;
}

double a64_fp_binop(unsigned op, double a, double b, bool *ok)
{
	*ok = true;
	switch (op) {
	case 0: return a * b;
	case 1: return a / b;
	case 2: return a + b;
	case 3: return a - b;
	case 4: return (isnan(a) || isnan(b)) ? a + b : (a > b || (a == b && !signbit(a))) ? a : b;
	case 5: return (isnan(a) || isnan(b)) ? a + b : (a < b || (a == b && signbit(a))) ? a : b;
	case 6: return isnan(a) ? b : isnan(b) ? a : (a > b || (a == b && !signbit(a))) ? a : b;
	case 7: return isnan(a) ? b : isnan(b) ? a : (a < b || (a == b && signbit(a))) ? a : b;
	case 8: return -(a * b);
	}
	*ok = false;
	return 0;
}

/* One scalar/vector lane of the two-operand FP ops (op as FP 2-source's
 * opcode), on raw bits, with Arm's NaN rules. */
uint64_t a64_fp_op2(unsigned op, uint64_t x, uint64_t y, bool d, uint32_t fpcr, bool *ok)
{
	uint64_t ops[2] = {x, y}, out;
	*ok = op <= 8;
	if (op == 8)   /* FNMUL negates the product, NaN or not */
		return a64_fp_op2(0, x, y, d, fpcr, ok) ^ (d ? 1ull << 63 : 1ull << 31);
	bool nm = op == 6 || op == 7;
	if (nm && isnan_bits(x, d) != isnan_bits(y, d) && !issnan_bits(x, d) && !issnan_bits(y, d))
		return isnan_bits(x, d) ? y : x;   /* FMAXNM/FMINNM: a quiet NaN loses to a number */
	if (a64_fp_nans(ops, 2, d, fpcr, &out))
		return out;
	if (d) {
		double a, b, r;
		memcpy(&a, &x, 8), memcpy(&b, &y, 8);
		r = a64_fp_binop(op, a, b, ok);
		memcpy(&out, &r, 8);
		return a64_fp_result(out, true);
	}
	float a, b, r;
	uint32_t xa = (uint32_t)x, xb = (uint32_t)y, w;
	memcpy(&a, &xa, 4), memcpy(&b, &xb, 4);
	switch (op) {   /* computed in single precision: no double rounding */
	case 0: r = a * b; break;
	case 1: r = a / b; break;
	case 2: r = a + b; break;
	case 3: r = a - b; break;
	case 8: r = -(a * b); break;
	default: r = (float)a64_fp_binop(op, a, b, ok); break;
	}
	memcpy(&w, &r, 4);
	return a64_fp_result(w, false);
}

void i_fp_2src(struct a64 *c, uint32_t insn)
{
	if (BIT(insn, 31) || BIT(insn, 29))
		a64_undef(c);
	bool d = dbl(c, insn);
	unsigned op = BITS(insn, 15, 12), rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), r = insn & 31;
	bool ok;
	uint64_t x = d ? c->v[rn].d[0] : c->v[rn].s[0], y = d ? c->v[rm].d[0] : c->v[rm].s[0];
	int saved = a64_fp_enter(c);
	uint64_t v = a64_fp_op2(op, x, y, d, c->fpcr, &ok);
	a64_fp_leave(c, saved);
	if (!ok)
		a64_undef(c);
	uint64_t ops[2] = {x, y};
	snan_ioc(c, ops, 2, d);
	c->v[r].d[0] = v;
	c->v[r].d[1] = 0;
}

static bool is_inf_bits(uint64_t x, bool d)
{
	return d ? (x & 0x7fffffffffffffffull) == 0x7ff0000000000000ull : (x & 0x7fffffffu) == 0x7f800000u;
}

static bool is_zero_bits(uint64_t x, bool d)
{
	return d ? !(x & 0x7fffffffffffffffull) : !(x & 0x7fffffffu);
}

void i_fp_3src(struct a64 *c, uint32_t insn)
{
	if (BIT(insn, 31) || BIT(insn, 29))
		a64_undef(c);
	bool d = dbl(c, insn);
	unsigned o1 = BIT(insn, 21), o0 = BIT(insn, 15);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), ra = BITS(insn, 14, 10), r = insn & 31;
	uint64_t sign = d ? 1ull << 63 : 1ull << 31;
	uint64_t a = d ? c->v[ra].d[0] : c->v[ra].s[0], n = d ? c->v[rn].d[0] : c->v[rn].s[0];
	uint64_t m = d ? c->v[rm].d[0] : c->v[rm].s[0], out;
	if (o0 != o1)
		n ^= sign;   /* FMSUB, FNMADD: the product is negated */
	if (o1)
		a ^= sign;   /* FNMADD, FNMSUB: the addend is negated */
	uint64_t ops[3] = {a, n, m};
	bool inf_times_zero = (is_inf_bits(n, d) && is_zero_bits(m, d)) || (is_zero_bits(n, d) && is_inf_bits(m, d));
	if (isnan_bits(a, d) && !issnan_bits(a, d) && inf_times_zero && !isnan_bits(n, d) && !isnan_bits(m, d))
		out = a64_default_nan(d);
	else if (!a64_fp_nans(ops, 3, d, c->fpcr, &out)) {
		int saved = a64_fp_enter(c);
		if (d) {
			double fa, fn, fm, fr;
			memcpy(&fa, &a, 8), memcpy(&fn, &n, 8), memcpy(&fm, &m, 8);
			fr = fma(fn, fm, fa);
			memcpy(&out, &fr, 8);
		} else {
			float fa, fn, fm, fr;
			uint32_t wa = (uint32_t)a, wn = (uint32_t)n, wm = (uint32_t)m, w;
			memcpy(&fa, &wa, 4), memcpy(&fn, &wn, 4), memcpy(&fm, &wm, 4);
			fr = fmaf(fn, fm, fa);
			memcpy(&w, &fr, 4);
			out = w;
		}
		a64_fp_leave(c, saved);
		out = a64_fp_result(out, d);
	}
	snan_ioc(c, ops, 3, d);
	c->v[r].d[0] = out;
	c->v[r].d[1] = 0;
}
