/* Segments, descriptors, control registers and the derived CPU mode. */
#include <string.h>

#include "arch/x86/sys.h"

void x86_seg_from_desc(struct x86_seg *s, uint16_t sel, const uint64_t desc[2])
{
	uint64_t d = desc[0];
	uint32_t limit = (d & 0xffff) | ((d >> 32) & 0xf0000);
	s->sel = sel;
	s->base = ((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24;
	s->type = (d >> 40) & 0xf;
	s->s = (d >> 44) & 1;
	s->dpl = (d >> 45) & 3;
	s->present = (d >> 47) & 1;
	s->avl = (d >> 52) & 1;
	s->l = (d >> 53) & 1;
	s->db = (d >> 54) & 1;
	s->g = (d >> 55) & 1;
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->unusable = 0;
	if (!s->s)
		s->base |= desc[1] << 32;
}

bool x86_read_descriptor(struct x86_cpu *cpu, uint16_t sel, uint64_t desc[2])
{
	uint64_t base, limit;
	if (sel & 4) {
		if (cpu->ldt.unusable || !cpu->ldt.present)
			return false;
		base = cpu->ldt.base;
		limit = cpu->ldt.limit;
	} else {
		base = cpu->gdt.base;
		limit = cpu->gdt.limit;
	}
	uint32_t idx = sel & ~7u;
	if (idx + 7 > limit)
		return false;
	x86_sys_read(cpu, base + idx, &desc[0], 8);
	desc[1] = 0;
	if ((cpu->efer & X86_EFER_LMA) && !((desc[0] >> 44) & 1)) {
		if (idx + 15 > limit)
			return false;
		x86_sys_read(cpu, base + idx + 8, &desc[1], 8);
	}
	return true;
}

static void set_accessed(struct x86_cpu *cpu, uint16_t sel, struct x86_seg *s)
{
	if (s->type & 1)
		return;
	s->type |= 1;
	uint64_t base = (sel & 4) ? cpu->ldt.base : cpu->gdt.base;
	uint8_t b = 0x80 | s->dpl << 5 | s->s << 4 | s->type;
	x86_sys_write(cpu, base + (sel & ~7u) + 5, &b, 1);
}

/* Far JMP/CALL to a code segment at the same privilege (no gates). */
static void load_cs(struct x86_cpu *cpu, uint16_t sel, struct x86_seg *s)
{
	unsigned rpl = sel & 3;
	if (!s->s || !(s->type & 8))
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
	if (s->type & 4) {
		if (s->dpl > cpu->cpl)
			x86_raise(cpu, X86_GP, true, sel & 0xfffc);
	} else if (rpl > cpu->cpl || s->dpl != cpu->cpl) {
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
	}
	if (!s->present)
		x86_raise(cpu, X86_NP, true, sel & 0xfffc);
	set_accessed(cpu, sel, s);
	s->sel = (sel & ~3) | cpu->cpl;
	cpu->seg[X86_CS] = *s;
	x86_mode_changed(cpu);
}

void x86_load_seg(struct x86_cpu *cpu, int sreg, uint16_t sel)
{
	struct x86_seg *s = &cpu->seg[sreg];
	if (cpu->mode == X86_MODE_REAL || cpu->mode == X86_MODE_VM86) {
		s->sel = sel;
		s->base = (uint32_t)sel << 4;
		s->present = 1;
		s->unusable = 0;
		if (cpu->mode == X86_MODE_VM86) {
			s->limit = 0xffff;
			s->type = sreg == X86_CS ? 0xb : 0x3;
			s->s = 1;
			s->dpl = 3;
			s->db = s->g = s->l = 0;
		}
		if (sreg == X86_CS)
			x86_mode_changed(cpu);
		return;
	}
	unsigned rpl = sel & 3, cpl = cpu->cpl;
	if (!(sel & 0xfffc)) {
		if (sreg == X86_CS)
			x86_raise(cpu, X86_GP, true, 0);
		if (sreg == X86_SS &&
		    !(cpu->mode == X86_MODE_LONG64 && cpl != 3 && rpl == cpl))
			x86_raise(cpu, X86_GP, true, 0);
		/* A null selector: the register becomes unusable. */
		uint8_t dpl = sreg == X86_SS ? cpl : s->dpl;
		uint64_t base = (cpu->mode == X86_MODE_LONG64 && sreg >= X86_FS) ? s->base : 0;
		memset(s, 0, sizeof(*s));
		s->sel = sel;
		s->base = base;
		s->dpl = dpl;
		s->unusable = 1;
		return;
	}
	uint64_t d[2];
	if (!x86_read_descriptor(cpu, sel, d))
		x86_raise(cpu, X86_GP, true, sel & 0xfffc);
	struct x86_seg n;
	x86_seg_from_desc(&n, sel, d);
	if (sreg == X86_CS) {
		load_cs(cpu, sel, &n);
		return;
	}
	if (sreg == X86_SS) {
		if (rpl != cpl || n.dpl != cpl || !n.s || (n.type & 0xa) != 0x2)
			x86_raise(cpu, X86_GP, true, sel & 0xfffc);
		if (!n.present)
			x86_raise(cpu, X86_SS_EXC, true, sel & 0xfffc);
	} else {
		if (!n.s || (n.type & 0xa) == 0x8)
			x86_raise(cpu, X86_GP, true, sel & 0xfffc);
		if ((n.type & 0xc) != 0xc && (rpl > n.dpl || cpl > n.dpl))
			x86_raise(cpu, X86_GP, true, sel & 0xfffc);
		if (!n.present)
			x86_raise(cpu, X86_NP, true, sel & 0xfffc);
	}
	set_accessed(cpu, sel, &n);
	*s = n;
	if (sreg == X86_SS)
		x86_mode_changed(cpu);
}

void x86_mode_changed(struct x86_cpu *cpu)
{
	const struct x86_seg *cs = &cpu->seg[X86_CS];
	if (!(cpu->cr0 & X86_CR0_PE)) {
		cpu->mode = X86_MODE_REAL;
		cpu->cpl = 0;
	} else if (cpu->rflags & X86_VM) {
		cpu->mode = X86_MODE_VM86;
		cpu->cpl = 3;
	} else {
		/* As VMX: the CPL is SS.DPL. */
		cpu->cpl = cpu->seg[X86_SS].dpl;
		if (cpu->efer & X86_EFER_LMA)
			cpu->mode = cs->l ? X86_MODE_LONG64 : cs->db ? X86_MODE_COMPAT32 : X86_MODE_COMPAT16;
		else
			cpu->mode = cs->db ? X86_MODE_PROT32 : X86_MODE_PROT16;
	}
}

/* ---- control registers ---- */

#define CR0_KNOWN (X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_ET | X86_CR0_NE | \
		   X86_CR0_WP | X86_CR0_AM | X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)
/* CR4 bits a guest may set: those of the CPUID features softkvm offers. */
#define CR4_KNOWN (X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | X86_CR4_PSE | \
		   X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR | \
		   X86_CR4_OSXMMEXCPT | X86_CR4_FSGSBASE | X86_CR4_SMEP | X86_CR4_SMAP | \
		   X86_CR4_LA57 | X86_CR4_PCIDE | X86_CR4_UMIP)

uint64_t x86_cr4_reserved(struct x86_cpu *cpu)
{
	/* OSXSAVE, SMEP, SMAP, LA57, PCIDE and UMIP only with their features in
	 * the guest's CPUID, as KVM (which checks nothing of the guest's
	 * before KVM_SET_CPUID2). */
	uint32_t r[4], r7[4];
	x86_cpuid(cpu, 1, 0, r);
	x86_cpuid(cpu, 7, 0, r7);
	bool any = !cpu->ncpuid;
	uint64_t rsvd = ~(uint64_t)(CR4_KNOWN | X86_CR4_OSXSAVE);
	if (!any && !(r[2] & (1u << 26)))
		rsvd |= X86_CR4_OSXSAVE;
	if (!any && !(r7[1] & (1u << 7)))
		rsvd |= X86_CR4_SMEP;
	if (!any && !(r7[1] & (1u << 20)))
		rsvd |= X86_CR4_SMAP;
	if (!any && !(r7[2] & (1u << 16)))
		rsvd |= X86_CR4_LA57;
	if (!any && !(r7[2] & (1u << 2)))
		rsvd |= X86_CR4_UMIP;
	if (!any && !(r[2] & (1u << 17)))
		rsvd |= X86_CR4_PCIDE;
	return rsvd;
}

static bool set_cr0(struct x86_cpu *cpu, uint64_t val)
{
	uint64_t old = cpu->cr0;
	if (val >> 32)
		return false;
	val = (val & CR0_KNOWN) | X86_CR0_ET;
	if ((val & X86_CR0_NW) && !(val & X86_CR0_CD))
		return false;
	if ((val & X86_CR0_PG) && !(val & X86_CR0_PE))
		return false;
	bool pg_on = (val & X86_CR0_PG) && !(old & X86_CR0_PG);
	bool pg_off = !(val & X86_CR0_PG) && (old & X86_CR0_PG);
	if (pg_off && (cpu->cr4 & X86_CR4_PCIDE))
		return false;
	if (pg_on && (cpu->efer & X86_EFER_LME)) {
		if (!(cpu->cr4 & X86_CR4_PAE) || cpu->seg[X86_CS].l)
			return false;
		cpu->efer |= X86_EFER_LMA;
	}
	if (pg_off) {
		if (cpu->mode == X86_MODE_LONG64)
			return false;
		cpu->efer &= ~X86_EFER_LMA;
	}
	cpu->cr0 = val;
	if ((val ^ old) & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE | X86_CR0_CD))
		x86_tlb_flush(cpu);
	x86_mode_changed(cpu);
	return true;
}

static bool set_cr4(struct x86_cpu *cpu, uint64_t val)
{
	uint64_t old = cpu->cr4;
	if (val & x86_cr4_reserved(cpu))
		return false;
	if ((cpu->efer & X86_EFER_LMA) && !(val & X86_CR4_PAE))
		return false;
	if ((cpu->efer & X86_EFER_LMA) && ((val ^ old) & X86_CR4_LA57))
		return false;   /* the paging depth changes only outside long mode */
	if ((val & ~old & X86_CR4_PCIDE) && (!(cpu->efer & X86_EFER_LMA) || (cpu->cr3 & 0xfff)))
		return false;
	cpu->cr4 = val;
	if ((val ^ old) & (X86_CR4_PSE | X86_CR4_PAE | X86_CR4_PGE | X86_CR4_SMEP | X86_CR4_SMAP |
			   X86_CR4_PCIDE | X86_CR4_LA57))
		x86_tlb_flush(cpu);
	return true;
}

/* With CR4.PCIDE, bit 63 asks to keep the PCID's translations: it is not
 * stored, and softkvm's TLB (not tagged by PCID) is flushed anyway. */
static bool set_cr3(struct x86_cpu *cpu, uint64_t val)
{
	if (cpu->cr4 & X86_CR4_PCIDE)
		val &= ~(1ull << 63);
	if ((cpu->efer & X86_EFER_LMA) && (val & x86_rsvd_gpa(cpu)))
		return false;
	cpu->cr3 = val;
	x86_tlb_flush(cpu);
	return true;
}

void x86_write_cr(struct x86_cpu *cpu, int cr, uint64_t val)
{
	bool ok;
	if (cpu->cpl != 0)
		x86_raise(cpu, X86_GP, true, 0);
	switch (cr) {
	case 0: ok = set_cr0(cpu, val); break;
	case 2: cpu->cr2 = val; ok = true; break;
	case 3: ok = set_cr3(cpu, val); break;
	case 4: ok = set_cr4(cpu, val); break;
	case 8: ok = !(val & ~0xfull); if (ok) cpu->cr8 = val; break;
	default: x86_raise(cpu, X86_UD, false, 0);
	}
	if (!ok)
		x86_raise(cpu, X86_GP, true, 0);
}

uint64_t x86_read_cr(struct x86_cpu *cpu, int cr)
{
	switch (cr) {
	case 0: return cpu->cr0;
	case 2: return cpu->cr2;
	case 3: return cpu->cr3;
	case 4: return cpu->cr4;
	case 8: return cpu->cr8;
	default: x86_raise(cpu, X86_UD, false, 0);
	}
}

/* ---- reset ---- */

static void seg_reset(struct x86_seg *s, uint16_t sel, uint64_t base, uint8_t type, bool sys)
{
	memset(s, 0, sizeof(*s));
	s->sel = sel;
	s->base = base;
	s->limit = 0xffff;
	s->type = type;
	s->s = !sys;
	s->present = 1;
}

/* The state KVM gives a new vCPU (kvm_vcpu_reset): real mode at
 * F000:FFF0 with CS.base 0xffff0000. */
void x86_reset_state(struct x86_cpu *cpu, bool init_only)
{
	memset(cpu->gpr, 0, sizeof(cpu->gpr));
	cpu->gpr[X86_RDX] = 0x600;
	cpu->rip = 0xfff0;
	cpu->rflags = 2;
	for (int i = 0; i < X86_NR_SREGS; i++)
		seg_reset(&cpu->seg[i], 0, 0, 0x3, false);
	seg_reset(&cpu->seg[X86_CS], 0xf000, 0xffff0000ull, 0xb, false);
	seg_reset(&cpu->ldt, 0, 0, 0x2, true);
	seg_reset(&cpu->tr, 0, 0, 0xb, true);
	cpu->gdt.base = cpu->idt.base = 0;
	cpu->gdt.limit = cpu->idt.limit = 0xffff;
	cpu->cr0 = X86_CR0_ET | X86_CR0_NW | X86_CR0_CD;
	cpu->cr2 = cpu->cr3 = cpu->cr4 = cpu->cr8 = 0;
	cpu->efer = 0;
	memset(cpu->dr, 0, sizeof(cpu->dr));
	cpu->dr6 = 0xffff0ff0ull;
	cpu->dr7 = 0x400;
	if (!init_only) {
		cpu->xcr0 = 1;   /* INIT leaves XCR0 alone (KVM, SDM) */
		memset(cpu->fxsave, 0, sizeof(cpu->fxsave));
		cpu->fxsave[0] = 0x7f;   /* FCW = 0x37f */
		cpu->fxsave[1] = 0x03;
		uint32_t mxcsr = 0x1f80;
		memcpy(cpu->fxsave + 24, &mxcsr, 4);
		x86_msr_reset(cpu);
	}
	cpu->shadow = 0;
	cpu->nmi_pending = cpu->nmi_injected = cpu->nmi_masked = false;
	cpu->irq_injected = false;
	cpu->exc_pending = false;
	cpu->halted = false;
	cpu->mp_state = KVM_MP_STATE_RUNNABLE;
	x86_mode_changed(cpu);
	x86_tlb_flush(cpu);
}
