/* A64 Advanced SIMD: the integer, logical, permute and conversion forms
 * compilers emit for vectorized C, element by element.
 */
#include <math.h>

#include "arch/arm64/insn.h"

/* FPCR rounding and FPSR flags around host FP operations (exec_fp.c). */
int a64_fp_enter(const struct a64 *c);
void a64_fp_leave(struct a64 *c, int saved);


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

static vreg getv(struct a64 *c, unsigned r)
{
	vreg v;
	memcpy(v.b, c->v[r].b, 16);
	return v;
}

static void putv(struct a64 *c, unsigned r, const vreg *v, bool q)
{
	memcpy(c->v[r].b, v->b, q ? 16 : 8);
	if (!q)
		memset(&c->v[r].b[8], 0, 8);
}

static uint64_t emask(unsigned eb)
{
	return eb == 8 ? ~0ull : (1ull << (eb * 8)) - 1;
}

static int64_t slane(const vreg *v, unsigned e, unsigned eb)
{
	return sext(lane(v, e, eb), eb * 8);
}

static void enter(struct a64 *c)
{
	a64_fp_check(c);
}

/* ---- modified immediate ---- */

void i_simd_modimm(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), op = BIT(insn, 29);
	unsigned cmode = BITS(insn, 15, 12), rd = insn & 31;
	uint64_t imm8 = (BITS(insn, 18, 16) << 5) | BITS(insn, 9, 5);
	enter(c);
	uint64_t imm = 0;
	bool orr_bic = false;
	switch (cmode >> 1) {
	case 0: case 1: case 2: case 3:
		imm = imm8 << (8 * (cmode >> 1));
		imm |= imm << 32;
		orr_bic = cmode & 1;
		break;
	case 4: case 5:
		imm = imm8 << (8 * ((cmode >> 1) & 1));
		imm |= imm << 16;
		imm |= imm << 32;
		orr_bic = cmode & 1;
		break;
	case 6:
		imm = (cmode & 1) ? (imm8 << 16) | 0xffff : (imm8 << 8) | 0xff;
		imm |= imm << 32;
		break;
	default:
		if (cmode == 14 && !op) {
			imm = imm8 * 0x0101010101010101ull;
		} else if (cmode == 14) {
			for (int i = 0; i < 8; i++)
				if ((imm8 >> i) & 1)
					imm |= 0xffull << (8 * i);
		} else if (!op) {   /* FMOV (vector, single) */
			uint32_t s = (uint32_t)((imm8 >> 7) << 31) | ((uint32_t)(!((imm8 >> 6) & 1)) << 30) |
				     (((imm8 >> 6) & 1) ? 0x1fu << 25 : 0) | ((uint32_t)(imm8 & 0x3f) << 19);
			imm = s | ((uint64_t)s << 32);
		} else {            /* FMOV (vector, double) */
			if (!q)
				a64_undef(c);
			imm = ((imm8 >> 7) << 63) | ((uint64_t)(!((imm8 >> 6) & 1)) << 62) |
			      (((imm8 >> 6) & 1) ? 0xffull << 54 : 0) | ((imm8 & 0x3f) << 48);
		}
		op = false;   /* these are all MOVI-like */
		break;
	}
	uint64_t *d = c->v[rd].d;
	if (orr_bic) {
		if (op) {
			d[0] &= ~imm;
			if (q)
				d[1] &= ~imm;
		} else {
			d[0] |= imm;
			if (q)
				d[1] |= imm;
		}
		if (!q)
			d[1] = 0;
		return;
	}
	if (op && (cmode >> 1) != 7)
		imm = ~imm;
	d[0] = imm;
	d[1] = q ? imm : 0;
}

/* ---- copy: DUP, INS, UMOV, SMOV ---- */

void i_simd_copy(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), op = BIT(insn, 29);
	unsigned imm5 = BITS(insn, 20, 16), imm4 = BITS(insn, 14, 11), rn = BITS(insn, 9, 5), rd = insn & 31;
	unsigned size = imm5 ? (unsigned)__builtin_ctz(imm5) : 5;
	if (size > 3)
		a64_undef(c);
	enter(c);
	unsigned eb = 1u << size, idx = imm5 >> (size + 1);
	vreg n = getv(c, rn), d = getv(c, rd);
	if (op) {   /* INS (element) */
		set_lane(&d, idx, eb, lane(&n, imm4 >> size, eb));
		putv(c, rd, &d, true);
		return;
	}
	switch (imm4) {
	case 0: {   /* DUP (element) */
		if (size == 3 && !q)
			a64_undef(c);
		uint64_t x = lane(&n, idx, eb);
		for (unsigned e = 0; e < 16 / eb; e++)
			set_lane(&d, e, eb, x);
		putv(c, rd, &d, q);
		return;
	}
	case 1: {   /* DUP (general) */
		if (size == 3 && !q)
			a64_undef(c);
		uint64_t x = xr(c, rn);
		for (unsigned e = 0; e < 16 / eb; e++)
			set_lane(&d, e, eb, x);
		putv(c, rd, &d, q);
		return;
	}
	case 3:     /* INS (general): Q is 1 */
		if (!q)
			a64_undef(c);
		set_lane(&d, idx, eb, xr(c, rn));
		putv(c, rd, &d, true);
		return;
	case 5:     /* SMOV */
		if (size >= (q ? 3u : 2u))
			a64_undef(c);
		set_r(c, rd, (uint64_t)slane(&n, idx, eb), q);
		return;
	case 7:     /* UMOV */
		if ((size == 3) != q)
			a64_undef(c);
		set_x(c, rd, lane(&n, idx, eb));
		return;
	}
	a64_undef(c);
}

/* ---- three registers, same type ---- */

static uint64_t shl_reg(uint64_t a, int64_t sh, unsigned eb, bool u)
{
	unsigned bits = eb * 8;
	sh = (int8_t)sh;
	if (sh >= 0)
		return sh >= (int)bits ? 0 : a << sh;
	sh = -sh;
	if (u)
		return sh >= (int)bits ? 0 : (a & emask(eb)) >> sh;
	int64_t s = sext(a, bits);
	return (uint64_t)(s >> (sh >= (int)bits ? bits - 1 : (unsigned)sh));
}

static bool int_op(unsigned opc, bool u, unsigned eb, uint64_t a, uint64_t b, uint64_t d, uint64_t *r)
{
	unsigned bits = eb * 8;
	int64_t sa = sext(a, bits), sb = sext(b, bits);
	uint64_t ua = a & emask(eb), ub = b & emask(eb);
	switch (opc) {
	case 0x00: *r = u ? (ua + ub) >> 1 : (uint64_t)((sa + sb) >> 1); return eb < 8;
	case 0x01: {   /* SQADD / UQADD */
		if (u) {
			uint64_t s = ua + ub;
			*r = (s > emask(eb) || s < ua) ? emask(eb) : s;
		} else {
			__int128 s = (__int128)sa + sb, mx = ((__int128)1 << (bits - 1)) - 1, mn = -mx - 1;
			*r = (uint64_t)(int64_t)(s > mx ? mx : s < mn ? mn : s);
		}
		return true;
	}
	case 0x04: *r = u ? (ua - ub) >> 1 : (uint64_t)((sa - sb) >> 1); return eb < 8;
	case 0x05: {   /* SQSUB / UQSUB */
		if (u) {
			*r = ua < ub ? 0 : ua - ub;
		} else {
			__int128 s = (__int128)sa - sb, mx = ((__int128)1 << (bits - 1)) - 1, mn = -mx - 1;
			*r = (uint64_t)(int64_t)(s > mx ? mx : s < mn ? mn : s);
		}
		return true;
	}
	case 0x06: *r = (u ? ua > ub : sa > sb) ? ~0ull : 0; return true;
	case 0x07: *r = (u ? ua >= ub : sa >= sb) ? ~0ull : 0; return true;
	case 0x08: *r = shl_reg(a, (int64_t)(int8_t)b, eb, u); return true;
	case 0x0c: *r = u ? (ua > ub ? ua : ub) : (uint64_t)(sa > sb ? sa : sb); return eb < 8;
	case 0x0d: *r = u ? (ua < ub ? ua : ub) : (uint64_t)(sa < sb ? sa : sb); return eb < 8;
	case 0x0e: *r = u ? (ua > ub ? ua - ub : ub - ua) : (uint64_t)(sa > sb ? sa - sb : sb - sa); return eb < 8;
	case 0x0f: *r = d + (u ? (ua > ub ? ua - ub : ub - ua) : (uint64_t)(sa > sb ? sa - sb : sb - sa)); return eb < 8;
	case 0x10: *r = u ? a - b : a + b; return true;
	case 0x11: *r = u ? (ua == ub ? ~0ull : 0) : ((a & b & emask(eb)) ? ~0ull : 0); return true;
	case 0x12: *r = u ? d - a * b : d + a * b; return eb < 8;
	case 0x13:
		if (u) {   /* PMUL (bytes) */
			uint64_t p = 0;
			for (unsigned i = 0; i < 8; i++)
				if ((ub >> i) & 1)
					p ^= ua << i;
			*r = p;
			return eb == 1;
		}
		*r = a * b;
		return eb < 8;
	}
	return false;
}

/* FMLA / FMLS lane: d + n * m fused, Arm NaN rules. */
static uint64_t fmla_lane(uint64_t d, uint64_t n, uint64_t m, bool dbl, bool sub, uint32_t fpcr)
{
	if (sub)
		n ^= dbl ? 1ull << 63 : 1ull << 31;
	uint64_t ops[3] = {d, n, m}, out;
	if (a64_fp_nans(ops, 3, dbl, fpcr, &out))
		return out;
	if (dbl) {
		double a, b, c, r;
		memcpy(&a, &d, 8), memcpy(&b, &n, 8), memcpy(&c, &m, 8);
		r = fma(b, c, a);
		memcpy(&out, &r, 8);
		return a64_fp_result(out, true);
	}
	float a, b, c, r;
	uint32_t wa = (uint32_t)d, wb = (uint32_t)n, wc = (uint32_t)m, w;
	memcpy(&a, &wa, 4), memcpy(&b, &wb, 4), memcpy(&c, &wc, 4);
	r = fmaf(b, c, a);
	memcpy(&w, &r, 4);
	return a64_fp_result(w, false);
}

static bool fcmp_lane(uint64_t x, uint64_t y, bool dbl, unsigned kind)
{
	double a, b;
	if (dbl) {
		memcpy(&a, &x, 8), memcpy(&b, &y, 8);
	} else {
		float fa, fb;
		uint32_t wa = (uint32_t)x, wb = (uint32_t)y;
		memcpy(&fa, &wa, 4), memcpy(&fb, &wb, 4);
		a = fa, b = fb;
	}
	return kind == 0 ? a == b : kind == 1 ? a >= b : a > b;
}

static void fp_vec(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29), sz = BIT(insn, 22), hi = BIT(insn, 23);
	unsigned opc = BITS(insn, 15, 11), rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), rd = insn & 31;
	if (sz && !q)
		a64_undef(c);
	unsigned eb = sz ? 8 : 4, n_el = (q ? 16 : 8) / eb;
	vreg vn = getv(c, rn), vm = getv(c, rm), vd = getv(c, rd), out = vd;
	unsigned key = (u << 6) | (hi << 5) | opc;
	for (unsigned e = 0; e < n_el; e++) {
		uint64_t la = lane(&vn, e, eb), lb = lane(&vm, e, eb), ld = lane(&vd, e, eb), r;
		if (key == (0x40 | 0x1a)) {   /* FADDP: pairs of the concatenation */
			unsigned i = 2 * e;
			const vreg *src = i < n_el ? &vn : &vm;
			la = lane(src, i % n_el, eb);
			lb = lane(src, i % n_el + 1, eb);
		}
		bool ok = true;
		int saved = a64_fp_enter(c);
		switch (key) {
		case 0x1a: case 0x40 | 0x1a: r = a64_fp_op2(2, la, lb, sz, c->fpcr, &ok); break;   /* FADD, FADDP */
		case 0x20 | 0x1a: r = a64_fp_op2(3, la, lb, sz, c->fpcr, &ok); break;               /* FSUB */
		case 0x60 | 0x1a:                                                                    /* FABD */
			r = a64_fp_op2(3, la, lb, sz, c->fpcr, &ok) & (sz ? ~(1ull << 63) : ~(1ull << 31));
			break;
		case 0x40 | 0x1b: r = a64_fp_op2(0, la, lb, sz, c->fpcr, &ok); break;               /* FMUL */
		case 0x40 | 0x1f: r = a64_fp_op2(1, la, lb, sz, c->fpcr, &ok); break;               /* FDIV */
		case 0x1e: r = a64_fp_op2(4, la, lb, sz, c->fpcr, &ok); break;                      /* FMAX */
		case 0x20 | 0x1e: r = a64_fp_op2(5, la, lb, sz, c->fpcr, &ok); break;               /* FMIN */
		case 0x18: r = a64_fp_op2(6, la, lb, sz, c->fpcr, &ok); break;                      /* FMAXNM */
		case 0x20 | 0x18: r = a64_fp_op2(7, la, lb, sz, c->fpcr, &ok); break;               /* FMINNM */
		case 0x19: r = fmla_lane(ld, la, lb, sz, false, c->fpcr); break;                    /* FMLA */
		case 0x20 | 0x19: r = fmla_lane(ld, la, lb, sz, true, c->fpcr); break;              /* FMLS */
		case 0x1c: r = fcmp_lane(la, lb, sz, 0) ? ~0ull : 0; break;                         /* FCMEQ */
		case 0x40 | 0x1c: r = fcmp_lane(la, lb, sz, 1) ? ~0ull : 0; break;                  /* FCMGE */
		case 0x60 | 0x1c: r = fcmp_lane(la, lb, sz, 2) ? ~0ull : 0; break;                  /* FCMGT */
		default: r = 0, ok = false; break;
		}
		a64_fp_leave(c, saved);
		if (!ok)
			a64_undef(c);
		set_lane(&out, e, eb, r);
	}
	putv(c, rd, &out, q);
}

void i_simd_3same(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29);
	unsigned size = BITS(insn, 23, 22), opc = BITS(insn, 15, 11);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), rd = insn & 31;
	enter(c);
	if (opc >= 0x18) {
		fp_vec(c, insn);
		return;
	}
	vreg vn = getv(c, rn), vm = getv(c, rm), vd = getv(c, rd), out;
	if (opc == 0x03) {   /* logical */
		for (unsigned i = 0; i < 16; i++) {
			uint8_t a = vn.b[i], b = vm.b[i], d = vd.b[i], r;
			switch ((u << 2) | size) {
			case 0: r = a & b; break;
			case 1: r = a & ~b; break;
			case 2: r = a | b; break;
			case 3: r = a | ~b; break;
			case 4: r = a ^ b; break;
			case 5: r = (d & a) | (~d & b); break;   /* BSL */
			case 6: r = (b & a) | (~b & d); break;   /* BIT */
			default: r = (~b & a) | (b & d); break;  /* BIF */
			}
			out.b[i] = r;
		}
		putv(c, rd, &out, q);
		return;
	}
	unsigned eb = 1u << size, n_el = (q ? 16 : 8) / eb;
	if (size == 3 && !q)
		a64_undef(c);
	bool pairwise = opc == 0x14 || opc == 0x15 || opc == 0x17;
	out = vd;
	for (unsigned e = 0; e < n_el; e++) {
		uint64_t a, b, r;
		if (pairwise) {
			unsigned i = 2 * e;
			const vreg *src = i < n_el ? &vn : &vm;
			a = lane(src, i % n_el, eb);
			b = lane(src, i % n_el + 1, eb);
			unsigned op2 = opc == 0x17 ? 0x10 : opc == 0x14 ? 0x0c : 0x0d;
			if (opc == 0x17 && u)
				a64_undef(c);
			if (!int_op(op2, opc == 0x17 ? false : u, eb, a, b, 0, &r) && eb == 8 && opc != 0x17)
				a64_undef(c);
		} else {
			a = lane(&vn, e, eb);
			b = lane(&vm, e, eb);
			if (!int_op(opc, u, eb, a, b, lane(&vd, e, eb), &r))
				a64_undef(c);
		}
		set_lane(&out, e, eb, r);
	}
	putv(c, rd, &out, q);
}

/* ---- three registers, different widths (long forms) ---- */

void i_simd_3diff(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29);
	unsigned size = BITS(insn, 23, 22), opc = BITS(insn, 15, 12);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), rd = insn & 31;
	if (size == 3)
		a64_undef(c);
	enter(c);
	unsigned eb = 1u << size, n_el = 8 / eb, base = q ? n_el : 0;
	vreg vn = getv(c, rn), vm = getv(c, rm), vd = getv(c, rd), out = vd;
	for (unsigned e = 0; e < n_el; e++) {
		bool wide = opc == 1 || opc == 3;
		uint64_t a = wide ? lane(&vn, e, eb * 2) : lane(&vn, base + e, eb);
		uint64_t b = lane(&vm, base + e, eb);
		int64_t sa = wide ? (int64_t)a : sext(a, eb * 8), sb = sext(b, eb * 8);
		uint64_t xa = u ? a : (uint64_t)sa, xb = u ? b : (uint64_t)sb;
		uint64_t d = lane(&vd, e, eb * 2), r;
		switch (opc) {
		case 0: case 1: r = xa + xb; break;
		case 2: case 3: r = xa - xb; break;
		case 8: r = d + xa * xb; break;
		case 10: r = d - xa * xb; break;
		case 12: r = xa * xb; break;
		default: a64_undef(c);
		}
		set_lane(&out, e, eb * 2, r);
	}
	putv(c, rd, &out, true);
}

/* ---- two-register miscellaneous ---- */

static uint64_t rev_in(uint64_t v, unsigned eb, unsigned container)
{
	/* reverse elements of eb bytes inside containers of `container` bytes */
	uint64_t r = 0;
	unsigned n = container / eb;
	for (unsigned base = 0; base < 8; base += container)
		for (unsigned i = 0; i < n; i++) {
			uint64_t e = (v >> (8 * (base + i * eb))) & emask(eb);
			r |= e << (8 * (base + (n - 1 - i) * eb));
		}
	return r;
}

void i_simd_2misc(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29);
	unsigned size = BITS(insn, 23, 22), opc = BITS(insn, 16, 12), rn = BITS(insn, 9, 5), rd = insn & 31;
	enter(c);
	unsigned eb = 1u << size, n_el = (q ? 16 : 8) / eb;
	vreg vn = getv(c, rn), out = getv(c, rd);
	switch (opc) {
	case 0x00: case 0x01: {   /* REV64 REV32 REV16 */
		unsigned container = opc == 1 ? 2 : u ? 4 : 8;
		if (eb >= container)
			a64_undef(c);
		uint64_t lo, hi;
		memcpy(&lo, vn.b, 8), memcpy(&hi, &vn.b[8], 8);
		lo = rev_in(lo, eb, container);
		hi = rev_in(hi, eb, container);
		memcpy(out.b, &lo, 8), memcpy(&out.b[8], &hi, 8);
		putv(c, rd, &out, q);
		return;
	}
	case 0x05:
		if (!u && size == 0) {   /* CNT */
			for (unsigned i = 0; i < 16; i++)
				out.b[i] = (uint8_t)__builtin_popcount(vn.b[i]);
		} else if (u && size == 0) {   /* NOT */
			for (unsigned i = 0; i < 16; i++)
				out.b[i] = (uint8_t)~vn.b[i];
		} else if (u && size == 1) {   /* RBIT */
			for (unsigned i = 0; i < 16; i++) {
				uint8_t x = vn.b[i], r = 0;
				for (int k = 0; k < 8; k++)
					r |= (uint8_t)(((x >> k) & 1) << (7 - k));
				out.b[i] = r;
			}
		} else {
			a64_undef(c);
		}
		putv(c, rd, &out, q);
		return;
	case 0x12: case 0x14: {   /* XTN, SQXTN/UQXTN (narrow into the low or, for 2, high half) */
		if (size == 3)
			a64_undef(c);
		unsigned half = 8 / eb;
		for (unsigned e = 0; e < half; e++) {
			uint64_t w = lane(&vn, e, eb * 2), r = w;
			if (opc == 0x14) {
				if (u)
					r = w > emask(eb) ? emask(eb) : w;
				else {
					int64_t s = sext(w, eb * 16), mx = (int64_t)(emask(eb) >> 1), mn = -mx - 1;
					r = (uint64_t)(s > mx ? mx : s < mn ? mn : s);
				}
			} else if (u) {
				a64_undef(c);
			}
			set_lane(&out, (q ? half : 0) + e, eb, r);
		}
		if (!q)
			memset(&out.b[8], 0, 8);
		putv(c, rd, &out, true);
		return;
	}
	}
	if (size == 3 && !q && opc < 0x0c)
		a64_undef(c);
	for (unsigned e = 0; e < n_el; e++) {
		uint64_t a = lane(&vn, e, eb), r;
		int64_t s = sext(a, eb * 8);
		switch ((u << 5) | opc) {
		case 0x04: {   /* CLS */
			uint64_t x = (uint64_t)(s ^ (s >> 1)) & emask(eb) & (emask(eb) >> 1);
			r = x ? (uint64_t)(__builtin_clzll(x) - (64 - eb * 8)) - 1 : eb * 8 - 1;
			break;
		}
		case 0x24: r = a ? (uint64_t)(__builtin_clzll(a) - (64 - eb * 8)) : eb * 8; break;   /* CLZ */
		case 0x08: r = s > 0 ? ~0ull : 0; break;      /* CMGT #0 */
		case 0x28: r = s >= 0 ? ~0ull : 0; break;     /* CMGE #0 */
		case 0x09: r = s == 0 ? ~0ull : 0; break;     /* CMEQ #0 */
		case 0x29: r = s <= 0 ? ~0ull : 0; break;     /* CMLE #0 */
		case 0x0a: r = s < 0 ? ~0ull : 0; break;      /* CMLT #0 */
		case 0x0b: r = (uint64_t)(s < 0 ? -s : s); break;   /* ABS */
		case 0x2b: r = (uint64_t)-s; break;           /* NEG */
		case 0x02: case 0x22: case 0x06: case 0x26: { /* [SU]ADDLP, [SU]ADALP */
			if (e >= n_el / 2 || size == 3)
				goto next;
			uint64_t x = lane(&vn, 2 * e, eb), y = lane(&vn, 2 * e + 1, eb);
			uint64_t sum = u ? x + y : (uint64_t)(sext(x, eb * 8) + sext(y, eb * 8));
			if (opc == 0x06)
				sum += lane(&out, e, eb * 2);
			set_lane(&out, e, eb * 2, sum);
			goto next;
		}
		default: {
			/* floating point: size<1> selects the op, size<0> the precision */
			unsigned fsz = size & 1, feb = fsz ? 8 : 4, key = (u << 6) | ((size >> 1) << 5) | opc;
			if (fsz && !q)
				a64_undef(c);
			if (e >= (q ? 16u : 8u) / feb)
				goto next;
			uint64_t x = lane(&vn, e, feb);
			double v;
			float f;
			memcpy(&f, &x, 4);
			if (fsz)
				memcpy(&v, &x, 8);
			else
				v = f;
			double res;
			switch (key) {
			case 0x1d: case 0x5d:   /* SCVTF UCVTF */
				res = key == 0x1d ? (fsz ? (double)(int64_t)x : (double)(int32_t)x)
						  : (fsz ? (double)x : (double)(uint32_t)x);
				break;
			case 0x3b: case 0x7b: { /* FCVTZS FCVTZU */
				double t = trunc(v);
				uint64_t o;
				if (isnan(v))
					o = 0;
				else if (key == 0x3b)
					o = fsz ? (uint64_t)(t >= 9.2233720368547758e18 ? INT64_MAX : t < -9.2233720368547758e18 ? INT64_MIN : (int64_t)t)
						: (uint32_t)(t >= 2147483648.0 ? INT32_MAX : t < -2147483648.0 ? INT32_MIN : (int32_t)t);
				else
					o = t <= 0 ? 0 : fsz ? (t >= 1.8446744073709552e19 ? UINT64_MAX : (uint64_t)t)
							     : (t >= 4294967296.0 ? UINT32_MAX : (uint32_t)t);
				set_lane(&out, e, feb, o);
				goto next;
			}
			case 0x2f: case 0x6f:   /* FABS FNEG */
				set_lane(&out, e, feb, key == 0x2f ? x & ~(1ull << (feb * 8 - 1)) : x ^ (1ull << (feb * 8 - 1)));
				goto next;
			case 0x7f:              /* FSQRT */
				res = fsz ? sqrt(v) : (double)sqrtf(f);
				break;
			default:
				a64_undef(c);
			}
			if (fsz) {
				memcpy(&x, &res, 8);
			} else {
				float rf = (float)res;
				uint32_t w;
				memcpy(&w, &rf, 4);
				x = w;
			}
			set_lane(&out, e, feb, x);
			goto next;
		}
		}
		set_lane(&out, e, eb, r);
next:;
	}
	putv(c, rd, &out, q);
}

/* ---- across lanes ---- */

void i_simd_across(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29);
	unsigned size = BITS(insn, 23, 22), opc = BITS(insn, 16, 12), rn = BITS(insn, 9, 5), rd = insn & 31;
	if (size == 3 || (size == 2 && !q))
		a64_undef(c);
	enter(c);
	unsigned eb = 1u << size, n_el = (q ? 16 : 8) / eb;
	vreg vn = getv(c, rn);
	uint64_t acc = lane(&vn, 0, eb);
	int64_t sacc = slane(&vn, 0, eb);
	unsigned out_eb = eb;
	for (unsigned e = 1; e < n_el; e++) {
		uint64_t a = lane(&vn, e, eb);
		int64_t s = slane(&vn, e, eb);
		switch (opc) {
		case 0x03: acc += a; sacc += s; break;
		case 0x0a: if (u ? a > acc : s > sacc) acc = a, sacc = s; break;
		case 0x1a: if (u ? a < acc : s < sacc) acc = a, sacc = s; break;
		case 0x1b: if (u) a64_undef(c); acc += a; break;
		default: a64_undef(c);
		}
	}
	uint64_t r = acc;
	if (opc == 0x03) {
		out_eb = eb * 2;
		r = u ? acc : (uint64_t)sacc;
	}
	c->v[rd].d[0] = r & emask(out_eb);
	c->v[rd].d[1] = 0;
}

/* ---- shifts by immediate ---- */

static void shift_imm(struct a64 *c, uint32_t insn, bool scalar)
{
	bool q = scalar || BIT(insn, 30), u = BIT(insn, 29);
	unsigned immh = BITS(insn, 22, 19), immb = BITS(insn, 18, 16), opc = BITS(insn, 15, 11);
	unsigned rn = BITS(insn, 9, 5), rd = insn & 31;
	if (!immh)
		a64_undef(c);
	enter(c);
	unsigned esz = 31 - __builtin_clz(immh);   /* log2 bytes */
	unsigned eb = 1u << esz, bits = eb * 8, hb = (immh << 3) | immb;
	unsigned rsh = 2 * bits - hb, lsh = hb - bits;
	if (scalar && esz != 3 && opc != 0x1c)
		a64_undef(c);
	vreg vn = getv(c, rn), vd = getv(c, rd), out = vd;
	unsigned n_el = scalar ? 1 : (q ? 16 : 8) / eb;
	if (esz == 3 && !q)
		a64_undef(c);
	switch (opc) {
	case 0x00: case 0x02:   /* [SU]SHR, [SU]SRA */
		for (unsigned e = 0; e < n_el; e++) {
			uint64_t a = lane(&vn, e, eb);
			uint64_t r = u ? (rsh >= bits ? 0 : a >> rsh) : (uint64_t)(sext(a, bits) >> (rsh >= bits ? bits - 1 : rsh));
			if (opc == 2)
				r += lane(&vd, e, eb);
			set_lane(&out, e, eb, r);
		}
		break;
	case 0x0a:              /* SHL, SLI */
		for (unsigned e = 0; e < n_el; e++) {
			uint64_t a = lane(&vn, e, eb) << lsh;
			if (u)
				a |= lane(&vd, e, eb) & (emask(eb) >> (bits - lsh) & (lsh ? ~0ull : 0));
			set_lane(&out, e, eb, a);
		}
		break;
	case 0x08:              /* SRI */
		if (!u)
			a64_undef(c);
		for (unsigned e = 0; e < n_el; e++) {
			uint64_t a = rsh >= bits ? 0 : lane(&vn, e, eb) >> rsh;
			uint64_t keep = rsh >= bits ? emask(eb) : ~(emask(eb) >> rsh) & emask(eb);
			set_lane(&out, e, eb, a | (lane(&vd, e, eb) & keep));
		}
		break;
	case 0x10:              /* SHRN */
		if (u || esz == 0 || scalar)
			a64_undef(c);
		{
			unsigned nb = eb / 2, half = 8 / nb;
			unsigned nbits = nb * 8, rs2 = 2 * nbits - hb;
			(void)rsh;
			eb = nb;
			for (unsigned e = 0; e < half; e++)
				set_lane(&out, (q ? half : 0) + e, nb, lane(&vn, e, nb * 2) >> rs2);
			if (!BIT(insn, 30))
				memset(&out.b[8], 0, 8);
			putv(c, rd, &out, true);
			return;
		}
	case 0x14:              /* [SU]SHLL, [SU]XTL */
		if (esz == 3 || scalar)
			a64_undef(c);
		{
			unsigned half = 8 / eb, base = BIT(insn, 30) ? half : 0;
			for (unsigned e = 0; e < half; e++) {
				uint64_t a = lane(&vn, base + e, eb);
				uint64_t w = u ? a : (uint64_t)sext(a, bits);
				set_lane(&out, e, eb * 2, w << lsh);
			}
			putv(c, rd, &out, true);
			return;
		}
	default:
		a64_undef(c);
	}
	putv(c, rd, &out, q && !scalar ? true : !scalar ? false : true);
	if (scalar)
		c->v[rd].d[1] = 0;
}

void i_simd_shift_imm(struct a64 *c, uint32_t insn)
{
	shift_imm(c, insn, false);
}

void i_simd_scalar_shift(struct a64 *c, uint32_t insn)
{
	shift_imm(c, insn, true);
}

/* ---- permutes ---- */

void i_simd_perm(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30);
	unsigned size = BITS(insn, 23, 22), opc = BITS(insn, 14, 12);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), rd = insn & 31;
	if (size == 3 && !q)
		a64_undef(c);
	enter(c);
	unsigned eb = 1u << size, n = (q ? 16 : 8) / eb, half = n / 2, part = (opc >> 2) & 1;
	vreg vn = getv(c, rn), vm = getv(c, rm), out;
	memset(&out, 0, sizeof(out));
	for (unsigned e = 0; e < n; e++) {
		uint64_t x;
		switch (opc & 3) {
		case 1: {   /* UZP */
			unsigned i = 2 * e + part;
			x = i < n ? lane(&vn, i, eb) : lane(&vm, i - n, eb);
			break;
		}
		case 2: {   /* TRN */
			unsigned p = e / 2 * 2 + part;
			x = (e & 1) ? lane(&vm, p, eb) : lane(&vn, p, eb);
			break;
		}
		case 3: {   /* ZIP */
			unsigned i = part * half + e / 2;
			x = (e & 1) ? lane(&vm, i, eb) : lane(&vn, i, eb);
			break;
		}
		default:
			a64_undef(c);
		}
		set_lane(&out, e, eb, x);
	}
	putv(c, rd, &out, q);
}

void i_simd_ext(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30);
	unsigned imm4 = BITS(insn, 14, 11), rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), rd = insn & 31;
	if (!q && imm4 >= 8)
		a64_undef(c);
	enter(c);
	unsigned n = q ? 16 : 8;
	vreg vn = getv(c, rn), vm = getv(c, rm), out;
	memset(&out, 0, sizeof(out));
	for (unsigned i = 0; i < n; i++) {
		unsigned j = i + imm4;
		out.b[i] = j < n ? vn.b[j] : vm.b[j - n];
	}
	putv(c, rd, &out, q);
}

void i_simd_tbl(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), tbx = BIT(insn, 12);
	unsigned len = BITS(insn, 14, 13) + 1, rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), rd = insn & 31;
	enter(c);
	uint8_t table[64];
	for (unsigned i = 0; i < len; i++)
		memcpy(&table[16 * i], c->v[(rn + i) % 32].b, 16);
	vreg idx = getv(c, rm), out = getv(c, rd);
	for (unsigned i = 0; i < (q ? 16u : 8u); i++) {
		unsigned k = idx.b[i];
		if (k < 16 * len)
			out.b[i] = table[k];
		else if (!tbx)
			out.b[i] = 0;
	}
	putv(c, rd, &out, q);
}

/* ---- scalar forms ---- */

void i_simd_scalar_pair(struct a64 *c, uint32_t insn)
{
	bool u = BIT(insn, 29);
	unsigned size = BITS(insn, 23, 22), opc = BITS(insn, 16, 12), rn = BITS(insn, 9, 5), rd = insn & 31;
	enter(c);
	if (!u && opc == 0x1b && size == 3) {   /* ADDP Dd, Vn.2D */
		c->v[rd].d[0] = c->v[rn].d[0] + c->v[rn].d[1];
		c->v[rd].d[1] = 0;
		return;
	}
	if (u && opc == 0x0d && size < 2) {      /* FADDP scalar */
		if (size) {
			double r = c->v[rn].df[0] + c->v[rn].df[1];
			c->v[rd].d[1] = 0;
			c->v[rd].df[0] = r;
		} else {
			float r = c->v[rn].f[0] + c->v[rn].f[1];
			c->v[rd].d[0] = c->v[rd].d[1] = 0;
			c->v[rd].f[0] = r;
		}
		return;
	}
	a64_undef(c);
}

void i_simd_scalar_3same(struct a64 *c, uint32_t insn)
{
	bool u = BIT(insn, 29);
	unsigned size = BITS(insn, 23, 22), opc = BITS(insn, 15, 11);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), rd = insn & 31;
	enter(c);
	if (size != 3 || opc >= 0x12)
		a64_undef(c);
	uint64_t r;
	if (!int_op(opc, u, 8, c->v[rn].d[0], c->v[rm].d[0], c->v[rd].d[0], &r))
		a64_undef(c);
	c->v[rd].d[0] = r;
	c->v[rd].d[1] = 0;
}

void i_simd_scalar_2misc(struct a64 *c, uint32_t insn)
{
	bool u = BIT(insn, 29);
	unsigned size = BITS(insn, 23, 22), opc = BITS(insn, 16, 12), rn = BITS(insn, 9, 5), rd = insn & 31;
	enter(c);
	uint64_t a = c->v[rn].d[0], r;
	int64_t s = (int64_t)a;
	if (opc == 0x1d && size < 2) {   /* SCVTF / UCVTF scalar */
		if (size) {
			double v = u ? (double)a : (double)s;
			c->v[rd].d[1] = 0;
			c->v[rd].df[0] = v;
		} else {
			uint32_t w = (uint32_t)a;
			float v = u ? (float)w : (float)(int32_t)w;
			c->v[rd].d[0] = c->v[rd].d[1] = 0;
			c->v[rd].f[0] = v;
		}
		return;
	}
	if (size != 3)
		a64_undef(c);
	switch ((u << 5) | opc) {
	case 0x08: r = s > 0 ? ~0ull : 0; break;
	case 0x28: r = s >= 0 ? ~0ull : 0; break;
	case 0x09: r = s == 0 ? ~0ull : 0; break;
	case 0x29: r = s <= 0 ? ~0ull : 0; break;
	case 0x0a: r = s < 0 ? ~0ull : 0; break;
	case 0x0b: r = (uint64_t)(s < 0 ? -s : s); break;
	case 0x2b: r = (uint64_t)-s; break;
	default: a64_undef(c);
	}
	c->v[rd].d[0] = r;
	c->v[rd].d[1] = 0;
}
