/* The arm64 arch ops: VM and vCPU lifecycle, the run loop (requests,
 * power state, interrupts, timers, WFI sleep) and the fetch/execute loop
 * over the decode cache.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch/arm64/insn.h"
#include "mem/guest_access.h"

#define BLOCK_INSNS 256
#define MAX_SLEEP_NS 10000000ull   /* re-check requests at least this often */

/* ---- VM ---- */

static int a64_vm_type_valid(unsigned long type)
{
	if (type & ~KVM_VM_TYPE_ARM_IPA_SIZE_MASK)
		return -EINVAL;
	unsigned ipa = type & KVM_VM_TYPE_ARM_IPA_SIZE_MASK;
	if (ipa && (ipa < 32 || ipa > 40))
		return -EINVAL;
	return 0;
}

static int a64_vm_init(struct sk_vm *vm)
{
	struct a64_vm *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	unsigned ipa = vm->type & KVM_VM_TYPE_ARM_IPA_SIZE_MASK;
	v->ipa_bits = ipa ? ipa : 40;
	pthread_mutex_init(&v->psci_lock, NULL);
	pthread_mutex_init(&v->excl_lock, NULL);
	vm->arch_vm = v;
	a64_ras_vm_init(vm, v);
	return 0;
}

static void a64_vm_destroy(struct sk_vm *vm)
{
	struct a64_vm *v = vm->arch_vm;
	if (!v)
		return;
	a64_ras_vm_destroy(vm, v);
	a64_vgic_vm_destroy(v);
	pthread_mutex_destroy(&v->psci_lock);
	pthread_mutex_destroy(&v->excl_lock);
	free(v->cpus);
	free(v);
	vm->arch_vm = NULL;
}

static int a64_vm_enable_cap(struct sk_vm *vm, const void *arg)
{
	const struct kvm_enable_cap *cap = arg;
	struct a64_vm *v = vm->arch_vm;
	switch (cap->cap) {
	case KVM_CAP_ARM_NISV_TO_USER:
		v->nisv_to_user = true;
		return 0;
	case KVM_CAP_ARM_SEA_TO_USER:
		v->sea_to_user = true;
		return 0;
	case KVM_CAP_ARM_SYSTEM_SUSPEND:
		v->system_suspend = true;
		return 0;
	}
	return -EINVAL;
}

static int a64_vcpu_enable_cap(struct sk_vcpu *vcpu, const void *arg)
{
	return -EINVAL;
}

/* ---- vCPU ---- */

struct a64 *a64_vcpu_by_mpidr(struct sk_vm *vm, uint64_t mpidr)
{
	struct a64_vm *v = vm->arch_vm;
	struct a64 *found = NULL;
	pthread_mutex_lock(&v->psci_lock);
	for (int i = 0; i < v->ncpus; i++) {
		struct a64 *t = v->cpus[i];
		if ((t->sr[SR_MPIDR] & 0xff00ffffffull) == mpidr) {
			found = t;
			break;
		}
	}
	pthread_mutex_unlock(&v->psci_lock);
	return found;
}

static int a64_vcpu_init(struct sk_vcpu *vcpu)
{
	int vgic_err = a64_vgic_vcpu_create(vcpu);
	if (vgic_err)
		return vgic_err;
	struct a64 *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->vcpu = vcpu;
	c->vm = vcpu->vm;
	c->avm = vcpu->vm->arch_vm;
	a64_reset(c);
	/* The virtual counter starts at zero with the vCPU, as on KVM. */
	c->cntvoff = a64_cntpct();
	atomic_store(&c->power, PWR_OFF);
	struct a64_vm *v = c->avm;
	pthread_mutex_lock(&v->psci_lock);
	struct a64 **cpus = realloc(v->cpus, (size_t)(v->ncpus + 1) * sizeof(*cpus));
	if (cpus) {
		v->cpus = cpus;
		v->cpus[v->ncpus++] = c;
	}
	pthread_mutex_unlock(&v->psci_lock);
	if (!cpus) {
		free(c);
		return -ENOMEM;
	}
	vcpu->arch_vcpu = c;
	return 0;
}

static void a64_vcpu_destroy(struct sk_vcpu *vcpu)
{
	struct a64 *c = vcpu->arch_vcpu;
	if (!c)
		return;
	struct a64_vm *v = c->avm;
	pthread_mutex_lock(&v->psci_lock);
	for (int i = 0; i < v->ncpus; i++)
		if (v->cpus[i] == c)
			v->cpus[i] = v->cpus[--v->ncpus];
	pthread_mutex_unlock(&v->psci_lock);
	a64_dcache_free(c);
	free(c);
	vcpu->arch_vcpu = NULL;
}

/* ---- sleeping and waking ---- */

/* A sleeping vCPU waits on its requests word: posting any request (an
 * interrupt line, CPU_ON, a signal's SK_REQ_EXIT) changes it and wakes it. */
void a64_kick(struct a64 *c)
{
	atomic_fetch_or_explicit(&c->vcpu->requests, SK_REQ_EVENT, memory_order_release);
	sk_vcpu_wake(c->vcpu);   /* SYS_futex here would be arm64's number on an x86-64 host */
}

/* Sleep until kicked, a signal, the deadline (host ns) or MAX_SLEEP_NS;
 * seq is the requests word read before the wake-up conditions were. */
static void sleep_until(struct a64 *c, uint32_t seq, uint64_t deadline)
{
	uint64_t now = a64_host_ns();
	if (deadline <= now)
		return;
	uint64_t d = deadline - now;
	if (d > MAX_SLEEP_NS)
		d = MAX_SLEEP_NS;
	struct timespec ts = {.tv_sec = (time_t)(d / 1000000000ull), .tv_nsec = (long)(d % 1000000000ull)};
	sk_vcpu_block(c->vcpu, seq, &ts);
}

/* ---- execution ---- */

static void run_block(struct a64 *c, unsigned budget)
{
	uint64_t pc = c->pc;
	if (pc & 3)
		a64_exception(c, EC_PC_ALIGN, 0, pc, true, pc);
	unsigned perm = c->el ? P_X1 : P_X0;
	uint8_t *h = a64_tlb_hit(c, pc, perm);
	if (!h) {
		uint64_t pa;
		h = a64_xlate_slow(c, pc, ACC_X, false, 0, &pa);
	}
	const struct a64_tlbe *e = &c->tlb[(pc >> 12) & (TLB_SIZE - 1)];
	struct a64_dpage *dp = a64_dcache_get(c, e->pa);
	uint8_t *base = h - (pc & 0xfff);
	uint64_t page = pc & ~0xfffull;
	c->brk = false;
	for (unsigned n = 0; n < budget; n++) {
		unsigned off = pc & 0xfff;
		uint32_t w = (uint32_t)sk_guest_load(base + off, 4);
		unsigned i = off >> 2;
		a64_fn fn = dp->fn[i];
		if (!fn || dp->raw[i] != w) {
			fn = a64_decode(w);
			dp->raw[i] = w;
			dp->fn[i] = fn;
		}
		c->npc = pc + 4;
		fn(c, w);
		c->pc = pc = c->npc;
		if (c->brk || (pc & ~0xfffull) != page || (pc & 3))
			break;
	}
}

/* CPU_ON: the target starts as from reset at the entry point, x0 = context. */
static void power_on_reset(struct a64 *c)
{
	pthread_mutex_lock(&c->avm->psci_lock);
	bool pending = c->on_pending;
	uint64_t entry = c->on_entry, ctx = c->on_ctx;
	c->on_pending = false;
	if (pending) {
		/* Under psci_lock: the reset rewrites MPIDR_EL1, which other
		 * vCPUs read under it (CPU_ON, AFFINITY_INFO). */
		uint64_t voff = c->cntvoff;
		a64_reset(c);
		c->cntvoff = voff;
		c->pc = entry;
		c->x[0] = ctx;
	}
	pthread_mutex_unlock(&c->avm->psci_lock);
}

/* ONE_REG: a reset PSCI CPU_ON owes the vCPU is done before userspace
 * reads or writes its registers (KVM does it in the ioctl). */
void a64_apply_pending_reset(struct a64 *c)
{
	power_on_reset(c);
}

/* One pass at a block boundary. >0: keep running; 0 / <0: return that. */
static int boundary(struct a64 *c)
{
	struct sk_vcpu *vcpu = c->vcpu;
	struct kvm_run *run = vcpu->run;
	uint32_t req = atomic_load_explicit(&vcpu->requests, memory_order_acquire);
	if (req) {
		if (req & SK_REQ_TLB_FLUSH) {
			atomic_fetch_and(&vcpu->requests, ~(uint32_t)SK_REQ_TLB_FLUSH);
			a64_refresh_slots(c);
		}
		if (req & SK_REQ_EVENT)
			atomic_fetch_and(&vcpu->requests, ~(uint32_t)SK_REQ_EVENT);
		if (req & SK_REQ_EXIT) {
			run->exit_reason = KVM_EXIT_INTR;
			return -EINTR;
		}
	}
	uint32_t seq = atomic_load(&vcpu->requests);
	bool stepping = (c->guest_debug & KVM_GUESTDBG_SINGLESTEP) != 0;
	if (stepping && c->stepped) {
		/* one instruction (or the exception it took) is done */
		c->stepped = false;
		run->exit_reason = KVM_EXIT_DEBUG;
		run->debug.arch.hsr = (0x32u << 26) | ESR_IL | ISS_ISV | 0x22;   /* software step */
		run->debug.arch.hsr_high = 0;
		run->debug.arch.far = 0;
		return 0;
	}
	uint64_t g = atomic_load_explicit(&c->avm->tlb_gen, memory_order_acquire);
	if (g != c->tlb_gen_seen) {
		c->tlb_gen_seen = g;
		a64_tlb_flush(c);
	}
	if (atomic_load(&c->power) != PWR_ON) {
		sleep_until(c, seq, UINT64_MAX);
		return 1;
	}
	if (c->on_pending)
		power_on_reset(c);
	/* A USER_IRQ VM: a device line that changed is reported before the
	 * guest runs again. */
	if (a64_timer_levels(c) != (uint32_t)run->s.regs.device_irq_level) {
		run->exit_reason = KVM_EXIT_INTR;
		return -EINTR;
	}
	if (c->serror_pending && !(c->pstate & PS_A) && !a64_has_el2(c)) {   /* EL2: except.c routes it */
		c->wfi = false;
		a64_take_serror(c);
		return 1;
	}
	if (a64_irq_pending(c)) {
		uint32_t l = atomic_load(&c->lines);
		c->wfi = false;
		a64_take_irq(c, (l & 2) && !(c->pstate & PS_F));
		return 1;
	}
	if (c->wfi) {
		if ((atomic_load(&c->lines) & 3) || c->serror_pending || a64_virt_irq_raised(c)) {
			c->wfi = false;
		} else {
			sleep_until(c, seq, a64_timer_next_ns(c));
			return 1;
		}
	}
	c->stepped = stepping;
	if (c->dbg.armed && a64_dbg_before(c))
		return 1;   /* a debug exception was taken */
	run_block(c, (stepping || c->dbg.armed) ? 1 : BLOCK_INSNS);
	return 1;
}

static int a64_vcpu_run(struct sk_vcpu *vcpu)
{
	struct a64 *c = vcpu->arch_vcpu;
	c->avm->has_run = true;
	c->ran = true;
	a64_pvtime_update(c);   /* KVM: at each vcpu_load */
	/* Hardware poison under guest memory becomes softkvm's own (ras.c). */
	sigjmp_buf hw;
	sigjmp_buf *outer = sk_guest_fault_jb;
	if (outer) {
		if (sigsetjmp(hw, 0) && !a64_hwpoison_convert(c))
			siglongjmp(*outer, 1);
		sk_guest_fault_jb = &hw;
	}
	switch (setjmp(c->unwind)) {
	case A64_UNWIND_NONE:
	case A64_UNWIND_EXC:
		break;
	case A64_UNWIND_EXIT:
		return 0;
	default:
		return a64_fail_errno();
	}
	for (;;) {
		int r = boundary(c);
		if (r <= 0)
			return r;
	}
}

static int a64_vcpu_complete_io(struct sk_vcpu *vcpu)
{
	struct a64 *c = vcpu->arch_vcpu;
	vcpu->io_pending = false;
	a64_complete_mmio(c);
	return 0;
}

static int a64_vcpu_prepare(struct sk_vcpu *vcpu)
{
	struct a64 *c = vcpu->arch_vcpu;
	if (!c->initialized)
		return -ENOEXEC;
	int vgic_err = a64_vgic_ready(vcpu->vm);
	if (vgic_err)
		return vgic_err;
	if ((c->features & (1u << KVM_ARM_VCPU_PMU_V3)) && !c->pmu.created)
		return -EINVAL;   /* KVM: a PMU vCPU runs only after KVM_ARM_VCPU_PMU_V3_INIT */
	atomic_fetch_and(&vcpu->requests, ~(uint32_t)SK_REQ_TLB_FLUSH);
	a64_refresh_slots(c);
	c->tlb_gen_seen = atomic_load(&c->avm->tlb_gen);
	return 0;
}

static void a64_vcpu_post_run(struct sk_vcpu *vcpu)
{
	struct a64 *c = vcpu->arch_vcpu;
	if (c->initialized)
		vcpu->run->s.regs.device_irq_level = a64_timer_levels(c);
}

/* KVM's arm64 vCPU stat names for what ends a softkvm run. */
static const struct sk_exit_stat exit_stats[] = {
	{SK_STAT_EVERY_EXIT, "exits"},
	{KVM_EXIT_MMIO, "mmio_exit_user"},
	{KVM_EXIT_INTR, "signal_exits"},
	{0, NULL},
};

const struct sk_arch_ops sk_arch_arm64 = {
	.name = "arm64",
	.check_extension = a64_vgic_check_extension,
	.vm_type_valid = a64_vm_type_valid,
	.vm_init = a64_vm_init,
	.vm_destroy = a64_vm_destroy,
	.vm_enable_cap = a64_vm_enable_cap,
	.vcpu_enable_cap = a64_vcpu_enable_cap,
	.vcpu_init = a64_vcpu_init,
	.vcpu_destroy = a64_vcpu_destroy,
	.vcpu_prepare = a64_vcpu_prepare,
	.vcpu_complete_io = a64_vcpu_complete_io,
	.vcpu_run = a64_vcpu_run,
	.vcpu_post_run = a64_vcpu_post_run,
	.sys_ioctls = a64_sys_ioctls,
	.vm_ioctls = a64_vm_ioctls,
	.vcpu_ioctls = a64_vcpu_ioctls,
#ifdef __x86_64__
	.vcpu_mmap_pages = 3,   /* as the x86 system fd reports */
#else
	.vcpu_mmap_pages = 2,   /* kvm_run + the coalesced MMIO page */
#endif
	.pio_page = 0,
	.devices = a64_devices,
	.vm_irqchip_ioctls = a64_vgic_vm_ioctls,
	.exit_stats = exit_stats,
};
