/* A64 scalar floating point (single and double precision): arithmetic,
 * fused multiply-add, compares, conversions, moves. The per-element
 * semantics (FPCR.RMode/FZ/DN, FPSR flags, NaNs) live in fpu.c.
 */
#include "arch/arm64/fpu.h"
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

/* A scalar source (low 32 or 64 bits) and a scalar result (zero above). */
static uint64_t src(const struct a64 *c, unsigned r, bool d)
{
	return d ? c->v[r].d[0] : c->v[r].s[0];
}

static void dst(struct a64 *c, unsigned r, uint64_t v)
{
	c->v[r].d[0] = v;
	c->v[r].d[1] = 0;
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
				dst(c, rd_, (uint32_t)xr(c, rn));
		} else if (type == 1 && sf && rmode == 0) {
			if (to_gen)
				set_x(c, rd_, c->v[rn].d[0]);
			else
				dst(c, rd_, xr(c, rn));
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
	case 0: case 1: case 4: case 5:   /* FCVT{N,P,M,Z}{S,U}, FCVTA{S,U} */
		if (op >= 4 && rmode)
			a64_undef(c);
		set_r(c, rd_, fpu_to_int(c, src(c, rn, d), d, 0, op >= 4 ? FR_A : rmode, !(op & 1), sf ? 64 : 32), sf);
		return;
	case 2: case 3:                   /* SCVTF, UCVTF */
		if (rmode)
			a64_undef(c);
		dst(c, rd_, fpu_from_int(c, xr(c, rn), op == 2, sf ? 64 : 32, 0, d));
		return;
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
	if (rmode == 3 && op <= 1)
		set_r(c, rd_, fpu_to_int(c, src(c, rn, d), d, fbits, FR_Z, op == 0, sf ? 64 : 32), sf);
	else if (rmode == 0 && (op == 2 || op == 3))
		dst(c, rd_, fpu_from_int(c, xr(c, rn), op == 2, sf ? 64 : 32, fbits, d));
	else
		a64_undef(c);
}

void i_fp_1src(struct a64 *c, uint32_t insn)
{
	unsigned op = BITS(insn, 20, 15), rn = BITS(insn, 9, 5), r = insn & 31;
	if (BIT(insn, 31) || BIT(insn, 29))
		a64_undef(c);
	if (op == 4 || op == 5 || op == 7) {   /* FCVT between half, single and double */
		static const unsigned width[4] = {32, 64, 0, 16};
		unsigned from = width[BITS(insn, 23, 22)], to = width[op & 3];
		if (!from || from == to)
			a64_undef(c);
		a64_fp_check(c);
		uint64_t x = from == 16 ? c->v[rn].h[0] : from == 32 ? c->v[rn].s[0] : c->v[rn].d[0];
		if (from == 16 || to == 16)
			dst(c, r, fpu_cvt_half(c, x, from, to));
		else
			dst(c, r, fpu_cvt(c, x, to == 64, FR_FPCR));
		return;
	}
	bool d = dbl(c, insn);
	uint64_t x = src(c, rn, d), sign = d ? 1ull << 63 : 1ull << 31;
	switch (op) {
	case 0: dst(c, r, x); return;              /* FMOV: bit exact */
	case 1: dst(c, r, x & ~sign); return;      /* FABS */
	case 2: dst(c, r, x ^ sign); return;       /* FNEG */
	case 3: dst(c, r, fpu_sqrt(c, x, d)); return;
	case 8: case 9: case 10: case 11: case 12: /* FRINT{N,P,M,Z,A} */
		dst(c, r, fpu_rint(c, x, d, op == 12 ? FR_A : op - 8, false));
		return;
	case 14: case 15:                          /* FRINTX, FRINTI: FPCR's mode */
		dst(c, r, fpu_rint(c, x, d, FR_FPCR, op == 14));
		return;
	}
	a64_undef(c);
}

static const uint32_t cmp_nzcv[4] = {
	[FC_EQ] = PS_Z | PS_C, [FC_LT] = PS_N, [FC_GT] = PS_C, [FC_UN] = PS_C | PS_V,
};

/* FCMP, FCMPE (E: quiet NaNs signal too), against a register or +0.0 */
void i_fp_cmp(struct a64 *c, uint32_t insn)
{
	if (BIT(insn, 31) || BIT(insn, 29) || BITS(insn, 15, 14) || (insn & 7))
		a64_undef(c);
	bool d = dbl(c, insn);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16);
	uint64_t b = BIT(insn, 3) ? 0 : src(c, rm, d);
	unsigned rel = fpu_cmp(c, src(c, rn, d), b, d, BIT(insn, 4));
	c->pstate = (c->pstate & ~PS_NZCV) | cmp_nzcv[rel];
}

void i_fp_ccmp(struct a64 *c, uint32_t insn)
{
	if (BIT(insn, 31) || BIT(insn, 29))
		a64_undef(c);
	bool d = dbl(c, insn);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16);
	uint32_t f;
	if (a64_cond(c->pstate, BITS(insn, 15, 12)))
		f = cmp_nzcv[fpu_cmp(c, src(c, rn, d), src(c, rm, d), d, BIT(insn, 4))];
	else
		f = (uint32_t)BITS(insn, 3, 0) << 28;
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

/* FP data-processing (2 source): the opcode as fpu_op. */
static const int op2_map[16] = {
	FO_MUL, FO_DIV, FO_ADD, FO_SUB, FO_MAX, FO_MIN, FO_MAXNM, FO_MINNM, FO_NMUL,
	-1, -1, -1, -1, -1, -1, -1,
};

void i_fp_2src(struct a64 *c, uint32_t insn)
{
	if (BIT(insn, 31) || BIT(insn, 29))
		a64_undef(c);
	bool d = dbl(c, insn);
	unsigned op = BITS(insn, 15, 12), rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), r = insn & 31;
	if (op2_map[op] < 0)
		a64_undef(c);
	dst(c, r, fpu_op2(c, (unsigned)op2_map[op], src(c, rn, d), src(c, rm, d), d));
}

void i_fp_3src(struct a64 *c, uint32_t insn)
{
	if (BIT(insn, 31) || BIT(insn, 29))
		a64_undef(c);
	bool d = dbl(c, insn);
	unsigned o1 = BIT(insn, 21), o0 = BIT(insn, 15);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), ra = BITS(insn, 14, 10), r = insn & 31;
	uint64_t sign = d ? 1ull << 63 : 1ull << 31;
	uint64_t a = src(c, ra, d), n = src(c, rn, d), m = src(c, rm, d);
	if (o0 != o1)
		n ^= sign;   /* FMSUB, FNMADD: the product is negated (NaNs too) */
	if (o1)
		a ^= sign;   /* FNMADD, FNMSUB: the addend is negated */
	dst(c, r, fpu_fma(c, a, n, m, d));
}
