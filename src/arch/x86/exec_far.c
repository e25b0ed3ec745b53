/* Far control transfers: JMP/CALL far, RET far, IRET in every mode, and the
 * fast system calls (SYSCALL/SYSRET, SYSENTER/SYSEXIT).
 *
 * Every access that can fault happens before the first register changes.
 * Task switches are task.c's; call gates are except.c's (they share the
 * interrupt gates' stack switch).
 */
#include "arch/x86/insn.h"

void x86_far_jmp(struct x86_cpu *cpu, const struct x86_insn *i, uint16_t sel, uint64_t off,
		 bool call);
int x86_far_ret(struct x86_cpu *cpu, const struct x86_insn *i);

void x86_set_cs_real(struct x86_cpu *cpu, uint16_t sel)
{
	x86_load_seg(cpu, X86_CS, sel);
}

static void read_desc(struct x86_cpu *cpu, uint16_t sel, struct x86_seg *s)
{
	uint64_t d[2];
	if (!x86_read_descriptor(cpu, sel, d))
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
	x86_seg_from_desc(s, sel, d);
}

/* The target code segment of a far transfer: the checks common to all. */
static void check_code(struct x86_cpu *cpu, const struct x86_seg *cs, uint16_t sel)
{
	if (!cs->s || !(cs->type & 8))
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
	if ((cpu->efer & X86_EFER_LMA) && cs->l && cs->db)
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
}

static void check_offset(struct x86_cpu *cpu, const struct x86_seg *cs, uint64_t off)
{
	bool to64 = (cpu->efer & X86_EFER_LMA) && cs->l;
	if (to64 ? !x86_canonical(cpu, off) : off > cs->limit)
		x86_raise(cpu, X86_GP, true, 0);
}

void x86_far_jmp(struct x86_cpu *cpu, const struct x86_insn *i, uint16_t sel, uint64_t off,
		 bool call)
{
	unsigned s = i->osize;
	uint64_t sp = cpu->gpr[X86_RSP];
	uint64_t smask = x86_szmask(x86_stack_size(cpu));
	if (call) {
		/* Stack writes first: below RSP, harmless if what follows faults. */
		x86_write(cpu, X86_SS, (sp - s) & smask, s == 8 ? 8 : s, cpu->seg[X86_CS].sel);
		x86_write(cpu, X86_SS, (sp - 2 * s) & smask, s, cpu->rip);
		sp = (sp - 2 * s) & smask;
	}
	if (!x86_protected(cpu)) {
		x86_load_seg(cpu, X86_CS, sel);
		cpu->rip = off & x86_szmask(s);
	} else {
		if (!(sel & 0xfffc))
			x86_raise(cpu, X86_GP, true, 0);
		struct x86_seg n;
		read_desc(cpu, sel, &n);
		if (!n.s) {
			x86_task_far(cpu, sel, call);    /* TSS, task gate (task.c) */
			return;
		}
		check_code(cpu, &n, sel);
		check_offset(cpu, &n, off);
		x86_load_seg(cpu, X86_CS, sel);  /* privilege checks, accessed bit */
		cpu->rip = x86_long64(cpu) ? off : off & 0xffffffffull;
	}
	if (call)
		x86_set_sp(cpu, sp);
}

/* Return to sel:rip (RET far, IRET). With load_ss, SS:RSP come from the
 * stack too; lower-privileged data segments are then nulled. */
static void far_return(struct x86_cpu *cpu, uint16_t sel, uint64_t rip, bool load_ss,
		       uint16_t ss_sel, uint64_t rsp)
{
	unsigned rpl = sel & 3, cpl = cpu->cpl;
	if (!(sel & 0xfffc))
		x86_raise(cpu, X86_GP, true, 0);
	struct x86_seg cs, ss = cpu->seg[X86_SS];
	read_desc(cpu, sel, &cs);
	if (rpl < cpl)
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
	check_code(cpu, &cs, sel);
	if ((cs.type & 4) ? cs.dpl > rpl : cs.dpl != rpl)
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
	if (!cs.present)
		x86_raise(cpu, X86_NP, true, sel & 0xfffc);
	bool to64 = (cpu->efer & X86_EFER_LMA) && cs.l;
	if (load_ss) {
		if (!(ss_sel & 0xfffc)) {
			if (!to64 || rpl == 3)
				x86_raise(cpu, X86_GP, true, 0);
			ss.sel = ss_sel;
			ss.unusable = 1;
			ss.present = 0;
			ss.dpl = rpl;
		} else {
			read_desc(cpu, ss_sel, &ss);
			if ((ss_sel & 3) != rpl || ss.dpl != rpl || !ss.s || (ss.type & 0xa) != 0x2)
				x86_raise(cpu, X86_GP, true, ss_sel & 0xfffc);
			if (!ss.present)
				x86_raise(cpu, X86_SS_EXC, true, ss_sel & 0xfffc);
			ss.type |= 1;
		}
	}
	check_offset(cpu, &cs, rip);
	cs.type |= 1;
	cpu->seg[X86_CS] = cs;
	if (load_ss) {
		cpu->seg[X86_SS] = ss;
	}
	x86_mode_changed(cpu);
	cpu->rip = to64 ? rip : rip & 0xffffffffull;
	if (load_ss)
		x86_set_sp(cpu, rsp);
	if (rpl > cpl) {
		static const int data[] = { X86_ES, X86_DS, X86_FS, X86_GS };
		for (int k = 0; k < 4; k++) {
			struct x86_seg *d = &cpu->seg[data[k]];
			bool conf_code = (d->type & 0xc) == 0xc;
			if (!d->unusable && !conf_code && d->dpl < rpl) {
				d->sel = 0;
				d->unusable = 1;
				d->present = 0;
			}
		}
	}
}

int x86_far_ret(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned s = i->osize;
	uint64_t imm = i->nops ? ((uint64_t)i->op[0].val & 0xffff) : 0;
	uint64_t rip = x86_stack_peek(cpu, 0, s);
	uint16_t sel = x86_stack_peek(cpu, s, s == 8 ? 8 : s);
	if (!x86_protected(cpu)) {
		x86_load_seg(cpu, X86_CS, sel);
		cpu->rip = rip & x86_szmask(s);
		x86_set_sp(cpu, cpu->gpr[X86_RSP] + 2 * s + imm);
		return X86_END;
	}
	if ((sel & 3) > cpu->cpl) {
		uint64_t rsp = x86_stack_peek(cpu, 2 * s + imm, s);
		uint16_t ss = x86_stack_peek(cpu, 3 * s + imm, s == 8 ? 8 : s);
		far_return(cpu, sel, rip, true, ss, rsp + imm);
	} else {
		uint64_t nsp = cpu->gpr[X86_RSP] + 2 * s + imm;
		far_return(cpu, sel, rip, false, 0, 0);
		x86_set_sp(cpu, nsp);
	}
	return X86_END;
}

/* ---- IRET ---- */

static int iret_real(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned s = i->osize;
	if (cpu->mode == X86_MODE_VM86 && (cpu->rflags & X86_IOPL) != X86_IOPL)
		x86_raise(cpu, X86_GP, true, 0);
	uint64_t rip = x86_stack_peek(cpu, 0, s);
	uint16_t sel = x86_stack_peek(cpu, s, 2);
	uint64_t fl = x86_stack_peek(cpu, 2 * s, s);
	if (cpu->mode == X86_MODE_VM86 && rip > 0xffff)
		x86_raise(cpu, X86_GP, true, 0);
	uint64_t mask = x86_popf_mask(cpu, s);
	if (s >= 4)
		mask |= X86_RF;
	x86_load_seg(cpu, X86_CS, sel);
	cpu->rip = rip & x86_szmask(s);
	x86_set_sp(cpu, cpu->gpr[X86_RSP] + 3 * s);
	x86_set_rflags(cpu, fl, mask);
	return X86_END;
}

static int iret_to_vm86(struct x86_cpu *cpu, uint64_t rip, uint16_t cs, uint64_t fl)
{
	uint64_t v[6];
	for (int k = 0; k < 6; k++)
		v[k] = x86_stack_peek(cpu, 12 + 4 * k, 4);
	cpu->rflags = (fl & 0x3f7fd5ull) | 2;
	x86_mode_changed(cpu);
	x86_load_seg(cpu, X86_CS, cs);
	x86_load_seg(cpu, X86_SS, v[1]);
	x86_load_seg(cpu, X86_ES, v[2]);
	x86_load_seg(cpu, X86_DS, v[3]);
	x86_load_seg(cpu, X86_FS, v[4]);
	x86_load_seg(cpu, X86_GS, v[5]);
	cpu->gpr[X86_RSP] = (uint32_t)v[0];
	cpu->rip = rip & 0xffff;
	return X86_END;
}

int x86_h_iret(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!x86_protected(cpu))
		return iret_real(cpu, i);
	unsigned s = i->osize;
	bool lma = cpu->efer & X86_EFER_LMA;
	if (cpu->rflags & X86_NT) {
		if (lma)
			x86_raise(cpu, X86_GP, true, 0);
		return x86_task_iret(cpu);
	}
	uint64_t rip = x86_stack_peek(cpu, 0, s);
	uint16_t sel = x86_stack_peek(cpu, s, 2);
	uint64_t fl = x86_stack_peek(cpu, 2 * s, s);
	if (s == 2)
		fl = (cpu->rflags & ~0xffffull) | fl;
	if (!lma && (fl & X86_VM) && cpu->cpl == 0 && s == 4)
		return iret_to_vm86(cpu, rip, sel, fl);
	uint64_t mask = x86_popf_mask(cpu, s) | (s >= 4 ? X86_RF : 0);
	if (cpu->cpl == 0 && s >= 4)
		mask |= (1u << 19) | (1u << 20); /* VIF, VIP */
	bool pop_ss = x86_long64(cpu) || (sel & 3) > cpu->cpl;
	if (pop_ss) {
		uint64_t rsp = x86_stack_peek(cpu, 3 * s, s);
		uint16_t ss = x86_stack_peek(cpu, 4 * s, 2);
		far_return(cpu, sel, rip, true, ss, rsp);
	} else {
		uint64_t nsp = cpu->gpr[X86_RSP] + 3 * s;
		far_return(cpu, sel, rip, false, 0, 0);
		x86_set_sp(cpu, nsp);
	}
	x86_set_rflags(cpu, fl, mask);
	cpu->nmi_masked = false;
	return X86_END;
}

/* ---- SYSCALL/SYSRET, SYSENTER/SYSEXIT ---- */

static void flat(struct x86_seg *s, uint16_t sel, bool code, unsigned dpl, bool l64)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->type = code ? 0xb : 0x3;
	s->s = 1;
	s->dpl = dpl;
	s->present = 1;
	s->avl = 0;
	s->l = code && l64;
	s->db = !(code && l64);
	s->g = 1;
	s->unusable = 0;
}

int x86_h_syscall(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!(cpu->efer & X86_EFER_SCE) || !x86_protected(cpu))
		x86_raise(cpu, X86_UD, false, 0);
	uint16_t sel = (cpu->star >> 32) & 0xfffc;
	if (cpu->efer & X86_EFER_LMA) {
		cpu->gpr[X86_RCX] = cpu->rip;
		cpu->gpr[X86_R11] = cpu->rflags & ~(uint64_t)X86_RF;
		cpu->rip = x86_long64(cpu) ? cpu->lstar : cpu->cstar;
		cpu->rflags &= ~(cpu->sfmask | X86_RF);
		flat(&cpu->seg[X86_CS], sel, true, 0, true);
	} else {
		cpu->gpr[X86_RCX] = (uint32_t)cpu->rip;
		cpu->rip = (uint32_t)cpu->star;
		cpu->rflags &= ~(uint64_t)(X86_VM | X86_IF | X86_RF);
		flat(&cpu->seg[X86_CS], sel, true, 0, false);
	}
	cpu->rflags |= 2;
	flat(&cpu->seg[X86_SS], sel + 8, false, 0, false);
	x86_mode_changed(cpu);
	return X86_END;
}

int x86_h_sysret(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!(cpu->efer & X86_EFER_SCE))
		x86_raise(cpu, X86_UD, false, 0);
	if (!x86_protected(cpu) || cpu->cpl != 0)
		x86_raise(cpu, X86_GP, true, 0);
	uint16_t base = cpu->star >> 48;
	if (cpu->efer & X86_EFER_LMA) {
		bool to64 = i->osize == 8;
		uint64_t rip = to64 ? cpu->gpr[X86_RCX] : (uint32_t)cpu->gpr[X86_RCX];
		if (!x86_canonical(cpu, rip))
			x86_raise(cpu, X86_GP, true, 0);
		flat(&cpu->seg[X86_CS], (to64 ? base + 16 : base) | 3, true, 3, to64);
		cpu->rflags = (cpu->gpr[X86_R11] & 0x3c7fd7ull) | 2;
		cpu->rip = rip;
	} else {
		flat(&cpu->seg[X86_CS], base | 3, true, 3, false);
		cpu->rflags |= X86_IF;
		cpu->rip = (uint32_t)cpu->gpr[X86_RCX];
	}
	flat(&cpu->seg[X86_SS], (base + 8) | 3, false, 3, false);
	x86_mode_changed(cpu);
	return X86_END;
}

int x86_h_sysenter(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint16_t sel = cpu->sysenter_cs & 0xfffc;
	if (!x86_protected(cpu) || !sel)
		x86_raise(cpu, X86_GP, true, 0);
	bool lma = cpu->efer & X86_EFER_LMA;
	cpu->rflags &= ~(uint64_t)(X86_VM | X86_IF | X86_RF);
	flat(&cpu->seg[X86_CS], sel, true, 0, lma);
	flat(&cpu->seg[X86_SS], sel + 8, false, 0, false);
	cpu->rip = lma ? cpu->sysenter_eip : (uint32_t)cpu->sysenter_eip;
	cpu->gpr[X86_RSP] = lma ? cpu->sysenter_esp : (uint32_t)cpu->sysenter_esp;
	x86_mode_changed(cpu);
	return X86_END;
}

int x86_h_sysexit(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint16_t sel = cpu->sysenter_cs & 0xfffc;
	if (!x86_protected(cpu) || cpu->cpl != 0 || !sel)
		x86_raise(cpu, X86_GP, true, 0);
	bool to64 = i->osize == 8;
	uint64_t rip = cpu->gpr[X86_RDX], rsp = cpu->gpr[X86_RCX];
	if (to64 && (!x86_canonical(cpu, rip) || !x86_canonical(cpu, rsp)))
		x86_raise(cpu, X86_GP, true, 0);
	flat(&cpu->seg[X86_CS], (sel + (to64 ? 32 : 16)) | 3, true, 3, to64);
	flat(&cpu->seg[X86_SS], (sel + (to64 ? 40 : 24)) | 3, false, 3, false);
	cpu->rip = to64 ? rip : (uint32_t)rip;
	cpu->gpr[X86_RSP] = to64 ? rsp : (uint32_t)rsp;
	x86_mode_changed(cpu);
	return X86_END;
}
