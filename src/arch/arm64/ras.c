/* RAS: a guest that consumes poisoned memory (softkvm_poison, the control
 * socket). What KVM does when a stage-2 fault lands on hardware-poisoned
 * memory: the vCPU thread gets SIGBUS and KVM_RUN returns (EINTR, the
 * access not retired) so that the VMM can inject an SEA with
 * KVM_SET_VCPU_EVENTS(ext_dabt_pending); with KVM_CAP_ARM_SEA_TO_USER the
 * same event is a KVM_EXIT_ARM_SEA exit instead.
 *
 * Real hardware poison (the host kernel's SIGBUS BUS_MCEERR_AR when the
 * vCPU touches a bad page of guest memory) becomes softkvm's own: the
 * page joins the VM's poison set and the access is retried, which then
 * consumes it as above (same signal, same exit, same SEA afterwards).
 */
#include <errno.h>
#include <signal.h>

#include "arch/arm64/a64.h"
#include "kvm/control.h"

/* KVM_EXIT_ARM_SEA's member of kvm_run's exit union (upstream layout). */
struct arm_sea_exit {
	uint64_t flags;
	uint64_t esr;
	uint64_t gva;
	uint64_t gpa;
};

/* The syndrome as ESR_EL2 reports a guest's abort: from a lower EL. */
static uint64_t sea_esr(int acc, uint32_t iss, uint32_t fsc)
{
	uint32_t ec = acc == ACC_X ? EC_IABT_LOW : EC_DABT_LOW;
	uint32_t s = fsc;
	if (acc != ACC_X) {
		s |= iss & ISS_CM;
		if (acc == ACC_W || (iss & ISS_CM))
			s |= ISS_WNR;
	}
	return ((uint64_t)ec << 26) | ESR_IL | s;
}

_Noreturn void a64_sea(struct a64 *c, uint64_t va, int acc, uint32_t iss, uint64_t ipa, void *hva, uint32_t fsc)
{
	struct kvm_run *run = a64_run(c);
	/* for KVM_SET_VCPU_EVENTS(ext_dabt_pending) that may follow */
	c->abort_va = va;
	c->abort_fsc = fsc;
	c->mmio.pending = false;
	if (c->avm->sea_to_user) {
		struct arm_sea_exit e = {
			.flags = KVM_EXIT_ARM_SEA_FLAG_GPA_VALID,
			.esr = sea_esr(acc, iss, fsc),
			.gva = va,
			.gpa = ipa,
		};
		run->exit_reason = KVM_EXIT_ARM_SEA;
		memcpy(&run->mmio, &e, sizeof(e));   /* the start of the exit union */
		a64_exit(c);
	}
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = BUS_OBJERR;
	si.si_addr = hva;
	sk_signals_defer(&si);
	run->exit_reason = KVM_EXIT_INTR;
	a64_fail(c, -EINTR);
}

static void flush_vm(struct sk_vm *vm)
{
	struct a64_vm *v = vm->arch_vm;
	atomic_fetch_add_explicit(&v->tlb_gen, 1, memory_order_release);
}

void a64_ras_vm_init(struct sk_vm *vm, struct a64_vm *v)
{
	sk_poison_init(&v->poison);
	sk_poison_register(vm, &v->poison, flush_vm);
	sk_control_start();
}

void a64_ras_vm_destroy(struct sk_vm *vm, struct a64_vm *v)
{
	sk_poison_unregister(vm);
	sk_poison_destroy(&v->poison);
}

/* After the fault handler jumped out of a guest memory access on SIGBUS
 * BUS_MCEERR_AR: poison the guest page behind si_addr so that the retried
 * access consumes it through a64_sea. False (the caller passes the fault
 * on as before) for any other fault, an address in no memslot, or a page
 * that was already poisoned (the access does not check: no loop). */
bool a64_hwpoison_convert(struct a64 *c)
{
	if (!sk_guest_hwpoison_set)
		return false;
	uintptr_t a = (uintptr_t)sk_guest_hwpoison.si_addr;
	const struct sk_slotset *set = c->slots;
	for (int i = 0; set && i < set->n; i++) {
		const struct sk_memslot *s = &set->slots[i];
		if (a - (uintptr_t)s->hva >= s->size)
			continue;
		uint64_t gpa = s->gpa + (a - (uintptr_t)s->hva);
		unsigned f;
		if (a64_poisoned(c, gpa, &f) || sk_poison_vm(c->vm, gpa, 1, 0, false) < 0)
			return false;
		sk_guest_hwpoison_set = false;
		a64_tlb_flush(c);
		return true;
	}
	return false;
}
