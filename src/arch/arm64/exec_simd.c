/* A64 Advanced SIMD: the integer, logical, permute and conversion forms
 * compilers emit for vectorized C, element by element.
 */
#include <math.h>

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

/* Saturate to a signed or unsigned `bits`-bit range, setting FPSR.QC. */
static uint64_t sat(struct a64 *c, __int128 v, unsigned bits, bool to_u)
{
	__int128 mx = to_u ? ((__int128)1 << bits) - 1 : ((__int128)1 << (bits - 1)) - 1;
	__int128 mn = to_u ? 0 : -mx - 1;
	if (v > mx || v < mn) {
		c->fpsr |= FPSR_QC;
		v = v > mx ? mx : mn;
	}
	return (uint64_t)v & emask(bits / 8);
}

/* SSHL USHL SRSHL URSHL SQSHL UQSHL SQRSHL UQRSHL (register): the shift is
 * the signed low byte of the other operand, negative shifting right with
 * optional rounding; computed in 128 bits with the shift clamped where the
 * result no longer changes. */
static uint64_t shl_reg(struct a64 *c, uint64_t a, int sh, unsigned bits, bool u, bool round, bool satq)
{
	__int128 v = u ? (__int128)(a & emask(bits / 8)) : (__int128)sext(a, bits);
	if (sh >= 0) {
		if (v == 0 || (!satq && sh >= (int)bits))
			return 0;
		if (sh >= (int)bits)   /* any nonzero value overflows */
			v = v > 0 ? (__int128)1 << 100 : -((__int128)1 << 100);
		else
			v *= (__int128)1 << sh;
	} else {
		unsigned s = (unsigned)-sh > bits + 1 ? bits + 1 : (unsigned)-sh;
		if (round)
			v += (__int128)1 << (s - 1);
		v >>= s;
	}
	return satq ? sat(c, v, bits, u) : (uint64_t)v & emask(bits / 8);
}

static bool int_op(struct a64 *c, unsigned opc, bool u, unsigned eb, uint64_t a, uint64_t b, uint64_t d,
		   uint64_t *r)
{
	unsigned bits = eb * 8;
	int64_t sa = sext(a, bits), sb = sext(b, bits);
	uint64_t ua = a & emask(eb), ub = b & emask(eb);
	switch (opc) {
	case 0x00: *r = u ? (ua + ub) >> 1 : (uint64_t)((sa + sb) >> 1); return eb < 8;
	case 0x01: {   /* SQADD / UQADD */
		*r = u ? sat(c, (__int128)ua + ub, bits, true) : sat(c, (__int128)sa + sb, bits, false);
		return true;
	}
	case 0x04: *r = u ? (ua - ub) >> 1 : (uint64_t)((sa - sb) >> 1); return eb < 8;
	case 0x05: {   /* SQSUB / UQSUB */
		*r = u ? sat(c, (__int128)ua - ub, bits, true) : sat(c, (__int128)sa - sb, bits, false);
		return true;
	}
	case 0x06: *r = (u ? ua > ub : sa > sb) ? ~0ull : 0; return true;
	case 0x07: *r = (u ? ua >= ub : sa >= sb) ? ~0ull : 0; return true;
	case 0x08: case 0x09: case 0x0a: case 0x0b:
		*r = shl_reg(c, a, (int8_t)b, bits, u, opc & 2, opc & 1);
		return true;
	case 0x0c: *r = u ? (ua > ub ? ua : ub) : (uint64_t)(sa > sb ? sa : sb); return eb < 8;
	case 0x0d: *r = u ? (ua < ub ? ua : ub) : (uint64_t)(sa < sb ? sa : sb); return eb < 8;
	case 0x0e: *r = u ? (ua > ub ? ua - ub : ub - ua) : (uint64_t)(sa > sb ? sa - sb : sb - sa); return eb < 8;
	case 0x0f: *r = d + (u ? (ua > ub ? ua - ub : ub - ua) : (uint64_t)(sa > sb ? sa - sb : sb - sa)); return eb < 8;
	case 0x10: *r = u ? a - b : a + b; return true;
	case 0x11: *r = u ? (ua == ub ? ~0ull : 0) : ((a & b & emask(eb)) ? ~0ull : 0); return true;
	case 0x12: *r = u ? d - a * b : d + a * b; return eb < 8;
	case 0x16: {   /* SQDMULH, SQRDMULH: high half of the doubled product */
		__int128 p = 2 * (__int128)sa * sb;
		if (u)
			p += (__int128)1 << (bits - 1);
		*r = sat(c, p >> bits, bits, false);
		return eb == 2 || eb == 4;
	}
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

void i_simd_3same(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29);
	unsigned size = BITS(insn, 23, 22), opc = BITS(insn, 15, 11);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), rd = insn & 31;
	enter(c);
	if (opc >= 0x18) {
		a64_simd_fp_3same(c, insn, false);
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
			if (!int_op(c, op2, opc == 0x17 ? false : u, eb, a, b, 0, &r) && eb == 8 && opc != 0x17)
				a64_undef(c);
		} else {
			a = lane(&vn, e, eb);
			b = lane(&vm, e, eb);
			if (!int_op(c, opc, u, eb, a, b, lane(&vd, e, eb), &r))
				a64_undef(c);
		}
		set_lane(&out, e, eb, r);
	}
	putv(c, rd, &out, q);
}

/* ---- three registers, different widths (long forms) ---- */

/* ADDHN SUBHN RADDHN RSUBHN: the high halves of wide sums, narrowed into
 * the lower half of Vd or, for the "2" forms, the upper. */
static void narrow_high(struct a64 *c, uint32_t insn, unsigned eb)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29), sub = BIT(insn, 13);
	unsigned rd = insn & 31, bits = eb * 8, n_el = 8 / eb;
	vreg vn = getv(c, BITS(insn, 9, 5)), vm = getv(c, BITS(insn, 20, 16)), out = getv(c, rd);
	for (unsigned e = 0; e < n_el; e++) {
		uint64_t a = lane(&vn, e, eb * 2), b = lane(&vm, e, eb * 2);
		uint64_t w = (sub ? a - b : a + b) & emask(eb * 2);
		unsigned __int128 x = w;
		if (u)
			x += (unsigned __int128)1 << (bits - 1);
		set_lane(&out, (q ? n_el : 0) + e, eb, (uint64_t)(x >> bits));
	}
	if (!q)
		memset(&out.b[8], 0, 8);
	putv(c, rd, &out, true);
}

void i_simd_3diff(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), u = BIT(insn, 29);
	unsigned size = BITS(insn, 23, 22), opc = BITS(insn, 15, 12);
	unsigned rn = BITS(insn, 9, 5), rm = BITS(insn, 20, 16), rd = insn & 31;
	if (size == 3)
		a64_undef(c);
	bool sqd = opc == 9 || opc == 11 || opc == 13;   /* SQDMLAL SQDMLSL SQDMULL */
	if (opc >= 14 || (sqd && (u || size == 0)))
		a64_undef(c);
	enter(c);
	unsigned eb = 1u << size, bits = eb * 8, n_el = 8 / eb, base = q ? n_el : 0;
	if (opc == 4 || opc == 6) {
		narrow_high(c, insn, eb);
		return;
	}
	vreg vn = getv(c, rn), vm = getv(c, rm), vd = getv(c, rd), out = vd;
	for (unsigned e = 0; e < n_el; e++) {
		bool wide = opc == 1 || opc == 3;
		uint64_t a = wide ? lane(&vn, e, eb * 2) : lane(&vn, base + e, eb);
		uint64_t b = lane(&vm, base + e, eb);
		int64_t sa = wide ? (int64_t)a : sext(a, bits), sb = sext(b, bits);
		uint64_t xa = u ? a : (uint64_t)sa, xb = u ? b : (uint64_t)sb;
		uint64_t d = lane(&vd, e, eb * 2), r;
		uint64_t ad = u ? (a > b ? a - b : b - a) : (uint64_t)(sa > sb ? sa - sb : sb - sa);
		switch (opc) {
		case 0: case 1: r = xa + xb; break;
		case 2: case 3: r = xa - xb; break;
		case 5: r = d + ad; break;    /* [SU]ABAL */
		case 7: r = ad; break;        /* [SU]ABDL */
		case 8: r = d + xa * xb; break;
		case 10: r = d - xa * xb; break;
		case 12: r = xa * xb; break;
		default: {                    /* SQDMLAL SQDMLSL SQDMULL */
			int64_t p = (int64_t)sat(c, 2 * (__int128)sa * sb, bits * 2, false);
			p = sext((uint64_t)p, bits * 2);
			__int128 acc = sext(d, bits * 2);
			r = opc == 13 ? (uint64_t)p : sat(c, opc == 9 ? acc + p : acc - p, bits * 2, false);
			break;
		}
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
	if (a64_simd_fp_2misc_is_fp(insn)) {
		a64_simd_fp_2misc(c, insn, false);
		return;
	}
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
			if (opc == 0x14)        /* SQXTN UQXTN */
				r = sat(c, u ? (__int128)w : (__int128)sext(w, eb * 16), eb * 8, u);
			else if (u)             /* SQXTUN */
				r = sat(c, (__int128)sext(w, eb * 16), eb * 8, true);
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
		case 0x0b: r = s < 0 ? -(uint64_t)s : (uint64_t)s; break;   /* ABS */
		case 0x2b: r = -(uint64_t)s; break;           /* NEG */
		case 0x07: r = sat(c, s < 0 ? -(__int128)s : s, eb * 8, false); break;   /* SQABS */
		case 0x27: r = sat(c, -(__int128)s, eb * 8, false); break;              /* SQNEG */
		case 0x03: r = sat(c, (__int128)slane(&out, e, eb) + a, eb * 8, false); break;   /* SUQADD */
		case 0x23: r = sat(c, (__int128)lane(&out, e, eb) + s, eb * 8, true); break;     /* USQADD */
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
		default:
			a64_undef(c);
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
	if (opc == 0x0c || opc == 0x0f) {   /* FMAXNMV FMINNMV FMAXV FMINV */
		enter(c);
		a64_simd_fp_across(c, insn);
		return;
	}
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

/* Right shift by 1..bits of a signed or unsigned element, optionally
 * rounding (adding half of the last bit shifted out), in 128 bits so the
 * rounding carry and a 64-bit shift by 64 are exact. */
static __int128 shr_exact(uint64_t a, unsigned bits, unsigned sh, bool u, bool round)
{
	__int128 v = u ? (__int128)(a & emask(bits / 8)) : (__int128)sext(a, bits);
	if (round)
		v += (__int128)1 << (sh - 1);
	return v >> sh;
}

/* SHRN RSHRN SQSHRUN SQRSHRUN SQSHRN UQSHRN SQRSHRN UQRSHRN: elements of
 * 2*eb bytes shifted right and narrowed into eb bytes; the vector "2" form
 * (Q=1) writes the upper half and keeps the lower. */
static void shift_narrow(struct a64 *c, uint32_t insn, bool scalar, unsigned esz, unsigned hb)
{
	bool u = BIT(insn, 29), q = !scalar && BIT(insn, 30);
	unsigned opc = BITS(insn, 15, 11), eb = 1u << esz, bits = eb * 8, sh = 2 * bits - hb;
	bool round = opc & 1, plain = !u && opc < 0x12;
	if (esz == 3 || (scalar && plain))
		a64_undef(c);
	vreg vn = getv(c, BITS(insn, 9, 5)), out = getv(c, insn & 31);
	unsigned n_el = scalar ? 1 : 8 / eb, base = q ? n_el : 0;
	if (scalar)
		memset(&out, 0, sizeof(out));
	for (unsigned e = 0; e < n_el; e++) {
		/* source signedness: SQSHRUN/SQRSHRUN (U=1, opc 0x10/0x11) read signed */
		bool src_u = u && opc >= 0x12;
		__int128 v = shr_exact(lane(&vn, e, eb * 2), bits * 2, sh, src_u, round);
		uint64_t r = plain ? (uint64_t)v & emask(eb) : sat(c, v, bits, u);
		set_lane(&out, base + e, eb, r);
	}
	if (!scalar && !q)
		memset(&out.b[8], 0, 8);
	putv(c, insn & 31, &out, true);
}

static void shift_imm(struct a64 *c, uint32_t insn, bool scalar)
{
	bool q = scalar || BIT(insn, 30), u = BIT(insn, 29);
	unsigned immh = BITS(insn, 22, 19), immb = BITS(insn, 18, 16), opc = BITS(insn, 15, 11);
	unsigned rn = BITS(insn, 9, 5), rd = insn & 31;
	if (!immh)
		a64_undef(c);
	enter(c);
	if (opc == 0x1c || opc == 0x1f) {   /* SCVTF UCVTF FCVTZS FCVTZU (fixed point) */
		a64_simd_fp_fixed(c, insn, scalar);
		return;
	}
	unsigned esz = 31 - __builtin_clz(immh);   /* log2 bytes */
	unsigned eb = 1u << esz, bits = eb * 8, hb = (immh << 3) | immb;
	unsigned rsh = 2 * bits - hb, lsh = hb - bits;
	if (opc >= 0x10 && opc <= 0x13) {
		shift_narrow(c, insn, scalar, esz, hb);
		return;
	}
	if (opc == 0x14) {                  /* [SU]SHLL, [SU]XTL */
		if (esz == 3 || scalar)
			a64_undef(c);
		vreg vn = getv(c, rn), out;
		unsigned half = 8 / eb, base = BIT(insn, 30) ? half : 0;
		for (unsigned e = 0; e < half; e++) {
			uint64_t a = lane(&vn, base + e, eb);
			uint64_t w = u ? a : (uint64_t)sext(a, bits);
			set_lane(&out, e, eb * 2, w << lsh);
		}
		putv(c, rd, &out, true);
		return;
	}
	/* the scalar saturating left shifts take every size, the rest only D */
	bool sat_left = opc == 0x0e || (opc == 0x0c && u);
	if ((scalar && esz != 3 && !sat_left) || (esz == 3 && !q))
		a64_undef(c);
	vreg vn = getv(c, rn), vd = getv(c, rd), out = vd;
	unsigned n_el = scalar ? 1 : (q ? 16 : 8) / eb;
	if (scalar)
		memset(&out, 0, sizeof(out));
	for (unsigned e = 0; e < n_el; e++) {
		uint64_t a = lane(&vn, e, eb), d = lane(&vd, e, eb), r;
		switch (opc) {
		case 0x00: case 0x02: case 0x04: case 0x06:   /* [SU]SHR [SU]SRA [SU]RSHR [SU]RSRA */
			r = (uint64_t)shr_exact(a, bits, rsh, u, opc & 4);
			if (opc & 2)
				r += d;
			break;
		case 0x08:                                    /* SRI */
			if (!u)
				a64_undef(c);
			r = rsh >= bits ? d : (a & emask(eb)) >> rsh | (d & ~(emask(eb) >> rsh));
			break;
		case 0x0a:                                    /* SHL, SLI */
			r = a << lsh;
			if (u)
				r |= d & ((1ull << lsh) - 1);
			break;
		case 0x0c: case 0x0e: {                       /* SQSHLU, SQSHL, UQSHL (immediate) */
			if (opc == 0x0c && !u)
				a64_undef(c);
			bool src_u = opc == 0x0e && u;
			__int128 v = src_u ? (__int128)(a & emask(eb)) : (__int128)sext(a, bits);
			r = sat(c, v * ((__int128)1 << lsh), bits, u);
			break;
		}
		default:
			a64_undef(c);
		}
		set_lane(&out, e, eb, r);
	}
	putv(c, rd, &out, q);
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
	if (opc == 0x0c || opc == 0x0d || opc == 0x0f) {   /* FADDP FMAXP FMINP FMAXNMP FMINNMP */
		a64_simd_fp_pair(c, insn);
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
	if (opc >= 0x18) {
		a64_simd_fp_3same(c, insn, true);
		return;
	}
	/* B/H/S only for the saturating forms (SQADD UQADD SQSUB UQSUB SQSHL UQSHL
	 * SQRSHL UQRSHL; SQDMULH SQRDMULH in H and S) */
	bool satq = opc == 0x01 || opc == 0x05 || opc == 0x09 || opc == 0x0b;
	if (opc == 0x16 ? size == 0 || size == 3 : (size != 3 && !satq) || opc >= 0x12)
		a64_undef(c);
	unsigned eb = 1u << size;
	uint64_t r;
	if (!int_op(c, opc, u, eb, c->v[rn].d[0], c->v[rm].d[0], c->v[rd].d[0], &r))
		a64_undef(c);
	c->v[rd].d[0] = r & emask(eb);
	c->v[rd].d[1] = 0;
}

void i_simd_scalar_2misc(struct a64 *c, uint32_t insn)
{
	bool u = BIT(insn, 29);
	unsigned size = BITS(insn, 23, 22), opc = BITS(insn, 16, 12), rn = BITS(insn, 9, 5), rd = insn & 31;
	enter(c);
	uint64_t a = c->v[rn].d[0], r;
	int64_t s = (int64_t)a;
	if (a64_simd_fp_2misc_is_fp(insn)) {
		a64_simd_fp_2misc(c, insn, true);
		return;
	}
	unsigned eb = 1u << size;
	int64_t se = sext(a, eb * 8), de = sext(c->v[rd].d[0], eb * 8);
	switch ((u << 5) | opc) {   /* the saturating forms, every size */
	case 0x07: r = sat(c, se < 0 ? -(__int128)se : se, eb * 8, false); goto done;
	case 0x27: r = sat(c, -(__int128)se, eb * 8, false); goto done;
	case 0x03: r = sat(c, (__int128)de + (a & emask(eb)), eb * 8, false); goto done;
	case 0x23: r = sat(c, (__int128)(c->v[rd].d[0] & emask(eb)) + se, eb * 8, true); goto done;
	case 0x14: case 0x34: case 0x32:   /* SQXTN UQXTN SQXTUN */
		if (size == 3)
			a64_undef(c);
		a = c->v[rn].d[0] & emask(eb * 2);
		r = sat(c, opc == 0x14 && u ? (__int128)a : (__int128)sext(a, eb * 16), eb * 8, u);
		goto done;
	}
	if (size != 3)
		a64_undef(c);
	switch ((u << 5) | opc) {
	case 0x08: r = s > 0 ? ~0ull : 0; break;
	case 0x28: r = s >= 0 ? ~0ull : 0; break;
	case 0x09: r = s == 0 ? ~0ull : 0; break;
	case 0x29: r = s <= 0 ? ~0ull : 0; break;
	case 0x0a: r = s < 0 ? ~0ull : 0; break;
	case 0x0b: r = s < 0 ? -(uint64_t)s : (uint64_t)s; break;
	case 0x2b: r = -(uint64_t)s; break;
	default: a64_undef(c);
	}
done:
	c->v[rd].d[0] = r;
	c->v[rd].d[1] = 0;
}
