/* System Management Mode, as KVM (6.1) emulates it.
 *
 * An SMI (KVM_SMI, an IPI or MSI with delivery mode SMI, or the pending
 * flag of KVM_SET_VCPU_EVENTS) is taken at an instruction boundary when the
 * vCPU is not in SMM already: the state is saved at SMBASE + 0xfe00 in
 * KVM's layout (the AMD64 one when the guest's CPUID has long mode, else
 * the 32-bit one), and the vCPU continues at SMBASE:0x8000 in a real-mode
 * like state with 4 GiB segments. While in SMM the vCPU sees memslot
 * address space 1, NMIs are blocked and INIT is latched. RSM reads the
 * save area back; state it cannot load is a shutdown, as in KVM.
 *
 * Offsets below are those of the save area as KVM names them: 0x7e00 is
 * SMBASE + 0xfe00, the first byte of the 512 bytes written.
 */
#include <string.h>

#include "arch/x86/insn.h"
#include "arch/x86/irq.h"
#include "arch/x86/sys.h"

#define SMRAM_SAVE 0xfe00        /* the save area, from SMBASE */
#define SMRAM_ENTRY 0x8000       /* the handler's first RIP */
#define SM_BASE 0x7e00           /* KVM's offset of the save area's first byte */
#define SM_REV_32 0x00020000u
#define SM_REV_64 0x00020064u
#define MSR_EFER 0xc0000080u
#define DR6_VOLATILE 0x0001e80full
#define DR7_VOLATILE 0xffff2bffull
#define DR7_FIXED_1 0x400ull

/* ---- the save area ---- */

static void put(uint8_t *buf, unsigned off, uint64_t v, unsigned size)
{
	memcpy(buf + off - SM_BASE, &v, size);   /* little endian host */
}

static uint64_t get(const uint8_t *buf, unsigned off, unsigned size)
{
	uint64_t v = 0;
	memcpy(&v, buf + off - SM_BASE, size);
	return v;
}

/* A segment's attributes in the descriptor's bit positions (bits 8-23). */
static uint32_t seg_flags(const struct x86_seg *s)
{
	/* As VMX reads a segment back: an unusable one is not present. */
	uint32_t present = s->present && !s->unusable;
	return (uint32_t)s->g << 23 | (uint32_t)s->db << 22 | (uint32_t)s->l << 21 |
	       (uint32_t)s->avl << 20 | present << 15 | (uint32_t)s->dpl << 13 |
	       (uint32_t)s->s << 12 | (uint32_t)(s->type & 0xf) << 8;
}

/* RSM's segment load: the limit passes through a descriptor's 20-bit
 * field, scaled again by G. */
static void seg_load(struct x86_seg *s, uint16_t sel, uint64_t base, uint32_t limit,
		     uint32_t flags)
{
	memset(s, 0, sizeof(*s));
	s->sel = sel;
	s->base = base;
	s->g = (flags >> 23) & 1;
	s->db = (flags >> 22) & 1;
	s->l = (flags >> 21) & 1;
	s->avl = (flags >> 20) & 1;
	s->present = (flags >> 15) & 1;
	s->dpl = (flags >> 13) & 3;
	s->s = (flags >> 12) & 1;
	s->type = (flags >> 8) & 0xf;
	limit &= 0xfffff;
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->unusable = !s->present;
}

/* guest_cpuid_has(LM): the exact entry, not CPUID's out-of-range rule. */
static bool guest_has_lm(const struct x86_cpu *cpu)
{
	for (int k = 0; k < cpu->ncpuid; k++)
		if (cpu->cpuid[k].function == 0x80000001u)
			return (cpu->cpuid[k].edx >> 29) & 1;
	return false;
}

/* Offset of segment n (ES, CS, SS, DS, FS, GS) in the 32-bit layout. */
static unsigned seg32_off(int n)
{
	return n < 3 ? 0x7f84 + n * 12 : 0x7f2c + (n - 3) * 12;
}

static void save_32(struct x86_cpu *cpu, uint8_t *b)
{
	put(b, 0x7ffc, cpu->cr0, 4);
	put(b, 0x7ff8, cpu->cr3, 4);
	put(b, 0x7ff4, cpu->rflags, 4);
	put(b, 0x7ff0, cpu->rip, 4);
	for (int i = 0; i < 8; i++)
		put(b, 0x7fd0 + i * 4, cpu->gpr[i], 4);
	put(b, 0x7fcc, cpu->dr6, 4);
	put(b, 0x7fc8, cpu->dr7, 4);
	put(b, 0x7fc4, cpu->tr.sel, 4);
	put(b, 0x7f64, cpu->tr.base, 4);
	put(b, 0x7f60, cpu->tr.limit, 4);
	put(b, 0x7f5c, seg_flags(&cpu->tr), 4);
	put(b, 0x7fc0, cpu->ldt.sel, 4);
	put(b, 0x7f80, cpu->ldt.base, 4);
	put(b, 0x7f7c, cpu->ldt.limit, 4);
	put(b, 0x7f78, seg_flags(&cpu->ldt), 4);
	put(b, 0x7f74, cpu->gdt.base, 4);
	put(b, 0x7f70, cpu->gdt.limit, 4);
	put(b, 0x7f58, cpu->idt.base, 4);
	put(b, 0x7f54, cpu->idt.limit, 4);
	for (int n = 0; n < X86_NR_SREGS; n++) {
		const struct x86_seg *s = &cpu->seg[n];
		put(b, 0x7fa8 + n * 4, s->sel, 4);
		put(b, seg32_off(n) + 8, s->base, 4);
		put(b, seg32_off(n) + 4, s->limit, 4);
		put(b, seg32_off(n), seg_flags(s), 4);
	}
	put(b, 0x7f14, cpu->cr4, 4);
	put(b, 0x7efc, SM_REV_32, 4);
	put(b, 0x7ef8, x86_sys(cpu)->smbase, 4);
}

/* A segment in the 64-bit layout: selector, attributes, limit, base. */
static void put_seg64(uint8_t *b, unsigned off, const struct x86_seg *s)
{
	put(b, off, s->sel, 2);
	put(b, off + 2, seg_flags(s) >> 8, 2);
	put(b, off + 4, s->limit, 4);
	put(b, off + 8, s->base, 8);
}

static void save_64(struct x86_cpu *cpu, uint8_t *b)
{
	for (int i = 0; i < 16; i++)
		put(b, 0x7ff8 - i * 8, cpu->gpr[i], 8);
	put(b, 0x7f78, cpu->rip, 8);
	put(b, 0x7f70, cpu->rflags, 4);
	put(b, 0x7f68, cpu->dr6, 8);
	put(b, 0x7f60, cpu->dr7, 8);
	put(b, 0x7f58, cpu->cr0, 8);
	put(b, 0x7f50, cpu->cr3, 8);
	put(b, 0x7f48, cpu->cr4, 8);
	put(b, 0x7f00, x86_sys(cpu)->smbase, 4);
	put(b, 0x7efc, SM_REV_64, 4);
	put(b, 0x7ed0, cpu->efer, 8);
	put_seg64(b, 0x7e90, &cpu->tr);
	put(b, 0x7e84, cpu->idt.limit, 4);
	put(b, 0x7e88, cpu->idt.base, 8);
	put_seg64(b, 0x7e70, &cpu->ldt);
	put(b, 0x7e64, cpu->gdt.limit, 4);
	put(b, 0x7e68, cpu->gdt.base, 8);
	for (int n = 0; n < X86_NR_SREGS; n++)
		put_seg64(b, 0x7e00 + n * 16, &cpu->seg[n]);
}

/* ---- entering and leaving ---- */

/* kvm_smm_changed: the flag, and the address space the vCPU sees. In
 * KVM_RUN the new view is taken at once; an ioctl leaves it to the next
 * KVM_RUN's refresh (only the vCPU thread in KVM_RUN may ack memslots). */
static void smm_changed(struct x86_cpu *cpu, bool entering, bool in_run)
{
	struct x86_sys *sys = x86_sys(cpu);
	sys->smm = entering;
	if (!entering) {
		sys->smm_inside_nmi = false;
		/* A latched INIT or an SMI that waited is taken now. */
		sk_vcpu_request(cpu->vcpu, SK_REQ_EVENT);
	}
	if (in_run)
		x86_refresh_slots(cpu);
}

/* The 4 GiB, byte-granular-looking flat segment SMM starts with (KVM gives
 * CS the data type 3 too). */
static void smm_seg(struct x86_seg *s, uint16_t sel, uint64_t base)
{
	memset(s, 0, sizeof(*s));
	s->sel = sel;
	s->base = base;
	s->limit = 0xffffffffu;
	s->type = 3;
	s->s = 1;
	s->g = 1;
	s->present = 1;
}

static void enter_smm(struct x86_cpu *cpu)
{
	struct x86_sys *sys = x86_sys(cpu);
	uint8_t buf[512];
	bool lm = guest_has_lm(cpu);
	memset(buf, 0, sizeof(buf));
	if (lm)
		save_64(cpu, buf);
	else
		save_32(cpu, buf);
	smm_changed(cpu, true, true);
	/* KVM ignores a save area outside memory. */
	(void)x86_write_phys(cpu, sys->smbase + SMRAM_SAVE, buf, sizeof(buf));
	if (cpu->nmi_masked)
		sys->smm_inside_nmi = true;
	else
		cpu->nmi_masked = true;
	cpu->rflags = 2;
	cpu->rip = SMRAM_ENTRY;
	cpu->cr0 &= ~(X86_CR0_PE | X86_CR0_EM | X86_CR0_TS | X86_CR0_PG);
	cpu->efer &= ~X86_EFER_LMA;   /* paging is off */
	cpu->cr4 = 0;
	cpu->idt.base = 0;
	cpu->idt.limit = 0;   /* undocumented, as KVM */
	cpu->dr7 = DR7_FIXED_1;
	smm_seg(&cpu->seg[X86_CS], (uint16_t)(sys->smbase >> 4), sys->smbase);
	for (int n = 0; n < X86_NR_SREGS; n++)
		if (n != X86_CS)
			smm_seg(&cpu->seg[n], 0, 0);
	if (lm)
		cpu->efer = 0;
	cpu->halted = false;
	x86_mode_changed(cpu);
	x86_tlb_flush(cpu);
}

/* ---- RSM ---- */

/* kvm_set_dr for DR6/DR7: false when bits 63:32 are set. */
static bool rsm_set_dr(struct x86_cpu *cpu, uint64_t dr6, uint64_t dr7)
{
	if ((dr6 >> 32) || (dr7 >> 32))
		return false;
	cpu->dr6 = (dr6 & DR6_VOLATILE) | x86_dr6_fixed();
	cpu->dr7 = (dr7 & DR7_VOLATILE) | DR7_FIXED_1;
	return true;
}

/* load_pdptrs: the four PAE entries must be readable, and those present
 * must have no reserved bit set. */
static bool pdptrs_ok(struct x86_cpu *cpu, uint64_t cr3)
{
	uint64_t pdpte[4];
	if (!x86_read_phys(cpu, cr3 & 0xffffffe0ull, pdpte, sizeof(pdpte)))
		return false;
	uint64_t rsvd = x86_rsvd_gpa(cpu) | 0x1e6ull;
	for (int k = 0; k < 4; k++)
		if ((pdpte[k] & 1) && (pdpte[k] & rsvd))
			return false;
	return true;
}

/* rsm_enter_protected_mode: CR3, then CR4, then CR0, with the checks of
 * MOV to CRn in that order (EFER is already loaded, paging is off). */
static bool rsm_set_crs(struct x86_cpu *cpu, uint64_t cr0, uint64_t cr3, uint64_t cr4)
{
	if (cr4 & x86_cr4_reserved(cpu))
		return false;
	if ((cr0 >> 32) || ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD)) ||
	    ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE)))
		return false;
	bool lme = cpu->efer & X86_EFER_LME;
	if (cr0 & X86_CR0_PG) {
		if (lme && (!(cr4 & X86_CR4_PAE) || cpu->seg[X86_CS].l))
			return false;
		if (!lme && (cr4 & X86_CR4_PAE) && !pdptrs_ok(cpu, cr3))
			return false;
	}
	bool lma = lme && (cr0 & X86_CR0_PG);
	if (lma && (cr3 & x86_rsvd_gpa(cpu)))
		return false;
	cpu->cr3 = cr3;
	cpu->cr4 = cr4;
	cpu->cr0 = cr0 | X86_CR0_ET;
	if (lma)
		cpu->efer |= X86_EFER_LMA;
	return true;
}

static bool rsm_load_32(struct x86_cpu *cpu, const uint8_t *b)
{
	uint64_t cr0 = get(b, 0x7ffc, 4), cr3 = get(b, 0x7ff8, 4);
	cpu->rflags = get(b, 0x7ff4, 4) | 2;
	cpu->rip = get(b, 0x7ff0, 4);
	for (int i = 0; i < 8; i++)
		cpu->gpr[i] = get(b, 0x7fd0 + i * 4, 4);
	if (!rsm_set_dr(cpu, get(b, 0x7fcc, 4), get(b, 0x7fc8, 4)))
		return false;
	seg_load(&cpu->tr, (uint16_t)get(b, 0x7fc4, 4), get(b, 0x7f64, 4),
		 (uint32_t)get(b, 0x7f60, 4), (uint32_t)get(b, 0x7f5c, 4));
	seg_load(&cpu->ldt, (uint16_t)get(b, 0x7fc0, 4), get(b, 0x7f80, 4),
		 (uint32_t)get(b, 0x7f7c, 4), (uint32_t)get(b, 0x7f78, 4));
	cpu->gdt.base = get(b, 0x7f74, 4);
	cpu->gdt.limit = (uint16_t)get(b, 0x7f70, 4);
	cpu->idt.base = get(b, 0x7f58, 4);
	cpu->idt.limit = (uint16_t)get(b, 0x7f54, 4);
	for (int n = 0; n < X86_NR_SREGS; n++)
		seg_load(&cpu->seg[n], (uint16_t)get(b, 0x7fa8 + n * 4, 4),
			 get(b, seg32_off(n) + 8, 4), (uint32_t)get(b, seg32_off(n) + 4, 4),
			 (uint32_t)get(b, seg32_off(n), 4));
	uint64_t cr4 = get(b, 0x7f14, 4);
	x86_sys(cpu)->smbase = get(b, 0x7ef8, 4);
	return rsm_set_crs(cpu, cr0, cr3, cr4);
}

static void get_seg64(const uint8_t *b, unsigned off, struct x86_seg *s)
{
	seg_load(s, (uint16_t)get(b, off, 2), get(b, off + 8, 8), (uint32_t)get(b, off + 4, 4),
		 (uint32_t)get(b, off + 2, 2) << 8);
}

static bool rsm_load_64(struct x86_cpu *cpu, const uint8_t *b)
{
	for (int i = 0; i < 16; i++)
		cpu->gpr[i] = get(b, 0x7ff8 - i * 8, 8);
	cpu->rip = get(b, 0x7f78, 8);
	cpu->rflags = get(b, 0x7f70, 4) | 2;
	if (!rsm_set_dr(cpu, get(b, 0x7f68, 8), get(b, 0x7f60, 8)))
		return false;
	uint64_t cr0 = get(b, 0x7f58, 8), cr3 = get(b, 0x7f50, 8), cr4 = get(b, 0x7f48, 8);
	x86_sys(cpu)->smbase = get(b, 0x7f00, 4);
	/* WRMSR's checks: reserved bits, LME/NX against the guest's CPUID. */
	if (!x86_msr_set(cpu, MSR_EFER, get(b, 0x7ed0, 8) & ~X86_EFER_LMA, false))
		return false;
	get_seg64(b, 0x7e90, &cpu->tr);
	cpu->idt.limit = (uint16_t)get(b, 0x7e84, 4);
	cpu->idt.base = get(b, 0x7e88, 8);
	get_seg64(b, 0x7e70, &cpu->ldt);
	cpu->gdt.limit = (uint16_t)get(b, 0x7e64, 4);
	cpu->gdt.base = get(b, 0x7e68, 8);
	if (!rsm_set_crs(cpu, cr0, cr3, cr4))
		return false;
	for (int n = 0; n < X86_NR_SREGS; n++)
		get_seg64(b, 0x7e00 + n * 16, &cpu->seg[n]);
	return true;
}

/* The safe state RSM loads the saved one from: protected mode and paging
 * off and, for a long-mode guest, a 32-bit CS, CR4.PAE and EFER clear. */
static void rsm_unwind_modes(struct x86_cpu *cpu, bool lm)
{
	if (lm) {
		cpu->cr4 &= ~X86_CR4_PCIDE;
		struct x86_seg *cs = &cpu->seg[X86_CS];
		memset(cs, 0, sizeof(*cs));
		cs->type = 0xb;
		cs->s = cs->g = cs->present = 1;
		cs->limit = 0xfff;
	}
	cpu->cr0 &= ~(X86_CR0_PG | X86_CR0_PE);
	cpu->efer &= ~X86_EFER_LMA;
	if (lm) {
		cpu->cr4 &= ~X86_CR4_PAE;
		cpu->efer = 0;
	}
	x86_mode_changed(cpu);
}

_Noreturn static void rsm_shutdown(struct x86_cpu *cpu)
{
	x86_mode_changed(cpu);
	x86_tlb_flush(cpu);
	x86_run(cpu)->exit_reason = KVM_EXIT_SHUTDOWN;
	cpu->io_exit_retire = false;
	longjmp(cpu->unwind, X86_UNWIND_EXIT);
}

int x86_h_rsm(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	struct x86_sys *sys = x86_sys(cpu);
	if (!sys->smm)
		x86_raise(cpu, X86_UD, false, 0);
	uint8_t buf[512];
	if (!x86_read_phys(cpu, sys->smbase + SMRAM_SAVE, buf, sizeof(buf)))
		x86_emulation_failure(cpu);
	if (!sys->smm_inside_nmi)
		cpu->nmi_masked = false;
	smm_changed(cpu, false, true);
	bool lm = guest_has_lm(cpu);
	rsm_unwind_modes(cpu, lm);
	if (!(lm ? rsm_load_64(cpu, buf) : rsm_load_32(cpu, buf)))
		rsm_shutdown(cpu);
	cpu->shadow = 0;
	x86_mode_changed(cpu);
	if (!x86_long64(cpu))
		cpu->rip &= 0xffffffffull;   /* the emulator's EIP outside 64-bit mode */
	x86_tlb_flush(cpu);
	return X86_END;
}

/* ---- events ---- */

void x86_smm_post(struct x86_cpu *cpu)
{
	atomic_store(&x86_sys(cpu)->smi_pending, true);
	sk_vcpu_request(cpu->vcpu, SK_REQ_EVENT);
	/* A self-SMI (an APIC write) is taken before the next instruction, as
	 * after KVM's APIC-write exit: end the executing block there. */
	if (sk_current_vcpu == cpu->vcpu)
		x86_blocks_stop(cpu->blocks);
}

void x86_smm_inject(struct x86_cpu *cpu)
{
	struct x86_sys *sys = x86_sys(cpu);
	if (!atomic_load_explicit(&sys->smi_pending, memory_order_relaxed) || sys->smm ||
	    (cpu->guest_debug & KVM_GUESTDBG_BLOCKIRQ))
		return;
	/* An interrupt KVM_INTERRUPT queued is delivered first (KVM re-injects
	 * it before new events); the SMI follows at the next boundary. */
	if (cpu->irq_injected && x86_interrupt_allowed(cpu)) {
		sk_vcpu_request(cpu->vcpu, SK_REQ_EVENT);
		return;
	}
	atomic_store(&sys->smi_pending, false);
	enter_smm(cpu);
}

bool x86_smm_wakes(struct x86_cpu *cpu)
{
	struct x86_sys *sys = x86_sys(cpu);
	return atomic_load(&sys->smi_pending) && !sys->smm;
}

bool x86_smm_latch_init(struct x86_cpu *cpu)
{
	if (!x86_sys(cpu)->smm)
		return false;
	/* INIT stays posted until RSM; a SIPI meanwhile is lost. */
	atomic_fetch_and(&x86_lapic(cpu)->events, ~(uint32_t)EV_SIPI);
	return true;
}

void x86_smm_post_run(struct x86_cpu *cpu)
{
	if (x86_sys(cpu)->smm)
		x86_run(cpu)->flags |= KVM_RUN_X86_SMM;
}

void x86_smm_get_events(struct x86_cpu *cpu, struct kvm_vcpu_events *e)
{
	struct x86_sys *sys = x86_sys(cpu);
	struct x86_lapic *a = x86_lapic(cpu);
	e->smi.smm = sys->smm;
	e->smi.pending = atomic_load(&sys->smi_pending);
	e->smi.smm_inside_nmi = sys->smm_inside_nmi;
	e->smi.latched_init = a && (atomic_load(&a->events) & EV_INIT);
}

bool x86_smm_events_valid(struct x86_cpu *cpu, const struct kvm_vcpu_events *e)
{
	/* INIT is latched in SMM: no SMM (or SMI) with INIT already received. */
	return !((e->flags & KVM_VCPUEVENT_VALID_SMM) && (e->smi.smm || e->smi.pending) &&
		 cpu->mp_state == KVM_MP_STATE_INIT_RECEIVED);
}

void x86_smm_set_events(struct x86_cpu *cpu, const struct kvm_vcpu_events *e)
{
	struct x86_sys *sys = x86_sys(cpu);
	struct x86_lapic *a = x86_lapic(cpu);
	if (!(e->flags & KVM_VCPUEVENT_VALID_SMM))
		return;
	if (sys->smm != !!e->smi.smm)
		smm_changed(cpu, e->smi.smm, false);
	atomic_store(&sys->smi_pending, e->smi.pending != 0);
	if (e->smi.smm)
		sys->smm_inside_nmi = e->smi.smm_inside_nmi;
	if (a && e->smi.latched_init)
		atomic_fetch_or(&a->events, EV_INIT);
	else if (a)
		atomic_fetch_and(&a->events, ~(uint32_t)EV_INIT);
}

long x86_ioc_smi(void *obj, void *arg)
{
	(void)arg;
	x86_smm_post(((struct sk_vcpu *)obj)->arch_vcpu);
	return 0;
}
