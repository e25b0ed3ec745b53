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
static int mov_rr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x86_gpr_set(cpu, i->op[0].reg, i->op[0].size, cpu->gpr[i->op[1].reg]);
	return X86_NEXT;
}

static int mov_ri(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x86_gpr_set(cpu, i->op[0].reg, i->op[0].size, (uint64_t)i->op[1].val);
	return X86_NEXT;
}

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

x86_fn x86_mov_fast(const struct x86_insn *i)
{
	const struct x86_op *d = &i->op[0], *s = &i->op[1];
	if (i->nops != 2 || (s->kind != OPK_IMM && d->size != s->size))
		return x86_h_mov;
	if (d->kind == OPK_REG) {
		switch (s->kind) {
		case OPK_REG: return mov_rr;
		case OPK_IMM: return mov_ri;
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
