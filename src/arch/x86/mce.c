/* Machine checks: the MCA registers (MCG_CAP/STATUS/CTL/EXT_CTL, each
 * bank's CTL/STATUS/ADDR/MISC and CTL2), KVM_X86_SETUP_MCE and
 * KVM_X86_SET_MCE with #MC delivery, UCNA errors signalled by a CMCI, and
 * guest memory poison (softkvm_poison).
 *
 * Poison: a guest access (data, instruction fetch, page-table walk) to a
 * poisoned page does what KVM does when its fault handler finds a
 * hwpoisoned page (kvm_send_hwpoison_signal): the vCPU thread gets SIGBUS
 * BUS_MCEERR_AR for the page's host address, KVM_RUN fails with EINTR and
 * the instruction has not retired. The VMM usually answers with
 * KVM_X86_SET_MCE, which the guest sees as #MC at that instruction. The
 * software TLB never holds a poisoned page: the check sits on the slow
 * path only (mmu.c), and poisoning flushes every vCPU's translations.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "arch/x86/irq.h"
#include "arch/x86/sys.h"
#include "kvm/control.h"

#define MCG_CTL_P (1ull << 8)
#define MCG_CMCI_P (1ull << 10)
#define MCG_SER_P (1ull << 24)
#define MCG_LMCE_P (1ull << 27)
#define MCG_STATUS_MCIP (1ull << 2)
#define MCI_STATUS_VAL (1ull << 63)
#define MCI_STATUS_OVER (1ull << 62)
#define MCI_STATUS_UC (1ull << 61)
#define MCI_STATUS_PCC (1ull << 57)
#define MCI_STATUS_S (1ull << 56)
#define MCI_STATUS_AR (1ull << 55)
#define MCI_CTL2_CMCI_EN (1ull << 30)
#define MCI_CTL2_THRESHOLD 0x7fffull
#define FEAT_CTL_LMCE_ENABLED (1ull << 20)

#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MCG_CTL 0x17b
#define MSR_MCG_EXT_CTL 0x4d0
#define MSR_MC0_CTL2 0x280
#define MSR_MC0_CTL 0x400

/* What a VMX host's KVM offers (kvm_caps.supported_mce_cap). */
#define SUPPORTED_MCE_CAP (MCG_CTL_P | MCG_CMCI_P | MCG_SER_P | MCG_LMCE_P)

static unsigned nr_banks(const struct x86_sys *sys)
{
	return sys->mcg_cap & 0xff;
}

void x86_mce_vcpu_init(struct x86_cpu *cpu)
{
	struct x86_sys *sys = x86_sys(cpu);
	sys->mcg_cap = X86_MCE_MAX_BANKS;   /* KVM's MCG_CAP before KVM_X86_SETUP_MCE */
	sys->mcg_status = sys->mcg_ctl = sys->mcg_ext_ctl = 0;
	sys->mce_shutdown = false;
	memset(sys->mce_banks, 0, sizeof(sys->mce_banks));
	memset(sys->mci_ctl2, 0, sizeof(sys->mci_ctl2));
}

/* ---- MSRs (get_msr_mce / set_msr_mce) ---- */

bool x86_mce_msr_get(struct x86_cpu *cpu, uint32_t idx, uint64_t *val, bool host)
{
	struct x86_sys *sys = x86_sys(cpu);
	unsigned n = nr_banks(sys);
	switch (idx) {
	case 0: case 1:   /* P5_MC_ADDR, P5_MC_TYPE */
		*val = 0;
		return true;
	case MSR_MCG_CAP:
		*val = sys->mcg_cap;
		return true;
	case MSR_MCG_STATUS:
		*val = sys->mcg_status;
		return true;
	case MSR_MCG_CTL:
		if (!(sys->mcg_cap & MCG_CTL_P) && !host)
			return false;
		*val = sys->mcg_ctl;
		return true;
	case MSR_MCG_EXT_CTL:
		if (!host && !(sys->feature_control & FEAT_CTL_LMCE_ENABLED))
			return false;
		*val = sys->mcg_ext_ctl;
		return true;
	}
	if (idx >= MSR_MC0_CTL2 && idx < MSR_MC0_CTL2 + X86_MCE_MAX_BANKS) {
		if (idx - MSR_MC0_CTL2 >= n || (!(sys->mcg_cap & MCG_CMCI_P) && !host))
			return false;
		*val = sys->mci_ctl2[idx - MSR_MC0_CTL2];
		return true;
	}
	if (idx >= MSR_MC0_CTL && idx < MSR_MC0_CTL + 4 * X86_MCE_MAX_BANKS) {
		if (idx - MSR_MC0_CTL >= 4 * n)
			return false;
		*val = sys->mce_banks[idx - MSR_MC0_CTL];
		return true;
	}
	return false;
}

static bool set_ctl2(struct x86_sys *sys, unsigned bank, uint64_t val, bool host)
{
	if (bank >= nr_banks(sys))
		return false;
	if (!(sys->mcg_cap & MCG_CMCI_P) && (val || !host))
		return false;
	if (val & ~(MCI_CTL2_CMCI_EN | MCI_CTL2_THRESHOLD))
		return false;   /* a reserved bit */
	sys->mci_ctl2[bank] = val;
	return true;
}

static bool set_bank(struct x86_sys *sys, unsigned off, uint64_t val, bool host)
{
	if (off >= 4 * nr_banks(sys))
		return false;
	/* MCi_CTL: 0 or all 1s, but for bit 10 (Linux's K8 GART quirk) and
	 * bit 0 (UnixWare), which KVM lets a guest clear. */
	if ((off & 3) == 0 && val && (val | (1ull << 10) | 1) != ~0ull)
		return false;
	/* MCi_STATUS: the guest may only clear it (Intel: no McStatusWrEn). */
	if ((off & 3) == 1 && !host && val)
		return false;
	sys->mce_banks[off] = val;
	return true;
}

bool x86_mce_msr_set(struct x86_cpu *cpu, uint32_t idx, uint64_t val, bool host)
{
	struct x86_sys *sys = x86_sys(cpu);
	switch (idx) {
	case MSR_MCG_STATUS:
		sys->mcg_status = val;
		return true;
	case MSR_MCG_CTL:
		if (!(sys->mcg_cap & MCG_CTL_P) && (val || !host))
			return false;
		if (val && val != ~0ull)
			return false;
		sys->mcg_ctl = val;
		return true;
	case MSR_MCG_EXT_CTL:
		if ((!host && !(sys->feature_control & FEAT_CTL_LMCE_ENABLED)) || (val & ~1ull))
			return false;
		sys->mcg_ext_ctl = val;
		return true;
	}
	if (idx >= MSR_MC0_CTL2 && idx < MSR_MC0_CTL2 + X86_MCE_MAX_BANKS)
		return set_ctl2(sys, idx - MSR_MC0_CTL2, val, host);
	if (idx >= MSR_MC0_CTL && idx < MSR_MC0_CTL + 4 * X86_MCE_MAX_BANKS)
		return set_bank(sys, idx - MSR_MC0_CTL, val, host);
	return false;   /* MCG_CAP, P5_MC_*: not writable */
}

/* ---- ioctls ---- */

static struct x86_cpu *cpu_of(void *obj)
{
	return ((struct sk_vcpu *)obj)->arch_vcpu;
}

long x86_ioc_mce_cap_supported(void *obj, void *arg)
{
	*(uint64_t *)arg = SUPPORTED_MCE_CAP;
	return 0;
}

long x86_ioc_setup_mce(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	struct x86_sys *sys = x86_sys(cpu);
	uint64_t cap = *(const uint64_t *)arg;
	unsigned n = cap & 0xff;
	if (!n || n > X86_MCE_MAX_BANKS)
		return -EINVAL;
	if (cap & ~(SUPPORTED_MCE_CAP | 0xffull | 0xff0000ull))
		return -EINVAL;
	sys->mcg_cap = cap;
	if (cap & MCG_CTL_P)
		sys->mcg_ctl = ~0ull;
	for (unsigned b = 0; b < n; b++) {
		sys->mce_banks[4 * b] = ~0ull;
		if (cap & MCG_CMCI_P)
			sys->mci_ctl2[b] = 0;
	}
	x86_lapic_mcg_cap_changed(cpu);   /* the LVT CMCI comes and goes with CMCI_P */
	return 0;
}

/* Uncorrected, no action required: logged, and signalled by a CMCI when
 * the bank asks for one (kvm_vcpu_x86_set_ucna). */
static bool is_ucna(const struct kvm_x86_mce *m)
{
	return !m->mcg_status && !(m->status & (MCI_STATUS_PCC | MCI_STATUS_S | MCI_STATUS_AR)) &&
	       (m->status & MCI_STATUS_VAL) && (m->status & MCI_STATUS_UC);
}

static void set_ucna(struct x86_cpu *cpu, const struct kvm_x86_mce *m, uint64_t *bank)
{
	struct x86_sys *sys = x86_sys(cpu);
	bank[1] = m->status;
	bank[2] = m->addr;
	bank[3] = m->misc;
	sys->mcg_status = m->mcg_status;
	if ((sys->mcg_cap & MCG_CMCI_P) && (sys->mci_ctl2[m->bank] & MCI_CTL2_CMCI_EN))
		x86_lapic_cmci(cpu);
}

/* #MC replaces an exception waiting for delivery: the instruction that
 * raised that one runs again after the handler (KVM: a benign class). */
static void queue_mc(struct x86_cpu *cpu)
{
	cpu->exc_pending = true;
	cpu->exc_nr = X86_MC;
	cpu->exc_has_error = false;
	cpu->exc_error = 0;
	cpu->halted = false;
	if (cpu->mp_state == KVM_MP_STATE_HALTED)
		cpu->mp_state = KVM_MP_STATE_RUNNABLE;
}

static void log_uncorrected(struct x86_cpu *cpu, struct kvm_x86_mce *m, uint64_t *bank)
{
	struct x86_sys *sys = x86_sys(cpu);
	/* A second machine check inside the handler, or machine checks
	 * disabled: the processor shuts down (KVM_REQ_TRIPLE_FAULT). */
	if ((sys->mcg_status & MCG_STATUS_MCIP) || !(cpu->cr4 & X86_CR4_MCE)) {
		sys->mce_shutdown = true;
		return;
	}
	if (bank[1] & MCI_STATUS_VAL)
		m->status |= MCI_STATUS_OVER;
	bank[2] = m->addr;
	bank[3] = m->misc;
	sys->mcg_status = m->mcg_status;
	bank[1] = m->status;
	queue_mc(cpu);
}

long x86_ioc_set_mce(void *obj, void *arg)
{
	struct x86_cpu *cpu = cpu_of(obj);
	struct x86_sys *sys = x86_sys(cpu);
	struct kvm_x86_mce *m = arg;
	if (m->bank >= nr_banks(sys) || !(m->status & MCI_STATUS_VAL))
		return -EINVAL;
	uint64_t *bank = &sys->mce_banks[4 * m->bank];
	if (is_ucna(m)) {
		set_ucna(cpu, m, bank);
		return 0;
	}
	bool uc = m->status & MCI_STATUS_UC;
	/* Uncorrected reporting off, globally or for the bank: dropped. */
	if (uc && (sys->mcg_cap & MCG_CTL_P) && sys->mcg_ctl != ~0ull)
		return 0;
	if (uc && bank[0] != ~0ull)
		return 0;
	if (uc) {
		log_uncorrected(cpu, m, bank);
	} else if (!(bank[1] & MCI_STATUS_VAL) || !(bank[1] & MCI_STATUS_UC)) {
		/* Corrected: logged over an earlier corrected error only. */
		if (bank[1] & MCI_STATUS_VAL)
			m->status |= MCI_STATUS_OVER;
		bank[2] = m->addr;
		bank[3] = m->misc;
		bank[1] = m->status;
	} else {
		bank[1] |= MCI_STATUS_OVER;
	}
	return 0;
}

bool x86_mce_shutdown_pending(struct x86_cpu *cpu)
{
	struct x86_sys *sys = x86_sys(cpu);
	bool r = sys->mce_shutdown;
	sys->mce_shutdown = false;
	return r;
}

/* ---- guest memory poison ---- */

static void flush_vm(struct sk_vm *vm)
{
	struct x86_vm *xv = vm->arch_vm;
	atomic_fetch_add_explicit(&xv->poison_gen, 1, memory_order_release);
	int n = atomic_load_explicit(&vm->nr_vcpus, memory_order_acquire);
	for (int i = 0; i < n; i++)
		sk_vcpu_request(vm->vcpus[i], SK_REQ_TLB_FLUSH);
}

void x86_mce_vm_init(struct sk_vm *vm)
{
	struct x86_vm *xv = vm->arch_vm;
	sk_poison_init(&xv->poison);
	sk_poison_register(vm, &xv->poison, flush_vm);
	sk_control_start();
}

void x86_mce_vm_destroy(struct sk_vm *vm)
{
	struct x86_vm *xv = vm->arch_vm;
	sk_poison_unregister(vm);
	sk_poison_destroy(&xv->poison);
}

void x86_poison_hit(struct x86_cpu *cpu, uint64_t gpa, const uint8_t *host)
{
	struct x86_vm *xv = cpu->vm->arch_vm;
	/* Only a vCPU inside KVM_RUN's guard consumes poison: host-side
	 * accesses (KVM_TRANSLATE, the kvmclock page) read the bytes. */
	sigjmp_buf *jb = sk_guest_fault_jb;
	if (!jb || !sk_poison_lookup(&xv->poison, gpa, NULL))
		return;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = BUS_MCEERR_AR;
	si.si_addr = (void *)((uintptr_t)host & ~(uintptr_t)(SK_PAGE_SIZE - 1));
	si.si_addr_lsb = SK_PAGE_SHIFT;
	/* The instruction does not retire: it starts over on re-entry. */
	cpu->rip = cpu->insn_rip;
	cpu->io_exit_retire = false;
	x86_sys(cpu)->in_delivery = false;
	/* Leave as the core leaves for real hardware poison (vcpu.c): the
	 * SIGBUS is queued for the thread and KVM_RUN returns EINTR. */
	sk_guest_hwpoison = si;
	sk_guest_hwpoison_set = true;
	sk_guest_fault_jb = NULL;
	siglongjmp(*jb, 1);
}
