/* The x86 arch ops: vCPU lifecycle, the run loop, event injection, debug
 * stepping, and the per-exit fields of kvm_run.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/irq.h"
#include "arch/x86/irqfd.h"
#include "arch/x86/pit.h"
#include "arch/x86/sys.h"

/* ---- VM ---- */

static int x86_vm_type_valid(unsigned long type)
{
	return type == 0 ? 0 : -EINVAL;
}

static int x86_vm_init(struct sk_vm *vm)
{
	struct x86_vm *xv = calloc(1, sizeof(*xv));
	if (!xv)
		return -ENOMEM;
	x86_tsc_vm_init(&xv->tsc);
	x86_kvmclock_vm_init(xv);
	vm->arch_vm = xv;
	x86_msr_filter_vm_init(vm);
	x86_mce_vm_init(vm);   /* guest memory poison */
	return 0;
}

static void x86_vm_destroy(struct sk_vm *vm)
{
	x86_irqfd_destroy(vm);   /* these threads inject through the irqchip */
	x86_pit_destroy(vm);
	x86_ioeventfd_destroy(vm);
	x86_irqchip_destroy(vm);
	x86_mce_vm_destroy(vm);
	x86_msr_filter_vm_destroy(vm);
	x86_tsc_vm_destroy(&((struct x86_vm *)vm->arch_vm)->tsc);
	free(vm->arch_vm);
	vm->arch_vm = NULL;
}

/* The shadow-page cache size. softkvm has no shadow MMU: only the number
 * KVM would keep is kept (KVM_MIN_ALLOC_MMU_PAGES, KVM_PERMILLE_MMU_PAGES). */
#define MIN_MMU_PAGES 64ul
#define PERMILLE_MMU_PAGES 20

long x86_ioc_set_nr_mmu_pages(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	unsigned long n = (unsigned long)arg;
	if (n < MIN_MMU_PAGES)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	((struct x86_vm *)vm->arch_vm)->nr_mmu_pages = n;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

long x86_ioc_get_nr_mmu_pages(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	pthread_mutex_lock(&vm->lock);
	uint64_t n = ((struct x86_vm *)vm->arch_vm)->nr_mmu_pages;
	/* Unset: KVM's default, recomputed when a slot comes or goes. */
	if (!n && vm->mem.sized) {
		n = vm->mem.npages * PERMILLE_MMU_PAGES / 1000;
		if (n < MIN_MMU_PAGES)
			n = MIN_MMU_PAGES;
	}
	pthread_mutex_unlock(&vm->lock);
	return (long)n;
}

static int x86_vm_enable_cap(struct sk_vm *vm, const void *arg)
{
	const struct kvm_enable_cap *cap = arg;
	struct x86_vm *xv = vm->arch_vm;
	int r = -EINVAL;
	switch (cap->cap) {
	case KVM_CAP_X2APIC_API:
		if (cap->args[0] & ~(uint64_t)(KVM_X2APIC_API_USE_32BIT_IDS |
					       KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK))
			return -EINVAL;
		if (cap->args[0] & KVM_X2APIC_API_USE_32BIT_IDS)
			xv->x2apic_format = true;
		return 0;
	case KVM_CAP_DISABLE_QUIRKS2:
		if (cap->args[0] & ~(uint64_t)X86_VALID_QUIRKS)
			return -EINVAL;
		__attribute__((fallthrough));
	case KVM_CAP_DISABLE_QUIRKS:
		/* Not cumulative: each call says which quirks are off. */
		xv->disabled_quirks = cap->args[0];
		return 0;
	case KVM_CAP_X86_USER_SPACE_MSR:
		return x86_msr_enable_user_space(vm, cap->args[0]);
	case KVM_CAP_MSR_PLATFORM_INFO:
		return x86_msr_enable_platform_info(vm, cap->args[0]);
	case KVM_CAP_EXCEPTION_PAYLOAD:    /* any value: nonzero is on (state.c) */
		xv->exception_payload = cap->args[0] != 0;
		return 0;
	case KVM_CAP_X86_TRIPLE_FAULT_EVENT:
		xv->triple_fault_event = cap->args[0] != 0;
		return 0;
	case KVM_CAP_MAX_VCPU_ID:
		if (cap->args[0] > SK_MAX_VCPU_ID)
			return -EINVAL;
		/* Set once (setting the same value again is fine). */
		pthread_mutex_lock(&vm->lock);
		if (xv->max_vcpu_ids == cap->args[0] || !xv->max_vcpu_ids) {
			xv->max_vcpu_ids = (uint32_t)cap->args[0];
			r = 0;
		}
		pthread_mutex_unlock(&vm->lock);
		return r;
	}
	return r;
}

static int x86_vcpu_enable_cap(struct sk_vcpu *vcpu, const void *arg)
{
	const struct kvm_enable_cap *cap = arg;
	if (cap->cap == KVM_CAP_ENFORCE_PV_FEATURE_CPUID)
		return x86_pv_enable_cap(vcpu->arch_vcpu, cap->args[0]);
	return -EINVAL;
}

/* ---- vCPU ---- */

static int x86_vcpu_init(struct sk_vcpu *vcpu)
{
	struct x86_vm *xv = vcpu->vm->arch_vm;
	if (xv->max_vcpu_ids && vcpu->id >= xv->max_vcpu_ids)
		return -EINVAL;   /* KVM_CAP_MAX_VCPU_ID (kvm_arch_vcpu_precreate) */
	struct x86_sys *sys = aligned_alloc(64, (sizeof(*sys) + 63) & ~(size_t)63);
	if (!sys)
		return -ENOMEM;
	memset(sys, 0, sizeof(*sys));
	struct x86_cpu *cpu = &sys->cpu;
	cpu->vcpu = vcpu;
	cpu->vm = vcpu->vm;
	cpu->blocks = x86_blocks_new();
	if (!cpu->blocks) {
		free(sys);
		return -ENOMEM;
	}
	x86_pv_vcpu_init(cpu);
	x86_reset_state(cpu, false);
	x86_cpuid_maxphyaddr(cpu);
	x86_tsc_vcpu_init(cpu);
	int r = x86_irqchip_vcpu_init(cpu);
	if (r) {
		x86_blocks_free(cpu->blocks);
		free(sys);
		return r;
	}
	/* KVM's RESET value of the APIC base does not depend on an in-kernel
	 * APIC (the irqchip set it already when there is one). */
	if (!x86_lapic(cpu))
		cpu->apic_base = APIC_DEFAULT_BASE | APIC_BASE_ENABLE |
				 (vcpu->id == xv->bsp_vcpu_id ? APIC_BASE_BSP : 0);
	vcpu->arch_vcpu = cpu;
	return 0;
}

static void x86_vcpu_destroy(struct sk_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu->arch_vcpu;
	if (!cpu)
		return;
	x86_irqchip_vcpu_destroy(cpu);
	x86_pv_vcpu_destroy(cpu);
	x86_blocks_free(cpu->blocks);
	free(cpu->cpuid);
	free(x86_sys(cpu));
	vcpu->arch_vcpu = NULL;
}

/* ---- events ---- */

static bool shadow_active(const struct x86_cpu *cpu)
{
	return cpu->shadow && cpu->rip == cpu->shadow_rip;
}

bool x86_interrupt_allowed(struct x86_cpu *cpu)
{
	return (cpu->rflags & X86_IF) && !shadow_active(cpu) &&
	       !(cpu->guest_debug & KVM_GUESTDBG_BLOCKIRQ);
}

/* kvm_vcpu_ready_for_interrupt_injection without an in-kernel irqchip. */
static bool ready_for_injection(struct x86_cpu *cpu)
{
	return x86_interrupt_allowed(cpu) && !cpu->irq_injected && !cpu->exc_pending &&
	       !cpu->nmi_injected;
}

/* Deliver what is due at this instruction boundary. False: the run ends
 * (triple fault). */
static bool inject_events(struct x86_cpu *cpu)
{
	if (cpu->exc_pending && !x86_deliver_pending(cpu))
		return false;
	if (cpu->nmi_injected) {
		cpu->nmi_injected = false;
		if (!x86_deliver(cpu, X86_NMI, false, 0, false, cpu->rip))
			return false;
	}
	x86_smm_inject(cpu);
	if (cpu->nmi_pending && !cpu->nmi_masked &&
	    !(shadow_active(cpu) && cpu->shadow == KVM_X86_SHADOW_INT_MOV_SS)) {
		cpu->nmi_pending = false;
		if (!x86_deliver(cpu, X86_NMI, false, 0, false, cpu->rip))
			return false;
	}
	if (cpu->irq_injected && x86_interrupt_allowed(cpu)) {
		cpu->irq_injected = false;
		cpu->halted = false;
		if (!x86_deliver(cpu, cpu->irq_nr, false, 0, false, cpu->rip))
			return false;
	}
	return true;
}

/* ---- debug ---- */

static uint64_t dbg_dr7(const struct x86_cpu *cpu)
{
	return (cpu->guest_debug & KVM_GUESTDBG_USE_HW_BP) ? cpu->guest_dbg_dr7 : cpu->dr7;
}

static bool need_stepping(const struct x86_cpu *cpu)
{
	/* RFLAGS.TF is the interpreter's: it steps and traps by itself. */
	return (cpu->guest_debug & KVM_GUESTDBG_SINGLESTEP) || (dbg_dr7(cpu) & 0xff);
}

/* Instruction breakpoints (R/W = 00) matching the linear RIP. */
static uint32_t exec_bp_hits(const struct x86_cpu *cpu, uint64_t lin)
{
	uint64_t dr7 = dbg_dr7(cpu);
	const uint64_t *dr = (cpu->guest_debug & KVM_GUESTDBG_USE_HW_BP) ? cpu->guest_dbg_dr : cpu->dr;
	uint32_t hits = 0;
	for (int i = 0; i < 4; i++)
		if (((dr7 >> (2 * i)) & 3) && !((dr7 >> (16 + 4 * i)) & 3) && dr[i] == lin)
			hits |= 1u << i;
	return hits;
}

_Noreturn static void debug_exit(struct x86_cpu *cpu, uint64_t dr6)
{
	struct kvm_run *run = x86_run(cpu);
	run->exit_reason = KVM_EXIT_DEBUG;
	run->debug.arch.exception = X86_DB;
	run->debug.arch.pc = cpu->seg[X86_CS].base + cpu->rip;
	run->debug.arch.dr6 = dr6 | x86_dr6_fixed();
	run->debug.arch.dr7 = dbg_dr7(cpu);
	longjmp(cpu->unwind, X86_UNWIND_EXIT);
}

static void guest_db(struct x86_cpu *cpu, uint64_t dr6_bits)
{
	cpu->dr6 = (cpu->dr6 & ~0xfull) | dr6_bits | x86_dr6_fixed();
	if (!x86_deliver(cpu, X86_DB, false, 0, false, cpu->rip))
		longjmp(cpu->unwind, X86_UNWIND_EXIT);
}

/* One instruction with the debug checks around it. */
static enum x86_stop step_one(struct x86_cpu *cpu)
{
	struct x86_sys *sys = x86_sys(cpu);
	bool host_hw = cpu->guest_debug & KVM_GUESTDBG_USE_HW_BP;
	if (!(cpu->rflags & X86_RF)) {
		uint32_t hits = exec_bp_hits(cpu, cpu->seg[X86_CS].base + cpu->rip);
		if (hits) {
			if (host_hw)
				debug_exit(cpu, hits);
			/* A fault: RIP stays at the instruction. */
			guest_db(cpu, hits);
			return X86_STOP_STEP;
		}
	}
	bool rf = cpu->rflags & X86_RF;
	sys->dr6_hits = 0;
	enum x86_stop s = x86_execute(cpu, true);
	/* Stopped before the instruction: nothing retired. */
	if (s == X86_STOP_REQUEST || s == X86_STOP_EVENT_WINDOW)
		return s;
	if (rf)
		cpu->rflags &= ~(uint64_t)X86_RF;
	if (cpu->guest_debug & KVM_GUESTDBG_SINGLESTEP)
		debug_exit(cpu, (1ull << 14) | sys->dr6_hits);
	uint64_t bits = sys->dr6_hits;
	if (bits && host_hw)
		debug_exit(cpu, bits);
	if (bits)
		guest_db(cpu, bits);   /* data breakpoints: a trap after the access */
	return s;
}

/* ---- entry checks (VMX guest-state checks that matter) ---- */

static bool seg_usable(const struct x86_seg *s)
{
	return s->present && !s->unusable;
}

static bool guest_state_valid(const struct x86_cpu *cpu)
{
	uint64_t fl = cpu->rflags;
	if ((fl >> 22) || (fl & ((1u << 15) | (1u << 5) | (1u << 3))) || !(fl & 2))
		return false;
	bool lma = cpu->efer & X86_EFER_LMA;
	if (lma && (fl & X86_VM))
		return false;
	if (!(cpu->cr0 & X86_CR0_PE) || (fl & X86_VM))
		return true;
	const struct x86_seg *cs = &cpu->seg[X86_CS], *ss = &cpu->seg[X86_SS];
	if (!seg_usable(cs) || !cs->s || !(cs->type & 8) || !(cs->type & 1))
		return false;
	if (lma && cs->l && cs->db)
		return false;
	if (seg_usable(ss)) {
		if (!ss->s || (ss->type != 3 && ss->type != 7))
			return false;
		if (!(cs->type & 4) && ss->dpl != cs->dpl)
			return false;
	}
	for (int i = 0; i < X86_NR_SREGS; i++) {
		const struct x86_seg *s = &cpu->seg[i];
		if (i == X86_CS || i == X86_SS || !seg_usable(s))
			continue;
		if (!s->s || !(s->type & 1) || (s->type & 0xa) == 0x8)
			return false;
	}
	const struct x86_seg *tr = &cpu->tr;
	if (!seg_usable(tr) || tr->s || (tr->type != 11 && (lma || tr->type != 3)))
		return false;
	const struct x86_seg *ldt = &cpu->ldt;
	if (seg_usable(ldt) && (ldt->s || ldt->type != 2))
		return false;
	return true;
}

static void fail_entry(struct x86_cpu *cpu)
{
	struct kvm_run *run = x86_run(cpu);
	run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = 0x80000021; /* invalid guest state */
	int c = sched_getcpu();
	run->fail_entry.cpu = c < 0 ? 0 : c;
}

/* ---- run ---- */

static int run_loop(struct x86_cpu *cpu)
{
	struct sk_vcpu *vcpu = cpu->vcpu;
	struct kvm_run *run = vcpu->run;
	for (;;) {
		uint32_t req = atomic_load_explicit(&vcpu->requests, memory_order_acquire);
		if (req) {
			if (req & SK_REQ_TLB_FLUSH) {
				atomic_fetch_and(&vcpu->requests, ~(uint32_t)SK_REQ_TLB_FLUSH);
				x86_refresh_slots(cpu);
			}
			if (req & SK_REQ_EVENT)
				atomic_fetch_and(&vcpu->requests, ~(uint32_t)SK_REQ_EVENT);
			if (req & SK_REQ_EXIT) {
				run->exit_reason = KVM_EXIT_INTR;
				return -EINTR;
			}
		}
		x86_pv_exit(cpu);
		if (x86_lapic(cpu)) {
			bool halted = cpu->mp_state == KVM_MP_STATE_HALTED;
			int r = x86_lapic_enter(cpu);   /* may sleep while halted */
			if (r)
				return r;
			if (halted)   /* scheduled back in: vcpu_load */
				x86_pv_load(cpu);
		}
		if (!inject_events(cpu))
			return 0;
		x86_pv_entry(cpu);
		/* With the in-kernel irqchip the window is KVM's, not userspace's. */
		bool want_window = run->request_interrupt_window && !x86_lapic(cpu);
		if (want_window && ready_for_injection(cpu)) {
			run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
			return 0;
		}
		cpu->event_waiting = want_window || cpu->irq_injected ||
				     (cpu->nmi_pending && !cpu->nmi_masked) ||
				     (x86_lapic(cpu) && x86_lapic_wants_window(cpu));
		enum x86_stop s = need_stepping(cpu) ? step_one(cpu) : x86_execute(cpu, false);
		if (s == X86_STOP_HLT) {
			if (x86_lapic(cpu)) {
				/* With the irqchip HLT waits inside KVM_RUN. */
				cpu->mp_state = KVM_MP_STATE_HALTED;
				continue;
			}
			run->exit_reason = KVM_EXIT_HLT;
			return 0;
		}
	}
}

static int x86_vcpu_run(struct sk_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu->arch_vcpu;
	if (!guest_state_valid(cpu)) {
		fail_entry(cpu);
		return 0;
	}
	x86_sys(cpu)->has_run = true;
	if (x86_mce_shutdown_pending(cpu)) {
		vcpu->run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	}
	x86_kvmclock_enter(cpu);
	x86_pv_load(cpu);
	/* KVM: an UNINITIALIZED AP's KVM_RUN waits for INIT/SIPI, takes
	 * them, and returns EAGAIN (EINTR on a signal). */
	if (x86_lapic(cpu) && cpu->mp_state == KVM_MP_STATE_UNINITIALIZED)
		return x86_lapic_wait_uninit(cpu);
	switch (setjmp(cpu->unwind)) {
	case X86_UNWIND_NONE:
		break;
	case X86_UNWIND_FAULT:
		if (!x86_deliver_pending(cpu))
			return 0;
		break;
	default:
		return 0;
	}
	return run_loop(cpu);
}

/* Requests (a signal's SK_REQ_EXIT...) are hidden while the interrupted
 * instruction completes: it must retire before KVM_RUN returns EINTR. */
static void hide_requests(struct x86_cpu *cpu)
{
	x86_sys(cpu)->hidden_req = atomic_exchange(&cpu->vcpu->requests, 0);
}

static void restore_requests(struct x86_cpu *cpu)
{
	uint32_t r = x86_sys(cpu)->hidden_req;
	x86_sys(cpu)->hidden_req = 0;
	if (r)
		atomic_fetch_or(&cpu->vcpu->requests, r);
}

/* Run the instruction an IO exit interrupted to its end. */
static int x86_vcpu_complete_io(struct sk_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu->arch_vcpu;
	vcpu->io_pending = false;
	if (!x86_io_take_result(cpu))
		return 0;
	hide_requests(cpu);
	switch (setjmp(cpu->unwind)) {
	case X86_UNWIND_NONE:
		break;
	case X86_UNWIND_FAULT:
		restore_requests(cpu);
		x86_io_log_clear(cpu);
		return x86_deliver_pending(cpu) ? 0 : 1;
	default:
		restore_requests(cpu);
		return 1;
	}
	cpu->io_log_pos = 0;
	cpu->event_waiting = false;
	enum x86_stop s = need_stepping(cpu) ? step_one(cpu) : x86_execute(cpu, true);
	restore_requests(cpu);
	x86_io_log_clear(cpu);
	if (s == X86_STOP_HLT) {
		x86_run(cpu)->exit_reason = KVM_EXIT_HLT;
		return 1;
	}
	return 0;
}

static int x86_vcpu_prepare(struct sk_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu->arch_vcpu;
	struct kvm_run *run = vcpu->run;
	int r = x86_sync_regs_in(cpu);
	if (r)
		return r;
	/* With the in-kernel LAPIC the TPR is KVM's, not kvm_run's. */
	if (!x86_lapic(cpu)) {
		if (run->cr8 & ~0xfull)
			return -EINVAL;
		cpu->cr8 = run->cr8;
	}
	run->flags = 0;
	atomic_fetch_and(&vcpu->requests, ~(uint32_t)SK_REQ_TLB_FLUSH);
	x86_refresh_slots(cpu);
	x86_blocks_new_epoch(cpu->blocks);
	return 0;
}

static void x86_vcpu_post_run(struct sk_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu->arch_vcpu;
	struct kvm_run *run = vcpu->run;
	x86_pv_exit(cpu);   /* KVM syncs a guest's PV EOI at every exit */
	run->if_flag = (cpu->rflags & X86_IF) != 0;
	run->cr8 = cpu->cr8;
	run->apic_base = cpu->apic_base;
	run->ready_for_interrupt_injection = x86_lapic(cpu) ? 1 : ready_for_injection(cpu);
	x86_smm_post_run(cpu);
	x86_sync_regs_out(cpu);
}

/* KVM's x86 vCPU stat names for what ends a softkvm run; a halt or an
 * IO port handled inside softkvm is not an exit here. */
static const struct sk_exit_stat exit_stats[] = {
	{SK_STAT_EVERY_EXIT, "exits"},
	{KVM_EXIT_IO, "io_exits"},
	{KVM_EXIT_MMIO, "mmio_exits"},
	{KVM_EXIT_INTR, "signal_exits"},
	{KVM_EXIT_IRQ_WINDOW_OPEN, "request_irq_exits"},
	{0, NULL},
};

const struct sk_arch_ops sk_arch_x86 = {
	.name = "x86_64",
	.check_extension = x86_check_extension,
	.vm_type_valid = x86_vm_type_valid,
	.vm_init = x86_vm_init,
	.vm_destroy = x86_vm_destroy,
	.vm_enable_cap = x86_vm_enable_cap,
	.vcpu_enable_cap = x86_vcpu_enable_cap,
	.vcpu_init = x86_vcpu_init,
	.vcpu_destroy = x86_vcpu_destroy,
	.vcpu_prepare = x86_vcpu_prepare,
	.vcpu_complete_io = x86_vcpu_complete_io,
	.vcpu_run = x86_vcpu_run,
	.vcpu_post_run = x86_vcpu_post_run,
	.sys_ioctls = x86_sys_ioctls,
	.vm_ioctls = x86_vm_ioctls,
	.vcpu_ioctls = x86_vcpu_ioctls,
	.address_spaces = 2, /* normal and SMM, as KVM_ADDRESS_SPACE_NUM */
	.vcpu_mmap_pages = 3,
	.pio_page = 1,
	.exit_stats = exit_stats,
};
