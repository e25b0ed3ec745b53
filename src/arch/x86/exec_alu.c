/* Integer arithmetic, logic, shifts, multiply/divide and bit operations.
 *
 * Every flag-producing operation runs the same instruction on the host
 * with the guest's status flags loaded first (OF by an add that overflows
 * or not, the rest by SAHF) and read back after (LAHF, SETO). The host's
 * result is therefore exact, including the flags the manuals leave
 * undefined, which on this host are what the differential tester sees.
 *
 * Flags the SDM calls undefined (so another CPU may differ):
 *   shifts/rotates with count > 1: OF;  SHL/SHR/SAR: AF (count != 0)
 *   SHLD/SHRD: AF, OF for count > 1, all for count > operand size
 *   MUL/IMUL: SF, ZF, AF, PF;  DIV/IDIV: all six
 *   BT/BTS/BTR/BTC: OF, SF, AF, PF;  BSF/BSR: CF, OF, SF, AF, PF
 *   AND/OR/XOR/TEST: AF;  BSF/BSR with a zero source: the destination
 *   (hosts leave it unchanged, as we do).
 * No RAM pointer is held across host asm; the asm only sees registers.
 */
#include "arch/x86/insn.h"

/* EAX image that loads flags f: AH for SAHF, AL such that AL+1 overflows
 * exactly when OF is set. */
static inline uint32_t fl_seed(uint64_t f)
{
	return (uint32_t)((f & 0xd5) << 8) | ((f & X86_OF) ? 0x7f : 0);
}

/* AH holds SF ZF 0 AF 0 PF 1 CF (LAHF) and AL is 0 or 1 (SETO), so AL << 11
 * puts OF in bit 11 and nothing else under the mask. */
static inline uint64_t fl_back(uint64_t old, uint32_t ax)
{
	uint64_t f = (((ax >> 8) & 0xff) | (ax << 11)) & X86_STATUS_FLAGS;
	return (old & ~(uint64_t)X86_STATUS_FLAGS) | f;
}

#define FL_IN "addb $1, %%al\n\tsahf\n\t"
#define FL_OUT "\n\tlahf\n\tseto %%al"

/* Two-operand x op= y. */
#define BIN(name, insn)                                                          \
	static uint64_t name##_1(uint64_t a, uint64_t b, uint64_t *f)            \
	{                                                                        \
		uint8_t x = a, y = b; uint32_t ax = fl_seed(*f);                 \
		__asm__(FL_IN insn "b %[y], %[x]" FL_OUT                         \
			: [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");            \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t name##_2(uint64_t a, uint64_t b, uint64_t *f)            \
	{                                                                        \
		uint16_t x = a, y = b; uint32_t ax = fl_seed(*f);                \
		__asm__(FL_IN insn "w %[y], %[x]" FL_OUT                         \
			: [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");            \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t name##_4(uint64_t a, uint64_t b, uint64_t *f)            \
	{                                                                        \
		uint32_t x = a, y = b; uint32_t ax = fl_seed(*f);                \
		__asm__(FL_IN insn "l %[y], %[x]" FL_OUT                         \
			: [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");            \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t name##_8(uint64_t a, uint64_t b, uint64_t *f)            \
	{                                                                        \
		uint64_t x = a, y = b; uint32_t ax = fl_seed(*f);                \
		__asm__(FL_IN insn "q %[y], %[x]" FL_OUT                         \
			: [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");            \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t (*const name##_tab[4])(uint64_t, uint64_t, uint64_t *) = { \
		name##_1, name##_2, name##_4, name##_8 };

/* One operand, x = op x (b unused). */
#define UN(name, insn)                                                           \
	static uint64_t name##_1(uint64_t a, uint64_t b, uint64_t *f)            \
	{                                                                        \
		(void)b; uint8_t x = a; uint32_t ax = fl_seed(*f);               \
		__asm__(FL_IN insn "b %[x]" FL_OUT : [x] "+r"(x), "+a"(ax) : : "cc"); \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t name##_2(uint64_t a, uint64_t b, uint64_t *f)            \
	{                                                                        \
		(void)b; uint16_t x = a; uint32_t ax = fl_seed(*f);              \
		__asm__(FL_IN insn "w %[x]" FL_OUT : [x] "+r"(x), "+a"(ax) : : "cc"); \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t name##_4(uint64_t a, uint64_t b, uint64_t *f)            \
	{                                                                        \
		(void)b; uint32_t x = a; uint32_t ax = fl_seed(*f);              \
		__asm__(FL_IN insn "l %[x]" FL_OUT : [x] "+r"(x), "+a"(ax) : : "cc"); \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t name##_8(uint64_t a, uint64_t b, uint64_t *f)            \
	{                                                                        \
		(void)b; uint64_t x = a; uint32_t ax = fl_seed(*f);              \
		__asm__(FL_IN insn "q %[x]" FL_OUT : [x] "+r"(x), "+a"(ax) : : "cc"); \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t (*const name##_tab[4])(uint64_t, uint64_t, uint64_t *) = { \
		name##_1, name##_2, name##_4, name##_8 };

/* Shift/rotate by CL (the host masks the count exactly as the guest). */
#define SHF(name, insn)                                                          \
	static uint64_t name##_1(uint64_t a, uint64_t c, uint64_t *f)            \
	{                                                                        \
		uint8_t x = a, n = c; uint32_t ax = fl_seed(*f);                 \
		__asm__(FL_IN insn "b %%cl, %[x]" FL_OUT                         \
			: [x] "+r"(x), "+a"(ax) : "c"(n) : "cc");                \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t name##_2(uint64_t a, uint64_t c, uint64_t *f)            \
	{                                                                        \
		uint16_t x = a; uint8_t n = c; uint32_t ax = fl_seed(*f);        \
		__asm__(FL_IN insn "w %%cl, %[x]" FL_OUT                         \
			: [x] "+r"(x), "+a"(ax) : "c"(n) : "cc");                \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t name##_4(uint64_t a, uint64_t c, uint64_t *f)            \
	{                                                                        \
		uint32_t x = a; uint8_t n = c; uint32_t ax = fl_seed(*f);        \
		__asm__(FL_IN insn "l %%cl, %[x]" FL_OUT                         \
			: [x] "+r"(x), "+a"(ax) : "c"(n) : "cc");                \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t name##_8(uint64_t a, uint64_t c, uint64_t *f)            \
	{                                                                        \
		uint64_t x = a; uint8_t n = c; uint32_t ax = fl_seed(*f);        \
		__asm__(FL_IN insn "q %%cl, %[x]" FL_OUT                         \
			: [x] "+r"(x), "+a"(ax) : "c"(n) : "cc");                \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t (*const name##_tab[4])(uint64_t, uint64_t, uint64_t *) = { \
		name##_1, name##_2, name##_4, name##_8 };

/* 16/32/64-bit only: x op= y (BT family, BSF/BSR, IMUL r, r/m, ...). */
#define BIN3(name, insn)                                                         \
	static uint64_t name##_2(uint64_t a, uint64_t b, uint64_t *f)            \
	{                                                                        \
		uint16_t x = a, y = b; uint32_t ax = fl_seed(*f);                \
		__asm__(FL_IN insn "w %[y], %[x]" FL_OUT                         \
			: [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");            \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t name##_4(uint64_t a, uint64_t b, uint64_t *f)            \
	{                                                                        \
		uint32_t x = a, y = b; uint32_t ax = fl_seed(*f);                \
		__asm__(FL_IN insn "l %[y], %[x]" FL_OUT                         \
			: [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");            \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t name##_8(uint64_t a, uint64_t b, uint64_t *f)            \
	{                                                                        \
		uint64_t x = a, y = b; uint32_t ax = fl_seed(*f);                \
		__asm__(FL_IN insn "q %[y], %[x]" FL_OUT                         \
			: [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");            \
		*f = fl_back(*f, ax); return x;                                  \
	}                                                                        \
	static uint64_t (*const name##_tab[4])(uint64_t, uint64_t, uint64_t *) = { \
		NULL, name##_2, name##_4, name##_8 };

BIN(add, "add") BIN(or, "or") BIN(adc, "adc") BIN(sbb, "sbb") BIN(and, "and")
BIN(sub, "sub") BIN(xor, "xor") BIN(cmp, "cmp") BIN(test, "test")
UN(inc, "inc") UN(dec, "dec") UN(neg, "neg")
SHF(rol, "rol") SHF(ror, "ror") SHF(rcl, "rcl") SHF(rcr, "rcr")
SHF(shl, "shl") SHF(shr, "shr") SHF(sal, "sal") SHF(sar, "sar")
BIN3(bt, "bt") BIN3(bts, "bts") BIN3(btr, "btr") BIN3(btc, "btc")
BIN3(imul2, "imul")
BIN3(popcnt, "popcnt") BIN3(tzcnt, "tzcnt") BIN3(lzcnt, "lzcnt")

static uint64_t not_any(uint64_t a, uint64_t b, uint64_t *f)
{
	(void)b; (void)f;
	return ~a;
}
static uint64_t (*const not_tab[4])(uint64_t, uint64_t, uint64_t *) = {
	not_any, not_any, not_any, not_any };

typedef uint64_t (*alu_fn)(uint64_t, uint64_t, uint64_t *);
static const alu_fn *const alu_tab[ALU_NR] = {
	[ALU_ADD] = add_tab, [ALU_OR] = or_tab, [ALU_ADC] = adc_tab, [ALU_SBB] = sbb_tab,
	[ALU_AND] = and_tab, [ALU_SUB] = sub_tab, [ALU_XOR] = xor_tab, [ALU_CMP] = cmp_tab,
	[ALU_TEST] = test_tab, [ALU_INC] = inc_tab, [ALU_DEC] = dec_tab, [ALU_NEG] = neg_tab,
	[ALU_NOT] = not_tab,
};

uint64_t x86_alu(unsigned op, unsigned size, uint64_t a, uint64_t b, uint64_t *rflags)
{
	return alu_tab[op][x86_szidx(size)](a, b, rflags);
}

/* ---- memory read-modify-write ---- */

void *x86_lock_ptr(struct x86_cpu *cpu, int seg, uint64_t off, unsigned size)
{
	uint64_t lin = x86_linear(cpu, seg, off, size, X86_ACC_WRITE);
	if ((lin & (SK_PAGE_SIZE - 1)) + size > SK_PAGE_SIZE)
		return NULL;
	uint64_t gpa = x86_translate(cpu, lin, X86_ACC_WRITE, cpu->cpl);
	const struct sk_memslot *slot = sk_mem_find(cpu->slots, gpa);
	if (!slot || (slot->flags & KVM_MEM_READONLY))
		return NULL;
	sk_mem_mark_dirty(slot, gpa);
	if (x86_blocks_is_code_page(cpu->blocks, gpa & ~(SK_PAGE_SIZE - 1)))
		x86_code_written(cpu, gpa);
	return slot->hva + (gpa - slot->gpa);
}

static bool cas(void *p, unsigned size, uint64_t *old, uint64_t nv)
{
	switch (size) {
	case 1: {
		uint8_t o = *old;
		bool ok = __atomic_compare_exchange_n((uint8_t *)p, &o, (uint8_t)nv, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*old = o;
		return ok;
	}
	case 2: {
		uint16_t o = *old;
		bool ok = __atomic_compare_exchange_n((uint16_t *)p, &o, (uint16_t)nv, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*old = o;
		return ok;
	}
	case 4: {
		uint32_t o = *old;
		bool ok = __atomic_compare_exchange_n((uint32_t *)p, &o, (uint32_t)nv, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*old = o;
		return ok;
	}
	default:
		return __atomic_compare_exchange_n((uint64_t *)p, old, nv, false,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
}

static uint64_t atomic_load_sz(void *p, unsigned size)
{
	switch (size) {
	case 1: return __atomic_load_n((uint8_t *)p, __ATOMIC_RELAXED);
	case 2: return __atomic_load_n((uint16_t *)p, __ATOMIC_RELAXED);
	case 4: return __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED);
	default: return __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
	}
}

uint64_t x86_mem_rmw(struct x86_cpu *cpu, const struct x86_insn *i, const struct x86_op *o,
		     uint64_t src, x86_rmw_fn fn, uint64_t *fl)
{
	uint64_t off = x86_ea(cpu, i, o);
	if (i->lock) {
		void *p = x86_lock_ptr(cpu, o->seg, off, o->size);
		if (p) {
			uint64_t old = atomic_load_sz(p, o->size), f;
			do {
				f = *fl;
			} while (!cas(p, o->size, &old, fn(i, old, src, &f)));
			*fl = f;
			return old;
		}
	}
	uint64_t old = x86_read_fast(cpu, o->seg, off, o->size);
	uint64_t nv = fn(i, old, src, fl);
	x86_write_fast(cpu, o->seg, off, o->size, nv);
	return old;
}

/* ---- ADD ... CMP, TEST, INC, DEC, NEG, NOT ---- */

static uint64_t rmw_alu(const struct x86_insn *i, uint64_t old, uint64_t src, uint64_t *fl)
{
	return x86_alu(i->sub, i->op[0].size, old, src, fl);
}

/* sub: the ALU op; op[0] destination, op[1] source (absent for unary). */
int x86_h_alu(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0];
	uint64_t src = i->nops > 1 ? x86_op_read(cpu, i, &i->op[1]) : 0;
	uint64_t fl = cpu->rflags;
	bool store = i->sub != ALU_CMP && i->sub != ALU_TEST;
	if (d->kind == OPK_MEM) {
		if (store) {
			x86_mem_rmw(cpu, i, d, src, rmw_alu, &fl);
		} else {
			uint64_t a = x86_op_read(cpu, i, d);
			x86_alu(i->sub, d->size, a, src, &fl);
		}
	} else {
		uint64_t a = x86_op_read(cpu, i, d);
		uint64_t r = x86_alu(i->sub, d->size, a, src, &fl);
		if (store)
			x86_op_write(cpu, i, d, r);
	}
	cpu->rflags = fl;
	return X86_NEXT;
}

/* The common shapes, without the operand-kind switches: reg, reg and
 * reg, imm with a full (not AH..BH) register destination. */
int x86_h_alu_rr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->op[0].size, d = i->op[0].reg;
	uint64_t m = x86_szmask(size), fl = cpu->rflags;
	uint64_t r = alu_tab[i->sub][x86_szidx(size)](cpu->gpr[d] & m, cpu->gpr[i->op[1].reg] & m, &fl);
	if (i->sub != ALU_CMP && i->sub != ALU_TEST)
		x86_gpr_set(cpu, d, size, r);
	cpu->rflags = fl;
	return X86_NEXT;
}

int x86_h_alu_ri(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->op[0].size, d = i->op[0].reg;
	uint64_t m = x86_szmask(size), fl = cpu->rflags;
	uint64_t r = alu_tab[i->sub][x86_szidx(size)](cpu->gpr[d] & m, (uint64_t)i->op[1].val & m, &fl);
	if (i->sub != ALU_CMP && i->sub != ALU_TEST)
		x86_gpr_set(cpu, d, size, r);
	cpu->rflags = fl;
	return X86_NEXT;
}

int x86_h_alu1(struct x86_cpu *cpu, const struct x86_insn *i)
{
	return x86_h_alu(cpu, i);
}

int x86_h_not(struct x86_cpu *cpu, const struct x86_insn *i)
{
	return x86_h_alu(cpu, i);
}

/* ---- shifts and rotates: sub 0..7 as the /r field of C0/D0/D2 ---- */

static const alu_fn *const shift_tab[8] = {
	rol_tab, ror_tab, rcl_tab, rcr_tab, shl_tab, shr_tab, sal_tab, sar_tab,
};

int x86_h_shift(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0];
	uint64_t n = i->nops > 1 ? x86_op_read(cpu, i, &i->op[1]) : 1;
	uint64_t fl = cpu->rflags;
	alu_fn fn = shift_tab[i->sub][x86_szidx(d->size)];
	if (d->kind == OPK_MEM) {
		uint64_t off = x86_ea(cpu, i, d);
		uint64_t a = x86_read_fast(cpu, d->seg, off, d->size);
		uint64_t r = fn(a, n, &fl);
		x86_write_fast(cpu, d->seg, off, d->size, r);
	} else {
		uint64_t r = fn(x86_op_read(cpu, i, d), n, &fl);
		x86_op_write(cpu, i, d, r);
	}
	cpu->rflags = fl;
	return X86_NEXT;
}

/* A full register shifted by an immediate, 1 or CL: one handler per
 * operation and size (x86_shift_fast), the host instruction inline. The
 * flags go in, as a zero count leaves them alone. */
#define SHFAST1(name, insn, sfx, T, S)                                           \
	static int shf_##name##_r##S(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		unsigned d = i->op[0].reg;                                       \
		uint8_t n = 1;                                                   \
		if (i->nops > 1)                                                 \
			n = i->op[1].kind == OPK_IMM ? (uint8_t)i->op[1].val     \
						     : (uint8_t)cpu->gpr[i->op[1].reg]; \
		T x = (T)cpu->gpr[d];                                            \
		uint32_t ax = fl_seed(cpu->rflags);                              \
		__asm__(FL_IN insn sfx " %%cl, %[x]" FL_OUT                      \
			: [x] "+r"(x), "+a"(ax) : "c"(n) : "cc");                \
		cpu->rflags = fl_back(cpu->rflags, ax);                          \
		x86_gpr_set(cpu, d, S, x);                                       \
		return x86_thread(cpu, i);                                       \
	}
#define SHFAST(name, insn)                                                       \
	SHFAST1(name, insn, "b", uint8_t, 1) SHFAST1(name, insn, "w", uint16_t, 2) \
	SHFAST1(name, insn, "l", uint32_t, 4) SHFAST1(name, insn, "q", uint64_t, 8)

SHFAST(rol, "rol") SHFAST(ror, "ror") SHFAST(rcl, "rcl") SHFAST(rcr, "rcr")
SHFAST(shl, "shl") SHFAST(shr, "shr") SHFAST(sal, "sal") SHFAST(sar, "sar")

#define SHROW(name) { shf_##name##_r1, shf_##name##_r2, shf_##name##_r4, shf_##name##_r8 }
static const x86_fn shf_tab[8][4] = {
	SHROW(rol), SHROW(ror), SHROW(rcl), SHROW(rcr),
	SHROW(shl), SHROW(shr), SHROW(sal), SHROW(sar),
};

x86_fn x86_shift_fast(unsigned sub, unsigned size)
{
	return shf_tab[sub & 7][x86_szidx(size)];
}

/* SHLD/SHRD: sub 0 = left, 1 = right; op[2] the count (imm8 or CL). */
static uint64_t shxd_host(int right, unsigned size, uint64_t a, uint64_t b, uint8_t n,
			  uint64_t *f)
{
	uint32_t ax = fl_seed(*f);
	switch (size) {
	case 2: {
		uint16_t x = a, y = b;
		if (right)
			__asm__(FL_IN "shrdw %%cl, %[y], %[x]" FL_OUT
				: [x] "+r"(x), "+a"(ax) : [y] "r"(y), "c"(n) : "cc");
		else
			__asm__(FL_IN "shldw %%cl, %[y], %[x]" FL_OUT
				: [x] "+r"(x), "+a"(ax) : [y] "r"(y), "c"(n) : "cc");
		a = x;
		break;
	}
	case 4: {
		uint32_t x = a, y = b;
		if (right)
			__asm__(FL_IN "shrdl %%cl, %[y], %[x]" FL_OUT
				: [x] "+r"(x), "+a"(ax) : [y] "r"(y), "c"(n) : "cc");
		else
			__asm__(FL_IN "shldl %%cl, %[y], %[x]" FL_OUT
				: [x] "+r"(x), "+a"(ax) : [y] "r"(y), "c"(n) : "cc");
		a = x;
		break;
	}
	default: {
		uint64_t x = a, y = b;
		if (right)
			__asm__(FL_IN "shrdq %%cl, %[y], %[x]" FL_OUT
				: [x] "+r"(x), "+a"(ax) : [y] "r"(y), "c"(n) : "cc");
		else
			__asm__(FL_IN "shldq %%cl, %[y], %[x]" FL_OUT
				: [x] "+r"(x), "+a"(ax) : [y] "r"(y), "c"(n) : "cc");
		a = x;
		break;
	}
	}
	*f = fl_back(*f, ax);
	return a;
}

int x86_h_shxd(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0];
	uint64_t b = x86_op_read(cpu, i, &i->op[1]);
	uint8_t n = x86_op_read(cpu, i, &i->op[2]);
	uint64_t fl = cpu->rflags;
	if (d->kind == OPK_MEM) {
		uint64_t off = x86_ea(cpu, i, d);
		uint64_t a = x86_read_fast(cpu, d->seg, off, d->size);
		uint64_t r = shxd_host(i->sub, d->size, a, b, n, &fl);
		x86_write_fast(cpu, d->seg, off, d->size, r);
	} else {
		uint64_t r = shxd_host(i->sub, d->size, x86_op_read(cpu, i, d), b, n, &fl);
		x86_op_write(cpu, i, d, r);
	}
	cpu->rflags = fl;
	return X86_NEXT;
}

/* ---- MUL/IMUL (one operand), IMUL r, r/m[, imm] ---- */

/* sub 0: MUL, 1: IMUL. rdx:rax image in, lo/hi out. */
static void mul_host(int sgn, unsigned size, uint64_t *rax, uint64_t *rdx, uint64_t src,
		     uint64_t *f)
{
	uint32_t ax = fl_seed(*f);
	uint64_t lo, hi = 0;
	switch (size) {
	case 1: {
		uint8_t s = src;
		if (sgn)
			__asm__(FL_IN "movq %[a], %%rax\n\timulb %[s]\n\tmovq %%rax, %[lo]" FL_OUT
				: "+a"(ax), [lo] "=&r"(lo) : [a] "r"(*rax), [s] "r"(s) : "cc");
		else
			__asm__(FL_IN "movq %[a], %%rax\n\tmulb %[s]\n\tmovq %%rax, %[lo]" FL_OUT
				: "+a"(ax), [lo] "=&r"(lo) : [a] "r"(*rax), [s] "r"(s) : "cc");
		*rax = (*rax & ~0xffffull) | (lo & 0xffff);
		*f = fl_back(*f, ax);
		return;
	}
	case 2: {
		uint16_t s = src;
		if (sgn)
			__asm__(FL_IN "movq %[a], %%rax\n\timulw %[s]\n\tmovq %%rax, %[lo]" FL_OUT
				: "+a"(ax), [lo] "=&r"(lo), "=&d"(hi) : [a] "r"(*rax), [s] "r"(s) : "cc");
		else
			__asm__(FL_IN "movq %[a], %%rax\n\tmulw %[s]\n\tmovq %%rax, %[lo]" FL_OUT
				: "+a"(ax), [lo] "=&r"(lo), "=&d"(hi) : [a] "r"(*rax), [s] "r"(s) : "cc");
		break;
	}
	case 4: {
		uint32_t s = src;
		if (sgn)
			__asm__(FL_IN "movq %[a], %%rax\n\timull %[s]\n\tmovq %%rax, %[lo]" FL_OUT
				: "+a"(ax), [lo] "=&r"(lo), "=&d"(hi) : [a] "r"(*rax), [s] "r"(s) : "cc");
		else
			__asm__(FL_IN "movq %[a], %%rax\n\tmull %[s]\n\tmovq %%rax, %[lo]" FL_OUT
				: "+a"(ax), [lo] "=&r"(lo), "=&d"(hi) : [a] "r"(*rax), [s] "r"(s) : "cc");
		break;
	}
	default: {
		if (sgn)
			__asm__(FL_IN "movq %[a], %%rax\n\timulq %[s]\n\tmovq %%rax, %[lo]" FL_OUT
				: "+a"(ax), [lo] "=&r"(lo), "=&d"(hi) : [a] "r"(*rax), [s] "r"(src) : "cc");
		else
			__asm__(FL_IN "movq %[a], %%rax\n\tmulq %[s]\n\tmovq %%rax, %[lo]" FL_OUT
				: "+a"(ax), [lo] "=&r"(lo), "=&d"(hi) : [a] "r"(*rax), [s] "r"(src) : "cc");
		break;
	}
	}
	uint64_t m = x86_szmask(size);
	*rax = size == 2 ? (*rax & ~m) | (lo & m) : lo & m;
	*rdx = size == 2 ? (*rdx & ~m) | (hi & m) : hi & m;
	*f = fl_back(*f, ax);
}

int x86_h_mul1(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t src = x86_op_read(cpu, i, &i->op[0]);
	uint64_t rax = cpu->gpr[X86_RAX], rdx = cpu->gpr[X86_RDX], fl = cpu->rflags;
	mul_host(i->sub, i->op[0].size, &rax, &rdx, src, &fl);
	cpu->gpr[X86_RAX] = rax;
	if (i->op[0].size > 1)
		cpu->gpr[X86_RDX] = rdx;
	cpu->rflags = fl;
	return X86_NEXT;
}

/* IMUL r, r/m or IMUL r, r/m, imm. */
int x86_h_imul(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0];
	uint64_t a, b;
	if (i->nops > 2) {
		a = x86_op_read(cpu, i, &i->op[1]);
		b = x86_op_read(cpu, i, &i->op[2]);
	} else {
		a = x86_op_read(cpu, i, d);
		b = x86_op_read(cpu, i, &i->op[1]);
	}
	uint64_t fl = cpu->rflags;
	uint64_t r = imul2_tab[x86_szidx(d->size)](a, b, &fl);
	x86_op_write(cpu, i, d, r);
	cpu->rflags = fl;
	return X86_NEXT;
}

/* IMUL r, r/m[, imm] with the r/m a full register or memory: one handler
 * per size, source kind (M) and form (3: with an immediate), the host
 * instruction inline. */
#define IMULF1(sfx, T, S, M, THREE)                                              \
	static int imul_r##S##_##M##THREE(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		const struct x86_op *m = &i->op[1];                              \
		unsigned d = i->op[0].reg;                                       \
		bool slow = false;                                               \
		T src = M ? (T)x86_read_fs(cpu, m->seg, x86_ea(cpu, i, m), S, &slow) \
			  : (T)cpu->gpr[m->reg];                                 \
		T x, y;                                                          \
		if (THREE) {                                                     \
			x = src;                                                 \
			y = (T)i->op[2].val;                                     \
		} else {                                                         \
			x = (T)cpu->gpr[d];                                      \
			y = src;                                                 \
		}                                                                \
		uint32_t ax = fl_seed(cpu->rflags);                              \
		__asm__(FL_IN "imul" sfx " %[y], %[x]" FL_OUT                    \
			: [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");            \
		cpu->rflags = fl_back(cpu->rflags, ax);                          \
		x86_gpr_set(cpu, d, S, x);                                       \
		return x86_thread_mem(cpu, i, slow);                             \
	}
#define IMULF(sfx, T, S)                                                         \
	IMULF1(sfx, T, S, 0, 0) IMULF1(sfx, T, S, 0, 1)                         \
	IMULF1(sfx, T, S, 1, 0) IMULF1(sfx, T, S, 1, 1)
IMULF("w", uint16_t, 2) IMULF("l", uint32_t, 4) IMULF("q", uint64_t, 8)

/* [size 2, 4, 8][register, memory source][two, three operands] */
static const x86_fn imul_tab[3][2][2] = {
	{ { imul_r2_00, imul_r2_01 }, { imul_r2_10, imul_r2_11 } },
	{ { imul_r4_00, imul_r4_01 }, { imul_r4_10, imul_r4_11 } },
	{ { imul_r8_00, imul_r8_01 }, { imul_r8_10, imul_r8_11 } },
};

x86_fn x86_imul_fast(const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0], *m = &i->op[1];
	if (i->nops < 2 || d->kind != OPK_REG || m->size != d->size ||
	    (m->kind != OPK_REG && m->kind != OPK_MEM) ||
	    (i->nops > 2 && i->op[2].kind != OPK_IMM))
		return 0;
	if (d->size != 2 && d->size != 4 && d->size != 8)
		return 0;
	return imul_tab[x86_szidx(d->size) - 1][m->kind == OPK_MEM][i->nops > 2];
}

/* ---- DIV/IDIV: #DE checked here so the host instruction cannot trap ---- */

static bool div_ok(int sgn, unsigned size, uint64_t lo, uint64_t hi, uint64_t d)
{
	if (d == 0)
		return false;
	if (!sgn) {
		if (size == 8)
			return hi < d;
		unsigned bits = size * 8;
		uint64_t n = (hi << bits) | lo;
		return (n / d) >> bits == 0;
	}
	unsigned bits = size * 8;
	__int128 n, q, dd = x86_sext(d, size);
	if (size == 8)
		n = (__int128)(((unsigned __int128)hi << 64) | lo);
	else
		/* Sign-extend the 2*bits-wide dividend: shift unsigned, then back
		 * arithmetically (a signed left shift could overflow). */
		n = (int64_t)(((hi << bits) | (lo & x86_szmask(size))) << (64 - 2 * bits)) >>
		    (64 - 2 * bits);
	if (dd == -1 && n == -((__int128)1 << (2 * bits - 1)))
		return false;
	q = n / dd;
	__int128 lim = (__int128)1 << (bits - 1);
	return q >= -lim && q < lim;
}

int x86_h_div(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned size = i->op[0].size;
	uint64_t d = x86_op_read(cpu, i, &i->op[0]);
	uint64_t rax = cpu->gpr[X86_RAX], rdx = cpu->gpr[X86_RDX];
	uint64_t lo, hi;
	if (size == 1) {
		lo = rax & 0xff;
		hi = (rax >> 8) & 0xff;
	} else {
		lo = rax & x86_szmask(size);
		hi = rdx & x86_szmask(size);
	}
	int sgn = i->sub;
	if (!div_ok(sgn, size, lo, hi, d))
		x86_raise(cpu, X86_DE, false, 0);
	uint64_t fl = cpu->rflags;
	uint32_t ax = fl_seed(fl);
	uint64_t q, r = 0;
	switch (size) {
	case 1: {
		uint8_t s = d;
		uint64_t in = rax & 0xffff;
		if (sgn)
			__asm__(FL_IN "movq %[a], %%rax\n\tidivb %[s]\n\tmovq %%rax, %[q]" FL_OUT
				: "+a"(ax), [q] "=&r"(q) : [a] "r"(in), [s] "r"(s) : "cc");
		else
			__asm__(FL_IN "movq %[a], %%rax\n\tdivb %[s]\n\tmovq %%rax, %[q]" FL_OUT
				: "+a"(ax), [q] "=&r"(q) : [a] "r"(in), [s] "r"(s) : "cc");
		cpu->gpr[X86_RAX] = (rax & ~0xffffull) | (q & 0xffff);
		cpu->rflags = fl_back(fl, ax);
		return X86_NEXT;
	}
	case 2: {
		uint16_t s = d;
		if (sgn)
			__asm__(FL_IN "movq %[a], %%rax\n\tidivw %[s]\n\tmovq %%rax, %[q]" FL_OUT
				: "+a"(ax), [q] "=&r"(q), "+d"(hi) : [a] "r"(lo), [s] "r"(s) : "cc");
		else
			__asm__(FL_IN "movq %[a], %%rax\n\tdivw %[s]\n\tmovq %%rax, %[q]" FL_OUT
				: "+a"(ax), [q] "=&r"(q), "+d"(hi) : [a] "r"(lo), [s] "r"(s) : "cc");
		r = hi;
		break;
	}
	case 4: {
		uint32_t s = d;
		if (sgn)
			__asm__(FL_IN "movq %[a], %%rax\n\tidivl %[s]\n\tmovq %%rax, %[q]" FL_OUT
				: "+a"(ax), [q] "=&r"(q), "+d"(hi) : [a] "r"(lo), [s] "r"(s) : "cc");
		else
			__asm__(FL_IN "movq %[a], %%rax\n\tdivl %[s]\n\tmovq %%rax, %[q]" FL_OUT
				: "+a"(ax), [q] "=&r"(q), "+d"(hi) : [a] "r"(lo), [s] "r"(s) : "cc");
		r = hi;
		break;
	}
	default:
		if (sgn)
			__asm__(FL_IN "movq %[a], %%rax\n\tidivq %[s]\n\tmovq %%rax, %[q]" FL_OUT
				: "+a"(ax), [q] "=&r"(q), "+d"(hi) : [a] "r"(lo), [s] "r"(d) : "cc");
		else
			__asm__(FL_IN "movq %[a], %%rax\n\tdivq %[s]\n\tmovq %%rax, %[q]" FL_OUT
				: "+a"(ax), [q] "=&r"(q), "+d"(hi) : [a] "r"(lo), [s] "r"(d) : "cc");
		r = hi;
		break;
	}
	x86_gpr_set(cpu, X86_RAX, size, q);
	x86_gpr_set(cpu, X86_RDX, size, r);
	cpu->rflags = fl_back(fl, ax);
	return X86_NEXT;
}

/* ---- BT/BTS/BTR/BTC: sub 0..3 ---- */

static const alu_fn *const bt_tab_all[4] = { bt_tab, bts_tab, btr_tab, btc_tab };

static uint64_t rmw_bt(const struct x86_insn *i, uint64_t old, uint64_t bit, uint64_t *fl)
{
	return bt_tab_all[i->sub][x86_szidx(i->op[0].size)](old, bit, fl);
}

int x86_h_bt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0];
	unsigned size = d->size, bits = size * 8;
	uint64_t bit = x86_op_read(cpu, i, &i->op[1]);
	uint64_t fl = cpu->rflags;
	if (d->kind != OPK_MEM) {
		uint64_t r = bt_tab_all[i->sub][x86_szidx(size)](x86_op_read(cpu, i, d), bit, &fl);
		if (i->sub)
			x86_op_write(cpu, i, d, r);
		cpu->rflags = fl;
		return X86_NEXT;
	}
	/* A register bit offset addresses memory beyond the operand. */
	struct x86_op m = *d;
	if (i->op[1].kind != OPK_IMM) {
		int64_t sb = x86_sext(bit, size);
		m.val += (sb >> (size == 2 ? 4 : size == 4 ? 5 : 6)) * (int64_t)size;
	}
	bit &= bits - 1;
	if (i->sub == 0) {
		uint64_t v = x86_op_read(cpu, i, &m);
		bt_tab[x86_szidx(size)](v, bit, &fl);
	} else {
		x86_mem_rmw(cpu, i, &m, bit, rmw_bt, &fl);
	}
	cpu->rflags = fl;
	return X86_NEXT;
}

/* BSF/BSR: sub 0/1. Run on the full 64-bit register so that a zero source
 * leaves exactly what the host leaves (the whole register unchanged). */
int x86_h_bsf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0];
	uint64_t y = x86_op_read(cpu, i, &i->op[1]);
	uint64_t x = cpu->gpr[d->reg];
	uint32_t ax = fl_seed(cpu->rflags);
	if (i->sub) {
		if (d->size == 2)
			__asm__(FL_IN "bsrw %w[y], %w[x]" FL_OUT : [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");
		else if (d->size == 4)
			__asm__(FL_IN "bsrl %k[y], %k[x]" FL_OUT : [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");
		else
			__asm__(FL_IN "bsrq %[y], %[x]" FL_OUT : [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");
	} else {
		if (d->size == 2)
			__asm__(FL_IN "bsfw %w[y], %w[x]" FL_OUT : [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");
		else if (d->size == 4)
			__asm__(FL_IN "bsfl %k[y], %k[x]" FL_OUT : [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");
		else
			__asm__(FL_IN "bsfq %[y], %[x]" FL_OUT : [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");
	}
	cpu->gpr[d->reg] = x;
	cpu->rflags = fl_back(cpu->rflags, ax);
	return X86_NEXT;
}

/* POPCNT, and TZCNT/LZCNT (sub 0/1) */
int x86_h_popcnt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0];
	uint64_t s = x86_op_read(cpu, i, &i->op[1]), fl = cpu->rflags;
	x86_gpr_set(cpu, d->reg, d->size, popcnt_tab[x86_szidx(d->size)](0, s, &fl));
	cpu->rflags = fl;
	return X86_NEXT;
}

int x86_h_tzcnt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0];
	uint64_t s = x86_op_read(cpu, i, &i->op[1]), fl = cpu->rflags;
	uint64_t r = (i->sub ? lzcnt_tab : tzcnt_tab)[x86_szidx(d->size)](0, s, &fl);
	x86_gpr_set(cpu, d->reg, d->size, r);
	cpu->rflags = fl;
	return X86_NEXT;
}

/* ---- XADD, CMPXCHG, CMPXCHG8B/16B ---- */

static uint64_t rmw_xadd(const struct x86_insn *i, uint64_t old, uint64_t src, uint64_t *fl)
{
	return x86_alu(ALU_ADD, i->op[0].size, old, src, fl);
}

int x86_h_xadd(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0], *s = &i->op[1];
	uint64_t src = x86_op_read(cpu, i, s), fl = cpu->rflags, old;
	if (d->kind == OPK_MEM) {
		old = x86_mem_rmw(cpu, i, d, src, rmw_xadd, &fl);
	} else {
		old = x86_op_read(cpu, i, d);
		uint64_t r = x86_alu(ALU_ADD, d->size, old, src, &fl);
		x86_op_write(cpu, i, s, old);
		x86_op_write(cpu, i, d, r);
		cpu->rflags = fl;
		return X86_NEXT;
	}
	x86_op_write(cpu, i, s, old);
	cpu->rflags = fl;
	return X86_NEXT;
}

/* src packs nothing: the accumulator is compared through *fl's companion. */
struct cx_ctx {
	uint64_t acc, src;
};
static _Thread_local struct cx_ctx cx;

static uint64_t rmw_cmpxchg(const struct x86_insn *i, uint64_t old, uint64_t src, uint64_t *fl)
{
	(void)src;
	x86_alu(ALU_CMP, i->op[0].size, cx.acc, old, fl);
	return old == cx.acc ? cx.src : old;
}

int x86_h_cmpxchg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0];
	unsigned size = d->size;
	uint64_t acc = cpu->gpr[X86_RAX] & x86_szmask(size);
	uint64_t src = x86_op_read(cpu, i, &i->op[1]), fl = cpu->rflags, old;
	if (d->kind == OPK_MEM) {
		cx.acc = acc;
		cx.src = src;
		old = x86_mem_rmw(cpu, i, d, 0, rmw_cmpxchg, &fl);
	} else {
		old = x86_op_read(cpu, i, d);
		x86_alu(ALU_CMP, size, acc, old, &fl);
		if (old == acc)
			x86_op_write(cpu, i, d, src);
	}
	if (old != acc)
		x86_gpr_set(cpu, X86_RAX, size, old);
	cpu->rflags = fl;
	return X86_NEXT;
}

/* CMPXCHG8B (osize 4) / CMPXCHG16B (osize 8). */
int x86_h_cmpxchg8b(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0];
	unsigned half = i->osize == 8 ? 8 : 4;
	uint64_t m = x86_szmask(half);
	uint64_t off = x86_ea(cpu, i, d);
	uint64_t ea = cpu->gpr[X86_RAX] & m, ed = cpu->gpr[X86_RDX] & m;
	uint64_t eb = cpu->gpr[X86_RBX] & m, ec = cpu->gpr[X86_RCX] & m;
	uint64_t lo, hi;
	bool eq;
	if (half == 8 && (off & 15))
		x86_raise(cpu, X86_GP, true, 0);
	void *p = i->lock ? x86_lock_ptr(cpu, d->seg, off, half * 2) : NULL;
	if (p && half == 4) {
		uint64_t old = ea | (ed << 32);
		eq = __atomic_compare_exchange_n((uint64_t *)p, &old, eb | (ec << 32), false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		lo = (uint32_t)old;
		hi = old >> 32;
	} else if (p) {
		uint64_t a = ea, dd = ed;
		uint8_t z;
		__asm__ volatile("lock cmpxchg16b (%[p])\n\tsetz %[z]"
				 : "+a"(a), "+d"(dd), [z] "=q"(z)
				 : [p] "r"(p), "b"(eb), "c"(ec) : "cc", "memory");
		eq = z;
		lo = a;
		hi = dd;
	} else {
		lo = x86_read(cpu, d->seg, off, half);
		hi = x86_read(cpu, d->seg, off + half, half);
		eq = lo == ea && hi == ed;
		/* The destination is written either way, as the processor does. */
		x86_write(cpu, d->seg, off, half, eq ? eb : lo);
		x86_write(cpu, d->seg, off + half, half, eq ? ec : hi);
	}
	if (eq) {
		cpu->rflags |= X86_ZF;
	} else {
		cpu->rflags &= ~(uint64_t)X86_ZF;
		x86_gpr_set(cpu, X86_RAX, half, lo);
		x86_gpr_set(cpu, X86_RDX, half, hi);
	}
	return X86_NEXT;
}

/* ---- BSWAP, MOVBE ---- */

int x86_h_bswap(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0];
	uint64_t v = cpu->gpr[d->reg];
	if (d->size == 8)
		cpu->gpr[d->reg] = __builtin_bswap64(v);
	else if (d->size == 4)
		cpu->gpr[d->reg] = __builtin_bswap32((uint32_t)v);
	else
		cpu->gpr[d->reg] = v & ~0xffffull; /* undefined; hosts give 0 */
	return X86_NEXT;
}

int x86_h_movbe(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t v = x86_op_read(cpu, i, &i->op[1]);
	unsigned size = i->op[0].size;
	v = size == 8 ? __builtin_bswap64(v) : size == 4 ? __builtin_bswap32(v)
							 : __builtin_bswap16(v);
	x86_op_write(cpu, i, &i->op[0], v);
	return X86_NEXT;
}

/* ---- BCD (legacy modes only): sub as in enum below ---- */

enum { BCD_DAA, BCD_DAS, BCD_AAA, BCD_AAS, BCD_AAM, BCD_AAD };

static uint64_t szp_flags(uint8_t v)
{
	uint64_t f = 0;
	if (!v)
		f |= X86_ZF;
	if (v & 0x80)
		f |= X86_SF;
	if (!__builtin_parity(v))
		f |= X86_PF_FLAG;
	return f;
}

int x86_h_bcd(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t *rax = &cpu->gpr[X86_RAX];
	uint8_t al = *rax, ah = *rax >> 8;
	uint64_t f = cpu->rflags & ~(uint64_t)X86_STATUS_FLAGS;
	bool cf = cpu->rflags & X86_CF, af = cpu->rflags & X86_AF;
	switch (i->sub) {
	case BCD_DAA:
	case BCD_DAS: {
		uint8_t old = al;
		bool ncf = false, naf = false;
		bool sub = i->sub == BCD_DAS;
		if ((al & 0xf) > 9 || af) {
			ncf = cf || (sub ? al < 6 : al > 0xf9);
			al = sub ? al - 6 : al + 6;
			naf = true;
		}
		if (old > 0x99 || cf) {
			al = sub ? al - 0x60 : al + 0x60;
			ncf = true;
		}
		f |= szp_flags(al) | (ncf ? X86_CF : 0) | (naf ? X86_AF : 0);
		*rax = (*rax & ~0xffull) | al;
		break;
	}
	case BCD_AAA:
	case BCD_AAS: {
		uint16_t ax = *rax & 0xffff;
		if ((al & 0xf) > 9 || af) {
			ax = i->sub == BCD_AAA ? ax + 0x106 : ax - 6 - 0x100;
			f |= X86_AF | X86_CF;
		}
		ax &= 0xff0f;
		f |= szp_flags(ax & 0xff);
		*rax = (*rax & ~0xffffull) | ax;
		break;
	}
	case BCD_AAM: {
		uint8_t base = i->op[0].val;
		if (!base)
			x86_raise(cpu, X86_DE, false, 0);
		ah = al / base;
		al = al % base;
		f |= szp_flags(al);
		*rax = (*rax & ~0xffffull) | ((uint64_t)ah << 8) | al;
		break;
	}
	default: {
		uint8_t base = i->op[0].val;
		al = (uint8_t)(al + ah * base);
		f |= szp_flags(al);
		*rax = (*rax & ~0xffffull) | al;
		break;
	}
	}
	cpu->rflags = f;
	return X86_NEXT;
}

/* ---- ALU reg, reg and reg, imm: one handler per operation and size ----
 *
 * The decoder picks these (x86_alu_fast) so the common shapes run without
 * table calls or size switches; the flags come from the host exactly as
 * in the generic path. */

/* IN: how the asm takes the guest flags. Operations that write all six
 * status flags ignore the old ones (no seeding: the host sets every bit
 * we read back, so the result is the same), which keeps consecutive ALU
 * instructions from waiting on each other's flags; ADC/SBB need CF. */
#define SEED_NO(f)  0
#define SEED_YES(f) fl_seed(f)
#define FLIN_NO  ""
#define FLIN_YES FL_IN

#define FAST1(name, insn, store, seed, sfx, T, S)                                \
	/* Not LOCKed: read, compute, write; the flags change only once the \
	 * write has not faulted, as in x86_h_alu. */                            \
	static inline int fast_##name##_m##S(struct x86_cpu *cpu, const struct x86_insn *i, T y) \
	{                                                                        \
		const struct x86_op *m = &i->op[0];                              \
		uint64_t off = x86_ea(cpu, i, m);                                \
		bool slow = false;                                               \
		T x = (T)x86_read_fs(cpu, m->seg, off, S, &slow);                \
		uint32_t ax = SEED_##seed(cpu->rflags);                          \
		__asm__(FLIN_##seed insn sfx " %[y], %[x]" FL_OUT                \
			: [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");            \
		if (store)                                                       \
			x86_write_fs(cpu, m->seg, off, S, x, &slow);             \
		cpu->rflags = fl_back(cpu->rflags, ax);                          \
		return x86_thread_mem(cpu, i, slow);                             \
	}                                                                        \
	static int fast_##name##_rr##S(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		unsigned d = i->op[0].reg;                                       \
		T x = (T)cpu->gpr[d], y = (T)cpu->gpr[i->op[1].reg];             \
		uint32_t ax = SEED_##seed(cpu->rflags);                          \
		__asm__(FLIN_##seed insn sfx " %[y], %[x]" FL_OUT                \
			: [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");            \
		cpu->rflags = fl_back(cpu->rflags, ax);                          \
		if (store)                                                       \
			x86_gpr_set(cpu, d, S, x);                               \
		return x86_thread(cpu, i);                                                 \
	}                                                                        \
	static int fast_##name##_ri##S(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		unsigned d = i->op[0].reg;                                       \
		T x = (T)cpu->gpr[d], y = (T)i->op[1].val;                       \
		uint32_t ax = SEED_##seed(cpu->rflags);                          \
		__asm__(FLIN_##seed insn sfx " %[y], %[x]" FL_OUT                \
			: [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");            \
		cpu->rflags = fl_back(cpu->rflags, ax);                          \
		if (store)                                                       \
			x86_gpr_set(cpu, d, S, x);                               \
		return x86_thread(cpu, i);                                                 \
	}                                                                        \
	static int fast_##name##_rm##S(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		const struct x86_op *m = &i->op[1];                              \
		bool slow = false;                                               \
		T y = (T)x86_read_fs(cpu, m->seg, x86_ea(cpu, i, m), S, &slow);  \
		unsigned d = i->op[0].reg;                                       \
		T x = (T)cpu->gpr[d];                                            \
		uint32_t ax = SEED_##seed(cpu->rflags);                          \
		__asm__(FLIN_##seed insn sfx " %[y], %[x]" FL_OUT                \
			: [x] "+r"(x), "+a"(ax) : [y] "r"(y) : "cc");            \
		cpu->rflags = fl_back(cpu->rflags, ax);                          \
		if (store)                                                       \
			x86_gpr_set(cpu, d, S, x);                               \
		return x86_thread_mem(cpu, i, slow);                             \
	}                                                                        \
	static int fast_##name##_mr##S(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		return fast_##name##_m##S(cpu, i, (T)cpu->gpr[i->op[1].reg]);    \
	}                                                                        \
	static int fast_##name##_mi##S(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		return fast_##name##_m##S(cpu, i, (T)i->op[1].val);              \
	}

#define FAST(name, insn, store, seed)                                            \
	FAST1(name, insn, store, seed, "b", uint8_t, 1)                         \
	FAST1(name, insn, store, seed, "w", uint16_t, 2)                        \
	FAST1(name, insn, store, seed, "l", uint32_t, 4)                        \
	FAST1(name, insn, store, seed, "q", uint64_t, 8)                        \
	static const x86_fn fast_##name##_tab[3][4] = {                          \
		{ fast_##name##_rr1, fast_##name##_rr2, fast_##name##_rr4, fast_##name##_rr8 }, \
		{ fast_##name##_ri1, fast_##name##_ri2, fast_##name##_ri4, fast_##name##_ri8 }, \
		{ fast_##name##_rm1, fast_##name##_rm2, fast_##name##_rm4, fast_##name##_rm8 } }; \
	static const x86_fn fast_##name##_mtab[2][4] = {                         \
		{ fast_##name##_mr1, fast_##name##_mr2, fast_##name##_mr4, fast_##name##_mr8 }, \
		{ fast_##name##_mi1, fast_##name##_mi2, fast_##name##_mi4, fast_##name##_mi8 } };

FAST(add, "add", 1, NO) FAST(or, "or", 1, NO) FAST(adc, "adc", 1, YES)
FAST(sbb, "sbb", 1, YES) FAST(and, "and", 1, NO) FAST(sub, "sub", 1, NO)
FAST(xor, "xor", 1, NO) FAST(cmp, "cmp", 0, NO) FAST(test, "test", 0, NO)

static const x86_fn (*const fast_tab[ALU_TEST + 1])[4] = {
	[ALU_ADD] = fast_add_tab, [ALU_OR] = fast_or_tab, [ALU_ADC] = fast_adc_tab,
	[ALU_SBB] = fast_sbb_tab, [ALU_AND] = fast_and_tab, [ALU_SUB] = fast_sub_tab,
	[ALU_XOR] = fast_xor_tab, [ALU_CMP] = fast_cmp_tab, [ALU_TEST] = fast_test_tab,
};

x86_fn x86_alu_fast(unsigned op, unsigned size, bool imm)
{
	if (op > ALU_TEST)
		return 0;
	return fast_tab[op][imm][x86_szidx(size)];
}

static const x86_fn (*const fast_mtab[ALU_TEST + 1])[4] = {
	[ALU_ADD] = fast_add_mtab, [ALU_OR] = fast_or_mtab, [ALU_ADC] = fast_adc_mtab,
	[ALU_SBB] = fast_sbb_mtab, [ALU_AND] = fast_and_mtab, [ALU_SUB] = fast_sub_mtab,
	[ALU_XOR] = fast_xor_mtab, [ALU_CMP] = fast_cmp_mtab, [ALU_TEST] = fast_test_mtab,
};

x86_fn x86_alu_fast_m(unsigned op, unsigned size, bool imm)
{
	if (op > ALU_TEST)
		return 0;
	return fast_mtab[op][imm][x86_szidx(size)];
}

/* INC, DEC, NEG, NOT of a full register. */
#define FASTU1(name, insn, seed, sfx, T, S)                                      \
	static int fastu_##name##_r##S(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		unsigned d = i->op[0].reg;                                       \
		T x = (T)cpu->gpr[d];                                            \
		uint32_t ax = SEED_##seed(cpu->rflags);                          \
		__asm__(FLIN_##seed insn sfx " %[x]" FL_OUT                      \
			: [x] "+r"(x), "+a"(ax) : : "cc");                       \
		cpu->rflags = fl_back(cpu->rflags, ax);                          \
		x86_gpr_set(cpu, d, S, x);                                       \
		return x86_thread(cpu, i);                                       \
	}
#define FASTU(name, insn, seed)                                                  \
	FASTU1(name, insn, seed, "b", uint8_t, 1)                               \
	FASTU1(name, insn, seed, "w", uint16_t, 2)                              \
	FASTU1(name, insn, seed, "l", uint32_t, 4)                              \
	FASTU1(name, insn, seed, "q", uint64_t, 8)                              \
	static const x86_fn fastu_##name##_tab[4] = {                            \
		fastu_##name##_r1, fastu_##name##_r2, fastu_##name##_r4, fastu_##name##_r8 };

/* INC/DEC keep CF, so they take the guest flags in. */
FASTU(inc, "inc", YES) FASTU(dec, "dec", YES) FASTU(neg, "neg", NO)

static int not_r(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned d = i->op[0].reg;
	x86_gpr_set(cpu, d, i->op[0].size, ~cpu->gpr[d]);
	return x86_thread(cpu, i);
}

x86_fn x86_alu1_fast(unsigned op, unsigned size)
{
	switch (op) {
	case ALU_INC: return fastu_inc_tab[x86_szidx(size)];
	case ALU_DEC: return fastu_dec_tab[x86_szidx(size)];
	case ALU_NEG: return fastu_neg_tab[x86_szidx(size)];
	case ALU_NOT: return not_r;
	default: return 0;
	}
}

x86_fn x86_alu_fast_rm(unsigned op, unsigned size)
{
	if (op > ALU_TEST)
		return 0;
	return fast_tab[op][2][x86_szidx(size)];
}

bool x86_alu_threads(x86_fn f)
{
	for (unsigned op = 0; op <= ALU_TEST; op++)
		for (unsigned k = 0; k < 4; k++)
			if (f == fast_tab[op][0][k] || f == fast_tab[op][1][k] ||
			    f == fast_tab[op][2][k] || f == fast_mtab[op][0][k] ||
			    f == fast_mtab[op][1][k])
				return true;
	for (unsigned k = 0; k < 3; k++)
		for (unsigned mem = 0; mem < 2; mem++)
			if (f == imul_tab[k][mem][0] || f == imul_tab[k][mem][1])
				return true;
	for (unsigned k = 0; k < 4; k++)
		if (f == fastu_inc_tab[k] || f == fastu_dec_tab[k] || f == fastu_neg_tab[k])
			return true;
	for (unsigned op = 0; op < 8; op++)
		for (unsigned k = 0; k < 4; k++)
			if (f == shf_tab[op][k])
				return true;
	return f == not_r;
}
