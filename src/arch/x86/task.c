/* Hardware task switches (protected mode, never long mode): JMP/CALL far to
 * a TSS or a task gate, INT n / exceptions / interrupts through an IDT task
 * gate, and IRET with EFLAGS.NT back to the previous task. 32-bit and
 * 16-bit TSS layouts, busy bits, the back link, CR0.TS, the #TS checks.
 *
 * Order of effects, as KVM's emulator (emulator_do_task_switch) and the SDM
 * agree: the checks on the new TSS, the old TSS's busy bit (JMP, IRET), the
 * outgoing state into the old TSS, the back link (CALL, gates), then the
 * new task: registers, EFLAGS.NT, busy bit, CR0.TS, TR, and last the
 * segment registers, whose faults belong to the new task (its EIP). Unlike
 * KVM 6.1, which drops an exception raised while switching, the fault is
 * delivered, as on hardware.
 */
#include <string.h>

#include "arch/x86/insn.h"
#include "arch/x86/sys.h"

enum task_reason { TASK_CALL, TASK_IRET, TASK_JMP, TASK_GATE };

/* Where a TSS keeps each piece of state (offsets; 0xff: absent). */
struct tss_layout {
	unsigned size;           /* bytes read; the limit must be >= size - 1 */
	unsigned w;              /* register width */
	unsigned eip, eflags, gpr, sreg, nsreg, ldt, cr3;
};

static const struct tss_layout tss32 = {
	.size = 0x68, .w = 4, .eip = 0x20, .eflags = 0x24, .gpr = 0x28, .sreg = 0x48,
	.nsreg = 6, .ldt = 0x60, .cr3 = 0x1c,
};
static const struct tss_layout tss16 = {
	.size = 0x2c, .w = 2, .eip = 0x0e, .eflags = 0x10, .gpr = 0x12, .sreg = 0x22,
	.nsreg = 4, .ldt = 0x2a, .cr3 = 0xff,
};

#define DESC_BUSY (1ull << 41)

static uint64_t rd(const uint8_t *img, unsigned off, unsigned w)
{
	uint64_t v = 0;
	memcpy(&v, img + off, w);
	return v;
}

_Noreturn static void fault(struct x86_cpu *cpu, int vec, uint16_t sel)
{
	x86_raise(cpu, vec, true, sel & 0xfffc);
}

/* A TSS descriptor from the GDT (a TSS never lives in the LDT). */
static bool read_tss_desc(struct x86_cpu *cpu, uint16_t sel, uint64_t *desc)
{
	uint64_t d[2];
	if ((sel & 4) || !(sel & 0xfffc) || !x86_read_descriptor(cpu, sel, d))
		return false;
	*desc = d[0];
	return true;
}

static unsigned desc_type(uint64_t d)
{
	return (d >> 40) & 0x1f;   /* S and the type */
}

/* Rewrite the access byte of a GDT descriptor (busy and accessed bits). */
static void write_access(struct x86_cpu *cpu, uint16_t sel, uint64_t desc)
{
	uint8_t b = (uint8_t)(desc >> 40);
	x86_sys_write(cpu, cpu->gdt.base + (sel & ~7u) + 5, &b, 1);
}

/* ---- loading the new task's segments ---- */

static void mark_accessed(struct x86_cpu *cpu, uint16_t sel, struct x86_seg *s)
{
	if (s->type & 1)
		return;
	s->type |= 1;
	uint8_t b = 0x80 | s->dpl << 5 | s->s << 4 | s->type;
	uint64_t base = (sel & 4) ? cpu->ldt.base : cpu->gdt.base;
	x86_sys_write(cpu, base + (sel & ~7u) + 5, &b, 1);
}

static void load_ldt(struct x86_cpu *cpu, uint16_t sel)
{
	struct x86_seg *l = &cpu->ldt;
	if (!(sel & 0xfffc)) {
		memset(l, 0, sizeof(*l));
		l->sel = sel;
		l->unusable = 1;
		return;
	}
	uint64_t d[2];
	if ((sel & 4) || !x86_read_descriptor(cpu, sel, d))
		fault(cpu, X86_TS, sel);
	struct x86_seg n;
	x86_seg_from_desc(&n, sel, d);
	if (n.s || n.type != 2)
		fault(cpu, X86_TS, sel);
	if (!n.present)
		fault(cpu, X86_TS, sel);
	*l = n;
}

/* A segment register of the new task, with the task switch's #TS checks
 * (CPL is the new CS.RPL). */
static void load_seg(struct x86_cpu *cpu, int sreg, uint16_t sel, unsigned cpl)
{
	struct x86_seg *s = &cpu->seg[sreg];
	unsigned rpl = sel & 3;
	if (!(sel & 0xfffc)) {
		if (sreg == X86_CS || sreg == X86_SS)
			fault(cpu, X86_TS, sel);
		memset(s, 0, sizeof(*s));
		s->sel = sel;
		s->unusable = 1;
		return;
	}
	uint64_t d[2];
	if (!x86_read_descriptor(cpu, sel, d))
		fault(cpu, X86_TS, sel);
	struct x86_seg n;
	x86_seg_from_desc(&n, sel, d);
	bool code = n.type & 8, conforming = code && (n.type & 4);
	if (!n.s)
		fault(cpu, X86_TS, sel);
	if (sreg == X86_CS) {
		if (!code || (conforming ? n.dpl > rpl : n.dpl != rpl))
			fault(cpu, X86_TS, sel);
		if (!n.present)
			fault(cpu, X86_NP, sel);
	} else if (sreg == X86_SS) {
		if (code || !(n.type & 2) || rpl != cpl || n.dpl != cpl)
			fault(cpu, X86_TS, sel);
		if (!n.present)
			fault(cpu, X86_SS_EXC, sel);
	} else {
		if ((code && !(n.type & 2)) || (!conforming && (n.dpl < cpl || n.dpl < rpl)))
			fault(cpu, X86_TS, sel);
		if (!n.present)
			fault(cpu, X86_NP, sel);
	}
	mark_accessed(cpu, sel, &n);
	*s = n;
}

/* VM86 task: every segment is sel << 4 with a 64 KiB limit. */
static void load_seg_vm86(struct x86_cpu *cpu, int sreg, uint16_t sel)
{
	struct x86_seg *s = &cpu->seg[sreg];
	memset(s, 0, sizeof(*s));
	s->sel = sel;
	s->base = (uint64_t)sel << 4;
	s->limit = 0xffff;
	s->type = sreg == X86_CS ? 0xb : 0x3;
	s->s = 1;
	s->dpl = 3;
	s->present = 1;
}

/* ---- the switch ---- */

static const struct tss_layout *layout_of(uint64_t desc)
{
	return (desc_type(desc) & 8) ? &tss32 : &tss16;
}

/* The outgoing task's registers into its TSS: EIP through the segment
 * selectors, nothing else (as KVM's save_state_to_tss32/16). */
static void save_old(struct x86_cpu *cpu, uint64_t eip)
{
	const struct tss_layout *L = (cpu->tr.type & 8) ? &tss32 : &tss16;
	uint8_t img[0x68];
	unsigned w = L->w;
	memcpy(img + L->eip, &eip, w);
	memcpy(img + L->eflags, &cpu->rflags, w);
	for (int i = 0; i < 8; i++)
		memcpy(img + L->gpr + i * w, &cpu->gpr[i], w);
	for (unsigned n = 0; n < L->nsreg; n++) {
		uint32_t sel = cpu->seg[n].sel;
		memcpy(img + L->sreg + n * w, &sel, w);
	}
	unsigned end = L->sreg + L->nsreg * w;
	x86_sys_write(cpu, cpu->tr.base + L->eip, img + L->eip, end - L->eip);
}

static void load_new(struct x86_cpu *cpu, const struct tss_layout *L, const uint8_t *img)
{
	unsigned w = L->w;
	if (L->cr3 != 0xff) {
		cpu->cr3 = rd(img, L->cr3, 4);
		x86_tlb_flush(cpu);
	}
	cpu->rip = rd(img, L->eip, w);
	cpu->rflags = rd(img, L->eflags, w) | 2;
	for (int i = 0; i < 8; i++)
		cpu->gpr[i] = rd(img, L->gpr + i * w, w);
}

/* The segments last: a fault here is the new task's, at its EIP. */
static void load_new_segs(struct x86_cpu *cpu, const struct tss_layout *L, const uint8_t *img)
{
	unsigned w = L->w;
	uint16_t sel[X86_NR_SREGS] = {0};
	for (unsigned n = 0; n < L->nsreg; n++)
		sel[n] = (uint16_t)rd(img, L->sreg + n * w, 2);
	cpu->insn_rip = cpu->rip;
	load_ldt(cpu, (uint16_t)rd(img, L->ldt, 2));
	if (cpu->rflags & X86_VM) {
		for (int n = 0; n < X86_NR_SREGS; n++)
			load_seg_vm86(cpu, n, sel[n]);
		x86_mode_changed(cpu);
		return;
	}
	unsigned cpl = sel[X86_CS] & 3;
	load_seg(cpu, X86_CS, sel[X86_CS], cpl);
	load_seg(cpu, X86_SS, sel[X86_SS], cpl);
	x86_mode_changed(cpu);
	/* A 16-bit TSS has no FS and GS: they keep their contents. */
	static const int data[] = {X86_ES, X86_DS, X86_FS, X86_GS};
	for (int k = 0; k < 4; k++)
		if ((unsigned)data[k] < L->nsreg)
			load_seg(cpu, data[k], sel[data[k]], cpl);
}

/* Switch to the task of TSS selector sel (descriptor desc, already checked
 * to be a present TSS of the right busy state). eip: the outgoing task's
 * resume point. */
static void task_switch(struct x86_cpu *cpu, uint16_t sel, uint64_t desc, enum task_reason why,
			uint64_t eip, bool has_err, uint32_t err)
{
	const struct tss_layout *L = layout_of(desc);
	uint32_t limit = (desc & 0xffff) | ((desc >> 32) & 0xf0000);
	if ((desc >> 55) & 1)
		limit = (limit << 12) | 0xfff;
	if (limit < L->size - 1)
		fault(cpu, X86_TS, sel);
	uint64_t base = ((desc >> 16) & 0xffffff) | ((desc >> 56) & 0xff) << 24;
	uint8_t img[0x68];
	x86_sys_read(cpu, base, img, L->size);   /* may #PF before anything changed */

	uint16_t old_sel = cpu->tr.sel;
	uint64_t old_desc;
	if ((why == TASK_JMP || why == TASK_IRET) && read_tss_desc(cpu, old_sel, &old_desc))
		write_access(cpu, old_sel, old_desc & ~DESC_BUSY);
	if (why == TASK_IRET)
		cpu->rflags &= ~(uint64_t)X86_NT;
	save_old(cpu, eip);
	if (why == TASK_CALL || why == TASK_GATE) {
		x86_sys_write(cpu, base, &old_sel, 2);
		memcpy(img, &old_sel, 2);
	}

	load_new(cpu, L, img);
	if (why == TASK_CALL || why == TASK_GATE)
		cpu->rflags |= X86_NT;
	if (why != TASK_IRET) {
		desc |= DESC_BUSY;
		write_access(cpu, sel, desc);
	}
	cpu->cr0 |= X86_CR0_TS;
	uint64_t d2[2] = {desc, 0};
	x86_seg_from_desc(&cpu->tr, sel, d2);
	load_new_segs(cpu, L, img);
	if (has_err)
		x86_push(cpu, err, L->w);
	cpu->dr7 &= ~0x155ull;   /* the local breakpoint enables, LE */
	cpu->shadow = 0;
	x86_mode_changed(cpu);
}

/* The TSS a JMP/CALL/gate switches to: an available TSS in the GDT. */
static uint64_t target_tss(struct x86_cpu *cpu, uint16_t sel)
{
	uint64_t d;
	if (!read_tss_desc(cpu, sel, &d))
		fault(cpu, X86_GP, sel);
	unsigned t = desc_type(d);
	if (t != 0x01 && t != 0x09)
		fault(cpu, X86_GP, sel);
	if (!((d >> 47) & 1))
		fault(cpu, X86_NP, sel);
	return d;
}

void x86_task_far(struct x86_cpu *cpu, uint16_t sel, bool call)
{
	uint64_t d[2];
	if (!x86_read_descriptor(cpu, sel, d))
		fault(cpu, X86_GP, sel);
	unsigned t = desc_type(d[0]), dpl = (d[0] >> 45) & 3, rpl = sel & 3;
	bool present = (d[0] >> 47) & 1;
	if (t == 0x0c || (t == 0x04 && !(cpu->efer & X86_EFER_LMA))) {
		x86_call_gate(cpu, sel, d, call);   /* except.c */
		return;
	}
	if (cpu->efer & X86_EFER_LMA)
		fault(cpu, X86_GP, sel);
	if (t != 0x01 && t != 0x09 && t != 0x05)
		fault(cpu, X86_GP, sel);
	if (dpl < cpu->cpl || dpl < rpl)
		fault(cpu, X86_GP, sel);
	if (!present)
		fault(cpu, X86_NP, sel);
	uint16_t tss_sel = sel;
	if (t == 0x05)
		tss_sel = (uint16_t)(d[0] >> 16);
	uint64_t desc = target_tss(cpu, tss_sel);
	task_switch(cpu, tss_sel, desc, call ? TASK_CALL : TASK_JMP, cpu->rip, false, 0);
}

int x86_task_iret(struct x86_cpu *cpu)
{
	uint16_t link = 0;
	if (cpu->tr.unusable || cpu->tr.limit < 1)
		fault(cpu, X86_TS, cpu->tr.sel);
	x86_sys_read(cpu, cpu->tr.base, &link, 2);
	uint64_t d;
	if (!read_tss_desc(cpu, link, &d))
		fault(cpu, X86_TS, link);
	unsigned t = desc_type(d);
	if (t != 0x03 && t != 0x0b)
		fault(cpu, X86_TS, link);
	if (!((d >> 47) & 1))
		fault(cpu, X86_NP, link);
	task_switch(cpu, link, d, TASK_IRET, cpu->rip, false, 0);
	cpu->nmi_masked = false;
	return X86_END;
}

void x86_task_gate_deliver(struct x86_cpu *cpu, int vec, uint64_t gate, bool has_err,
			   uint32_t err, bool soft, uint64_t return_rip)
{
	unsigned dpl = (gate >> 45) & 3;
	uint32_t idt_err = (uint32_t)vec * 8 + 2 + (soft ? 0 : 1);
	if (soft && dpl < cpu->cpl)
		x86_raise(cpu, X86_GP, true, (uint32_t)vec * 8 + 2);
	if (!((gate >> 47) & 1))
		x86_raise(cpu, X86_NP, true, idt_err);
	uint16_t tss_sel = (uint16_t)(gate >> 16);
	uint64_t desc = target_tss(cpu, tss_sel);
	task_switch(cpu, tss_sel, desc, TASK_GATE, return_rip, has_err, err);
}
