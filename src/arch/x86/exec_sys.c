/* System instructions: HLT, CLI/STI, CPUID, MSRs, TSC, control and debug
 * registers, descriptor tables, LLDT/LTR, cache and TLB control.
 */
#include <Zydis/Zydis.h>

#include "arch/x86/insn.h"
#include "arch/x86/sys.h"

static inline void need_cpl0(struct x86_cpu *cpu)
{
	if (cpu->cpl != 0)
		x86_raise(cpu, X86_GP, true, 0);
}

static inline void need_protected(struct x86_cpu *cpu)
{
	if (!x86_protected(cpu))
		x86_raise(cpu, X86_UD, false, 0);
}

/* SGDT, SIDT, SLDT, STR, SMSW fault at CPL > 0 under CR4.UMIP. */
static inline void umip(struct x86_cpu *cpu)
{
	if ((cpu->cr4 & X86_CR4_UMIP) && cpu->cpl > 0)
		x86_raise(cpu, X86_GP, true, 0);
}

static inline void set_edx_eax(struct x86_cpu *cpu, uint64_t v)
{
	cpu->gpr[X86_RAX] = (uint32_t)v;
	cpu->gpr[X86_RDX] = v >> 32;
}

int x86_h_hlt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_cpl0(cpu);
	return X86_HALT;
}

static bool if_allowed(struct x86_cpu *cpu)
{
	unsigned iopl = (cpu->rflags & X86_IOPL) >> 12;
	if (!x86_protected(cpu) && cpu->mode != X86_MODE_VM86)
		return true;
	return cpu->cpl <= iopl;
}

int x86_h_cli(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!if_allowed(cpu))
		x86_raise(cpu, X86_GP, true, 0);
	cpu->rflags &= ~(uint64_t)X86_IF;
	return X86_END;
}

int x86_h_sti(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!if_allowed(cpu))
		x86_raise(cpu, X86_GP, true, 0);
	if (!(cpu->rflags & X86_IF)) {
		cpu->rflags |= X86_IF;
		cpu->shadow = KVM_X86_SHADOW_INT_STI;
		cpu->shadow_rip = cpu->rip;
	}
	return X86_END;
}

int x86_h_cpuid(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint32_t out[4];
	x86_cpuid(cpu, (uint32_t)cpu->gpr[X86_RAX], (uint32_t)cpu->gpr[X86_RCX], out);
	cpu->gpr[X86_RAX] = out[0];
	cpu->gpr[X86_RBX] = out[1];
	cpu->gpr[X86_RCX] = out[2];
	cpu->gpr[X86_RDX] = out[3];
	return X86_NEXT;
}

int x86_h_rdmsr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t v;
	need_cpl0(cpu);
	if (!x86_msr_read(cpu, (uint32_t)cpu->gpr[X86_RCX], &v))
		x86_raise(cpu, X86_GP, true, 0);
	set_edx_eax(cpu, v);
	return X86_NEXT;
}

int x86_h_wrmsr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_cpl0(cpu);
	uint64_t v = (uint32_t)cpu->gpr[X86_RAX] | (cpu->gpr[X86_RDX] << 32);
	if (!x86_msr_write(cpu, (uint32_t)cpu->gpr[X86_RCX], v))
		x86_raise(cpu, X86_GP, true, 0);
	return X86_END;
}

static void tsd_check(struct x86_cpu *cpu)
{
	if ((cpu->cr4 & X86_CR4_TSD) && cpu->cpl > 0 && x86_protected(cpu))
		x86_raise(cpu, X86_GP, true, 0);
}

int x86_h_rdtsc(struct x86_cpu *cpu, const struct x86_insn *i)
{
	tsd_check(cpu);
	set_edx_eax(cpu, x86_rdtsc(cpu));
	return X86_NEXT;
}

int x86_h_rdtscp(struct x86_cpu *cpu, const struct x86_insn *i)
{
	tsd_check(cpu);
	set_edx_eax(cpu, x86_rdtsc(cpu));
	cpu->gpr[X86_RCX] = (uint32_t)cpu->tsc_aux;
	return X86_NEXT;
}

/* INVPCID: type in the register, a 16-byte descriptor (PCID, address) in
 * memory. The checks are the SDM's; every type then flushes the whole TLB,
 * which is more than any asks for and so always right. */
int x86_h_invpcid(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint32_t r[4];
	x86_cpuid(cpu, 7, 0, r);
	if (!(r[1] & (1u << 10)) || cpu->mode == X86_MODE_VM86)
		x86_raise(cpu, X86_UD, false, 0);
	need_cpl0(cpu);
	uint64_t type = x86_op_read(cpu, i, &i->op[0]);
	const struct x86_op *m = &i->op[1];
	uint64_t off = x86_ea(cpu, i, m);
	uint64_t pcid = x86_read(cpu, m->seg, off, 8);
	uint64_t lin = x86_read(cpu, m->seg, (off + 8) & x86_szmask(i->asize), 8);
	bool pcide = cpu->cr4 & X86_CR4_PCIDE;
	if (type > 3 || (type <= 1 && pcid > 0xfff) ||
	    (type == 0 && !x86_canonical(cpu, lin)) || (type <= 1 && !pcide && pcid))
		x86_raise(cpu, X86_GP, true, 0);
	x86_tlb_flush(cpu);
	return X86_NEXT;
}

/* CLAC/STAC (sub 1): EFLAGS.AC for SMAP; CPL 0 only, #UD in virtual-8086
 * mode and without SMAP in the guest's CPUID. */
int x86_h_clac(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint32_t r[4];
	x86_cpuid(cpu, 7, 0, r);
	if (!(r[1] & (1u << 20)) || cpu->cpl != 0 || cpu->mode == X86_MODE_VM86)
		x86_raise(cpu, X86_UD, false, 0);
	if (i->sub)
		cpu->rflags |= X86_AC_FLAG;
	else
		cpu->rflags &= ~(uint64_t)X86_AC_FLAG;
	return X86_NEXT;
}

int x86_h_rdpid(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x86_gpr_set(cpu, i->op[0].reg, i->op[0].size, cpu->tsc_aux);
	return X86_NEXT;
}

/* MOV CRn, r (sub 0) / MOV r, CRn (sub 1). */
int x86_h_mov_cr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_cpl0(cpu);
	if (i->sub) {
		uint64_t v = x86_read_cr(cpu, i->op[1].reg);
		x86_gpr_set(cpu, i->op[0].reg, x86_long64(cpu) ? 8 : 4, v);
		return X86_NEXT;
	}
	uint64_t v = cpu->gpr[i->op[1].reg];
	if (!x86_long64(cpu))
		v = (uint32_t)v;
	x86_write_cr(cpu, i->op[0].reg, v);
	return X86_END;
}

#define DR6_FIXED 0xfffe0ff0ull
#define DR6_VOLATILE 0x0001e80full
#define DR7_FIXED 0x400ull
#define DR7_VOLATILE 0xffff2bffull

static int dr_index(struct x86_cpu *cpu, int n)
{
	if (n == 4 || n == 5) {
		if (cpu->cr4 & X86_CR4_DE)
			x86_raise(cpu, X86_UD, false, 0);
		n += 2;
	}
	if (n > 7)
		x86_raise(cpu, X86_UD, false, 0);
	return n;
}

#define DR6_BD (1ull << 13)
#define DR7_GD (1ull << 13)

/* DR7.GD (general detect) in the DR7 in force (the VMM's under
 * KVM_GUESTDBG_USE_HW_BP): any MOV DRn faults with #DB before it runs.
 * A debugging VMM gets KVM_EXIT_DEBUG at the MOV and the guest's DR6 is
 * untouched; otherwise the guest sees DR6.BD (the delivery clears GD). */
static void general_detect(struct x86_cpu *cpu)
{
	bool host_bp = cpu->guest_debug & KVM_GUESTDBG_USE_HW_BP;
	uint64_t dr7 = host_bp ? cpu->guest_dbg_dr7 : cpu->dr7;
	if (!(dr7 & DR7_GD))
		return;
	if (!host_bp) {
		cpu->dr6 = (cpu->dr6 & ~0xfull) | x86_dr6_fixed() | DR6_BD;
		x86_raise(cpu, X86_DB, false, 0);
	}
	struct kvm_run *run = x86_run(cpu);
	run->exit_reason = KVM_EXIT_DEBUG;
	run->debug.arch.exception = X86_DB;
	run->debug.arch.pc = cpu->seg[X86_CS].base + cpu->insn_rip;
	run->debug.arch.dr6 = x86_dr6_fixed() | DR6_BD;
	run->debug.arch.dr7 = dr7;
	cpu->rip = cpu->insn_rip;
	x86_io_log_clear(cpu);
	longjmp(cpu->unwind, X86_UNWIND_EXIT);
}

/* MOV DRn, r (sub 0) / MOV r, DRn (sub 1). */
int x86_h_mov_dr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_cpl0(cpu);
	int n = dr_index(cpu, i->op[i->sub ? 1 : 0].reg);
	general_detect(cpu);
	unsigned sz = x86_long64(cpu) ? 8 : 4;
	if (i->sub) {
		uint64_t v = n < 4 ? cpu->dr[n] : n == 6 ? cpu->dr6 : cpu->dr7;
		x86_gpr_set(cpu, i->op[0].reg, sz, v);
		return X86_NEXT;
	}
	uint64_t v = cpu->gpr[i->op[1].reg] & x86_szmask(sz);
	if (n < 4) {
		cpu->dr[n] = v;
	} else {
		if (v >> 32)
			x86_raise(cpu, X86_GP, true, 0);
		if (n == 6)
			cpu->dr6 = (v & DR6_VOLATILE) | DR6_FIXED;
		else
			cpu->dr7 = (v & DR7_VOLATILE) | DR7_FIXED;
	}
	return X86_END;
}

/* LGDT (sub 0) / LIDT (sub 1) */
int x86_h_lgdt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_cpl0(cpu);
	const struct x86_op *m = &i->op[0];
	uint64_t off = x86_ea(cpu, i, m);
	uint16_t limit = x86_read(cpu, m->seg, off, 2);
	uint64_t a2 = (off + 2) & x86_szmask(i->asize);
	uint64_t base = x86_long64(cpu) ? x86_read(cpu, m->seg, a2, 8)
					: x86_read(cpu, m->seg, a2, 4);
	if (!x86_long64(cpu) && i->osize == 2)
		base &= 0xffffff;
	struct x86_dtable *t = i->sub ? &cpu->idt : &cpu->gdt;
	t->base = base;
	t->limit = limit;
	return X86_END;
}

/* SGDT (sub 0) / SIDT (sub 1) */
int x86_h_sgdt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	umip(cpu);
	const struct x86_op *m = &i->op[0];
	const struct x86_dtable *t = i->sub ? &cpu->idt : &cpu->gdt;
	uint64_t off = x86_ea(cpu, i, m);
	uint64_t a2 = (off + 2) & x86_szmask(i->asize);
	x86_write(cpu, m->seg, off, 2, t->limit);
	if (x86_long64(cpu))
		x86_write(cpu, m->seg, a2, 8, t->base);
	else
		x86_write(cpu, m->seg, a2, 4, i->osize == 2 ? t->base & 0xffffff : t->base);
	return X86_NEXT;
}

static void write_sel(struct x86_cpu *cpu, const struct x86_insn *i, uint16_t sel)
{
	const struct x86_op *d = &i->op[0];
	if (d->kind == OPK_MEM)
		x86_write(cpu, d->seg, x86_ea(cpu, i, d), 2, sel);
	else
		x86_gpr_set(cpu, d->reg, d->size, sel);
}

int x86_h_sldt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_protected(cpu);
	umip(cpu);
	write_sel(cpu, i, cpu->ldt.sel);
	return X86_NEXT;
}

int x86_h_str(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_protected(cpu);
	umip(cpu);
	write_sel(cpu, i, cpu->tr.sel);
	return X86_NEXT;
}

static void sys_desc(struct x86_cpu *cpu, uint16_t sel, uint64_t d[2], struct x86_seg *s)
{
	if (sel & 4)
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
	if (!x86_read_descriptor(cpu, sel, d))
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
	x86_seg_from_desc(s, sel, d);
	if ((cpu->efer & X86_EFER_LMA) && ((d[1] >> 40) & 0x1f))
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
}

int x86_h_lldt(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_protected(cpu);
	need_cpl0(cpu);
	uint16_t sel = x86_op_read(cpu, i, &i->op[0]);
	if (!(sel & 0xfffc)) {
		cpu->ldt.sel = sel;
		cpu->ldt.unusable = 1;
		cpu->ldt.present = 0;
		return X86_END;
	}
	uint64_t d[2];
	struct x86_seg s;
	sys_desc(cpu, sel, d, &s);
	if (s.s || s.type != 2)
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
	if (!s.present)
		x86_raise(cpu, X86_NP, true, sel & 0xfffc);
	cpu->ldt = s;
	return X86_END;
}

int x86_h_ltr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_protected(cpu);
	need_cpl0(cpu);
	uint16_t sel = x86_op_read(cpu, i, &i->op[0]);
	if (!(sel & 0xfffc))
		x86_raise(cpu, X86_GP, true, 0);
	uint64_t d[2];
	struct x86_seg s;
	sys_desc(cpu, sel, d, &s);
	bool lma = cpu->efer & X86_EFER_LMA;
	if (s.s || !(s.type == 9 || (!lma && s.type == 1)))
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
	if (!s.present)
		x86_raise(cpu, X86_NP, true, sel & 0xfffc);
	/* Mark the descriptor busy in the GDT. */
	uint8_t b = (uint8_t)(d[0] >> 40) | 2;
	x86_write_lin(cpu, cpu->gdt.base + (sel & ~7u) + 5, 1, b);
	s.type |= 2;
	cpu->tr = s;
	return X86_END;
}

int x86_h_lmsw(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_cpl0(cpu);
	uint64_t v = x86_op_read(cpu, i, &i->op[0]) & 0xf;
	uint64_t cr0 = cpu->cr0;
	x86_write_cr(cpu, 0, (cr0 & ~0xeull) | v | (cr0 & X86_CR0_PE));
	return X86_END;
}

int x86_h_smsw(struct x86_cpu *cpu, const struct x86_insn *i)
{
	umip(cpu);
	const struct x86_op *d = &i->op[0];
	if (d->kind == OPK_MEM)
		x86_write(cpu, d->seg, x86_ea(cpu, i, d), 2, cpu->cr0);
	else
		x86_gpr_set(cpu, d->reg, d->size, cpu->cr0);
	return X86_NEXT;
}

int x86_h_clts(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_cpl0(cpu);
	x86_write_cr(cpu, 0, cpu->cr0 & ~X86_CR0_TS);
	return X86_END;
}

int x86_h_invlpg(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_cpl0(cpu);
	const struct x86_op *m = &i->op[0];
	uint64_t off = x86_ea(cpu, i, m), lin;
	if (x86_long64(cpu))
		lin = off + (m->seg >= X86_FS ? cpu->seg[m->seg].base : 0);
	else
		lin = (cpu->seg[m->seg].base + off) & 0xffffffffull;
	x86_tlb_flush_page(cpu, lin);
	return X86_NEXT;
}

/* sub 0: WBINVD/INVD (CPL 0); 1: CLFLUSH and kin (address checked);
 * 2: fences and hints. */
int x86_h_cache(struct x86_cpu *cpu, const struct x86_insn *i)
{
	switch (i->sub) {
	case 0:
		need_cpl0(cpu);
		break;
	case 1: {
		const struct x86_op *m = &i->op[0];
		x86_linear(cpu, m->seg, x86_ea(cpu, i, m), 1, X86_ACC_READ);
		break;
	}
	default:
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		break;
	}
	return X86_NEXT;
}

/* LAR/LSL: the descriptor's access rights or limit when visible at this
 * privilege, ZF says whether. */
static bool desc_visible(struct x86_cpu *cpu, uint16_t sel, struct x86_seg *s, bool lar)
{
	uint64_t d[2];
	if (!(sel & 0xfffc) || !x86_read_descriptor(cpu, sel, d))
		return false;
	x86_seg_from_desc(s, sel, d);
	if (!s->s) {
		bool lma = cpu->efer & X86_EFER_LMA;
		static const uint16_t ok_legacy_lar = 0x1e3e, ok_legacy_lsl = 0x0a0e;
		static const uint16_t ok_long_lar = 0x1a04, ok_long_lsl = 0x0a04;
		uint16_t ok = lma ? (lar ? ok_long_lar : ok_long_lsl)
				  : (lar ? ok_legacy_lar : ok_legacy_lsl);
		if (!((ok >> s->type) & 1))
			return false;
	}
	bool conforming = s->s && (s->type & 0xc) == 0xc;
	if (!conforming && (s->dpl < cpu->cpl || s->dpl < (sel & 3)))
		return false;
	return true;
}

int x86_h_lar(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_protected(cpu);
	uint16_t sel = x86_op_read(cpu, i, &i->op[1]);
	struct x86_seg s;
	uint64_t d[2];
	if (desc_visible(cpu, sel, &s, true) && x86_read_descriptor(cpu, sel, d)) {
		x86_gpr_set(cpu, i->op[0].reg, i->op[0].size, (d[0] >> 32) & 0x00f0ff00);
		cpu->rflags |= X86_ZF;
	} else {
		cpu->rflags &= ~(uint64_t)X86_ZF;
	}
	return X86_NEXT;
}

int x86_h_lsl(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_protected(cpu);
	uint16_t sel = x86_op_read(cpu, i, &i->op[1]);
	struct x86_seg s;
	if (desc_visible(cpu, sel, &s, false)) {
		x86_gpr_set(cpu, i->op[0].reg, i->op[0].size, s.limit);
		cpu->rflags |= X86_ZF;
	} else {
		cpu->rflags &= ~(uint64_t)X86_ZF;
	}
	return X86_NEXT;
}

/* VERR (sub 0) / VERW (sub 1) */
int x86_h_verr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	need_protected(cpu);
	uint16_t sel = x86_op_read(cpu, i, &i->op[0]);
	struct x86_seg s;
	bool ok = desc_visible(cpu, sel, &s, true) && s.s;
	if (ok)
		ok = i->sub ? (s.type & 0xa) == 0x2 : ((s.type & 8) == 0 || (s.type & 2));
	if (ok)
		cpu->rflags |= X86_ZF;
	else
		cpu->rflags &= ~(uint64_t)X86_ZF;
	return X86_NEXT;
}

int x86_h_swapgs(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!x86_long64(cpu))
		x86_raise(cpu, X86_UD, false, 0);
	need_cpl0(cpu);
	uint64_t t = cpu->seg[X86_GS].base;
	cpu->seg[X86_GS].base = cpu->kernel_gs_base;
	cpu->kernel_gs_base = t;
	return X86_NEXT;
}

static void fsgsbase_check(struct x86_cpu *cpu)
{
	if (!x86_long64(cpu) || !(cpu->cr4 & X86_CR4_FSGSBASE))
		x86_raise(cpu, X86_UD, false, 0);
}

/* RDFSBASE/RDGSBASE: sub 0 FS, 1 GS. */
int x86_h_rdfsbase(struct x86_cpu *cpu, const struct x86_insn *i)
{
	fsgsbase_check(cpu);
	uint64_t b = cpu->seg[i->sub ? X86_GS : X86_FS].base;
	x86_gpr_set(cpu, i->op[0].reg, i->op[0].size, b);
	return X86_NEXT;
}

int x86_h_wrfsbase(struct x86_cpu *cpu, const struct x86_insn *i)
{
	fsgsbase_check(cpu);
	uint64_t b = x86_op_read(cpu, i, &i->op[0]);
	if (!x86_canonical(cpu, b))
		x86_raise(cpu, X86_GP, true, 0);
	cpu->seg[i->sub ? X86_GS : X86_FS].base = b;
	return X86_NEXT;
}

int x86_h_xgetbv(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!(cpu->cr4 & X86_CR4_OSXSAVE))
		x86_raise(cpu, X86_UD, false, 0);
	uint32_t idx = (uint32_t)cpu->gpr[X86_RCX];
	if (idx == 1 && x86_guest_has_xgetbv1(cpu)) {
		set_edx_eax(cpu, cpu->xcr0 & x86_xinuse(cpu));
		return X86_NEXT;
	}
	if (idx != 0)
		x86_raise(cpu, X86_GP, true, 0);
	set_edx_eax(cpu, cpu->xcr0);
	return X86_NEXT;
}

int x86_h_xsetbv(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (!(cpu->cr4 & X86_CR4_OSXSAVE))
		x86_raise(cpu, X86_UD, false, 0);
	need_cpl0(cpu);
	uint64_t v = (uint32_t)cpu->gpr[X86_RAX] | (cpu->gpr[X86_RDX] << 32);
	if (!x86_set_xcr(cpu, (uint32_t)cpu->gpr[X86_RCX], v))
		x86_raise(cpu, X86_GP, true, 0);
	return X86_NEXT;
}

/* VMCALL/VMMCALL: KVM answers them itself (hypercall.c). */
int x86_h_vmcall(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if ((i->mnem == ZYDIS_MNEMONIC_VMMCALL) != x86_hypercall_is_vmmcall(cpu))
		return x86_hypercall_foreign(cpu);
	x86_hypercall(cpu);
	return X86_NEXT;
}

/* MONITOR (sub 0) / MWAIT (sub 1): KVM runs them as NOPs. Their #UD at
 * CPL > 0 comes before the VM exit; the CPUID one only when the
 * KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS quirk is off. */
int x86_h_monitor(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	if (cpu->cpl != 0)
		x86_raise(cpu, X86_UD, false, 0);
	if (!x86_has_quirk(cpu->vm, KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS)) {
		uint32_t r[4];
		x86_cpuid(cpu, 1, 0, r);
		if (!(r[2] & (1u << 3)))
			x86_raise(cpu, X86_UD, false, 0);
	}
	return X86_NEXT;
}
