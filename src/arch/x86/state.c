/* The x86 uapi: conversion between struct x86_cpu and the kvm_* structs of
 * the vCPU, VM and system ioctls, with KVM's validation and errno rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/irq.h"
#include "arch/x86/irqfd.h"
#include "arch/x86/pit.h"
#include "arch/x86/sys.h"

#define MAX_CPUID_ENTRIES 256   /* KVM_MAX_CPUID_ENTRIES */
#define MAX_IO_MSRS 256
#define SYNC_VALID (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)
#define GUESTDBG_VALID (KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_USE_HW_BP | \
			KVM_GUESTDBG_USE_SW_BP | KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP | \
			KVM_GUESTDBG_BLOCKIRQ)

static struct x86_cpu *cpu_of(void *obj)
{
	return ((struct sk_vcpu *)obj)->arch_vcpu;
}

/* ---- registers ---- */

static void get_regs(struct x86_cpu *cpu, struct kvm_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->rax = cpu->gpr[X86_RAX];
	r->rbx = cpu->gpr[X86_RBX];
	r->rcx = cpu->gpr[X86_RCX];
	r->rdx = cpu->gpr[X86_RDX];
	r->rsi = cpu->gpr[X86_RSI];
	r->rdi = cpu->gpr[X86_RDI];
	r->rsp = cpu->gpr[X86_RSP];
	r->rbp = cpu->gpr[X86_RBP];
	r->r8 = cpu->gpr[X86_R8];
	r->r9 = cpu->gpr[X86_R9];
	r->r10 = cpu->gpr[X86_R10];
	r->r11 = cpu->gpr[X86_R11];
	r->r12 = cpu->gpr[X86_R12];
	r->r13 = cpu->gpr[X86_R13];
	r->r14 = cpu->gpr[X86_R14];
	r->r15 = cpu->gpr[X86_R15];
	r->rip = cpu->rip;
	r->rflags = cpu->rflags;
}

static void set_regs(struct x86_cpu *cpu, const struct kvm_regs *r)
{
	cpu->gpr[X86_RAX] = r->rax;
	cpu->gpr[X86_RBX] = r->rbx;
	cpu->gpr[X86_RCX] = r->rcx;
	cpu->gpr[X86_RDX] = r->rdx;
	cpu->gpr[X86_RSI] = r->rsi;
	cpu->gpr[X86_RDI] = r->rdi;
	cpu->gpr[X86_RSP] = r->rsp;
	cpu->gpr[X86_RBP] = r->rbp;
	cpu->gpr[X86_R8] = r->r8;
	cpu->gpr[X86_R9] = r->r9;
	cpu->gpr[X86_R10] = r->r10;
	cpu->gpr[X86_R11] = r->r11;
	cpu->gpr[X86_R12] = r->r12;
	cpu->gpr[X86_R13] = r->r13;
	cpu->gpr[X86_R14] = r->r14;
	cpu->gpr[X86_R15] = r->r15;
	cpu->rip = r->rip;
	cpu->rflags = r->rflags | 2;
	x86_mode_changed(cpu);
}

static long ioc_get_regs(void *obj, void *arg)
{
	get_regs(cpu_of(obj), arg);
	return 0;
}

static long ioc_set_regs(void *obj, void *arg)
{
	set_regs(cpu_of(obj), arg);
	return 0;
}

/* ---- special registers ---- */

static void seg_out(const struct x86_seg *s, struct kvm_segment *k)
{
	memset(k, 0, sizeof(*k));
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->sel;
	k->type = s->type;
	k->present = s->present;
	k->dpl = s->dpl;
	k->db = s->db;
	k->s = s->s;
	k->l = s->l;
	k->g = s->g;
	k->avl = s->avl;
	k->unusable = s->unusable;
}

static void seg_in(struct x86_seg *s, const struct kvm_segment *k)
{
	s->base = k->base;
	s->limit = k->limit;
	s->sel = k->selector;
	s->type = k->type & 0xf;
	s->present = k->present & 1;
	s->dpl = k->dpl & 3;
	s->db = k->db & 1;
	s->s = k->s & 1;
	s->l = k->l & 1;
	s->g = k->g & 1;
	s->avl = k->avl & 1;
	s->unusable = k->unusable & 1;
}

static const int sreg_order[6] = {X86_CS, X86_DS, X86_ES, X86_FS, X86_GS, X86_SS};

static void get_sregs(struct x86_cpu *cpu, struct kvm_sregs *s)
{
	memset(s, 0, sizeof(*s));
	struct kvm_segment *out[6] = {&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss};
	for (int i = 0; i < 6; i++)
		seg_out(&cpu->seg[sreg_order[i]], out[i]);
	seg_out(&cpu->tr, &s->tr);
	seg_out(&cpu->ldt, &s->ldt);
	s->gdt.base = cpu->gdt.base;
	s->gdt.limit = cpu->gdt.limit;
	s->idt.base = cpu->idt.base;
	s->idt.limit = cpu->idt.limit;
	s->cr0 = cpu->cr0;
	s->cr2 = cpu->cr2;
	s->cr3 = cpu->cr3;
	s->cr4 = cpu->cr4;
	s->cr8 = cpu->cr8;
	s->efer = cpu->efer;
	s->apic_base = cpu->apic_base;
	if (cpu->irq_injected)
		s->interrupt_bitmap[cpu->irq_nr / 64] |= 1ull << (cpu->irq_nr % 64);
}

static bool cr0_valid(uint64_t cr0)
{
	return !(cr0 >> 32) && !((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD)) &&
	       !((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE));
}

/* kvm_is_valid_sregs */
static bool sregs_valid(struct x86_cpu *cpu, const struct kvm_sregs *s)
{
	if ((s->efer & X86_EFER_LME) && (s->cr0 & X86_CR0_PG)) {
		if (!(s->cr4 & X86_CR4_PAE) || !(s->efer & X86_EFER_LMA))
			return false;
		if (s->cr3 & x86_rsvd_gpa(cpu))
			return false;
	} else if ((s->efer & X86_EFER_LMA) || s->cs.l) {
		return false;
	}
	return !(s->cr4 & x86_cr4_reserved(cpu)) && cr0_valid(s->cr0);
}

static int set_sregs(struct x86_cpu *cpu, const struct kvm_sregs *s)
{
	if (!sregs_valid(cpu, s))
		return -EINVAL;
	if (!x86_msr_set(cpu, 0x1b, s->apic_base, true))
		return -EINVAL;
	if (s->efer & ~(X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE))
		return -EINVAL;
	const struct kvm_segment *in[6] = {&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss};
	for (int i = 0; i < 6; i++)
		seg_in(&cpu->seg[sreg_order[i]], in[i]);
	seg_in(&cpu->tr, &s->tr);
	seg_in(&cpu->ldt, &s->ldt);
	cpu->gdt.base = s->gdt.base;
	cpu->gdt.limit = s->gdt.limit;
	cpu->idt.base = s->idt.base;
	cpu->idt.limit = s->idt.limit;
	cpu->cr0 = s->cr0 | X86_CR0_ET;
	cpu->cr2 = s->cr2;
	cpu->cr3 = s->cr3;
	cpu->cr4 = s->cr4;
	cpu->cr8 = s->cr8 & 0xf;
	cpu->efer = s->efer;
	x86_mode_changed(cpu);
	x86_tlb_flush(cpu);
	for (int w = 0; w < 4; w++) {
		if (s->interrupt_bitmap[w]) {
			cpu->irq_injected = true;
			cpu->irq_nr = w * 64 + __builtin_ctzll(s->interrupt_bitmap[w]);
			break;
		}
	}
	return 0;
}

static long ioc_get_sregs(void *obj, void *arg)
{
	get_sregs(cpu_of(obj), arg);
	return 0;
}

static long ioc_set_sregs(void *obj, void *arg)
{
	return set_sregs(cpu_of(obj), arg);
}

/* ---- FPU (FXSAVE image) ---- */

static long ioc_get_fpu(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	struct kvm_fpu *f = arg;
	const uint8_t *x = cpu->fxsave;
	memset(f, 0, sizeof(*f));
	memcpy(f->fpr, x + 32, 128);
	memcpy(&f->fcw, x + 0, 2);
	memcpy(&f->fsw, x + 2, 2);
	f->ftwx = x[4];
	memcpy(&f->last_opcode, x + 6, 2);
	memcpy(&f->last_ip, x + 8, 8);
	memcpy(&f->last_dp, x + 16, 8);
	memcpy(&f->mxcsr, x + 24, 4);
	memcpy(f->xmm, x + 160, 256);
	return 0;
}

static long ioc_set_fpu(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	const struct kvm_fpu *f = arg;
	uint8_t *x = cpu->fxsave;
	memcpy(x + 32, f->fpr, 128);
	memcpy(x + 0, &f->fcw, 2);
	memcpy(x + 2, &f->fsw, 2);
	x[4] = f->ftwx;
	memcpy(x + 6, &f->last_opcode, 2);
	memcpy(x + 8, &f->last_ip, 8);
	memcpy(x + 16, &f->last_dp, 8);
	memcpy(x + 24, &f->mxcsr, 4);
	memcpy(x + 160, f->xmm, 256);
	return 0;
}

/* ---- XSAVE image and XCRs ---- */

/* KVM_GET_XSAVE(2) / KVM_SET_XSAVE: the image is exec_fpstate.c's. */
static void get_xsave(struct x86_cpu *cpu, uint8_t *r)
{
	x86_xsave_uabi_get(cpu, r);
}

static long set_xsave(struct x86_cpu *cpu, const uint8_t *r)
{
	return x86_xsave_uabi_set(cpu, r);
}

static long ioc_get_xsave(void *obj, void *arg)
{
	get_xsave(cpu_of(obj), arg);
	return 0;
}

static long ioc_set_xsave(void *obj, void *arg)
{
	return set_xsave(cpu_of(obj), arg);
}

static long ioc_get_xcrs(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	struct kvm_xcrs *x = arg;
	memset(x, 0, sizeof(*x));
	x->nr_xcrs = 1;
	x->xcrs[0].xcr = 0;
	x->xcrs[0].value = cpu->xcr0;
	return 0;
}

static long ioc_set_xcrs(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	const struct kvm_xcrs *x = arg;
	if (x->nr_xcrs > KVM_MAX_XCRS || x->flags)
		return -EINVAL;
	for (uint32_t k = 0; k < x->nr_xcrs; k++)
		if (x->xcrs[k].xcr == 0)
			return x86_set_xcr(cpu, 0, x->xcrs[k].value) ? 0 : -EINVAL;
	return 0;
}

/* ---- events ---- */

static bool shadow_now(const struct x86_cpu *cpu)
{
	return cpu->shadow && cpu->rip == cpu->shadow_rip;
}

/* The VM's KVM_CAP_EXCEPTION_PAYLOAD and KVM_CAP_X86_TRIPLE_FAULT_EVENT. */
static bool payload_enabled(const struct x86_cpu *cpu)
{
	return atomic_load(&((struct x86_vm *)cpu->vm->arch_vm)->exception_payload);
}

static bool triple_fault_enabled(const struct x86_cpu *cpu)
{
	return atomic_load(&((struct x86_vm *)cpu->vm->arch_vm)->triple_fault_event);
}

/* #BP and #OF: KVM has no instruction length to report them with (the
 * instruction raises them again when it reruns). */
static bool soft_exception(uint8_t nr)
{
	return nr == X86_BP || nr == 4 /* #OF */;
}

static void get_events(struct x86_cpu *cpu, struct kvm_vcpu_events *e)
{
	struct x86_sys *sys = x86_sys(cpu);
	bool payload = payload_enabled(cpu);
	bool queued = cpu->exc_pending, injected = queued && sys->exc_injected;
	/* Without the capability userspace may not carry the payload over:
	 * it is written to CR2 / DR6 now, and pending reads as injected. */
	if (queued && !payload)
		x86_exc_deliver_payload(cpu);
	memset(e, 0, sizeof(*e));
	if (!soft_exception(cpu->exc_nr)) {
		e->exception.injected = injected || (queued && !payload);
		e->exception.pending = queued && !injected && payload;
	}
	e->exception.nr = cpu->exc_nr;
	e->exception.has_error_code = cpu->exc_has_error;
	e->exception.error_code = cpu->exc_error;
	if (queued && sys->exc_has_payload) {
		e->exception_has_payload = 1;
		e->exception_payload = sys->exc_payload;
	}
	e->interrupt.injected = cpu->irq_injected;
	e->interrupt.nr = cpu->irq_nr;
	e->interrupt.shadow = shadow_now(cpu) ? cpu->shadow : 0;
	e->nmi.injected = cpu->nmi_injected;
	e->nmi.pending = cpu->nmi_pending;
	e->nmi.masked = cpu->nmi_masked;
	e->sipi_vector = 0;   /* KVM never reports it (set only) */
	e->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
		   KVM_VCPUEVENT_VALID_SMM;
	if (payload)
		e->flags |= KVM_VCPUEVENT_VALID_PAYLOAD;
	if (triple_fault_enabled(cpu)) {
		e->triple_fault.pending = sys->mce_shutdown;
		e->flags |= KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	}
	x86_smm_get_events(cpu, e);
}

/* Pending (not yet delivered) exceptions and their payloads exist only
 * with KVM_CAP_EXCEPTION_PAYLOAD and KVM_VCPUEVENT_VALID_PAYLOAD; a
 * payload goes only with a pending exception. */
static int exception_in(const struct x86_cpu *cpu, struct kvm_vcpu_events *e)
{
	if (e->flags & KVM_VCPUEVENT_VALID_PAYLOAD) {
		if (!payload_enabled(cpu))
			return -EINVAL;
		if (e->exception.pending)
			e->exception.injected = 0;
		else
			e->exception_has_payload = 0;
	} else {
		e->exception.pending = 0;
		e->exception_has_payload = 0;
	}
	if ((e->exception.injected || e->exception.pending) &&
	    (e->exception.nr > 31 || e->exception.nr == X86_NMI))
		return -EINVAL;
	return 0;
}

static int set_events(struct x86_cpu *cpu, const struct kvm_vcpu_events *in)
{
	uint32_t ok = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
		      KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM |
		      KVM_VCPUEVENT_VALID_PAYLOAD | KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	struct x86_sys *sys = x86_sys(cpu);
	struct kvm_vcpu_events ev = *in, *e = &ev;
	if (e->flags & ~ok)
		return -EINVAL;
	int r = exception_in(cpu, e);
	if (r)
		return r;
	if (!x86_smm_events_valid(cpu, e))
		return -EINVAL;   /* INITs are latched while in SMM */
	cpu->exc_pending = e->exception.injected || e->exception.pending;
	sys->exc_injected = e->exception.injected;
	cpu->exc_nr = e->exception.nr;
	cpu->exc_has_error = e->exception.has_error_code;
	cpu->exc_error = e->exception.error_code;
	sys->exc_has_payload = e->exception_has_payload;
	sys->exc_payload = e->exception_payload;
	cpu->irq_injected = e->interrupt.injected && !e->interrupt.soft;
	cpu->irq_nr = e->interrupt.nr;
	if (e->flags & KVM_VCPUEVENT_VALID_SHADOW) {
		cpu->shadow = e->interrupt.shadow & (KVM_X86_SHADOW_INT_MOV_SS | KVM_X86_SHADOW_INT_STI);
		cpu->shadow_rip = cpu->rip;
	}
	cpu->nmi_injected = e->nmi.injected;
	if (e->flags & KVM_VCPUEVENT_VALID_NMI_PENDING)
		cpu->nmi_pending = e->nmi.pending;
	cpu->nmi_masked = e->nmi.masked;
	if (e->flags & KVM_VCPUEVENT_VALID_SIPI_VECTOR)
		cpu->sipi_vector = e->sipi_vector;
	x86_smm_set_events(cpu, e);
	/* As KVM, this check comes last: what was set above stays set. */
	if (e->flags & KVM_VCPUEVENT_VALID_TRIPLE_FAULT) {
		if (!triple_fault_enabled(cpu))
			return -EINVAL;
		sys->mce_shutdown = e->triple_fault.pending;
	}
	return 0;
}

static long ioc_get_events(void *obj, void *arg)
{
	get_events(cpu_of(obj), arg);
	return 0;
}

static long ioc_set_events(void *obj, void *arg)
{
	return set_events(cpu_of(obj), arg);
}

/* ---- debug registers ---- */

static long ioc_get_debugregs(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	struct kvm_debugregs *d = arg;
	memset(d, 0, sizeof(*d));
	memcpy(d->db, cpu->dr, sizeof(d->db));
	d->dr6 = cpu->dr6;
	d->dr7 = cpu->dr7;
	return 0;
}

static long ioc_set_debugregs(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	const struct kvm_debugregs *d = arg;
	if (d->flags)
		return -EINVAL;
	if ((d->dr6 >> 32) || (d->dr7 >> 32))
		return -EINVAL;
	memcpy(cpu->dr, d->db, sizeof(cpu->dr));
	cpu->dr6 = d->dr6;
	cpu->dr7 = d->dr7;
	x86_tlb_flush(cpu);   /* data breakpoints bypass the TLB */
	return 0;
}

/* ---- MP state ---- */

static long ioc_get_mp_state(void *obj, void *arg)
{
	struct kvm_mp_state *m = arg;
	x86_lapic_accept_events(cpu_of(obj));   /* posted INIT/SIPI are taken first */
	m->mp_state = cpu_of(obj)->mp_state;
	if (m->mp_state == KVM_MP_STATE_HALTED && atomic_load(&x86_sys(cpu_of(obj))->pv.unhalted))
		m->mp_state = KVM_MP_STATE_RUNNABLE;   /* kicked (KVM_HC_KICK_CPU) */
	return 0;
}

static long ioc_set_mp_state(void *obj, void *arg)
{
	const struct kvm_mp_state *m = arg;
	struct x86_cpu *cpu = cpu_of(obj);
	struct x86_lapic *a = x86_lapic(cpu);
	switch (m->mp_state) {
	case KVM_MP_STATE_RUNNABLE:
		break;
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_HALTED:
	case KVM_MP_STATE_AP_RESET_HOLD:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_SIPI_RECEIVED:
		/* Without an in-kernel LAPIC, KVM accepts only RUNNABLE. */
		if (!a)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (m->mp_state == KVM_MP_STATE_SIPI_RECEIVED) {
		cpu->mp_state = KVM_MP_STATE_INIT_RECEIVED;
		x86_lapic_post_sipi(a, cpu->sipi_vector);
	} else {
		cpu->mp_state = m->mp_state;
	}
	return 0;
}

/* ---- MSRs ---- */

static size_t msrs_len(const void *hdr)
{
	const struct kvm_msrs *m = hdr;
	if (m->nmsrs >= MAX_IO_MSRS)
		return SIZE_MAX;
	return sizeof(*m) + (size_t)m->nmsrs * sizeof(struct kvm_msr_entry);
}

static long ioc_get_msrs(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	struct kvm_msrs *m = arg;
	uint32_t i;
	for (i = 0; i < m->nmsrs; i++)
		if (!x86_msr_get(cpu, m->entries[i].index, (uint64_t *)&m->entries[i].data, true))
			break;
	return i;
}

static long ioc_set_msrs(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	struct kvm_msrs *m = arg;
	uint32_t i;
	for (i = 0; i < m->nmsrs; i++)
		if (!x86_msr_set(cpu, m->entries[i].index, m->entries[i].data, true))
			break;
	return i;
}

static long ioc_sys_get_msrs(void *obj, void *arg)
{
	struct kvm_msrs *m = arg;
	uint32_t i;
	for (i = 0; i < m->nmsrs; i++)
		if (!x86_msr_feature_get(m->entries[i].index, (uint64_t *)&m->entries[i].data))
			break;
	return i;
}

static size_t msr_list_len(const void *hdr)
{
	const struct kvm_msr_list *l = hdr;
	uint32_t n = l->nmsrs < x86_msr_index_count ? l->nmsrs : x86_msr_index_count;
	return sizeof(*l) + (size_t)n * sizeof(uint32_t);
}

static size_t feature_list_len(const void *hdr)
{
	const struct kvm_msr_list *l = hdr;
	uint32_t n = l->nmsrs < x86_msr_feature_count ? l->nmsrs : x86_msr_feature_count;
	return sizeof(*l) + (size_t)n * sizeof(uint32_t);
}

/* The count goes back to userspace even when its array is too small. */
static long list_out(struct kvm_msr_list *l, const uint32_t *list, unsigned n)
{
	uint32_t room = l->nmsrs;
	l->nmsrs = n;
	if (room < n)
		return -E2BIG;
	memcpy(l->indices, list, n * sizeof(uint32_t));
	return 0;
}

static long ioc_msr_index_list(void *obj, void *arg)
{
	return list_out(arg, x86_msr_index_list, x86_msr_index_count);
}

static long ioc_msr_feature_list(void *obj, void *arg)
{
	return list_out(arg, x86_msr_feature_list, x86_msr_feature_count);
}

/* ---- CPUID ---- */

static size_t cpuid2_len(const void *hdr)
{
	const struct kvm_cpuid2 *c = hdr;
	if (c->nent > MAX_CPUID_ENTRIES)
		return SIZE_MAX;
	return sizeof(*c) + (size_t)c->nent * sizeof(struct kvm_cpuid_entry2);
}

/* GETs: a larger nent is clamped, not refused. */
static size_t cpuid2_get_len(const void *hdr)
{
	const struct kvm_cpuid2 *c = hdr;
	uint32_t n = c->nent > MAX_CPUID_ENTRIES ? MAX_CPUID_ENTRIES : c->nent;
	return sizeof(*c) + (size_t)n * sizeof(struct kvm_cpuid_entry2);
}

static size_t cpuid_len(const void *hdr)
{
	const struct kvm_cpuid *c = hdr;
	if (c->nent > MAX_CPUID_ENTRIES)
		return SIZE_MAX;
	return sizeof(*c) + (size_t)c->nent * sizeof(struct kvm_cpuid_entry);
}

static bool cpuid_equal(const struct x86_cpu *cpu, const struct kvm_cpuid_entry2 *e, int n)
{
	if (n != cpu->ncpuid)
		return false;
	for (int i = 0; i < n; i++) {
		const struct kvm_cpuid_entry2 *a = &e[i], *b = &cpu->cpuid[i];
		if (a->function != b->function || a->index != b->index || a->flags != b->flags ||
		    a->eax != b->eax || a->ebx != b->ebx || a->ecx != b->ecx || a->edx != b->edx)
			return false;
	}
	return true;
}

static long set_cpuid_entries(struct x86_cpu *cpu, const struct kvm_cpuid_entry2 *e, int n)
{
	/* After the first KVM_RUN only an identical table is accepted, once
	 * KVM's runtime updates are applied to it (as kvm_set_cpuid). */
	if (x86_sys(cpu)->has_run) {
		struct kvm_cpuid_entry2 *c = malloc((n ? n : 1) * sizeof(*e));
		if (!c)
			return -ENOMEM;
		memcpy(c, e, n * sizeof(*e));
		x86_cpuid_runtime(cpu, c, n);
		bool eq = cpuid_equal(cpu, c, n);
		free(c);
		return eq ? 0 : -EINVAL;
	}
	int r = x86_set_cpuid(cpu, e, n);
	if (r)
		return r;
	/* RDX at reset holds the CPUID signature. */
	uint32_t out[4];
	x86_cpuid(cpu, 1, 0, out);
	(void)out;
	return 0;
}

static long ioc_set_cpuid2(void *obj, void *arg)
{
	struct kvm_cpuid2 *c = arg;
	return set_cpuid_entries(cpu_of(obj), c->entries, c->nent);
}

static long ioc_set_cpuid(void *obj, void *arg)
{
	struct kvm_cpuid *c = arg;
	struct kvm_cpuid_entry2 *e = calloc(c->nent ? c->nent : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->nent; i++) {
		e[i].function = c->entries[i].function;
		e[i].eax = c->entries[i].eax;
		e[i].ebx = c->entries[i].ebx;
		e[i].ecx = c->entries[i].ecx;
		e[i].edx = c->entries[i].edx;
	}
	long r = set_cpuid_entries(cpu_of(obj), e, c->nent);
	free(e);
	return r;
}

static long ioc_get_cpuid2(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	struct kvm_cpuid2 *c = arg;
	/* As kvm_vcpu_ioctl_get_cpuid2: nent is rewritten only on E2BIG
	 * (and then not copied back). */
	if (c->nent < (uint32_t)cpu->ncpuid)
		return -E2BIG;
	memcpy(c->entries, cpu->cpuid, cpu->ncpuid * sizeof(*cpu->cpuid));
	return 0;
}

static long ioc_supported_cpuid(void *obj, void *arg)
{
	struct kvm_cpuid2 *c = arg;
	if (c->nent < 1)
		return -E2BIG;
	uint32_t max = c->nent > MAX_CPUID_ENTRIES ? MAX_CPUID_ENTRIES : c->nent;
	int n = x86_supported_cpuid(c->entries, max);
	if (n < 0)
		return -E2BIG;
	c->nent = n;
	return 0;
}

/* ---- interrupts, NMI, debugging, translation ---- */

static long ioc_interrupt(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	const struct kvm_interrupt *irq = arg;
	if (irq->irq >= 256)
		return -EINVAL;
	if (x86_lapic(cpu))
		return -ENXIO;   /* the in-kernel irqchip owns injection */
	/* Without an in-kernel irqchip a queued vector is simply replaced. */
	cpu->irq_injected = true;
	cpu->irq_nr = irq->irq;
	return 0;
}

static long ioc_nmi(void *obj, void *arg)
{
	cpu_of(obj)->nmi_pending = true;
	return 0;
}

static long ioc_set_guest_debug(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	const struct kvm_guest_debug *d = arg;
	if (d->control & ~GUESTDBG_VALID)
		return -EINVAL;
	if (d->control & (KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP)) {
		/* kvm_is_exception_pending: an injected one does not count. */
		struct x86_sys *sys = x86_sys(cpu);
		if ((cpu->exc_pending && !sys->exc_injected) || sys->mce_shutdown)
			return -EBUSY;
		x86_exc_queue(cpu, (d->control & KVM_GUESTDBG_INJECT_DB) ? X86_DB : X86_BP, false, 0);
	}
	cpu->guest_debug = (d->control & KVM_GUESTDBG_ENABLE) ? d->control : 0;
	if (cpu->guest_debug & KVM_GUESTDBG_USE_HW_BP) {
		memcpy(cpu->guest_dbg_dr, d->arch.debugreg, sizeof(cpu->guest_dbg_dr));
		cpu->guest_dbg_dr7 = d->arch.debugreg[7];
	}
	x86_tlb_flush(cpu);
	return 0;
}

static long ioc_translate(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	struct kvm_translation *t = arg;
	uint64_t gpa;
	x86_refresh_slots(cpu);   /* page tables are read before any KVM_RUN too */
	bool ok = x86_translate_nofault(cpu, t->linear_address, &gpa, NULL, NULL);
	t->physical_address = ok ? gpa : ~0ull;
	t->valid = ok;
	t->writeable = 1;
	t->usermode = 0;
	return 0;
}

/* Kept for QEMU's kvmvapic; the TPR shadow page it names is not updated,
 * which only costs the patched guest its TPR-access shortcut. */
static long ioc_set_vapic_addr(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	if (!x86_lapic(cpu))
		return -EINVAL;
	x86_sys(cpu)->vapic_addr = ((const struct kvm_vapic_addr *)arg)->vapic_addr;
	return 0;
}

/* ---- sync regs (kvm_run->s.regs) ---- */

int x86_sync_regs_in(struct x86_cpu *cpu)
{
	struct kvm_run *run = x86_run(cpu);
	if ((run->kvm_valid_regs & ~SYNC_VALID) || (run->kvm_dirty_regs & ~SYNC_VALID))
		return -EINVAL;
	uint64_t dirty = run->kvm_dirty_regs;
	if (!dirty)
		return 0;
	if (dirty & KVM_SYNC_X86_REGS) {
		set_regs(cpu, &run->s.regs.regs);
		run->kvm_dirty_regs &= ~(uint64_t)KVM_SYNC_X86_REGS;
	}
	if (dirty & KVM_SYNC_X86_SREGS) {
		if (set_sregs(cpu, &run->s.regs.sregs))
			return -EINVAL;
		run->kvm_dirty_regs &= ~(uint64_t)KVM_SYNC_X86_SREGS;
	}
	if (dirty & KVM_SYNC_X86_EVENTS) {
		if (set_events(cpu, &run->s.regs.events))
			return -EINVAL;
		run->kvm_dirty_regs &= ~(uint64_t)KVM_SYNC_X86_EVENTS;
	}
	return 0;
}

void x86_sync_regs_out(struct x86_cpu *cpu)
{
	struct kvm_run *run = x86_run(cpu);
	if (run->kvm_valid_regs & KVM_SYNC_X86_REGS)
		get_regs(cpu, &run->s.regs.regs);
	if (run->kvm_valid_regs & KVM_SYNC_X86_SREGS)
		get_sregs(cpu, &run->s.regs.sregs);
	if (run->kvm_valid_regs & KVM_SYNC_X86_EVENTS)
		get_events(cpu, &run->s.regs.events);
}

/* ---- VM ioctls ---- */

static long ioc_set_tss_addr(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	unsigned long addr = (unsigned long)arg;
	if (addr > (unsigned int)(-3 * 4096))
		return -EINVAL;
	struct x86_vm *xv = vm->arch_vm;
	xv->tss_addr = addr;
	xv->tss_set = true;
	return 0;
}

static long ioc_set_identity_map_addr(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	struct x86_vm *xv = vm->arch_vm;
	if (vm->nr_vcpus)
		return -EINVAL;
	xv->identity_map_addr = *(const uint64_t *)arg;
	xv->identity_map_set = true;
	return 0;
}

/* ---- capabilities ---- */

long x86_check_extension(struct sk_vm *vm, long ext)
{
	switch (ext) {
	case KVM_CAP_HLT:
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_SET_IDENTITY_MAP_ADDR:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_NOP_IO_DELAY:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_USER_NMI:
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_INTR_SHADOW:
	case KVM_CAP_DEBUGREGS:
	case KVM_CAP_X86_ROBUST_SINGLESTEP:
	case KVM_CAP_SET_GUEST_DEBUG:
	case KVM_CAP_GET_TSC_KHZ:
	case KVM_CAP_TSC_CONTROL:          /* tsc.c */
	case KVM_CAP_VM_TSC_CONTROL:
	case KVM_CAP_GET_MSR_FEATURES:
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_IRQ_INJECT_STATUS:
	case KVM_CAP_SET_BOOT_CPU_ID:
	case KVM_CAP_TSC_DEADLINE_TIMER:
	case KVM_CAP_PIT2:
	case KVM_CAP_PIT_STATE2:
	case KVM_CAP_XSAVE:
	case KVM_CAP_XCRS:
	case KVM_CAP_X86_SMM:
	case KVM_CAP_DISABLE_QUIRKS:
	case KVM_CAP_EXCEPTION_PAYLOAD:
	case KVM_CAP_X86_TRIPLE_FAULT_EVENT:
		return 1;
	case KVM_CAP_DISABLE_QUIRKS2:
		return X86_VALID_QUIRKS;
	case KVM_CAP_XSAVE2:
		return sizeof(struct kvm_xsave);
	/* Answered by the core's table today (0); these are the x86 answers. */
	case KVM_CAP_IRQFD:
	case KVM_CAP_SIGNAL_MSI:
	case KVM_CAP_IOEVENTFD:
	case KVM_CAP_IOEVENTFD_ANY_LENGTH:
		return 1;
	case KVM_CAP_IRQ_ROUTING:
		return IRQ_MAX_GSI;
	case KVM_CAP_ADJUST_CLOCK:
		return KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
	case KVM_CAP_X2APIC_API:
		return KVM_X2APIC_API_USE_32BIT_IDS | KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK;
	case KVM_CAP_SET_GUEST_DEBUG2:
		return GUESTDBG_VALID;
	case KVM_CAP_SYNC_REGS:
		return SYNC_VALID;
	case KVM_CAP_X86_USER_SPACE_MSR:   /* msr_filter.c */
	case KVM_CAP_X86_MSR_FILTER:
	case KVM_CAP_MSR_PLATFORM_INFO:    /* msr.c */
		return 1;
	case KVM_CAP_MCE:                  /* mce.c */
		return X86_MCE_MAX_BANKS;
	case KVM_CAP_ENFORCE_PV_FEATURE_CPUID: /* pv.c */
	case KVM_CAP_VCPU_ATTRIBUTES:
		return 1;
	default:
		return 0;
	}
}

/* ---- tables ---- */

const struct sk_ioctl x86_sys_ioctls[] = {
	{KVM_GET_MSR_INDEX_LIST, ioc_msr_index_list, msr_list_len, SK_IOC_COPYOUT_ON_ERROR},
	{KVM_GET_MSR_FEATURE_INDEX_LIST, ioc_msr_feature_list, feature_list_len,
	 SK_IOC_COPYOUT_ON_ERROR},
	{KVM_GET_SUPPORTED_CPUID, ioc_supported_cpuid, cpuid2_get_len, 0},
	{KVM_GET_MSRS, ioc_sys_get_msrs, msrs_len, 0},
	{KVM_X86_GET_MCE_CAP_SUPPORTED, x86_ioc_mce_cap_supported, NULL, 0},
	{0, NULL, NULL, 0},
};

const struct sk_ioctl x86_vm_ioctls[] = {
	{KVM_SET_TSS_ADDR, ioc_set_tss_addr, NULL, SK_IOC_VALUE},
	{KVM_SET_IDENTITY_MAP_ADDR, ioc_set_identity_map_addr, NULL, 0},
	{KVM_SET_NR_MMU_PAGES, x86_ioc_set_nr_mmu_pages, NULL, SK_IOC_VALUE},
	{KVM_GET_NR_MMU_PAGES, x86_ioc_get_nr_mmu_pages, NULL, SK_IOC_VALUE},
	/* The in-kernel irqchip (irqchip.c). */
	{KVM_CREATE_IRQCHIP, x86_ioc_create_irqchip, NULL, SK_IOC_VALUE},
	{KVM_IRQ_LINE, x86_ioc_irq_line, NULL, 0},
	{KVM_IRQ_LINE_STATUS, x86_ioc_irq_line_status, NULL, 0},
	{KVM_GET_IRQCHIP, x86_ioc_get_irqchip, NULL, 0},
	{KVM_SET_IRQCHIP, x86_ioc_set_irqchip, NULL, SK_IOC_IN},
	{KVM_SIGNAL_MSI, x86_ioc_signal_msi, NULL, 0},
	{KVM_SET_GSI_ROUTING, x86_ioc_set_gsi_routing, x86_irq_routing_len, 0},
	{KVM_SET_BOOT_CPU_ID, x86_ioc_set_boot_cpu_id, NULL, SK_IOC_VALUE},
	{KVM_CREATE_PIT2, x86_ioc_create_pit2, NULL, 0},
	{KVM_IRQFD, x86_ioc_irqfd, NULL, 0},
	{KVM_GET_PIT2, x86_ioc_get_pit2, NULL, 0},
	{KVM_SET_PIT2, x86_ioc_set_pit2, NULL, 0},
	{KVM_GET_CLOCK, x86_ioc_get_clock, NULL, 0},
	{KVM_IOEVENTFD, x86_ioc_ioeventfd, NULL, 0},
	{KVM_SET_CLOCK, x86_ioc_set_clock, NULL, 0},
	{KVM_GET_TSC_KHZ, x86_ioc_vm_get_tsc_khz, NULL, SK_IOC_VALUE},
	{KVM_SET_TSC_KHZ, x86_ioc_vm_set_tsc_khz, NULL, SK_IOC_VALUE},
	{KVM_X86_SET_MSR_FILTER, x86_ioc_set_msr_filter, NULL, 0},
	{0, NULL, NULL, 0},
};

const struct sk_ioctl x86_vcpu_ioctls[] = {
	{KVM_GET_REGS, ioc_get_regs, NULL, 0},
	{KVM_SET_REGS, ioc_set_regs, NULL, 0},
	{KVM_GET_SREGS, ioc_get_sregs, NULL, 0},
	{KVM_SET_SREGS, ioc_set_sregs, NULL, 0},
	{KVM_GET_FPU, ioc_get_fpu, NULL, 0},
	{KVM_SET_FPU, ioc_set_fpu, NULL, 0},
	{KVM_GET_XSAVE, ioc_get_xsave, NULL, 0},
	/* The whole size is KVM_CAP_XSAVE2's answer: 4096 while only x87 and
	 * SSE are offered, the size of struct kvm_xsave. */
	{KVM_GET_XSAVE2, ioc_get_xsave, NULL, 0},
	{KVM_SET_XSAVE, ioc_set_xsave, NULL, 0},
	{KVM_GET_XCRS, ioc_get_xcrs, NULL, 0},
	{KVM_SET_XCRS, ioc_set_xcrs, NULL, 0},
	{KVM_GET_VCPU_EVENTS, ioc_get_events, NULL, 0},
	{KVM_SET_VCPU_EVENTS, ioc_set_events, NULL, 0},
	{KVM_GET_DEBUGREGS, ioc_get_debugregs, NULL, 0},
	{KVM_SET_DEBUGREGS, ioc_set_debugregs, NULL, 0},
	{KVM_GET_MP_STATE, ioc_get_mp_state, NULL, 0},
	{KVM_SET_MP_STATE, ioc_set_mp_state, NULL, 0},
	{KVM_GET_MSRS, ioc_get_msrs, msrs_len, 0},
	{KVM_SET_MSRS, ioc_set_msrs, msrs_len, 0},
	{KVM_SET_CPUID2, ioc_set_cpuid2, cpuid2_len, 0},
	{KVM_GET_CPUID2, ioc_get_cpuid2, cpuid2_get_len, 0},
	{KVM_SET_CPUID, ioc_set_cpuid, cpuid_len, 0},
	{KVM_INTERRUPT, ioc_interrupt, NULL, 0},
	{KVM_NMI, ioc_nmi, NULL, SK_IOC_VALUE},
	{KVM_SMI, x86_ioc_smi, NULL, SK_IOC_VALUE},
	{KVM_SET_GUEST_DEBUG, ioc_set_guest_debug, NULL, 0},
	{KVM_TRANSLATE, ioc_translate, NULL, 0},
	{KVM_GET_TSC_KHZ, x86_ioc_get_tsc_khz, NULL, SK_IOC_VALUE},
	{KVM_SET_TSC_KHZ, x86_ioc_set_tsc_khz, NULL, SK_IOC_VALUE},
	{KVM_SET_VAPIC_ADDR, ioc_set_vapic_addr, NULL, 0},
	{KVM_GET_LAPIC, x86_ioc_get_lapic, NULL, 0},
	{KVM_SET_LAPIC, x86_ioc_set_lapic, NULL, 0},
	{KVM_X86_SETUP_MCE, x86_ioc_setup_mce, NULL, 0},
	{KVM_X86_SET_MCE, x86_ioc_set_mce, NULL, 0},
	{KVM_HAS_DEVICE_ATTR, x86_ioc_vcpu_has_attr, NULL, 0},
	{KVM_GET_DEVICE_ATTR, x86_ioc_vcpu_get_attr, NULL, 0},
	{KVM_SET_DEVICE_ATTR, x86_ioc_vcpu_set_attr, NULL, 0},
	{0, NULL, NULL, 0},
};
