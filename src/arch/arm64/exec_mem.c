/* A64 loads and stores: single registers (all addressing forms), pairs,
 * literals, exclusives, acquire/release, LSE atomics and the SIMD
 * structure loads/stores. Every access goes through mem.c (memslot map,
 * TLB); the instruction syndrome handed down says what an access outside
 * the memslots reports (ISV only for a single register without writeback).
 */
#include "arch/arm64/insn.h"

static inline uint64_t base_reg(struct a64 *c, unsigned rn)
{
	return c->x[rn];   /* 31 is SP here */
}

static uint32_t gpr_iss(unsigned size, unsigned rt, bool sse, bool sf)
{
	return ISS_ISV | ISS_SAS(size) | ISS_SRT(rt) | (sse ? ISS_SSE : 0) | (sf ? ISS_SF : 0);
}

/* One general-register load/store; opc as in the encoding. false: the
 * encoding is unallocated (checked before any access). */
static bool gpr_valid(unsigned size, unsigned opc)
{
	return !(opc == 3 && size >= 2) && !(opc == 2 && size == 3 && false);
}

static void gpr_access(struct a64 *c, unsigned size, unsigned opc, unsigned rt, uint64_t va, bool isv,
		       bool unpriv)
{
	unsigned bytes = 1u << size;
	uint64_t v;
	switch (opc) {
	case 0:
		a64_st(c, va, bytes, xr(c, rt), isv ? gpr_iss(size, rt, false, size == 3) : 0, unpriv);
		break;
	case 1:
		v = a64_ld(c, va, bytes, isv ? gpr_iss(size, rt, false, size == 3) : 0, unpriv);
		set_x(c, rt, v);
		break;
	case 2:
		if (size == 3)
			return;   /* PRFM / PRFUM: a hint */
		v = a64_ld(c, va, bytes, isv ? gpr_iss(size, rt, true, true) : 0, unpriv);
		set_x(c, rt, (uint64_t)sext(v, bytes * 8));
		break;
	default:
		v = a64_ld(c, va, bytes, isv ? gpr_iss(size, rt, true, false) : 0, unpriv);
		set_x(c, rt, (uint32_t)sext(v, bytes * 8));
		break;
	}
}

/* SIMD&FP register load/store of 1..16 bytes (log2 in scale). */
static void fp_access(struct a64 *c, unsigned scale, bool load, unsigned rt, uint64_t va)
{
	a64_fp_check(c);
	if (scale == 4) {
		if (load) {
			uint64_t lo = a64_ld(c, va, 8, 0, false);
			uint64_t hi = a64_ld(c, va + 8, 8, 0, false);
			c->v[rt].d[0] = lo;
			c->v[rt].d[1] = hi;
		} else {
			a64_st(c, va, 8, c->v[rt].d[0], 0, false);
			a64_st(c, va + 8, 8, c->v[rt].d[1], 0, false);
		}
		return;
	}
	unsigned bytes = 1u << scale;
	if (load) {
		uint64_t v = a64_ld(c, va, bytes, 0, false);
		c->v[rt].d[0] = v;
		c->v[rt].d[1] = 0;
	} else {
		uint64_t v = bytes == 8 ? c->v[rt].d[0] : c->v[rt].d[0] & ((1ull << (bytes * 8)) - 1);
		a64_st(c, va, bytes, v, 0, false);
	}
}

/* The access size (log2) of a SIMD&FP single-register form, 5 if unallocated. */
static unsigned fp_scale(unsigned size, unsigned opc)
{
	if (opc & 2)
		return size == 0 ? 4 : 5;
	return size;
}

void i_ld_lit(struct a64 *c, uint32_t insn)
{
	unsigned opc = BITS(insn, 31, 30), rt = insn & 31;
	uint64_t va = c->pc + (uint64_t)(sext(BITS(insn, 23, 5), 19) * 4);
	if (BIT(insn, 26)) {
		if (opc == 3)
			a64_undef(c);
		fp_access(c, 2 + opc, true, rt, va);
		return;
	}
	switch (opc) {
	case 0: gpr_access(c, 2, 1, rt, va, true, false); break;
	case 1: gpr_access(c, 3, 1, rt, va, true, false); break;
	case 2: gpr_access(c, 2, 2, rt, va, true, false); break;
	default: break;   /* PRFM (literal) */
	}
}

void i_ldst_pair(struct a64 *c, uint32_t insn)
{
	unsigned opc = BITS(insn, 31, 30), idx = BITS(insn, 24, 23);
	bool v = BIT(insn, 26), load = BIT(insn, 22);
	unsigned rt = insn & 31, rn = BITS(insn, 9, 5), rt2 = BITS(insn, 14, 10);
	if (opc == 3 || (!v && opc == 1 && !load))
		a64_undef(c);
	unsigned scale = v ? 2 + opc : 2 + (opc >> 1);
	int64_t off = (int64_t)((uint64_t)sext(BITS(insn, 21, 15), 7) << scale);
	uint64_t base = base_reg(c, rn);
	uint64_t va = idx == 1 ? base : base + (uint64_t)off;
	unsigned bytes = 1u << scale;
	if (v) {
		a64_fp_check(c);
		if (load) {
			uint64_t a[2], b[2] = {0, 0};
			a[0] = a64_ld(c, va, bytes > 8 ? 8 : bytes, 0, false);
			a[1] = bytes > 8 ? a64_ld(c, va + 8, 8, 0, false) : 0;
			b[0] = a64_ld(c, va + bytes, bytes > 8 ? 8 : bytes, 0, false);
			b[1] = bytes > 8 ? a64_ld(c, va + bytes + 8, 8, 0, false) : 0;
			c->v[rt].d[0] = a[0];
			c->v[rt].d[1] = a[1];
			c->v[rt2].d[0] = b[0];
			c->v[rt2].d[1] = b[1];
		} else {
			fp_access(c, scale, false, rt, va);
			fp_access(c, scale, false, rt2, va + bytes);
		}
	} else if (load) {
		uint64_t a = a64_ld(c, va, bytes, 0, false);
		uint64_t b = a64_ld(c, va + bytes, bytes, 0, false);
		if (opc == 1) {   /* LDPSW */
			a = (uint64_t)sext(a, 32);
			b = (uint64_t)sext(b, 32);
		}
		set_x(c, rt, a);
		set_x(c, rt2, b);
	} else {
		uint64_t a = xr(c, rt), b = xr(c, rt2);
		a64_st(c, va, bytes, a, 0, false);
		a64_st(c, va + bytes, bytes, b, 0, false);
	}
	if (idx == 1 || idx == 3)
		c->x[rn] = base + (uint64_t)off;
}

/* The common part of the imm9, uimm and register-offset forms. */
static void single(struct a64 *c, uint32_t insn, uint64_t va, bool isv, bool unpriv)
{
	unsigned size = BITS(insn, 31, 30), opc = BITS(insn, 23, 22), rt = insn & 31;
	if (BIT(insn, 26)) {
		unsigned scale = fp_scale(size, opc);
		if (scale == 5 || unpriv)
			a64_undef(c);
		fp_access(c, scale, opc & 1, rt, va);
		return;
	}
	if (!gpr_valid(size, opc))
		a64_undef(c);
	gpr_access(c, size, opc, rt, va, isv, unpriv);
}

void i_ldst_imm9(struct a64 *c, uint32_t insn)
{
	unsigned type = BITS(insn, 11, 10), rn = BITS(insn, 9, 5);
	unsigned size = BITS(insn, 31, 30), opc = BITS(insn, 23, 22);
	int64_t off = sext(BITS(insn, 20, 12), 9);
	uint64_t base = base_reg(c, rn);
	if (BIT(insn, 26) ? fp_scale(size, opc) == 5 : !gpr_valid(size, opc))
		a64_undef(c);
	switch (type) {
	case 0:   /* unscaled */
		single(c, insn, base + (uint64_t)off, true, false);
		break;
	case 2:   /* unprivileged: EL0's permissions when at EL1 */
		if (BIT(insn, 26) || (size == 3 && opc == 2))
			a64_undef(c);
		single(c, insn, base + (uint64_t)off, true, c->el == 1);
		break;
	case 1:   /* post-index */
		single(c, insn, base, false, false);
		c->x[rn] = base + (uint64_t)off;
		break;
	default:  /* pre-index */
		single(c, insn, base + (uint64_t)off, false, false);
		c->x[rn] = base + (uint64_t)off;
		break;
	}
}

void i_ldst_uimm(struct a64 *c, uint32_t insn)
{
	unsigned size = BITS(insn, 31, 30), opc = BITS(insn, 23, 22);
	unsigned scale = BIT(insn, 26) ? fp_scale(size, opc) : size;
	if (scale == 5)
		a64_undef(c);
	uint64_t va = base_reg(c, BITS(insn, 9, 5)) + (BITS(insn, 21, 10) << scale);
	single(c, insn, va, true, false);
}

void i_ldst_regoff(struct a64 *c, uint32_t insn)
{
	unsigned size = BITS(insn, 31, 30), opc = BITS(insn, 23, 22), opt = BITS(insn, 15, 13);
	unsigned scale = BIT(insn, 26) ? fp_scale(size, opc) : size;
	if (scale == 5 || !(opt & 2))
		a64_undef(c);
	uint64_t m = xr(c, BITS(insn, 20, 16));
	if (opt == 2)
		m = (uint32_t)m;
	else if (opt == 6)
		m = (uint64_t)(int64_t)(int32_t)m;
	if (BIT(insn, 12))
		m <<= scale;
	single(c, insn, base_reg(c, BITS(insn, 9, 5)) + m, true, false);
}

/* ---- exclusives, acquire/release, compare-and-swap ---- */

static uint64_t atomic_load_sz(void *p, unsigned bytes)
{
	switch (bytes) {
	case 1: return __atomic_load_n((uint8_t *)p, __ATOMIC_SEQ_CST);
	case 2: return __atomic_load_n((uint16_t *)p, __ATOMIC_SEQ_CST);
	case 4: return __atomic_load_n((uint32_t *)p, __ATOMIC_SEQ_CST);
	default: return __atomic_load_n((uint64_t *)p, __ATOMIC_SEQ_CST);
	}
}

/* Compare-and-swap; returns the old value. */
static uint64_t cas_sz(void *p, unsigned bytes, uint64_t expect, uint64_t val)
{
	switch (bytes) {
	case 1: {
		uint8_t e = (uint8_t)expect;
		__atomic_compare_exchange_n((uint8_t *)p, &e, (uint8_t)val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		return e;
	}
	case 2: {
		uint16_t e = (uint16_t)expect;
		__atomic_compare_exchange_n((uint16_t *)p, &e, (uint16_t)val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		return e;
	}
	case 4: {
		uint32_t e = (uint32_t)expect;
		__atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		return e;
	}
	default: {
		uint64_t e = expect;
		__atomic_compare_exchange_n((uint64_t *)p, &e, val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		return e;
	}
	}
}

static uint64_t mask_of(unsigned bytes)
{
	return bytes == 8 ? ~0ull : (1ull << (bytes * 8)) - 1;
}

/* A 16-byte compare-and-swap atomic against every other host access to the
 * pair, plain stores of other vCPUs included. On failure lo and hi get the
 * memory's value. Returns false (nothing done) when the host cannot. */
static bool cas128(void *p, uint64_t *lo, uint64_t *hi, uint64_t nlo, uint64_t nhi, bool *swapped)
{
#if defined(__x86_64__)
	if ((uintptr_t)p & 15)
		return false;
	bool ok;
	__asm__ volatile("lock cmpxchg16b %1"
			 : "=@ccz"(ok), "+m"(*(volatile uint64_t *)p), "+a"(*lo), "+d"(*hi)
			 : "b"(nlo), "c"(nhi)
			 : "memory");
	*swapped = ok;
	return true;
#else
	(void)p, (void)lo, (void)hi, (void)nlo, (void)nhi, (void)swapped;
	return false;
#endif
}

static void load_excl(struct a64 *c, uint64_t va, unsigned bytes, bool pair, unsigned rt, unsigned rt2)
{
	unsigned total = pair ? bytes * 2 : bytes;
	void *p = a64_atomic_ptr(c, va, total, false);
	uint64_t a, b = 0;
	if (pair && bytes == 8) {
		pthread_mutex_lock(&c->avm->excl_lock);
		a = __atomic_load_n((uint64_t *)p, __ATOMIC_SEQ_CST);
		b = __atomic_load_n((uint64_t *)p + 1, __ATOMIC_SEQ_CST);
		pthread_mutex_unlock(&c->avm->excl_lock);
	} else if (pair) {
		uint64_t w = atomic_load_sz(p, 8);
		a = (uint32_t)w;
		b = w >> 32;
	} else {
		a = atomic_load_sz(p, bytes);
	}
	c->excl_valid = true;
	c->excl_va = va;
	c->excl_size = (uint8_t)total;
	c->excl_val[0] = a;
	c->excl_val[1] = b;
	set_x(c, rt, a);
	if (pair)
		set_x(c, rt2, b);
}

static void store_excl(struct a64 *c, uint64_t va, unsigned bytes, bool pair, unsigned rs, unsigned rt,
		       unsigned rt2)
{
	unsigned total = pair ? bytes * 2 : bytes;
	void *p = a64_atomic_ptr(c, va, total, true);
	bool ok = c->excl_valid && c->excl_va == va && c->excl_size == total;
	if (ok) {
		uint64_t a = xr(c, rt) & mask_of(bytes), b = pair ? xr(c, rt2) & mask_of(bytes) : 0;
		uint64_t e0 = c->excl_val[0], e1 = c->excl_val[1];
		if (pair && bytes == 8 && cas128(p, &e0, &e1, a, b, &ok)) {
			/* done: the 16-byte CAS compared and stored both halves */
		} else if (pair && bytes == 8) {
			pthread_mutex_lock(&c->avm->excl_lock);
			uint64_t *q = p;
			ok = __atomic_load_n(q, __ATOMIC_SEQ_CST) == c->excl_val[0] &&
			     __atomic_load_n(q + 1, __ATOMIC_SEQ_CST) == c->excl_val[1];
			if (ok) {
				__atomic_store_n(q, a, __ATOMIC_SEQ_CST);
				__atomic_store_n(q + 1, b, __ATOMIC_SEQ_CST);
			}
			pthread_mutex_unlock(&c->avm->excl_lock);
		} else if (pair) {
			uint64_t expect = c->excl_val[0] | (c->excl_val[1] << 32);
			ok = cas_sz(p, 8, expect, a | (b << 32)) == expect;
		} else {
			ok = cas_sz(p, bytes, c->excl_val[0], a) == c->excl_val[0];
		}
	}
	c->excl_valid = false;
	set_x(c, rs, ok ? 0 : 1);
}

static void cas(struct a64 *c, uint64_t va, unsigned bytes, unsigned rs, unsigned rt)
{
	void *p = a64_atomic_ptr(c, va, bytes, true);
	uint64_t old = cas_sz(p, bytes, xr(c, rs) & mask_of(bytes), xr(c, rt));
	set_x(c, rs, old);
}

static void casp(struct a64 *c, uint64_t va, unsigned bytes, unsigned rs, unsigned rt)
{
	if ((rs & 1) || (rt & 1))
		a64_undef(c);
	void *p = a64_atomic_ptr(c, va, bytes * 2, true);
	uint64_t e0 = xr(c, rs), e1 = xr(c, rs + 1), n0 = xr(c, rt), n1 = xr(c, rt + 1);
	uint64_t o0, o1;
	if (bytes == 4) {
		uint64_t old = cas_sz(p, 8, (uint32_t)e0 | (e1 << 32), (uint32_t)n0 | (n1 << 32));
		o0 = (uint32_t)old;
		o1 = old >> 32;
	} else {
		uint64_t *q = p;
		bool swapped;
		o0 = e0, o1 = e1;
		if (cas128(p, &o0, &o1, n0, n1, &swapped))
			goto done;
		pthread_mutex_lock(&c->avm->excl_lock);
		o0 = __atomic_load_n(q, __ATOMIC_SEQ_CST);
		o1 = __atomic_load_n(q + 1, __ATOMIC_SEQ_CST);
		if (o0 == e0 && o1 == e1) {
			__atomic_store_n(q, n0, __ATOMIC_SEQ_CST);
			__atomic_store_n(q + 1, n1, __ATOMIC_SEQ_CST);
		}
		pthread_mutex_unlock(&c->avm->excl_lock);
	}
done:
	set_x(c, rs, o0);
	set_x(c, rs + 1, o1);
}

void i_ldst_excl(struct a64 *c, uint32_t insn)
{
	unsigned size = BITS(insn, 31, 30), o2 = BIT(insn, 23), l = BIT(insn, 22), o1 = BIT(insn, 21);
	unsigned o0 = BIT(insn, 15), rs = BITS(insn, 20, 16), rt2 = BITS(insn, 14, 10);
	unsigned rn = BITS(insn, 9, 5), rt = insn & 31;
	uint64_t va = base_reg(c, rn);
	unsigned bytes = 1u << size;
	if (!o2 && !o1) {
		if (l)
			load_excl(c, va, bytes, false, rt, 0);
		else
			store_excl(c, va, bytes, false, rs, rt, 0);
		return;
	}
	if (!o2 && o1) {
		if (size >= 2) {
			if (l)
				load_excl(c, va, bytes, true, rt, rt2);
			else
				store_excl(c, va, bytes, true, rs, rt, rt2);
		} else {
			if (rt2 != 31)
				a64_undef(c);
			casp(c, va, size ? 8 : 4, rs, rt);
		}
		return;
	}
	if (o2 && !o1) {   /* LDAR/STLR (o0 = 1), LDLAR/STLLR (o0 = 0): both ordered */
		if (va & (bytes - 1))
			a64_align_fault(c, va, !l);
		uint32_t iss = gpr_iss(size, rt, false, size == 3) | ISS_AR;
		a64_full_fence();
		if (l)
			set_x(c, rt, a64_ld(c, va, bytes, iss, false));
		else
			a64_st(c, va, bytes, xr(c, rt), iss, false);
		a64_full_fence();
		(void)o0;
		return;
	}
	if (rt2 != 31)
		a64_undef(c);
	cas(c, va, bytes, rs, rt);
}

/* ---- LSE atomic memory operations ---- */

#define FETCH_OP(T, op)                                                                  \
	switch (bytes) {                                                                     \
	case 1: return op((uint8_t *)p, (uint8_t)v, __ATOMIC_SEQ_CST);                   \
	case 2: return op((uint16_t *)p, (uint16_t)v, __ATOMIC_SEQ_CST);                 \
	case 4: return op((uint32_t *)p, (uint32_t)v, __ATOMIC_SEQ_CST);                 \
	default: return op((uint64_t *)p, (uint64_t)v, __ATOMIC_SEQ_CST);                \
	}

static uint64_t amo(void *p, unsigned bytes, unsigned op, uint64_t v)
{
	switch (op) {
	case 0: FETCH_OP(T, __atomic_fetch_add);
	case 1: v = ~v; FETCH_OP(T, __atomic_fetch_and);
	case 2: FETCH_OP(T, __atomic_fetch_xor);
	case 3: FETCH_OP(T, __atomic_fetch_or);
	case 8: FETCH_OP(T, __atomic_exchange_n);
	default: break;
	}
	/* signed/unsigned max/min: a compare-and-swap loop */
	uint64_t old = atomic_load_sz(p, bytes);
	unsigned bits = bytes * 8;
	for (;;) {
		uint64_t nv;
		int64_t so = sext(old, bits), sv = sext(v, bits);
		uint64_t uo = old & mask_of(bytes), uv = v & mask_of(bytes);
		switch (op) {
		case 4: nv = so > sv ? old : v; break;
		case 5: nv = so < sv ? old : v; break;
		case 6: nv = uo > uv ? old : v; break;
		default: nv = uo < uv ? old : v; break;
		}
		uint64_t seen = cas_sz(p, bytes, old, nv);
		if ((seen & mask_of(bytes)) == (old & mask_of(bytes)))
			return old;
		old = seen;
	}
}

void i_atomic(struct a64 *c, uint32_t insn)
{
	unsigned size = BITS(insn, 31, 30), o3 = BIT(insn, 15), opc = BITS(insn, 14, 12);
	unsigned rs = BITS(insn, 20, 16), rn = BITS(insn, 9, 5), rt = insn & 31;
	if (BIT(insn, 26) || (o3 && opc != 0))
		a64_undef(c);
	unsigned bytes = 1u << size;
	uint64_t va = base_reg(c, rn);
	void *p = a64_atomic_ptr(c, va, bytes, true);
	uint64_t old = amo(p, bytes, o3 ? 8 : opc, xr(c, rs));
	set_x(c, rt, old & mask_of(bytes));
}

/* ---- SIMD structure loads and stores ---- */

static void elem_get(const struct a64 *c, unsigned r, unsigned e, unsigned eb, uint8_t *out)
{
	memcpy(out, &c->v[r].b[e * eb], eb);
}

void i_simd_ldst_multi(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), load = BIT(insn, 22), post = BIT(insn, 23);
	unsigned opcode = BITS(insn, 15, 12), size = BITS(insn, 11, 10);
	unsigned rm = BITS(insn, 20, 16), rn = BITS(insn, 9, 5), rt = insn & 31;
	unsigned rpt, selem;
	switch (opcode) {
	case 0x0: rpt = 1; selem = 4; break;
	case 0x2: rpt = 4; selem = 1; break;
	case 0x4: rpt = 1; selem = 3; break;
	case 0x6: rpt = 3; selem = 1; break;
	case 0x7: rpt = 1; selem = 1; break;
	case 0x8: rpt = 1; selem = 2; break;
	case 0xa: rpt = 2; selem = 1; break;
	default: a64_undef(c);
	}
	if (size == 3 && !q && selem != 1)
		a64_undef(c);
	a64_fp_check(c);
	unsigned eb = 1u << size, elems = (q ? 16 : 8) / eb;
	uint64_t base = base_reg(c, rn), va = base;
	if (load) {
		uint8_t tmp[4][16];
		unsigned regs = rpt * selem;
		memset(tmp, 0, sizeof(tmp));
		for (unsigned r = 0; r < rpt; r++)
			for (unsigned e = 0; e < elems; e++)
				for (unsigned s = 0; s < selem; s++) {
					uint64_t v = a64_ld(c, va, eb, 0, false);
					memcpy(&tmp[r + s][e * eb], &v, eb);
					va += eb;
				}
		for (unsigned i = 0; i < regs; i++)
			memcpy(c->v[(rt + i) % 32].b, tmp[i], 16);
	} else {
		for (unsigned r = 0; r < rpt; r++)
			for (unsigned e = 0; e < elems; e++)
				for (unsigned s = 0; s < selem; s++) {
					uint64_t v = 0;
					elem_get(c, (rt + r + s) % 32, e, eb, (uint8_t *)&v);
					a64_st(c, va, eb, v, 0, false);
					va += eb;
				}
	}
	if (post)
		c->x[rn] = base + (rm == 31 ? (uint64_t)(rpt * selem * (q ? 16 : 8)) : xr(c, rm));
}

void i_simd_ldst_single(struct a64 *c, uint32_t insn)
{
	bool q = BIT(insn, 30), load = BIT(insn, 22), r = BIT(insn, 21), post = BIT(insn, 23);
	unsigned opcode = BITS(insn, 15, 13), s = BIT(insn, 12), size = BITS(insn, 11, 10);
	unsigned rm = BITS(insn, 20, 16), rn = BITS(insn, 9, 5), rt = insn & 31;
	unsigned selem = (((opcode & 1) << 1) | r) + 1;
	unsigned scale = opcode >> 1, index = 0;
	bool replicate = false;
	switch (scale) {
	case 0:
		index = (q << 3) | (s << 2) | size;
		break;
	case 1:
		if (size & 1)
			a64_undef(c);
		index = (q << 2) | (s << 1) | (size >> 1);
		break;
	case 2:
		if (size & 2)
			a64_undef(c);
		if (!(size & 1)) {
			index = (q << 1) | s;
		} else {
			if (s)
				a64_undef(c);
			index = q;
			scale = 3;
		}
		break;
	default:
		if (!load || s)
			a64_undef(c);
		scale = size;
		replicate = true;
	}
	a64_fp_check(c);
	unsigned eb = 1u << scale;
	uint64_t base = base_reg(c, rn), va = base;
	if (replicate) {
		uint64_t vals[4];
		for (unsigned i = 0; i < selem; i++, va += eb)
			vals[i] = a64_ld(c, va, eb, 0, false);
		for (unsigned i = 0; i < selem; i++) {
			unsigned t = (rt + i) % 32;
			memset(c->v[t].b, 0, 16);
			for (unsigned e = 0; e < (q ? 16u : 8u) / eb; e++)
				memcpy(&c->v[t].b[e * eb], &vals[i], eb);
		}
	} else if (load) {
		uint64_t vals[4];
		for (unsigned i = 0; i < selem; i++, va += eb)
			vals[i] = a64_ld(c, va, eb, 0, false);
		for (unsigned i = 0; i < selem; i++)
			memcpy(&c->v[(rt + i) % 32].b[index * eb], &vals[i], eb);
	} else {
		for (unsigned i = 0; i < selem; i++, va += eb) {
			uint64_t v = 0;
			elem_get(c, (rt + i) % 32, index, eb, (uint8_t *)&v);
			a64_st(c, va, eb, v, 0, false);
		}
	}
	if (post)
		c->x[rn] = base + (rm == 31 ? (uint64_t)(selem * eb) : xr(c, rm));
}
