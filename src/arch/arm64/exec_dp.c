/* A64 integer data processing: immediate and register forms. */
#include "arch/arm64/insn.h"

bool a64_cond(uint32_t ps, unsigned cond)
{
	bool n = ps & PS_N, z = ps & PS_Z, cf = ps & PS_C, v = ps & PS_V;
	bool r;
	switch (cond >> 1) {
	case 0: r = z; break;
	case 1: r = cf; break;
	case 2: r = n; break;
	case 3: r = v; break;
	case 4: r = cf && !z; break;
	case 5: r = n == v; break;
	case 6: r = n == v && !z; break;
	default: return true;   /* AL, NV */
	}
	return (cond & 1) ? !r : r;
}

static inline void set_nzcv(struct a64 *c, uint32_t f)
{
	c->pstate = (c->pstate & ~PS_NZCV) | f;
}

static uint64_t add_flags(uint64_t a, uint64_t b, unsigned carry, bool sf, uint32_t *f)
{
	uint64_t r;
	uint32_t fl = 0;
	if (sf) {
		r = a + b + carry;
		bool cout = carry ? r <= a : r < a;
		if (cout)
			fl |= PS_C;
		if ((~(a ^ b) & (a ^ r)) >> 63)
			fl |= PS_V;
		if (r >> 63)
			fl |= PS_N;
	} else {
		uint64_t w = (uint64_t)(uint32_t)a + (uint32_t)b + carry;
		r = (uint32_t)w;
		if (w >> 32)
			fl |= PS_C;
		if ((~(a ^ b) & (a ^ r)) & 0x80000000u)
			fl |= PS_V;
		if (r & 0x80000000u)
			fl |= PS_N;
	}
	if (!r)
		fl |= PS_Z;
	*f = fl;
	return r;
}

static uint32_t logic_flags(uint64_t r, bool sf)
{
	uint32_t f = 0;
	if (sf ? (r >> 63) : ((r >> 31) & 1))
		f |= PS_N;
	if (!(sf ? r : (uint32_t)r))
		f |= PS_Z;
	return f;
}

/* op: 0 add, 1 sub; s: set flags; rd_sp: Rd 31 is SP (not when s). */
static void addsub(struct a64 *c, uint64_t a, uint64_t b, bool sub, bool s, bool sf, unsigned rd,
		   bool rd_sp)
{
	uint32_t f;
	uint64_t r = add_flags(a, sub ? ~b : b, sub, sf, &f);
	if (s)
		set_nzcv(c, f);
	if (!sf)
		r = (uint32_t)r;
	if (rd_sp && !s)
		c->x[rd] = r;
	else
		set_x(c, rd, r);
}

void i_adr(struct a64 *c, uint32_t insn)
{
	int64_t imm = sext((BITS(insn, 23, 5) << 2) | BITS(insn, 30, 29), 21);
	uint64_t v;
	if (BIT(insn, 31))
		v = (c->pc & ~0xfffull) + ((uint64_t)imm << 12);
	else
		v = c->pc + (uint64_t)imm;
	set_x(c, insn & 31, v);
}

void i_addsub_imm(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31), sub = BIT(insn, 30), s = BIT(insn, 29);
	uint64_t imm = BITS(insn, 21, 10);
	if (BIT(insn, 22))
		imm <<= 12;
	unsigned rn = BITS(insn, 9, 5);
	uint64_t a = sf ? c->x[rn] : (uint32_t)c->x[rn];   /* Rn 31 is SP */
	addsub(c, a, imm, sub, s, sf, insn & 31, true);
}

uint64_t a64_decode_bitmask(unsigned n, unsigned imms, unsigned immr, bool sf, bool *ok)
{
	unsigned combined = (n << 6) | (~imms & 0x3f);
	int len = -1;
	for (int i = 6; i >= 0; i--)
		if (combined & (1u << i)) {
			len = i;
			break;
		}
	*ok = false;
	if (len < 1 || (!sf && n))
		return 0;
	unsigned esize = 1u << len;
	unsigned levels = esize - 1;
	unsigned s = imms & levels, r = immr & levels;
	if (s == levels)
		return 0;
	uint64_t welem = (s + 1 == 64) ? ~0ull : ((1ull << (s + 1)) - 1);
	uint64_t emask = esize == 64 ? ~0ull : ((1ull << esize) - 1);
	uint64_t elem = r ? ((welem >> r) | (welem << (esize - r))) & emask : welem;
	uint64_t v = 0;
	for (unsigned i = 0; i < 64; i += esize)
		v |= elem << i;
	*ok = true;
	return sf ? v : (uint32_t)v;
}

void i_logic_imm(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	unsigned opc = BITS(insn, 30, 29), rd = insn & 31, rn = BITS(insn, 9, 5);
	bool ok;
	uint64_t imm = a64_decode_bitmask(BIT(insn, 22), BITS(insn, 15, 10), BITS(insn, 21, 16), sf, &ok);
	if (!ok)
		a64_undef(c);
	uint64_t a = rr(c, rn, sf), r;
	switch (opc) {
	case 0: r = a & imm; break;
	case 1: r = a | imm; break;
	case 2: r = a ^ imm; break;
	default:
		r = a & imm;
		set_nzcv(c, logic_flags(r, sf));
		set_r(c, rd, r, sf);
		return;
	}
	/* AND/ORR/EOR (immediate) write SP when Rd is 31. */
	c->x[rd] = sf ? r : (uint32_t)r;
}

void i_movw(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	unsigned opc = BITS(insn, 30, 29), hw = BITS(insn, 22, 21), rd = insn & 31;
	if (opc == 1 || (!sf && hw >= 2))
		a64_undef(c);
	unsigned sh = hw * 16;
	uint64_t imm = BITS(insn, 20, 5) << sh;
	uint64_t r;
	if (opc == 0)
		r = ~imm;
	else if (opc == 2)
		r = imm;
	else
		r = (xr(c, rd) & ~(0xffffull << sh)) | imm;
	set_r(c, rd, r, sf);
}

static uint64_t ror(uint64_t v, unsigned sh, bool sf)
{
	if (!sf) {
		uint32_t w = (uint32_t)v;
		sh &= 31;
		return sh ? (uint32_t)((w >> sh) | (w << (32 - sh))) : w;
	}
	sh &= 63;
	return sh ? (v >> sh) | (v << (64 - sh)) : v;
}

void i_bfm(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	unsigned opc = BITS(insn, 30, 29), n = BIT(insn, 22);
	unsigned immr = BITS(insn, 21, 16), imms = BITS(insn, 15, 10);
	unsigned rd = insn & 31, rn = BITS(insn, 9, 5);
	unsigned bits = sf ? 64 : 32;
	if (opc == 3 || n != (unsigned)sf || (!sf && (immr >= 32 || imms >= 32)))
		a64_undef(c);
	uint64_t src = rr(c, rn, sf);
	uint64_t all = sf ? ~0ull : 0xffffffffull;
	uint64_t r;
	if (imms >= immr) {
		/* extract bits imms..immr to bit 0 */
		unsigned w = imms - immr + 1;
		uint64_t field = (src >> immr) & (w == 64 ? ~0ull : (1ull << w) - 1);
		if (opc == 0) {
			r = (uint64_t)sext(field, w) & all;
		} else if (opc == 2) {
			r = field;
		} else {
			uint64_t m = (w == 64 ? ~0ull : (1ull << w) - 1);
			r = (rr(c, rd, sf) & ~m) | field;
		}
	} else {
		/* insert bits imms..0 at bit (bits - immr) */
		unsigned w = imms + 1, pos = bits - immr;
		uint64_t m = ((1ull << w) - 1);
		uint64_t field = src & m;
		if (opc == 0) {
			r = ((uint64_t)sext(field, w) << pos) & all;
		} else if (opc == 2) {
			r = field << pos;
		} else {
			r = (rr(c, rd, sf) & ~(m << pos)) | (field << pos);
		}
	}
	set_r(c, rd, r & all, sf);
}

void i_extr(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	unsigned lsb = BITS(insn, 15, 10);
	if (BIT(insn, 22) != sf || BITS(insn, 30, 29) || BIT(insn, 21) || (!sf && lsb >= 32))
		a64_undef(c);
	uint64_t hi = rr(c, BITS(insn, 9, 5), sf), lo = rr(c, BITS(insn, 20, 16), sf);   /* Rn:Rm */
	uint64_t r;
	if (!lsb)
		r = lo;
	else if (sf)
		r = (lo >> lsb) | (hi << (64 - lsb));
	else
		r = (uint32_t)((lo >> lsb) | (hi << (32 - lsb)));
	set_r(c, insn & 31, r, sf);
}

static uint64_t shift_reg(uint64_t v, unsigned type, unsigned amt, bool sf)
{
	if (!amt)
		return v;
	switch (type) {
	case 0: return sf ? v << amt : (uint32_t)(v << amt);
	case 1: return sf ? v >> amt : (uint32_t)v >> amt;
	case 2: return sf ? (uint64_t)((int64_t)v >> amt) : (uint32_t)((int32_t)(uint32_t)v >> amt);
	default: return ror(v, amt, sf);
	}
}

void i_logic_reg(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	unsigned opc = BITS(insn, 30, 29), amt = BITS(insn, 15, 10);
	if (!sf && amt >= 32)
		a64_undef(c);
	uint64_t b = shift_reg(rr(c, BITS(insn, 20, 16), sf), BITS(insn, 23, 22), amt, sf);
	if (BIT(insn, 21))
		b = ~b;
	uint64_t a = rr(c, BITS(insn, 9, 5), sf), r;
	switch (opc) {
	case 0: r = a & b; break;
	case 1: r = a | b; break;
	case 2: r = a ^ b; break;
	default:
		r = a & b;
		set_nzcv(c, logic_flags(r, sf));
	}
	set_r(c, insn & 31, r, sf);
}

void i_addsub_reg(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	unsigned type = BITS(insn, 23, 22), amt = BITS(insn, 15, 10);
	if (type == 3 || (!sf && amt >= 32))
		a64_undef(c);
	uint64_t b = shift_reg(rr(c, BITS(insn, 20, 16), sf), type, amt, sf);
	addsub(c, rr(c, BITS(insn, 9, 5), sf), b, BIT(insn, 30), BIT(insn, 29), sf, insn & 31, false);
}

static uint64_t extend(uint64_t v, unsigned opt, unsigned sh)
{
	switch (opt) {
	case 0: v = (uint8_t)v; break;
	case 1: v = (uint16_t)v; break;
	case 2: v = (uint32_t)v; break;
	case 4: v = (uint64_t)(int64_t)(int8_t)v; break;
	case 5: v = (uint64_t)(int64_t)(int16_t)v; break;
	case 6: v = (uint64_t)(int64_t)(int32_t)v; break;
	default: break;
	}
	return v << sh;
}

void i_addsub_ext(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31), s = BIT(insn, 29);
	unsigned sh = BITS(insn, 12, 10), rn = BITS(insn, 9, 5);
	if (sh > 4 || BITS(insn, 23, 22))
		a64_undef(c);
	uint64_t b = extend(xr(c, BITS(insn, 20, 16)), BITS(insn, 15, 13), sh);
	uint64_t a = sf ? c->x[rn] : (uint32_t)c->x[rn];   /* Rn 31 is SP */
	addsub(c, a, b, BIT(insn, 30), s, sf, insn & 31, true);
}

void i_adc(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31), sub = BIT(insn, 30), s = BIT(insn, 29);
	uint64_t b = rr(c, BITS(insn, 20, 16), sf);
	uint32_t f;
	uint64_t r = add_flags(rr(c, BITS(insn, 9, 5), sf), sub ? ~b : b, !!(c->pstate & PS_C), sf, &f);
	if (s)
		set_nzcv(c, f);
	set_r(c, insn & 31, r, sf);
}

void i_ccmp(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31), sub = BIT(insn, 30);
	if (a64_cond(c->pstate, BITS(insn, 15, 12))) {
		uint64_t b = BIT(insn, 11) ? BITS(insn, 20, 16) : rr(c, BITS(insn, 20, 16), sf);
		uint32_t f;
		add_flags(rr(c, BITS(insn, 9, 5), sf), sub ? ~b : b, sub, sf, &f);
		set_nzcv(c, f);
	} else {
		set_nzcv(c, (uint32_t)BITS(insn, 3, 0) << 28);
	}
}

void i_csel(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	unsigned op = BIT(insn, 30), o2 = BIT(insn, 10);
	uint64_t r;
	if (a64_cond(c->pstate, BITS(insn, 15, 12))) {
		r = rr(c, BITS(insn, 9, 5), sf);
	} else {
		r = rr(c, BITS(insn, 20, 16), sf);
		if (op)
			r = ~r;
		if (o2)
			r += 1;
	}
	set_r(c, insn & 31, r, sf);
}

static uint32_t crc32_step(uint32_t crc, uint64_t data, unsigned bytes, uint32_t poly)
{
	for (unsigned i = 0; i < bytes; i++) {
		crc ^= (uint8_t)(data >> (8 * i));
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ ((crc & 1) ? poly : 0);
	}
	return crc;
}

void i_dp2(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	unsigned op = BITS(insn, 15, 10);
	if (BIT(insn, 29))
		a64_undef(c);
	uint64_t a = rr(c, BITS(insn, 9, 5), sf), b = rr(c, BITS(insn, 20, 16), sf), r;
	unsigned bits = sf ? 64 : 32;
	switch (op) {
	case 2:   /* UDIV */
		r = b ? a / b : 0;
		break;
	case 3:   /* SDIV */
		if (!b)
			r = 0;
		else if (sf)
			r = ((int64_t)a == INT64_MIN && (int64_t)b == -1) ? a : (uint64_t)((int64_t)a / (int64_t)b);
		else
			r = ((int32_t)a == INT32_MIN && (int32_t)b == -1) ? a
									: (uint32_t)((int32_t)a / (int32_t)b);
		break;
	case 8: case 9: case 10: case 11:
		r = shift_reg(a, op - 8, (unsigned)(b % bits), sf);
		break;
	case 16: case 17: case 18: case 20: case 21: case 22: {   /* CRC32x */
		unsigned sz = op & 3;
		if ((sz == 3) != sf)
			a64_undef(c);
		uint32_t poly = (op & 4) ? 0x82f63b78u : 0xedb88320u;
		r = crc32_step((uint32_t)a, xr(c, BITS(insn, 20, 16)), 1u << sz, poly);
		break;
	}
	case 19: case 23:
		if (!sf)
			a64_undef(c);
		r = crc32_step((uint32_t)xr(c, BITS(insn, 9, 5)), b, 8, (op & 4) ? 0x82f63b78u : 0xedb88320u);
		sf = false;
		break;
	default:
		a64_undef(c);
	}
	set_r(c, insn & 31, r, sf);
}

static uint64_t rev_bytes(uint64_t v, unsigned container)
{
	uint64_t r = 0;
	for (unsigned base = 0; base < 64; base += container)
		for (unsigned i = 0; i < container; i += 8)
			r |= ((v >> (base + i)) & 0xff) << (base + container - 8 - i);
	return r;
}

void i_dp1(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	unsigned op = BITS(insn, 15, 10);
	if (BIT(insn, 29) || BITS(insn, 20, 16))
		a64_undef(c);
	uint64_t a = rr(c, BITS(insn, 9, 5), sf), r = 0;
	unsigned bits = sf ? 64 : 32;
	switch (op) {
	case 0:
		for (unsigned i = 0; i < bits; i++)
			if ((a >> i) & 1)
				r |= 1ull << (bits - 1 - i);
		break;
	case 1:
		r = rev_bytes(a, 16);
		break;
	case 2:
		r = sf ? rev_bytes(a, 32) : rev_bytes(a, 32);
		break;
	case 3:
		if (!sf)
			a64_undef(c);
		r = rev_bytes(a, 64);
		break;
	case 4:
		r = a ? (sf ? (uint64_t)__builtin_clzll(a) : (uint64_t)__builtin_clz((uint32_t)a)) : bits;
		break;
	case 5: {
		uint64_t x = sf ? a ^ (uint64_t)((int64_t)a >> 1) : ((uint32_t)a ^ (uint32_t)((int32_t)a >> 1));
		x &= sf ? 0x7fffffffffffffffull : 0x7fffffffull;
		r = x ? (sf ? (uint64_t)__builtin_clzll(x) - 1 : (uint64_t)__builtin_clz((uint32_t)x) - 1)
		      : bits - 1;
		break;
	}
	default:
		a64_undef(c);
	}
	set_r(c, insn & 31, r, sf);
}

void i_dp3(struct a64 *c, uint32_t insn)
{
	bool sf = BIT(insn, 31);
	unsigned op31 = BITS(insn, 23, 21), o0 = BIT(insn, 15);
	if (BITS(insn, 30, 29))
		a64_undef(c);
	unsigned rm = BITS(insn, 20, 16), ra = BITS(insn, 14, 10), rn = BITS(insn, 9, 5);
	uint64_t r;
	switch (op31) {
	case 0: {
		uint64_t p = xr(c, rn) * xr(c, rm);
		r = o0 ? xr(c, ra) - p : xr(c, ra) + p;
		break;
	}
	case 1: case 5: {
		if (!sf)
			a64_undef(c);
		uint64_t p = op31 == 1 ? (uint64_t)((int64_t)(int32_t)xr(c, rn) * (int64_t)(int32_t)xr(c, rm))
				       : (uint64_t)(uint32_t)xr(c, rn) * (uint32_t)xr(c, rm);
		r = o0 ? xr(c, ra) - p : xr(c, ra) + p;
		break;
	}
	case 2: case 6:
		if (!sf || o0)
			a64_undef(c);
		if (op31 == 2)
			r = (uint64_t)(((__int128)(int64_t)xr(c, rn) * (int64_t)xr(c, rm)) >> 64);
		else
			r = (uint64_t)(((unsigned __int128)xr(c, rn) * xr(c, rm)) >> 64);
		break;
	default:
		a64_undef(c);
	}
	set_r(c, insn & 31, r, sf);
}
