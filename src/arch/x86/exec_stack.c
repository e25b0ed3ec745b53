/* The stack: PUSH/POP in all forms, PUSHA/POPA, PUSHF/POPF, ENTER/LEAVE.
 *
 * RSP is committed only after every access of the instruction succeeded,
 * so a fault leaves the registers as they were.
 */
#include "arch/x86/insn.h"

unsigned x86_stack_size(const struct x86_cpu *cpu)
{
	if (x86_long64(cpu))
		return 8;
	return cpu->seg[X86_SS].db ? 4 : 2;
}

void x86_set_sp(struct x86_cpu *cpu, uint64_t sp)
{
	x86_gpr_set(cpu, X86_RSP, x86_stack_size(cpu), sp);
}

static inline uint64_t sp_off(const struct x86_cpu *cpu, int64_t delta)
{
	return (cpu->gpr[X86_RSP] + (uint64_t)delta) & x86_szmask(x86_stack_size(cpu));
}

void x86_push(struct x86_cpu *cpu, uint64_t v, unsigned size)
{
	uint64_t sp = sp_off(cpu, -(int64_t)size);
	x86_write_fast(cpu, X86_SS, sp, size, v);
	x86_set_sp(cpu, sp);
}

uint64_t x86_stack_peek(struct x86_cpu *cpu, uint64_t off, unsigned size)
{
	return x86_read_fast(cpu, X86_SS, sp_off(cpu, (int64_t)off), size);
}

uint64_t x86_pop(struct x86_cpu *cpu, unsigned size)
{
	uint64_t v = x86_stack_peek(cpu, 0, size);
	x86_set_sp(cpu, sp_off(cpu, size));
	return v;
}

int x86_h_push(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *o = &i->op[0];
	unsigned size = i->osize;
	if (o->kind == OPK_SREG) {
		/* Recent processors store only the selector's 16 bits. */
		uint64_t sp = sp_off(cpu, -(int64_t)size);
		x86_write(cpu, X86_SS, sp, 2, cpu->seg[o->reg].sel);
		x86_set_sp(cpu, sp);
		return X86_NEXT;
	}
	uint64_t v = o->kind == OPK_IMM ? (uint64_t)o->val : x86_op_read(cpu, i, o);
	x86_push(cpu, v, size);
	return X86_NEXT;
}

int x86_h_pop(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_op *o = &i->op[0];
	unsigned size = i->osize;
	uint64_t v = x86_stack_peek(cpu, 0, size);
	uint64_t nsp = sp_off(cpu, size);
	switch (o->kind) {
	case OPK_SREG:
		x86_load_seg(cpu, o->reg, v);
		x86_set_sp(cpu, nsp);
		if (o->reg == X86_SS) {
			cpu->shadow = KVM_X86_SHADOW_INT_MOV_SS;
			cpu->shadow_rip = cpu->rip;
		}
		return X86_END;
	case OPK_MEM: {
		/* The address uses RSP as incremented by the pop. */
		uint64_t saved = cpu->gpr[X86_RSP];
		x86_set_sp(cpu, nsp);
		uint64_t off = x86_ea(cpu, i, o);
		cpu->gpr[X86_RSP] = saved;
		x86_write(cpu, o->seg, off, o->size, v);
		x86_set_sp(cpu, nsp);
		return X86_NEXT;
	}
	default:
		x86_set_sp(cpu, nsp);
		x86_op_write(cpu, i, o, v);
		return X86_NEXT;
	}
}

int x86_h_pusha(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned s = i->osize;
	for (int r = 0; r < 8; r++) {
		/* The order is RAX first at the highest address; RSP as before. */
		uint64_t off = sp_off(cpu, -(int64_t)(s * (r + 1)));
		x86_write(cpu, X86_SS, off, s, cpu->gpr[r]);
	}
	x86_set_sp(cpu, sp_off(cpu, -(int64_t)(8 * s)));
	return X86_NEXT;
}

int x86_h_popa(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned s = i->osize;
	uint64_t v[8];
	for (int r = 0; r < 8; r++)
		v[7 - r] = x86_stack_peek(cpu, s * r, s);
	uint64_t nsp = sp_off(cpu, 8 * s);
	for (int r = 0; r < 8; r++)
		if (r != X86_RSP)
			x86_gpr_set(cpu, r, s, v[r]);
	x86_set_sp(cpu, nsp);
	return X86_NEXT;
}

/* The RFLAGS bits POPF/IRET may change in the current mode. */
uint64_t x86_popf_mask(const struct x86_cpu *cpu, unsigned size)
{
	uint64_t m = X86_STATUS_FLAGS | X86_TF | X86_DF_FLAG | X86_NT;
	if (size >= 4)
		m |= X86_AC_FLAG | X86_ID;
	unsigned iopl = (cpu->rflags & X86_IOPL) >> 12;
	if (cpu->mode == X86_MODE_VM86) {
		m |= X86_IF;                    /* IOPL 3, else POPF faulted */
	} else {
		if (!x86_protected(cpu) || cpu->cpl <= iopl)
			m |= X86_IF;
		if (!x86_protected(cpu) || cpu->cpl == 0)
			m |= X86_IOPL;
	}
	if (size == 2)
		m &= 0xffff;
	return m;
}

void x86_set_rflags(struct x86_cpu *cpu, uint64_t v, uint64_t writable)
{
	uint64_t old = cpu->rflags;
	cpu->rflags = (old & ~writable) | (v & writable) | 2;
	if ((old ^ cpu->rflags) & (X86_VM | X86_IOPL))
		x86_mode_changed(cpu);
}

int x86_h_pushf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (cpu->mode == X86_MODE_VM86 && (cpu->rflags & X86_IOPL) != X86_IOPL)
		x86_raise(cpu, X86_GP, true, 0);
	x86_push(cpu, cpu->rflags & ~(uint64_t)(X86_VM | X86_RF), i->osize);
	return X86_NEXT;
}

int x86_h_popf(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (cpu->mode == X86_MODE_VM86 && (cpu->rflags & X86_IOPL) != X86_IOPL)
		x86_raise(cpu, X86_GP, true, 0);
	uint64_t v = x86_stack_peek(cpu, 0, i->osize);
	uint64_t nsp = sp_off(cpu, i->osize);
	x86_set_rflags(cpu, v, x86_popf_mask(cpu, i->osize));
	x86_set_sp(cpu, nsp);
	return X86_END;
}

/* ENTER imm16, imm8 */
int x86_h_enter(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned s = i->osize, ss = x86_stack_size(cpu);
	uint64_t alloc = (uint64_t)i->op[0].val & 0xffff;
	unsigned level = (uint64_t)i->op[1].val & 31;
	uint64_t smask = x86_szmask(ss);
	uint64_t sp = (cpu->gpr[X86_RSP] - s) & smask;
	uint64_t rbp = cpu->gpr[X86_RBP];
	x86_write(cpu, X86_SS, sp, s, rbp);
	uint64_t frame = sp;
	if (level) {
		for (unsigned l = 1; l < level; l++) {
			uint64_t bp = (rbp - (uint64_t)l * s) & x86_szmask(ss);
			uint64_t v = x86_read(cpu, X86_SS, bp, s);
			sp = (sp - s) & smask;
			x86_write(cpu, X86_SS, sp, s, v);
		}
		sp = (sp - s) & smask;
		x86_write(cpu, X86_SS, sp, s, frame);
	}
	sp = (sp - alloc) & smask;
	/* The final RSP must be writable too: touch it as the CPU does. */
	if (alloc)
		x86_linear(cpu, X86_SS, sp, 1, X86_ACC_WRITE);
	x86_gpr_set(cpu, X86_RBP, s, frame);
	x86_set_sp(cpu, sp);
	return X86_NEXT;
}

int x86_h_leave(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned s = i->osize, ss = x86_stack_size(cpu);
	uint64_t bp = cpu->gpr[X86_RBP] & x86_szmask(ss);
	uint64_t v = x86_read(cpu, X86_SS, bp, s);
	x86_set_sp(cpu, bp + s);
	x86_gpr_set(cpu, X86_RBP, s, v);
	return X86_NEXT;
}
