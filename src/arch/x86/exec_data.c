/* Data movement: MOV and friends, conversions, flag instructions, XLAT.
 */
#include "arch/x86/insn.h"

int x86_h_mov(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x86_op_write(cpu, i, &i->op[0], x86_op_read(cpu, i, &i->op[1]));
	return X86_NEXT;
}

/* MOV by operand shape (x86_mov_fast picks one at decode time). An
 * immediate (decoded as 8 bytes, already extended) is cut to the
 * destination's size by the write, as in x86_h_mov. */
#define MOVR(S)                                                                  \
	static int mov_rr##S(struct x86_cpu *cpu, const struct x86_insn *i)      \
	{                                                                        \
		x86_gpr_set(cpu, i->op[0].reg, S, cpu->gpr[i->op[1].reg]);       \
		return x86_thread(cpu, i);                                       \
	}                                                                        \
	static int mov_ri##S(struct x86_cpu *cpu, const struct x86_insn *i)      \
	{                                                                        \
		x86_gpr_set(cpu, i->op[0].reg, S, (uint64_t)i->op[1].val);       \
		return x86_thread(cpu, i);                                       \
	}
MOVR(1) MOVR(2) MOVR(4) MOVR(8)
/* [register, immediate source][size 1, 2, 4, 8] */
static const x86_fn movr_tab[2][4] = {
	{ mov_rr1, mov_rr2, mov_rr4, mov_rr8 },
	{ mov_ri1, mov_ri2, mov_ri4, mov_ri8 },
};

static int mov_rm(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *m = &i->op[1];
	uint64_t v = x86_read_fast(cpu, m->seg, x86_ea(cpu, i, m), m->size);
	x86_gpr_set(cpu, i->op[0].reg, i->op[0].size, v);
	return X86_NEXT;
}

static int mov_mr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *m = &i->op[0];
	x86_write_fast(cpu, m->seg, x86_ea(cpu, i, m), m->size, cpu->gpr[i->op[1].reg]);
	return X86_NEXT;
}

static int mov_mi(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *m = &i->op[0];
	x86_write_fast(cpu, m->seg, x86_ea(cpu, i, m), m->size, (uint64_t)i->op[1].val);
	return X86_NEXT;
}

/* ---- 64-bit mode shapes ----
 *
 * With a 64-bit address size (so 64-bit mode, which a block's decoding is
 * keyed on) and a segment whose base is ignored (not FS/GS), a memory
 * operand's linear address is its effective address. The handlers below
 * are generated per addressing form and size, so the common case is a
 * software TLB hit with no switch; everything else (a miss, a page
 * crossing, the mode changed under the block) runs the general handler
 * (redo). */
enum { EA_B, EA_BI, EA_I, EA_RIP, EA_ABS, EA_NFORMS };

static inline uint64_t ea64(const struct x86_cpu *cpu, const struct x86_op *m, int form)
{
	uint64_t a = (uint64_t)m->val;
	switch (form) {
	case EA_B: return a + cpu->gpr[m->reg];
	case EA_BI: return a + cpu->gpr[m->reg] + (cpu->gpr[m->index] << m->scale);
	case EA_I: return a + (cpu->gpr[m->index] << m->scale);
	case EA_RIP: return a + cpu->rip;
	default: return a;
	}
}

/* The form of memory operand m of i, or -1 when it needs the general path. */
static int ea64_form(const struct x86_insn *i, const struct x86_op *m)
{
	if (m->kind != OPK_MEM || i->asize != 8 || m->seg == X86_FS || m->seg == X86_GS)
		return -1;
	if (m->reg == X86_RIPREL)
		return m->index == X86_NOREG ? EA_RIP : -1;
	if (m->reg == X86_NOREG)
		return m->index == X86_NOREG ? EA_ABS : EA_I;
	return m->index == X86_NOREG ? EA_B : EA_BI;
}

/* The host address of a software TLB hit in 64-bit mode, else NULL. */
static inline uint8_t *tlb64(const struct x86_cpu *cpu, const struct x86_tlb_entry *set,
			     uint64_t lin, unsigned size)
{
	if (__builtin_expect(cpu->mode != X86_MODE_LONG64, 0))
		return NULL;
	return x86_tlb_hit(set, cpu, lin, size);
}

/* Anything but a TLB hit: the whole instruction through its general
 * handler (which does exactly what the shape handlers do, and nothing has
 * changed yet), then on as after any slow path. Out of line, so the hit
 * paths need no stack frame. */
__attribute__((noinline))
static int redo(struct x86_cpu *cpu, const struct x86_insn *i, x86_fn general)
{
	general(cpu, i);
	return x86_thread_mem(cpu, i, true);
}

/* MOV r, m / MOV m, r / MOV m, imm by size (register writes as
 * x86_gpr_set: 1 and 2 bytes merge, 4 zero-extends). */
#define MOV64(F, S)                                                              \
	static int mov_rm##S##_##F(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		const uint8_t *h = tlb64(cpu, cpu->tlb.read, ea64(cpu, &i->op[1], F), S); \
		if (__builtin_expect(h == NULL, 0))                              \
			return redo(cpu, i, x86_h_mov);                          \
		x86_gpr_set(cpu, i->op[0].reg, S, sk_guest_load(h, S));          \
		return x86_thread(cpu, i);                                       \
	}                                                                        \
	static int mov_mr##S##_##F(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		uint8_t *h = tlb64(cpu, cpu->tlb.write, ea64(cpu, &i->op[0], F), S); \
		if (__builtin_expect(h == NULL, 0))                              \
			return redo(cpu, i, x86_h_mov);                          \
		sk_guest_store(h, S, cpu->gpr[i->op[1].reg]);                    \
		return x86_thread(cpu, i);                                       \
	}                                                                        \
	static int mov_mi##S##_##F(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		uint8_t *h = tlb64(cpu, cpu->tlb.write, ea64(cpu, &i->op[0], F), S); \
		if (__builtin_expect(h == NULL, 0))                              \
			return redo(cpu, i, x86_h_mov);                          \
		sk_guest_store(h, S, (uint64_t)i->op[1].val);                    \
		return x86_thread(cpu, i);                                       \
	}
#define MOV64F(F) MOV64(F, 1) MOV64(F, 2) MOV64(F, 4) MOV64(F, 8)
MOV64F(EA_B) MOV64F(EA_BI) MOV64F(EA_I) MOV64F(EA_RIP) MOV64F(EA_ABS)

#define MOV64ROW(k, S) { k##S##_EA_B, k##S##_EA_BI, k##S##_EA_I, k##S##_EA_RIP, k##S##_EA_ABS }
/* [rm, mr, mi][size 1, 2, 4, 8][form] */
static const x86_fn mov64_tab[3][4][EA_NFORMS] = {
	{ MOV64ROW(mov_rm, 1), MOV64ROW(mov_rm, 2), MOV64ROW(mov_rm, 4), MOV64ROW(mov_rm, 8) },
	{ MOV64ROW(mov_mr, 1), MOV64ROW(mov_mr, 2), MOV64ROW(mov_mr, 4), MOV64ROW(mov_mr, 8) },
	{ MOV64ROW(mov_mi, 1), MOV64ROW(mov_mi, 2), MOV64ROW(mov_mi, 4), MOV64ROW(mov_mi, 8) },
};

static x86_fn mov64(const struct x86_insn *i, int shape, const struct x86_op *m)
{
	int f = ea64_form(i, m);
	unsigned sz = m->size;
	if (f < 0 || (sz != 1 && sz != 2 && sz != 4 && sz != 8))
		return NULL;
	return mov64_tab[shape][x86_szidx(sz)][f];
}

x86_fn x86_mov_fast(const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0], *s = &i->op[1];
	if (i->nops != 2 || (s->kind != OPK_IMM && d->size != s->size))
		return x86_h_mov;
	x86_fn f = NULL;
	if (d->kind == OPK_REG && s->kind == OPK_MEM)
		f = mov64(i, 0, s);
	else if (d->kind == OPK_MEM && s->kind == OPK_REG)
		f = mov64(i, 1, d);
	else if (d->kind == OPK_MEM && s->kind == OPK_IMM)
		f = mov64(i, 2, d);
	if (f)
		return f;
	if (d->kind == OPK_REG) {
		switch (s->kind) {
		case OPK_REG: return movr_tab[0][x86_szidx(d->size)];
		case OPK_IMM: return movr_tab[1][x86_szidx(d->size)];
		case OPK_MEM: return mov_rm;
		default: return x86_h_mov;
		}
	}
	if (d->kind == OPK_MEM) {
		switch (s->kind) {
		case OPK_REG: return mov_mr;
		case OPK_IMM: return mov_mi;
		default: return x86_h_mov;
		}
	}
	return x86_h_mov;
}

/* MOVZX (sub 0), MOVSX/MOVSXD (sub 1). */
int x86_h_movx(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t v = x86_op_read(cpu, i, &i->op[1]);
	if (i->sub)
		v = (uint64_t)x86_sext(v, i->op[1].size);
	x86_op_write(cpu, i, &i->op[0], v);
	return X86_NEXT;
}

int x86_h_lea(struct x86_cpu *cpu, const struct x86_insn *i)
{
	/* The destination is always a 16/32/64-bit register. */
	x86_gpr_set(cpu, i->op[0].reg, i->op[0].size, x86_ea(cpu, i, &i->op[1]));
	return X86_NEXT;
}

/* MOVZX/MOVSX/MOVSXD to a 32- or 64-bit register (a 32-bit write
 * zero-extends, so only sign extension depends on the destination size)
 * and LEA with a 64-bit address size, by shape (x86_data_fast). */
#define XREG(S, T)                                                               \
	static int movzx_r##S(struct x86_cpu *cpu, const struct x86_insn *i)     \
	{                                                                        \
		cpu->gpr[i->op[0].reg] = (u##T)cpu->gpr[i->op[1].reg];          \
		return x86_thread(cpu, i);                                                 \
	}                                                                        \
	static int movsx_r##S##_4(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		cpu->gpr[i->op[0].reg] = (uint32_t)(int64_t)(T)cpu->gpr[i->op[1].reg]; \
		return x86_thread(cpu, i);                                                 \
	}                                                                        \
	static int movsx_r##S##_8(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		cpu->gpr[i->op[0].reg] = (uint64_t)(int64_t)(T)cpu->gpr[i->op[1].reg]; \
		return x86_thread(cpu, i);                                                 \
	}
XREG(1, int8_t) XREG(2, int16_t) XREG(4, int32_t)

#define XMEM(F, S, T)                                                            \
	static int movzx_m##S##_##F(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		const uint8_t *h = tlb64(cpu, cpu->tlb.read, ea64(cpu, &i->op[1], F), S); \
		if (__builtin_expect(h == NULL, 0))                              \
			return redo(cpu, i, x86_h_movx);                         \
		cpu->gpr[i->op[0].reg] = sk_guest_load(h, S);                    \
		return x86_thread(cpu, i);                                       \
	}                                                                        \
	static int movsx_m##S##_4_##F(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		const uint8_t *h = tlb64(cpu, cpu->tlb.read, ea64(cpu, &i->op[1], F), S); \
		if (__builtin_expect(h == NULL, 0))                              \
			return redo(cpu, i, x86_h_movx);                         \
		cpu->gpr[i->op[0].reg] = (uint32_t)(int64_t)(T)sk_guest_load(h, S); \
		return x86_thread(cpu, i);                                       \
	}                                                                        \
	static int movsx_m##S##_8_##F(struct x86_cpu *cpu, const struct x86_insn *i) \
	{                                                                        \
		const uint8_t *h = tlb64(cpu, cpu->tlb.read, ea64(cpu, &i->op[1], F), S); \
		if (__builtin_expect(h == NULL, 0))                              \
			return redo(cpu, i, x86_h_movx);                         \
		cpu->gpr[i->op[0].reg] = (uint64_t)(int64_t)(T)sk_guest_load(h, S); \
		return x86_thread(cpu, i);                                       \
	}
#define XMEMF(F) XMEM(F, 1, int8_t) XMEM(F, 2, int16_t) XMEM(F, 4, int32_t)
XMEMF(EA_B) XMEMF(EA_BI) XMEMF(EA_I) XMEMF(EA_RIP) XMEMF(EA_ABS)

#define LEA64(F)                                                                 \
	static int lea4_##F(struct x86_cpu *cpu, const struct x86_insn *i)      \
	{                                                                        \
		cpu->gpr[i->op[0].reg] = (uint32_t)ea64(cpu, &i->op[1], F);      \
		return x86_thread(cpu, i);                                                 \
	}                                                                        \
	static int lea8_##F(struct x86_cpu *cpu, const struct x86_insn *i)      \
	{                                                                        \
		cpu->gpr[i->op[0].reg] = ea64(cpu, &i->op[1], F);                \
		return x86_thread(cpu, i);                                                 \
	}
LEA64(EA_B) LEA64(EA_BI) LEA64(EA_I) LEA64(EA_RIP) LEA64(EA_ABS)

#define FROW(k) { k##_EA_B, k##_EA_BI, k##_EA_I, k##_EA_RIP, k##_EA_ABS }
/* [source size 1, 2, 4][form] */
static const x86_fn movzx_mtab[3][EA_NFORMS] = { FROW(movzx_m1), FROW(movzx_m2), FROW(movzx_m4) };
/* [source size 1, 2, 4][destination size 4, 8][form] */
static const x86_fn movsx_mtab[3][2][EA_NFORMS] = {
	{ FROW(movsx_m1_4), FROW(movsx_m1_8) },
	{ FROW(movsx_m2_4), FROW(movsx_m2_8) },
	{ FROW(movsx_m4_4), FROW(movsx_m4_8) },
};
static const x86_fn movzx_rtab[3] = { movzx_r1, movzx_r2, movzx_r4 };
static const x86_fn movsx_rtab[3][2] = {
	{ movsx_r1_4, movsx_r1_8 }, { movsx_r2_4, movsx_r2_8 }, { movsx_r4_4, movsx_r4_8 },
};
static const x86_fn lea_tab[2][EA_NFORMS] = { FROW(lea4), FROW(lea8) };

static x86_fn movx_fast(const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0], *s = &i->op[1];
	unsigned ss = s->size;
	if (i->nops != 2 || d->kind != OPK_REG || (d->size != 4 && d->size != 8) ||
	    (ss != 1 && ss != 2 && ss != 4) || ss >= d->size)
		return NULL;
	/* MOVZX has no 4-byte source; a zero-extending MOVSXD is not one. */
	if (ss == 4 && !i->sub)
		return NULL;
	int si = ss == 1 ? 0 : ss == 2 ? 1 : 2, di = d->size == 8;
	if (s->kind == OPK_REG)
		return i->sub ? movsx_rtab[si][di] : movzx_rtab[si];
	int f = ea64_form(i, s);
	if (f < 0)
		return NULL;
	return i->sub ? movsx_mtab[si][di][f] : movzx_mtab[si][f];
}

static x86_fn lea_fast(const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0], *m = &i->op[1];
	if (i->nops != 2 || d->kind != OPK_REG || (d->size != 4 && d->size != 8) ||
	    m->kind != OPK_MEM || i->asize != 8)
		return NULL;
	int f;
	if (m->reg == X86_RIPREL)
		f = m->index == X86_NOREG ? EA_RIP : -1;
	else if (m->reg == X86_NOREG)
		f = m->index == X86_NOREG ? EA_ABS : EA_I;
	else
		f = m->index == X86_NOREG ? EA_B : EA_BI;
	return f < 0 ? NULL : lea_tab[d->size == 8][f];
}

/* SETcc of a byte register (not AH..BH), by condition. */
#define SETCC(cc)                                                                \
	static int setcc_r_##cc(struct x86_cpu *cpu, const struct x86_insn *i)   \
	{                                                                        \
		uint64_t *r = &cpu->gpr[i->op[0].reg];                           \
		*r = (*r & ~0xffull) | x86_cond(cpu->rflags, cc);                \
		return x86_thread(cpu, i);                                       \
	}
SETCC(0) SETCC(1) SETCC(2) SETCC(3) SETCC(4) SETCC(5) SETCC(6) SETCC(7)
SETCC(8) SETCC(9) SETCC(10) SETCC(11) SETCC(12) SETCC(13) SETCC(14) SETCC(15)

static const x86_fn setcc_tab[16] = {
	setcc_r_0, setcc_r_1, setcc_r_2, setcc_r_3, setcc_r_4, setcc_r_5, setcc_r_6, setcc_r_7,
	setcc_r_8, setcc_r_9, setcc_r_10, setcc_r_11, setcc_r_12, setcc_r_13, setcc_r_14, setcc_r_15,
};

x86_fn x86_data_fast(const struct x86_insn *i)
{
	if (i->fn == x86_h_movx)
		return movx_fast(i);
	if (i->fn == x86_h_lea)
		return lea_fast(i);
	if (i->fn == x86_h_setcc && i->nops == 1 && i->op[0].kind == OPK_REG && i->op[0].size == 1)
		return setcc_tab[i->sub & 15];
	return NULL;
}

static uint64_t rmw_swap(const struct x86_insn *i, uint64_t old, uint64_t src, uint64_t *fl)
{
	(void)i; (void)old; (void)fl;
	return src;
}

/* XCHG; with a memory operand it is always locked (decode sets lock). */
int x86_h_xchg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *a = &i->op[0], *b = &i->op[1];
	if (a->kind == OPK_MEM || b->kind == OPK_MEM) {
		const struct x86_op *m = a->kind == OPK_MEM ? a : b, *r = m == a ? b : a;
		uint64_t fl = cpu->rflags;
		uint64_t old = x86_mem_rmw(cpu, i, m, x86_op_read(cpu, i, r), rmw_swap, &fl);
		x86_op_write(cpu, i, r, old);
		return X86_NEXT;
	}
	uint64_t va = x86_op_read(cpu, i, a), vb = x86_op_read(cpu, i, b);
	x86_op_write(cpu, i, a, vb);
	x86_op_write(cpu, i, b, va);
	return X86_NEXT;
}

int x86_h_setcc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x86_op_write(cpu, i, &i->op[0], x86_cond(cpu->rflags, i->sub));
	return X86_NEXT;
}

/* The source is read (and may fault) whatever the condition; a 32-bit
 * destination is zero-extended even when nothing moves. */
int x86_h_cmovcc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0];
	uint64_t v = x86_op_read(cpu, i, &i->op[1]);
	if (x86_cond(cpu->rflags, i->sub))
		x86_gpr_set(cpu, d->reg, d->size, v);
	else if (d->size == 4)
		cpu->gpr[d->reg] = (uint32_t)cpu->gpr[d->reg];
	return X86_NEXT;
}

/* CWD/CDQ/CQO */
int x86_h_cwd(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned s = i->osize;
	uint64_t sign = x86_sext(cpu->gpr[X86_RAX], s) < 0 ? ~0ull : 0;
	x86_gpr_set(cpu, X86_RDX, s, sign);
	return X86_NEXT;
}

/* CBW/CWDE/CDQE */
int x86_h_cbw(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned s = i->osize;
	x86_gpr_set(cpu, X86_RAX, s, (uint64_t)x86_sext(cpu->gpr[X86_RAX], s / 2));
	return X86_NEXT;
}

int x86_h_lahf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t ah = (cpu->rflags & 0xd5) | 2;
	cpu->gpr[X86_RAX] = (cpu->gpr[X86_RAX] & ~0xff00ull) | (ah << 8);
	return X86_NEXT;
}

int x86_h_sahf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t ah = (cpu->gpr[X86_RAX] >> 8) & 0xd5;
	cpu->rflags = (cpu->rflags & ~0xd5ull) | ah | 2;
	return X86_NEXT;
}

/* CLC, STC, CMC, CLD, STD (sub 0..4) */
int x86_h_flagop(struct x86_cpu *cpu, const struct x86_insn *i)
{
	switch (i->sub) {
	case 0: cpu->rflags &= ~(uint64_t)X86_CF; break;
	case 1: cpu->rflags |= X86_CF; break;
	case 2: cpu->rflags ^= X86_CF; break;
	case 3: cpu->rflags &= ~(uint64_t)X86_DF_FLAG; break;
	default: cpu->rflags |= X86_DF_FLAG; break;
	}
	return X86_NEXT;
}

int x86_h_salc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x86_gpr_set(cpu, X86_RAX, 1, (cpu->rflags & X86_CF) ? 0xff : 0);
	return X86_NEXT;
}

int x86_h_xlat(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t off = (cpu->gpr[X86_RBX] + (cpu->gpr[X86_RAX] & 0xff)) & x86_szmask(i->asize);
	x86_gpr_set(cpu, X86_RAX, 1, x86_read(cpu, i->seg, off, 1));
	return X86_NEXT;
}

int x86_h_nop(struct x86_cpu *cpu, const struct x86_insn *i)
{
	return X86_NEXT;
}

int x86_h_ud(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x86_raise(cpu, X86_UD, false, 0);
}

int x86_h_unimpl(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x86_emulation_failure(cpu);
}

/* MOV Sreg, r/m (sub 0) and MOV r/m, Sreg (sub 1). */
int x86_h_mov_sreg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (i->sub) {
		const struct x86_op *d = &i->op[0];
		uint64_t sel = cpu->seg[i->op[1].reg].sel;
		if (d->kind == OPK_MEM)
			x86_write(cpu, d->seg, x86_ea(cpu, i, d), 2, sel);
		else
			x86_gpr_set(cpu, d->reg, d->size, sel);
		return X86_NEXT;
	}
	int sreg = i->op[0].reg;
	if (sreg == X86_CS)
		x86_raise(cpu, X86_UD, false, 0);
	uint16_t sel = x86_op_read(cpu, i, &i->op[1]);
	x86_load_seg(cpu, sreg, sel);
	if (sreg == X86_SS) {
		cpu->shadow = KVM_X86_SHADOW_INT_MOV_SS;
		cpu->shadow_rip = cpu->rip;
	}
	return X86_END;
}

/* LDS/LES/LSS/LFS/LGS: sub is the segment register. */
int x86_h_lxs(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *m = &i->op[1];
	unsigned s = i->op[0].size;
	uint64_t off = x86_ea(cpu, i, m);
	uint64_t v = x86_read(cpu, m->seg, off, s);
	uint16_t sel = x86_read(cpu, m->seg, (off + s) & x86_szmask(i->asize), 2);
	x86_load_seg(cpu, i->sub, sel);
	x86_gpr_set(cpu, i->op[0].reg, s, v);
	return X86_END;
}

bool x86_data_threads(x86_fn f)
{
	for (unsigned k = 0; k < 4; k++)
		if (f == movr_tab[0][k] || f == movr_tab[1][k])
			return true;
	for (unsigned k = 0; k < 16; k++)
		if (f == setcc_tab[k])
			return true;
	for (unsigned k = 0; k < 3; k++)
		if (f == movzx_rtab[k] || f == movsx_rtab[k][0] || f == movsx_rtab[k][1])
			return true;
	for (unsigned k = 0; k < EA_NFORMS; k++) {
		if (f == lea_tab[0][k] || f == lea_tab[1][k])
			return true;
		for (unsigned s = 0; s < 3; s++)
			if (f == movzx_mtab[s][k] || f == movsx_mtab[s][0][k] ||
			    f == movsx_mtab[s][1][k])
				return true;
		for (unsigned shape = 0; shape < 3; shape++)
			for (unsigned sz = 0; sz < 4; sz++)
				if (f == mov64_tab[shape][sz][k])
					return true;
	}
	return false;
}
