/* Exceptions and interrupts: raising a fault from inside an instruction,
 * and delivering an event through the real-mode IVT or the protected /
 * long-mode IDT, with privilege and stack switches, double fault and
 * triple fault (shutdown).
 */
#include <string.h>

#include "arch/x86/sys.h"

#define DR6_ACTIVE_LOW 0xffff0ff0ull
#define DR6_BS (1ull << 14)
#define DR7_GD (1ull << 13)

uint64_t x86_dr6_fixed(void)
{
	return DR6_ACTIVE_LOW;
}

_Noreturn void x86_raise(struct x86_cpu *cpu, int vec, bool has_err, uint32_t err)
{
	/* A write of this instruction still to be reported goes out first;
	 * the instruction replays it and faults again on re-entry. */
	if (cpu->io_exit_retire)
		x86_exit_to_user(cpu);
	cpu->rip = cpu->insn_rip;
	cpu->exc_pending = true;
	x86_sys(cpu)->exc_injected = false;
	x86_sys(cpu)->exc_has_payload = false;   /* CR2 / DR6 are written at once */
	cpu->exc_nr = vec;
	cpu->exc_has_error = has_err;
	cpu->exc_error = err;
	/* The instruction starts over after the handler: its IO is new then. */
	x86_io_log_clear(cpu);
	longjmp(cpu->unwind, X86_UNWIND_FAULT);
}

_Noreturn void x86_raise_pf(struct x86_cpu *cpu, uint64_t lin, uint32_t err)
{
	cpu->cr2 = lin;
	x86_raise(cpu, X86_PF, true, err);
}

/* Error code for a fault about a selector or an IDT entry while
 * delivering an event: bit 0 (EXT) says the event came from outside. */
_Noreturn static void fault_sel(struct x86_cpu *cpu, int vec, uint32_t code, bool ext)
{
	x86_raise(cpu, vec, true, (code & 0xfffc) | (ext ? 1 : 0));
}

_Noreturn static void fault_idt(struct x86_cpu *cpu, int vec, int nr, bool ext)
{
	x86_raise(cpu, vec, true, (uint32_t)nr * 8 + 2 + (ext ? 1 : 0));
}

/* A stack being built before anything is committed. */
struct stack {
	struct x86_seg ss;
	uint64_t sp;
	int cpl;        /* privilege of the pushes */
	bool wide64;
};

static void push(struct x86_cpu *cpu, struct stack *st, unsigned size, uint64_t val)
{
	uint64_t lin;
	if (st->wide64) {
		st->sp -= size;
		lin = st->sp;
	} else {
		uint64_t mask = st->ss.db ? 0xffffffffull : 0xffffull;
		st->sp = (st->sp - size) & mask;
		/* Expand-up limit only: delivery onto an expand-down stack is rare. */
		if ((st->ss.type & 0x4) == 0 && st->sp + size - 1 > st->ss.limit)
			fault_sel(cpu, X86_SS_EXC, st->ss.sel, false);
		lin = (st->ss.base + st->sp) & 0xffffffffull;
	}
	x86_access_cpl(cpu, lin, &val, size, X86_ACC_WRITE, st->cpl);
}

static void deliver_real(struct x86_cpu *cpu, int vec, uint64_t return_rip)
{
	if ((uint32_t)vec * 4 + 3 > cpu->idt.limit)
		x86_raise(cpu, X86_GP, true, vec * 8 + 2);
	uint32_t ent;
	x86_sys_read(cpu, cpu->idt.base + vec * 4, &ent, 4);
	struct stack st = {.ss = cpu->seg[X86_SS], .sp = cpu->gpr[X86_RSP], .cpl = 0};
	push(cpu, &st, 2, cpu->rflags);
	push(cpu, &st, 2, cpu->seg[X86_CS].sel);
	push(cpu, &st, 2, return_rip);
	uint64_t mask = st.ss.db ? 0xffffffffull : 0xffffull;
	cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~mask) | (st.sp & mask);
	cpu->rflags &= ~(uint64_t)(X86_IF | X86_TF | X86_AC_FLAG | X86_RF);
	cpu->seg[X86_CS].sel = ent >> 16;
	cpu->seg[X86_CS].base = (ent >> 16) << 4;
	cpu->rip = ent & 0xffff;
}

/* Load the code segment descriptor a gate names and check it. */
static void gate_target(struct x86_cpu *cpu, uint16_t sel, bool ext, bool long_mode,
			struct x86_seg *cs)
{
	uint64_t d[2];
	if (!(sel & 0xfffc))
		fault_sel(cpu, X86_GP, 0, ext);
	if (!x86_read_descriptor(cpu, sel, d))
		fault_sel(cpu, X86_GP, sel, ext);
	x86_seg_from_desc(cs, sel, d);
	if (!cs->s || !(cs->type & 8) || cs->dpl > cpu->cpl)
		fault_sel(cpu, X86_GP, sel, ext);
	if (long_mode && (!cs->l || cs->db))
		fault_sel(cpu, X86_GP, sel, ext);
	if (!cs->present)
		fault_sel(cpu, X86_NP, sel, ext);
}

/* SS:ESP of privilege level pl from a 16- or 32-bit TSS. */
static void tss_stack(struct x86_cpu *cpu, int pl, bool ext, struct stack *st)
{
	const struct x86_seg *tr = &cpu->tr;
	bool tss32 = tr->type & 8;
	uint32_t off = tss32 ? 4 + 8 * pl : 2 + 4 * pl;
	uint32_t n = tss32 ? 6 : 4;
	if (tr->unusable || off + n - 1 > tr->limit)
		fault_sel(cpu, X86_TS, tr->sel, ext);
	uint32_t sp = 0;
	uint16_t sel;
	x86_sys_read(cpu, tr->base + off, &sp, tss32 ? 4 : 2);
	x86_sys_read(cpu, tr->base + off + (tss32 ? 4 : 2), &sel, 2);
	uint64_t d[2];
	if (!(sel & 0xfffc))
		fault_sel(cpu, X86_TS, 0, ext);
	if (!x86_read_descriptor(cpu, sel, d))
		fault_sel(cpu, X86_TS, sel, ext);
	x86_seg_from_desc(&st->ss, sel, d);
	if ((sel & 3) != pl || st->ss.dpl != pl || !st->ss.s || (st->ss.type & 0xa) != 0x2)
		fault_sel(cpu, X86_TS, sel, ext);
	if (!st->ss.present)
		fault_sel(cpu, X86_SS_EXC, sel, ext);
	st->sp = sp;
	st->cpl = pl;
	st->wide64 = false;
}

static void commit_cs(struct x86_cpu *cpu, struct x86_seg *cs, int new_cpl, uint64_t rip,
		      bool trap_gate)
{
	cs->sel = (cs->sel & ~3) | new_cpl;
	cs->type |= 1;       /* accessed */
	cpu->seg[X86_CS] = *cs;
	cpu->rip = rip;
	cpu->rflags &= ~(uint64_t)(X86_TF | X86_NT | X86_RF | X86_VM);
	if (!trap_gate)
		cpu->rflags &= ~(uint64_t)X86_IF;
}

static void deliver_prot(struct x86_cpu *cpu, int vec, bool has_err, uint32_t err, bool soft,
			 uint64_t return_rip)
{
	bool ext = !soft;
	if ((uint32_t)vec * 8 + 7 > cpu->idt.limit)
		fault_idt(cpu, X86_GP, vec, ext);
	uint64_t g;
	x86_sys_read(cpu, cpu->idt.base + vec * 8, &g, 8);
	unsigned type = (g >> 40) & 0x1f, dpl = (g >> 45) & 3;
	if (type != 0x06 && type != 0x07 && type != 0x0e && type != 0x0f) {
		if (type == 0x05) {
			x86_task_gate_deliver(cpu, vec, g, has_err, err, soft, return_rip);
			return;
		}
		fault_idt(cpu, X86_GP, vec, ext);
	}
	if (soft && dpl < cpu->cpl)
		fault_idt(cpu, X86_GP, vec, false);
	if (!((g >> 47) & 1))
		fault_idt(cpu, X86_NP, vec, ext);
	bool gate32 = type & 8;
	unsigned sz = gate32 ? 4 : 2;
	uint64_t off = (g & 0xffff) | (gate32 ? ((g >> 48) & 0xffff) << 16 : 0);
	struct x86_seg cs;
	gate_target(cpu, (g >> 16) & 0xffff, ext, false, &cs);
	int new_cpl = (cs.type & 4) ? cpu->cpl : cs.dpl;
	bool vm86 = cpu->rflags & X86_VM;
	if (vm86 && new_cpl != 0)
		fault_sel(cpu, X86_GP, cs.sel, ext);
	if (off > cs.limit)
		x86_raise(cpu, X86_GP, true, 0);
	struct stack st = {.ss = cpu->seg[X86_SS], .sp = cpu->gpr[X86_RSP], .cpl = cpu->cpl};
	bool switched = new_cpl < cpu->cpl;
	if (switched) {
		tss_stack(cpu, new_cpl, ext, &st);
		if (vm86) {
			push(cpu, &st, sz, cpu->seg[X86_GS].sel);
			push(cpu, &st, sz, cpu->seg[X86_FS].sel);
			push(cpu, &st, sz, cpu->seg[X86_DS].sel);
			push(cpu, &st, sz, cpu->seg[X86_ES].sel);
		}
		push(cpu, &st, sz, cpu->seg[X86_SS].sel);
		push(cpu, &st, sz, cpu->gpr[X86_RSP]);
	}
	push(cpu, &st, sz, cpu->rflags);
	push(cpu, &st, sz, cpu->seg[X86_CS].sel);
	push(cpu, &st, sz, return_rip);
	if (has_err)
		push(cpu, &st, sz, err);

	/* Nothing can fault any more: commit. */
	if (switched) {
		st.ss.type |= 1;
		cpu->seg[X86_SS] = st.ss;
		if (vm86) {
			static const int data[] = {X86_ES, X86_DS, X86_FS, X86_GS};
			for (int i = 0; i < 4; i++) {
				memset(&cpu->seg[data[i]], 0, sizeof(struct x86_seg));
				cpu->seg[data[i]].unusable = 1;
			}
		}
	}
	uint64_t mask = st.ss.db ? 0xffffffffull : 0xffffull;
	cpu->gpr[X86_RSP] = switched ? (st.sp & mask) : ((cpu->gpr[X86_RSP] & ~mask) | (st.sp & mask));
	commit_cs(cpu, &cs, new_cpl, off, type & 1);
}

static void deliver_long(struct x86_cpu *cpu, int vec, bool has_err, uint32_t err, bool soft,
			 uint64_t return_rip)
{
	bool ext = !soft;
	if ((uint32_t)vec * 16 + 15 > cpu->idt.limit)
		fault_idt(cpu, X86_GP, vec, ext);
	uint64_t g[2];
	x86_sys_read(cpu, cpu->idt.base + vec * 16, g, 16);
	unsigned type = (g[0] >> 40) & 0x1f, dpl = (g[0] >> 45) & 3;
	if (type != 0x0e && type != 0x0f)
		fault_idt(cpu, X86_GP, vec, ext);
	if (soft && dpl < cpu->cpl)
		fault_idt(cpu, X86_GP, vec, false);
	if (!((g[0] >> 47) & 1))
		fault_idt(cpu, X86_NP, vec, ext);
	uint64_t off = (g[0] & 0xffff) | ((g[0] >> 48) & 0xffff) << 16 | (g[1] & 0xffffffffull) << 32;
	unsigned ist = (g[0] >> 32) & 7;
	struct x86_seg cs;
	gate_target(cpu, (g[0] >> 16) & 0xffff, ext, true, &cs);
	int new_cpl = (cs.type & 4) ? cpu->cpl : cs.dpl;
	bool switched = new_cpl < cpu->cpl;
	struct stack st = {.sp = cpu->gpr[X86_RSP], .cpl = new_cpl, .wide64 = true};
	if (switched || ist) {
		uint32_t o = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * (unsigned)new_cpl;
		if (cpu->tr.unusable || o + 7 > cpu->tr.limit)
			fault_sel(cpu, X86_TS, cpu->tr.sel, ext);
		x86_sys_read(cpu, cpu->tr.base + o, &st.sp, 8);
	}
	st.sp &= ~0xfull;
	if (!x86_canonical(cpu, st.sp))
		x86_raise(cpu, X86_SS_EXC, true, ext ? 1 : 0);
	push(cpu, &st, 8, cpu->seg[X86_SS].sel);
	push(cpu, &st, 8, cpu->gpr[X86_RSP]);
	push(cpu, &st, 8, cpu->rflags);
	push(cpu, &st, 8, cpu->seg[X86_CS].sel);
	push(cpu, &st, 8, return_rip);
	if (has_err)
		push(cpu, &st, 8, err);

	if (switched) {
		/* A null SS carrying the new privilege level. */
		struct x86_seg *ss = &cpu->seg[X86_SS];
		memset(ss, 0, sizeof(*ss));
		ss->sel = new_cpl;
		ss->dpl = new_cpl;
		ss->unusable = 1;
		ss->type = 3;
		ss->s = 1;
		ss->db = 1;
		ss->limit = 0xffffffff;
		ss->g = 1;
	}
	cpu->gpr[X86_RSP] = st.sp;
	commit_cs(cpu, &cs, new_cpl, off, type & 1);
}

/* ---- call gates (JMP/CALL far through a gate descriptor) ----
 * CALL to a more privileged non-conforming segment switches to the inner
 * stack (the TSS's, as for interrupts) and pushes the caller's SS:ESP, the
 * gate's parameter count of words/dwords copied from the caller's stack
 * (not in long mode), then CS:EIP; everything else stays on one stack. */
void x86_call_gate(struct x86_cpu *cpu, uint16_t sel, const uint64_t d[2], bool call)
{
	bool lm = cpu->efer & X86_EFER_LMA;
	unsigned dpl = (d[0] >> 45) & 3, type = (d[0] >> 40) & 0x1f;
	if (dpl < cpu->cpl || dpl < (sel & 3u))
		fault_sel(cpu, X86_GP, sel, false);
	if (!((d[0] >> 47) & 1))
		fault_sel(cpu, X86_NP, sel, false);
	if (lm && ((d[1] >> 40) & 0x1f))      /* the upper half's type must be 0 */
		fault_sel(cpu, X86_GP, sel, false);
	unsigned sz = lm ? 8 : (type & 8) ? 4 : 2;
	uint64_t off = (d[0] & 0xffff) | (sz > 2 ? ((d[0] >> 48) & 0xffff) << 16 : 0);
	if (lm)
		off |= (d[1] & 0xffffffffull) << 32;
	unsigned nparams = lm ? 0 : (d[0] >> 32) & 0x1f;
	struct x86_seg cs;
	uint16_t cs_sel = (d[0] >> 16) & 0xffff;
	if (!(cs_sel & 0xfffc))
		x86_raise(cpu, X86_GP, true, 0);
	uint64_t cd[2];
	if (!x86_read_descriptor(cpu, cs_sel, cd))
		fault_sel(cpu, X86_GP, cs_sel, false);
	x86_seg_from_desc(&cs, cs_sel, cd);
	if (!cs.s || !(cs.type & 8) || cs.dpl > cpu->cpl)
		fault_sel(cpu, X86_GP, cs_sel, false);
	if (lm && (!cs.l || cs.db))
		fault_sel(cpu, X86_GP, cs_sel, false);
	if (!call && !(cs.type & 4) && cs.dpl != cpu->cpl)
		fault_sel(cpu, X86_GP, cs_sel, false);   /* JMP never changes privilege */
	if (!cs.present)
		fault_sel(cpu, X86_NP, cs_sel, false);
	if (lm ? !x86_canonical(cpu, off) : off > cs.limit)
		x86_raise(cpu, X86_GP, true, 0);

	int new_cpl = (cs.type & 4) ? cpu->cpl : cs.dpl;
	bool switched = call && new_cpl < cpu->cpl;
	struct stack st = {.ss = cpu->seg[X86_SS], .sp = cpu->gpr[X86_RSP], .cpl = new_cpl,
			   .wide64 = lm};
	if (switched && lm) {
		uint32_t o = 4 + 8 * (unsigned)new_cpl;
		if (cpu->tr.unusable || o + 7 > cpu->tr.limit)
			fault_sel(cpu, X86_TS, cpu->tr.sel, false);
		x86_sys_read(cpu, cpu->tr.base + o, &st.sp, 8);
		if (!x86_canonical(cpu, st.sp))
			x86_raise(cpu, X86_SS_EXC, true, 0);
	} else if (switched) {
		tss_stack(cpu, new_cpl, false, &st);
	}
	if (switched) {
		push(cpu, &st, sz, cpu->seg[X86_SS].sel);
		push(cpu, &st, sz, cpu->gpr[X86_RSP]);
		/* The parameters, read from the caller's stack at its privilege. */
		const struct x86_seg *oss = &cpu->seg[X86_SS];
		uint64_t omask = oss->db ? 0xffffffffull : 0xffffull;
		for (unsigned k = nparams; k-- > 0;) {
			uint64_t v = 0, a = (cpu->gpr[X86_RSP] + k * sz) & omask;
			x86_access_cpl(cpu, (oss->base + a) & 0xffffffffull, &v, sz, X86_ACC_READ, cpu->cpl);
			push(cpu, &st, sz, v);
		}
	} else if (!lm && call) {
		st.cpl = cpu->cpl;
	}
	if (call) {
		push(cpu, &st, sz, cpu->seg[X86_CS].sel);
		push(cpu, &st, sz, cpu->rip);
	}

	/* Nothing can fault any more: commit. */
	if (switched && lm) {
		struct x86_seg *ss = &cpu->seg[X86_SS];
		memset(ss, 0, sizeof(*ss));
		ss->sel = new_cpl;
		ss->dpl = new_cpl;
		ss->unusable = 1;
		ss->type = 3;
		ss->s = 1;
		ss->db = 1;
		ss->limit = 0xffffffff;
		ss->g = 1;
	} else if (switched) {
		st.ss.type |= 1;
		cpu->seg[X86_SS] = st.ss;
	}
	if (call) {
		uint64_t mask = lm ? ~0ull : st.ss.db ? 0xffffffffull : 0xffffull;
		cpu->gpr[X86_RSP] = switched || lm ? (st.sp & mask)
						  : ((cpu->gpr[X86_RSP] & ~mask) | (st.sp & mask));
	}
	cs.sel = (cs.sel & ~3) | new_cpl;
	cs.type |= 1;
	cpu->seg[X86_CS] = cs;
	x86_mode_changed(cpu);
	cpu->rip = off;
}

/* KVM_EXIT_DEBUG for an exception the VMM intercepts (KVM_SET_GUEST_DEBUG). */
static bool debug_intercept(struct x86_cpu *cpu, int vec, bool soft, uint64_t return_rip)
{
	uint32_t dbg = cpu->guest_debug;
	if (!(dbg & KVM_GUESTDBG_ENABLE))
		return false;
	struct kvm_run *run = x86_run(cpu);
	if (vec == X86_BP && soft && (dbg & KVM_GUESTDBG_USE_SW_BP)) {
		run->exit_reason = KVM_EXIT_DEBUG;
		run->debug.arch.exception = X86_BP;
		run->debug.arch.pc = cpu->seg[X86_CS].base + cpu->insn_rip;
		run->debug.arch.dr6 = DR6_ACTIVE_LOW;
		run->debug.arch.dr7 = cpu->dr7;
		return true;
	}
	if (vec == X86_DB && !soft && (dbg & (KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_USE_HW_BP))) {
		run->exit_reason = KVM_EXIT_DEBUG;
		run->debug.arch.exception = X86_DB;
		run->debug.arch.pc = cpu->seg[X86_CS].base + return_rip;
		run->debug.arch.dr6 = cpu->dr6 | DR6_ACTIVE_LOW;
		run->debug.arch.dr7 = cpu->dr7;
		return true;
	}
	return false;
}

static void deliver_once(struct x86_cpu *cpu, int vec, bool has_err, uint32_t err, bool soft,
			 uint64_t return_rip)
{
	if (!(cpu->cr0 & X86_CR0_PE))
		deliver_real(cpu, vec, return_rip);
	else if (cpu->efer & X86_EFER_LMA)
		deliver_long(cpu, vec, has_err, err, soft, return_rip);
	else
		deliver_prot(cpu, vec, has_err, err, soft, return_rip);
	x86_mode_changed(cpu);
	/* Entering the #DB handler clears DR7.GD, so that the handler
	 * itself can use the debug registers. */
	if (vec == X86_DB)
		cpu->dr7 &= ~DR7_GD;
	if (soft)
		x86_sys(cpu)->soft_int_delivered = true;
}

static int exc_class(int vec)
{
	if (vec == X86_PF)
		return 2;
	if (vec == X86_DE || (vec >= X86_TS && vec <= X86_GP))
		return 1;
	return 0;
}

bool x86_deliver(struct x86_cpu *cpu, int vec, bool has_err, uint32_t err, bool soft,
		 uint64_t return_rip)
{
	struct x86_sys *sys = x86_sys(cpu);
	if (debug_intercept(cpu, vec, soft, return_rip)) {
		/* The intercepted event does not happen: RIP stays at an INT3
		 * (VMX reports its address), or after a trapping instruction. */
		cpu->rip = vec == X86_BP ? cpu->insn_rip : return_rip;
		x86_io_log_clear(cpu);
		longjmp(cpu->unwind, X86_UNWIND_EXIT);
	}
	jmp_buf outer;
	memcpy(outer, cpu->unwind, sizeof(outer));
	uint64_t rip0 = cpu->rip;
	volatile int v = vec;
	volatile bool he = has_err, sf = soft;
	volatile uint32_t e = err;
	volatile uint64_t rr = return_rip;
	volatile bool ok = true;
	sys->in_delivery = true;
	switch (setjmp(cpu->unwind)) {
	case X86_UNWIND_NONE:
		break;
	case X86_UNWIND_FAULT: {
		/* A fault while delivering v: serial, double, or triple. */
		int nv = cpu->exc_nr;
		cpu->exc_pending = false;
		/* A fault delivering INT n belongs to the INT n instruction. */
		cpu->rip = soft ? cpu->insn_rip : rip0;
		int c1 = exc_class(v), c2 = exc_class(nv);
		if (v == X86_DF) {
			struct kvm_run *run = x86_run(cpu);
			run->exit_reason = KVM_EXIT_SHUTDOWN;
			ok = false;
			goto out;
		}
		if ((c1 == 1 && c2 == 1) || (c1 == 2 && c2 != 0)) {
			v = X86_DF;
			he = true;
			e = 0;
		} else {
			v = nv;
			he = cpu->exc_has_error;
			e = cpu->exc_error;
		}
		sf = false;
		rr = cpu->rip;
		break;
	}
	default:
		/* x86_emulation_failure (a task gate): pass it on. */
		sys->in_delivery = false;
		memcpy(cpu->unwind, outer, sizeof(outer));
		longjmp(cpu->unwind, X86_UNWIND_EXIT);
	}
	if (!(cpu->cr0 & X86_CR0_PE))
		he = false;
	deliver_once(cpu, v, he, e, sf, rr);
	if (v == X86_NMI && !sf)
		cpu->nmi_masked = true;
out:
	sys->in_delivery = false;
	memcpy(cpu->unwind, outer, sizeof(outer));
	return ok;
}

/* The payload has the layout of VMX's pending debug exceptions: DR6's
 * active-low bits are active high there, and bit 12 (enabled breakpoint)
 * is reserved in DR6. B0-B3 are replaced, the rest of DR6 accumulates. */
static uint64_t dr6_with_payload(uint64_t dr6, uint64_t payload)
{
	dr6 = (dr6 & ~0xfull) | DR6_ACTIVE_LOW | payload;
	dr6 ^= payload & DR6_ACTIVE_LOW;
	return dr6 & ~(1ull << 12);
}

void x86_exc_deliver_payload(struct x86_cpu *cpu)
{
	struct x86_sys *sys = x86_sys(cpu);
	if (!sys->exc_has_payload)
		return;
	if (cpu->exc_nr == X86_DB)
		cpu->dr6 = dr6_with_payload(cpu->dr6, sys->exc_payload);
	else if (cpu->exc_nr == X86_PF)
		cpu->cr2 = sys->exc_payload;
	sys->exc_has_payload = false;
	sys->exc_payload = 0;
}

void x86_exc_queue(struct x86_cpu *cpu, int vec, bool has_err, uint32_t err)
{
	struct x86_sys *sys = x86_sys(cpu);
	if (cpu->exc_pending) {
		if (cpu->exc_nr == X86_DF) {
			sys->mce_shutdown = true;   /* KVM_REQ_TRIPLE_FAULT */
			return;
		}
		int c1 = exc_class(cpu->exc_nr), c2 = exc_class(vec);
		if ((c1 == 1 && c2 == 1) || (c1 == 2 && c2 != 0)) {
			vec = X86_DF;
			has_err = true;
			err = 0;
		}
		/* Otherwise the new one replaces it: the instruction that
		 * raised the old one raises it again when it reruns. */
	}
	cpu->exc_pending = true;
	sys->exc_injected = false;
	sys->exc_has_payload = false;
	sys->exc_payload = 0;
	cpu->exc_nr = vec;
	cpu->exc_has_error = has_err;
	cpu->exc_error = err;
}

bool x86_deliver_pending(struct x86_cpu *cpu)
{
	if (!cpu->exc_pending)
		return true;
	/* A pending exception's payload reaches CR2 / DR6 as it is
	 * delivered; an injected one has none (it was written before). */
	x86_exc_deliver_payload(cpu);
	x86_sys(cpu)->exc_injected = false;
	cpu->exc_pending = false;
	return x86_deliver(cpu, cpu->exc_nr, cpu->exc_has_error, cpu->exc_error, false, cpu->rip);
}
