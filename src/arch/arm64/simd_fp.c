/* Advanced SIMD floating point (single and double precision lanes): three
 * same, two-register miscellaneous, by element, across lanes, scalar
 * pairwise and the fixed-point conversions of the shift-immediate group,
 * vector and scalar forms alike. Each lane goes through fpu.c, so FPCR and
 * FPSR behave as in the scalar instructions.
 */
#include "arch/arm64/fpu.h"
#include "arch/arm64/insn.h"

typedef struct { uint8_t b[16]; } vreg;

static uint64_t lane(const vreg *v, unsigned e, unsigned eb)
{
	uint64_t x = 0;
	memcpy(&x, &v->b[e * eb], eb);
	return x;
}

static void set_lane(vreg *v, unsigned e, unsigned eb, uint64_t x)
{
	memcpy(&v->b[e * eb], &x, eb);
}

static vreg getv(const struct a64 *c, unsigned r)
{
	vreg v;
	memcpy(v.b, c->v[r].b, 16);
	return v;
}

/* Writes the low `bytes` of v, zeroes the rest of the register. */
static void putv(struct a64 *c, unsigned r, const vreg *v, unsigned bytes)
{
	memcpy(c->v[r].b, v->b, bytes);
	memset(&c->v[r].b[bytes], 0, 16 - bytes);
}

static uint64_t all_ones(bool t)
{
	return t ? ~0ull : 0;
}

/* ---- three same: key is U:a:opcode (a = size<1>) ---- */

static bool fp3_lane(struct a64 *c, unsigned key, uint64_t a, uint64_t b, uint64_t acc, bool d, uint64_t *r)
{
	uint64_t s = d ? 1ull << 63 : 1ull << 31;
	switch (key) {
	case 0x18: case 0x58: *r = fpu_op2(c, FO_MAXNM, a, b, d); return true;   /* FMAXNM(P) */
	case 0x38: case 0x78: *r = fpu_op2(c, FO_MINNM, a, b, d); return true;   /* FMINNM(P) */
	case 0x19: *r = fpu_fma(c, acc, a, b, d); return true;                   /* FMLA */
	case 0x39: *r = fpu_fma(c, acc, a ^ s, b, d); return true;               /* FMLS */
	case 0x1a: case 0x5a: *r = fpu_op2(c, FO_ADD, a, b, d); return true;     /* FADD(P) */
	case 0x3a: *r = fpu_op2(c, FO_SUB, a, b, d); return true;                /* FSUB */
	case 0x1b: *r = fpu_op2(c, FO_MULX, a, b, d); return true;
	case 0x5b: *r = fpu_op2(c, FO_MUL, a, b, d); return true;
	case 0x5f: *r = fpu_op2(c, FO_DIV, a, b, d); return true;
	case 0x7a: *r = fpu_op2(c, FO_ABD, a, b, d); return true;
	case 0x1e: case 0x5e: *r = fpu_op2(c, FO_MAX, a, b, d); return true;     /* FMAX(P) */
	case 0x3e: case 0x7e: *r = fpu_op2(c, FO_MIN, a, b, d); return true;     /* FMIN(P) */
	case 0x1f: *r = fpu_op2(c, FO_RECPS, a, b, d); return true;
	case 0x3f: *r = fpu_op2(c, FO_RSQRTS, a, b, d); return true;
	case 0x1c: *r = all_ones(fpu_cmp(c, a, b, d, false) == FC_EQ); return true;   /* FCMEQ */
	case 0x5c: {                                                                  /* FCMGE */
		unsigned k = fpu_cmp(c, a, b, d, true);
		*r = all_ones(k == FC_EQ || k == FC_GT);
		return true;
	}
	case 0x7c: *r = all_ones(fpu_cmp(c, a, b, d, true) == FC_GT); return true;    /* FCMGT */
	case 0x5d: {                                                                  /* FACGE */
		unsigned k = fpu_cmp(c, a & ~s, b & ~s, d, true);
		*r = all_ones(k == FC_EQ || k == FC_GT);
		return true;
	}
	case 0x7d: *r = all_ones(fpu_cmp(c, a & ~s, b & ~s, d, true) == FC_GT); return true;   /* FACGT */
	}
	return false;
}

static bool fp3_pairwise(unsigned key)
{
	return key == 0x58 || key == 0x78 || key == 0x5a || key == 0x5e || key == 0x7e;
}

void a64_simd_fp_3same(struct a64 *c, uint32_t insn, bool scalar)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29), d = BIT(insn, 22);
	unsigned key = (unsigned)u << 6 | BIT(insn, 23) << 5 | BITS(insn, 15, 11);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), rd = insn & 31;
	unsigned eb = d ? 8 : 4, n_el = scalar ? 1 : (q ? 16 : 8) / eb;
	if (!scalar && d && !q)
		a64_undef(c);
	if (scalar && (fp3_pairwise(key) || key == 0x19 || key == 0x39 || key == 0x1a || key == 0x3a ||
		       key == 0x18 || key == 0x38 || key == 0x1e || key == 0x3e || key == 0x5b || key == 0x5f))
		a64_undef(c);   /* no scalar forms of these */
	vreg vn = getv(c, rn), vm = getv(c, rm), vd = getv(c, rd), out;
	memset(&out, 0, sizeof(out));
	for (unsigned e = 0; e < n_el; e++) {
		uint64_t a = lane(&vn, e, eb), b = lane(&vm, e, eb), r;
		if (fp3_pairwise(key)) {   /* pairs of the concatenation Vm:Vn */
			const vreg *srcv = 2 * e < n_el ? &vn : &vm;
			a = lane(srcv, (2 * e) % n_el, eb);
			b = lane(srcv, (2 * e) % n_el + 1, eb);
		}
		if (!fp3_lane(c, key, a, b, lane(&vd, e, eb), d, &r))
			a64_undef(c);
		set_lane(&out, e, eb, r);
	}
	putv(c, rd, &out, scalar ? eb : q ? 16 : 8);
}

/* ---- two-register miscellaneous: key is U:a:opcode ---- */

static bool fp1_lane(struct a64 *c, unsigned key, uint64_t x, bool d, uint64_t *r)
{
	unsigned ib = d ? 64 : 32, k;
	uint64_t s = d ? 1ull << 63 : 1ull << 31;
	switch (key) {
	case 0x18: *r = fpu_rint(c, x, d, FR_N, false); return true;
	case 0x38: *r = fpu_rint(c, x, d, FR_P, false); return true;
	case 0x19: *r = fpu_rint(c, x, d, FR_M, false); return true;
	case 0x39: *r = fpu_rint(c, x, d, FR_Z, false); return true;
	case 0x58: *r = fpu_rint(c, x, d, FR_A, false); return true;
	case 0x59: *r = fpu_rint(c, x, d, FR_FPCR, true); return true;    /* FRINTX */
	case 0x79: *r = fpu_rint(c, x, d, FR_FPCR, false); return true;   /* FRINTI */
	case 0x1a: *r = fpu_to_int(c, x, d, 0, FR_N, true, ib); return true;
	case 0x3a: *r = fpu_to_int(c, x, d, 0, FR_P, true, ib); return true;
	case 0x1b: *r = fpu_to_int(c, x, d, 0, FR_M, true, ib); return true;
	case 0x3b: *r = fpu_to_int(c, x, d, 0, FR_Z, true, ib); return true;
	case 0x1c: *r = fpu_to_int(c, x, d, 0, FR_A, true, ib); return true;
	case 0x5a: *r = fpu_to_int(c, x, d, 0, FR_N, false, ib); return true;
	case 0x7a: *r = fpu_to_int(c, x, d, 0, FR_P, false, ib); return true;
	case 0x5b: *r = fpu_to_int(c, x, d, 0, FR_M, false, ib); return true;
	case 0x7b: *r = fpu_to_int(c, x, d, 0, FR_Z, false, ib); return true;
	case 0x5c: *r = fpu_to_int(c, x, d, 0, FR_A, false, ib); return true;
	case 0x1d: *r = fpu_from_int(c, x, true, ib, 0, d); return true;    /* SCVTF */
	case 0x5d: *r = fpu_from_int(c, x, false, ib, 0, d); return true;   /* UCVTF */
	case 0x3d: *r = fpu_recpe(c, x, d); return true;
	case 0x7d: *r = fpu_rsqrte(c, x, d); return true;
	case 0x3f: *r = fpu_recpx(c, x, d); return true;
	case 0x2f: *r = x & ~s; return true;   /* FABS */
	case 0x6f: *r = x ^ s; return true;    /* FNEG */
	case 0x7f: *r = fpu_sqrt(c, x, d); return true;
	case 0x2c: *r = all_ones(fpu_cmp(c, x, 0, d, true) == FC_GT); return true;    /* FCMGT #0 */
	case 0x6c: k = fpu_cmp(c, x, 0, d, true); *r = all_ones(k == FC_GT || k == FC_EQ); return true;
	case 0x2d: *r = all_ones(fpu_cmp(c, x, 0, d, false) == FC_EQ); return true;   /* FCMEQ #0 */
	case 0x6d: k = fpu_cmp(c, x, 0, d, true); *r = all_ones(k == FC_LT || k == FC_EQ); return true;
	case 0x2e: *r = all_ones(fpu_cmp(c, x, 0, d, true) == FC_LT); return true;    /* FCMLT #0 */
	}
	return false;
}

/* FCVTN, FCVTXN (narrow to single) and FCVTL (widen to double). */
static void fp_cvt_width(struct a64 *c, uint32_t insn, unsigned key, bool scalar)
{
	bool q = BIT(insn, 30), d = BIT(insn, 22);
	unsigned rn = BITS(insn, 9, 5), rd = insn & 31;
	if (key == 0x57 || (scalar && (key != 0x56 || !d)) || (key == 0x56 && !d))
		a64_undef(c);
	vreg vn = getv(c, rn), out = getv(c, rd);
	if (!d) {            /* FCVTN(2) single to half, FCVTL(2) half to single */
		if (key == 0x17) {
			for (unsigned e = 0; e < 4; e++)
				set_lane(&out, e, 4, fpu_cvt_half(c, lane(&vn, (q ? 4 : 0) + e, 2), 16, 32));
			putv(c, rd, &out, 16);
		} else {
			for (unsigned e = 0; e < 4; e++)
				set_lane(&out, (q ? 4 : 0) + e, 2, fpu_cvt_half(c, lane(&vn, e, 4), 32, 16));
			putv(c, rd, &out, q ? 16 : 8);
		}
		return;
	}
	if (key == 0x17) {   /* FCVTL(2) */
		for (unsigned e = 0; e < 2; e++)
			set_lane(&out, e, 8, fpu_cvt(c, lane(&vn, (q ? 2 : 0) + e, 4), true, FR_FPCR));
		putv(c, rd, &out, 16);
		return;
	}
	unsigned mode = key == 0x56 ? FR_ODD : FR_FPCR;
	if (key != 0x16 && key != 0x56)
		a64_undef(c);
	if (scalar) {
		set_lane(&out, 0, 4, fpu_cvt(c, lane(&vn, 0, 8), false, mode));
		putv(c, rd, &out, 4);
		return;
	}
	for (unsigned e = 0; e < 2; e++)
		set_lane(&out, (q ? 2 : 0) + e, 4, fpu_cvt(c, lane(&vn, e, 8), false, mode));
	putv(c, rd, &out, q ? 16 : 8);
}

void a64_simd_fp_2misc(struct a64 *c, uint32_t insn, bool scalar)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29), d = BIT(insn, 22);
	unsigned opc = BITS(insn, 16, 12), key = (unsigned)u << 6 | BIT(insn, 23) << 5 | opc;
	unsigned rn = BITS(insn, 9, 5), rd = insn & 31;
	if ((key & 0x3e) == 0x16) {
		fp_cvt_width(c, insn, key, scalar);
		return;
	}
	bool vector_only = (key & 0x1e) == 0x18 || key == 0x2f || key == 0x6f || key == 0x7f;
	if ((!scalar && d && !q) || (!scalar && key == 0x3f) || (scalar && vector_only))
		a64_undef(c);   /* FRECPX is scalar only; FRINT*, FABS, FNEG, FSQRT vector only */
	unsigned eb = d ? 8 : 4, n_el = scalar ? 1 : (q ? 16 : 8) / eb;
	vreg vn = getv(c, rn), out;
	memset(&out, 0, sizeof(out));
	for (unsigned e = 0; e < n_el; e++) {
		uint64_t r;
		if (!fp1_lane(c, key, lane(&vn, e, eb), d, &r))
			a64_undef(c);
		set_lane(&out, e, eb, r);
	}
	putv(c, rd, &out, scalar ? eb : q ? 16 : 8);
}

/* Is this two-register-misc opcode (with U and size<1>) a floating-point one? */
bool a64_simd_fp_2misc_is_fp(uint32_t insn)
{
	unsigned opc = BITS(insn, 16, 12);
	if (opc >= 0x0c && opc <= 0x0f)
		return BIT(insn, 23);
	return opc >= 0x16 && !(opc == 0x1c && BIT(insn, 23));   /* not URECPE/URSQRTE */
}

/* ---- by element: FMLA FMLS FMUL FMULX, vector and scalar ---- */

static void fp_elem(struct a64 *c, uint32_t insn, bool scalar)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29), d = BIT(insn, 22);
	unsigned opc = BITS(insn, 15, 12), rn = BITS(insn, 9, 5), rd = insn & 31;
	unsigned rm = BITS(insn, 20, 16), idx = d ? BIT(insn, 11) : (BIT(insn, 11) << 1 | BIT(insn, 21));
	if (!BIT(insn, 23) || (d && BIT(insn, 21)) || (!scalar && d && !q) || (u && opc != 9))
		a64_undef(c);   /* size 0x is half precision (not offered) */
	unsigned eb = d ? 8 : 4, n_el = scalar ? 1 : (q ? 16 : 8) / eb;
	uint64_t s = d ? 1ull << 63 : 1ull << 31;
	vreg vn = getv(c, rn), vm = getv(c, rm), vd = getv(c, rd), out;
	memset(&out, 0, sizeof(out));
	uint64_t m = lane(&vm, idx, eb);
	for (unsigned e = 0; e < n_el; e++) {
		uint64_t a = lane(&vn, e, eb), r;
		switch (opc) {
		case 1: r = fpu_fma(c, lane(&vd, e, eb), a, m, d); break;       /* FMLA */
		case 5: r = fpu_fma(c, lane(&vd, e, eb), a ^ s, m, d); break;   /* FMLS */
		case 9: r = fpu_op2(c, u ? FO_MULX : FO_MUL, a, m, d); break;
		default: a64_undef(c);
		}
		set_lane(&out, e, eb, r);
	}
	putv(c, rd, &out, scalar ? eb : q ? 16 : 8);
}

/* MUL, MLA, MLS by element (integer). */
/* Saturate to a signed `bits`-bit range, setting FPSR.QC. */
static int64_t ssat(struct a64 *c, __int128 v, unsigned bits)
{
	__int128 mx = ((__int128)1 << (bits - 1)) - 1, mn = -mx - 1;
	if (v > mx || v < mn) {
		c->fpsr |= FPSR_QC;
		v = v > mx ? mx : mn;
	}
	return (int64_t)v;
}

/* MUL MLA MLS, SQDMULH SQRDMULH (same width) and the long forms
 * [SU]MULL [SU]MLAL [SU]MLSL SQDMULL SQDMLAL SQDMLSL by element; the long
 * forms read the upper half of Vn when Q is set (the "2" variants). */
static void int_elem(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29);
	unsigned size = BITS(insn, 23, 22), opc = BITS(insn, 15, 12), rn = BITS(insn, 9, 5), rd = insn & 31;
	unsigned h = BIT(insn, 11), l = BIT(insn, 21), mb = BIT(insn, 20), rm, idx;
	if (size == 1)
		rm = BITS(insn, 19, 16), idx = h << 2 | l << 1 | mb;
	else if (size == 2)
		rm = BITS(insn, 20, 16), idx = h << 1 | l;
	else
		a64_undef(c);
	/* opcode table, U:opc: MUL MLA MLS, [SU]MULL [SU]MLAL [SU]MLSL, SQD... */
	bool same = (!u && (opc == 8 || opc == 12 || opc == 13)) || (u && (opc == 0 || opc == 4));
	bool lng = opc == 2 || opc == 6 || opc == 10 || (!u && (opc == 3 || opc == 7 || opc == 11));
	if (!same && !lng)
		a64_undef(c);
	unsigned eb = 1u << size, bits = eb * 8;
	vreg vn = getv(c, rn), vm = getv(c, rm), vd = getv(c, rd), out;
	memset(&out, 0, sizeof(out));
	uint64_t m = lane(&vm, idx, eb);
	int64_t sm = sext(m, bits);
	if (same) {
		unsigned n_el = (q ? 16 : 8) / eb;
		for (unsigned e = 0; e < n_el; e++) {
			uint64_t a = lane(&vn, e, eb), acc = lane(&vd, e, eb), r;
			if (opc >= 12) {   /* SQDMULH, SQRDMULH: high half of the doubled product */
				__int128 p = 2 * (__int128)sext(a, bits) * sm;
				if (opc == 13)
					p += (__int128)1 << (bits - 1);
				r = (uint64_t)ssat(c, p >> bits, bits);
			} else {
				uint64_t p = a * m;
				r = opc == 8 ? p : opc == 0 ? acc + p : acc - p;
			}
			set_lane(&out, e, eb, r);
		}
		putv(c, rd, &out, q ? 16 : 8);
		return;
	}
	unsigned n_el = 8 / eb, base = q ? n_el : 0;
	for (unsigned e = 0; e < n_el; e++) {
		uint64_t a = lane(&vn, base + e, eb), acc = lane(&vd, e, eb * 2), r;
		if (opc & 1) {     /* SQDMULL SQDMLAL SQDMLSL */
			int64_t p = ssat(c, 2 * (__int128)sext(a, bits) * sm, bits * 2);
			__int128 sacc = (__int128)sext(acc, bits * 2);
			r = (uint64_t)(opc == 11 ? p : ssat(c, opc == 3 ? sacc + p : sacc - p, bits * 2));
		} else {
			uint64_t p = u ? a * m : (uint64_t)(sext(a, bits) * sm);
			r = opc == 10 ? p : opc == 2 ? acc + p : acc - p;
		}
		set_lane(&out, e, eb * 2, r);
	}
	putv(c, rd, &out, 16);
}

void i_simd_elem(struct a64 *c, uint32_t insn)
{
	a64_fp_check(c);
	unsigned opc = BITS(insn, 15, 12);
	if (opc == 1 || opc == 5 || opc == 9)
		fp_elem(c, insn, false);
	else
		int_elem(c, insn);
}

void i_simd_scalar_elem(struct a64 *c, uint32_t insn)
{
	a64_fp_check(c);
	fp_elem(c, insn, true);
}

/* ---- reductions ---- */

static unsigned reduce_op(unsigned opc, bool min)
{
	if (opc == 0x0c)
		return min ? FO_MINNM : FO_MAXNM;
	if (opc == 0x0d)
		return FO_ADD;
	return min ? FO_MIN : FO_MAX;
}

/* FMAXNMV FMINNMV FMAXV FMINV (4S): Reduce() halves recursively. */
void a64_simd_fp_across(struct a64 *c, uint32_t insn)
{
	unsigned opc = BITS(insn, 16, 12), rn = BITS(insn, 9, 5), rd = insn & 31;
	if (!BIT(insn, 29) || !BIT(insn, 30) || BIT(insn, 22) || (opc != 0x0c && opc != 0x0f))
		a64_undef(c);
	unsigned op = reduce_op(opc, BIT(insn, 23));
	vreg vn = getv(c, rn), out;
	memset(&out, 0, sizeof(out));
	uint64_t lo = fpu_op2(c, op, lane(&vn, 0, 4), lane(&vn, 1, 4), false);
	uint64_t hi = fpu_op2(c, op, lane(&vn, 2, 4), lane(&vn, 3, 4), false);
	set_lane(&out, 0, 4, fpu_op2(c, op, lo, hi, false));
	putv(c, rd, &out, 4);
}

/* FADDP FMAXP FMINP FMAXNMP FMINNMP (scalar): the two elements of Vn. */
void a64_simd_fp_pair(struct a64 *c, uint32_t insn)
{
	bool d = BIT(insn, 22), min = BIT(insn, 23);
	unsigned opc = BITS(insn, 16, 12), rn = BITS(insn, 9, 5), rd = insn & 31;
	if (!BIT(insn, 29) || (opc != 0x0c && opc != 0x0d && opc != 0x0f) || (opc == 0x0d && min))
		a64_undef(c);
	unsigned eb = d ? 8 : 4;
	vreg vn = getv(c, rn), out;
	memset(&out, 0, sizeof(out));
	set_lane(&out, 0, eb, fpu_op2(c, reduce_op(opc, min), lane(&vn, 0, eb), lane(&vn, 1, eb), d));
	putv(c, rd, &out, eb);
}

/* ---- fixed-point conversions: SCVTF UCVTF FCVTZS FCVTZU (shift imm) ---- */

void a64_simd_fp_fixed(struct a64 *c, uint32_t insn, bool scalar)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29);
	unsigned immh = BITS(insn, 22, 19), hb = BITS(insn, 22, 16), opc = BITS(insn, 15, 11);
	unsigned rn = BITS(insn, 9, 5), rd = insn & 31;
	if (immh < 4 || (!scalar && immh >= 8 && !q))
		a64_undef(c);   /* half precision is not offered */
	bool d = immh >= 8;
	unsigned eb = d ? 8 : 4, bits = eb * 8, fbits = 2 * bits - hb;
	unsigned n_el = scalar ? 1 : (q ? 16 : 8) / eb;
	vreg vn = getv(c, rn), out;
	memset(&out, 0, sizeof(out));
	for (unsigned e = 0; e < n_el; e++) {
		uint64_t x = lane(&vn, e, eb);
		uint64_t r = opc == 0x1c ? fpu_from_int(c, x, !u, bits, fbits, d)
					 : fpu_to_int(c, x, d, fbits, FR_Z, !u, bits);
		set_lane(&out, e, eb, r);
	}
	putv(c, rd, &out, scalar ? eb : q ? 16 : 8);
}
