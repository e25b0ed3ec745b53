/* Near control transfers (JMP, Jcc, CALL, RET, LOOP, JCXZ) and software
 * interrupts. Far forms dispatch to exec_far.c.
 */
#include "arch/x86/insn.h"
#include "kvm/kvm.h"

void x86_far_jmp(struct x86_cpu *cpu, const struct x86_insn *i, uint16_t sel, uint64_t off,
		 bool call);
int x86_far_ret(struct x86_cpu *cpu, const struct x86_insn *i);

static inline uint64_t ip_mask(const struct x86_insn *i)
{
	return x86_szmask(i->osize);
}

/* Check a near branch target: CS limit outside 64-bit mode, canonical
 * inside it. */
static inline void check_target(struct x86_cpu *cpu, uint64_t t)
{
	if (x86_long64(cpu)) {
		if (!x86_canonical(cpu, t))
			x86_raise(cpu, X86_GP, true, 0);
	} else if (t > cpu->seg[X86_CS].limit) {
		x86_raise(cpu, X86_GP, true, 0);
	}
}

static inline uint64_t rel_target(const struct x86_cpu *cpu, const struct x86_insn *i)
{
	return (cpu->rip + (uint64_t)i->op[0].val) & ip_mask(i);
}

/* Read a far pointer operand: offset (osize) then selector. */
static void far_operand(struct x86_cpu *cpu, const struct x86_insn *i, uint16_t *sel,
			uint64_t *off)
{
	const struct x86_op *o = &i->op[0];
	if (o->kind == OPK_FAR) {
		*sel = o->sel;
		*off = (uint64_t)o->val;
		return;
	}
	uint64_t ea = x86_ea(cpu, i, o);
	unsigned s = i->osize;
	*off = x86_read(cpu, o->seg, ea, s);
	*sel = x86_read(cpu, o->seg, (ea + s) & x86_szmask(i->asize), 2);
}

int x86_h_jmp(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t t;
	if (i->far) {
		uint16_t sel;
		far_operand(cpu, i, &sel, &t);
		x86_far_jmp(cpu, i, sel, t, false);
		return X86_END;
	}
	if (i->op[0].kind == OPK_IMM)
		t = rel_target(cpu, i);
	else
		t = x86_op_read(cpu, i, &i->op[0]) & ip_mask(i);
	check_target(cpu, t);
	cpu->rip = t;
	return X86_BRANCH;
}

int x86_h_jcc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (x86_cond(cpu->rflags, i->sub)) {
		uint64_t t = rel_target(cpu, i);
		check_target(cpu, t);
		cpu->rip = t;
		return X86_BRANCH;
	}
	/* Not taken: the block goes on (blocks run past a Jcc). */
	return X86_NEXT;
}

/* Jcc with its condition fixed at decode time (x86_jcc_fast). */
static int jcc_taken(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t t = rel_target(cpu, i);
	check_target(cpu, t);
	cpu->rip = t;
	return X86_BRANCH;
}

/* Not taken, a Jcc changes nothing: it threads on (x86_thread). */
#define JCC(cc)                                                                  \
	static int jcc_##cc(struct x86_cpu *cpu, const struct x86_insn *i)       \
	{                                                                        \
		if (x86_cond(cpu->rflags, cc))                                   \
			return jcc_taken(cpu, i);                                \
		return x86_thread(cpu, i);                                       \
	}
JCC(0) JCC(1) JCC(2) JCC(3) JCC(4) JCC(5) JCC(6) JCC(7)
JCC(8) JCC(9) JCC(10) JCC(11) JCC(12) JCC(13) JCC(14) JCC(15)

static const x86_fn jcc_tab[16] = {
	jcc_0, jcc_1, jcc_2, jcc_3, jcc_4, jcc_5, jcc_6, jcc_7,
	jcc_8, jcc_9, jcc_10, jcc_11, jcc_12, jcc_13, jcc_14, jcc_15,
};

x86_fn x86_jcc_fast(unsigned cc)
{
	return jcc_tab[cc & 15];
}

bool x86_ctl_threads(x86_fn f)
{
	for (unsigned cc = 0; cc < 16; cc++)
		if (f == jcc_tab[cc])
			return true;
	return false;
}

int x86_h_call(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t t;
	if (i->far) {
		uint16_t sel;
		far_operand(cpu, i, &sel, &t);
		x86_far_jmp(cpu, i, sel, t, true);
		return X86_END;
	}
	if (i->op[0].kind == OPK_IMM)
		t = rel_target(cpu, i);
	else
		t = x86_op_read(cpu, i, &i->op[0]) & ip_mask(i);
	check_target(cpu, t);
	x86_push(cpu, cpu->rip, i->osize);
	cpu->rip = t;
	return X86_BRANCH;
}

int x86_h_ret(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (i->far)
		return x86_far_ret(cpu, i);
	unsigned s = i->osize;
	uint64_t t = x86_stack_peek(cpu, 0, s);
	uint64_t imm = i->nops ? ((uint64_t)i->op[0].val & 0xffff) : 0;
	check_target(cpu, t);
	x86_set_sp(cpu, cpu->gpr[X86_RSP] + s + imm);
	cpu->rip = t;
	return X86_BRANCH;
}

/* LOOP (sub 0), LOOPE (1), LOOPNE (2); the count register by address size. */
int x86_h_loop(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned as = i->asize;
	uint64_t c = (cpu->gpr[X86_RCX] - 1) & x86_szmask(as);
	bool take = c != 0;
	if (i->sub == 1)
		take = take && (cpu->rflags & X86_ZF);
	else if (i->sub == 2)
		take = take && !(cpu->rflags & X86_ZF);
	uint64_t t = rel_target(cpu, i);
	if (take)
		check_target(cpu, t);
	x86_gpr_set(cpu, X86_RCX, as, c);
	if (take)
		cpu->rip = t;
	return X86_BRANCH;
}

int x86_h_jcxz(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!(cpu->gpr[X86_RCX] & x86_szmask(i->asize))) {
		uint64_t t = rel_target(cpu, i);
		check_target(cpu, t);
		cpu->rip = t;
	}
	return X86_BRANCH;
}

void x86_soft_int(struct x86_cpu *cpu, int vec, bool soft)
{
	if (!x86_deliver(cpu, vec, false, 0, soft, cpu->rip))
		x86_exit_to_user(cpu);
}

/* INT n (sub 0), INT3 (1), INTO (2), INT1/ICEBP (3). */
int x86_h_int(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (i->sub != 3 && cpu->mode == X86_MODE_VM86 &&
	    (cpu->rflags & X86_IOPL) != X86_IOPL)
		x86_raise(cpu, X86_GP, true, 0);
	switch (i->sub) {
	case 0:
		x86_soft_int(cpu, (uint8_t)i->op[0].val, true);
		break;
	case 1:
		if ((cpu->guest_debug & KVM_GUESTDBG_ENABLE) &&
		    (cpu->guest_debug & KVM_GUESTDBG_USE_SW_BP)) {
			struct kvm_run *run = cpu->vcpu->run;
			run->exit_reason = KVM_EXIT_DEBUG;
			run->debug.arch.exception = X86_BP;
			run->debug.arch.pc = cpu->seg[X86_CS].base + cpu->insn_rip;
			run->debug.arch.dr6 = cpu->dr6;
			run->debug.arch.dr7 = cpu->dr7;
			x86_exit_to_user(cpu);
		}
		x86_soft_int(cpu, X86_BP, true);
		break;
	case 2:
		if (x86_long64(cpu))
			x86_raise(cpu, X86_UD, false, 0);
		if (cpu->rflags & X86_OF)
			x86_soft_int(cpu, X86_OF, true);
		break;
	default:
		x86_soft_int(cpu, X86_DB, false);
		break;
	}
	return X86_END;
}
