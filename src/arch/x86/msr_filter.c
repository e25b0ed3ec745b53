/* MSR accesses that userspace handles: KVM_CAP_X86_USER_SPACE_MSR (which
 * failed guest RDMSR/WRMSR exit with KVM_EXIT_X86_RDMSR/WRMSR instead of
 * #GP) and KVM_X86_SET_MSR_FILTER (which MSRs the guest may touch at all).
 *
 * An exit leaves RIP on the instruction, as KVM's does; the record in
 * x86_sys.msr_exit lets that instruction, run again on re-entry, take
 * userspace's answer from run->msr (data, or #GP when error is set)
 * instead of asking again.
 *
 * The filter is replaced whole by each KVM_X86_SET_MSR_FILTER; vCPUs read
 * it under a reader lock, taken only while a filter is installed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/sys.h"
#include "kvm/uaccess.h"

struct msr_range {
	uint32_t flags, base, nmsrs;
	uint64_t *bitmap;
};

struct x86_msr_filter {
	bool default_allow;
	unsigned count;
	struct msr_range ranges[KVM_MSR_FILTER_MAX_RANGES];
};

#define USER_SPACE_MSR_VALID \
	(KVM_MSR_EXIT_REASON_INVAL | KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_FILTER)

static void filter_free(struct x86_msr_filter *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < f->count; i++)
		free(f->ranges[i].bitmap);
	free(f);
}

void x86_msr_filter_vm_init(struct sk_vm *vm)
{
	struct x86_vm *xv = vm->arch_vm;
	pthread_rwlock_init(&xv->msr_filter_lock, NULL);
}

void x86_msr_filter_vm_destroy(struct sk_vm *vm)
{
	struct x86_vm *xv = vm->arch_vm;
	filter_free(atomic_exchange(&xv->msr_filter, NULL));
	pthread_rwlock_destroy(&xv->msr_filter_lock);
}

int x86_msr_enable_user_space(struct sk_vm *vm, uint64_t mask)
{
	struct x86_vm *xv = vm->arch_vm;
	if (mask & ~(uint64_t)USER_SPACE_MSR_VALID)
		return -EINVAL;
	atomic_store(&xv->user_space_msr_mask, (uint32_t)mask);
	return 0;
}

/* One range of the caller's filter; its bitmap is the caller's memory. */
static int add_range(struct x86_msr_filter *f, const struct kvm_msr_filter_range *u)
{
	if (!u->nmsrs)
		return 0;
	if ((u->flags & ~(uint32_t)(KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE)) || !u->flags)
		return -EINVAL;
	size_t size = ((size_t)u->nmsrs + 63) / 64 * 8;
	if (size > KVM_MSR_FILTER_MAX_BITMAP_SIZE)
		return -EINVAL;
	uint64_t *bitmap = malloc(size);
	if (!bitmap)
		return -ENOMEM;
	if (sk_copy_from_user(bitmap, u->bitmap, size)) {
		free(bitmap);
		return -EFAULT;
	}
	f->ranges[f->count++] = (struct msr_range){u->flags, u->base, u->nmsrs, bitmap};
	return 0;
}

long x86_ioc_set_msr_filter(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	struct x86_vm *xv = vm->arch_vm;
	const struct kvm_msr_filter *uf = arg;
	if (uf->flags & ~(uint32_t)KVM_MSR_FILTER_DEFAULT_DENY)
		return -EINVAL;
	bool empty = true;
	for (unsigned i = 0; i < KVM_MSR_FILTER_MAX_RANGES; i++)
		empty = empty && !uf->ranges[i].nmsrs;
	bool default_allow = !(uf->flags & KVM_MSR_FILTER_DEFAULT_DENY);
	if (empty && !default_allow)
		return -EINVAL;
	struct x86_msr_filter *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->default_allow = default_allow;
	for (unsigned i = 0; i < KVM_MSR_FILTER_MAX_RANGES; i++) {
		int r = add_range(f, &uf->ranges[i]);
		if (r) {
			filter_free(f);
			return r;
		}
	}
	pthread_rwlock_wrlock(&xv->msr_filter_lock);
	struct x86_msr_filter *old = atomic_exchange(&xv->msr_filter, f);
	pthread_rwlock_unlock(&xv->msr_filter_lock);
	filter_free(old);
	return 0;
}

static bool filter_allows(const struct x86_msr_filter *f, uint32_t idx, uint32_t type)
{
	for (unsigned i = 0; i < f->count; i++) {
		const struct msr_range *r = &f->ranges[i];
		uint32_t end = r->base + r->nmsrs;   /* wraps as KVM's does */
		if (idx >= r->base && idx < end && (r->flags & type)) {
			uint32_t bit = idx - r->base;
			return (r->bitmap[bit / 64] >> (bit % 64)) & 1;
		}
	}
	return f->default_allow;
}

bool x86_msr_allowed(struct x86_cpu *cpu, uint32_t idx, uint32_t type)
{
	struct x86_vm *xv = cpu->vm->arch_vm;
	if (idx >= 0x800 && idx <= 0x8ff)
		return true;   /* x2APIC MSRs are never filtered */
	if (!atomic_load_explicit(&xv->msr_filter, memory_order_acquire))
		return true;
	pthread_rwlock_rdlock(&xv->msr_filter_lock);
	const struct x86_msr_filter *f = atomic_load_explicit(&xv->msr_filter, memory_order_relaxed);
	bool ok = !f || filter_allows(f, idx, type);
	pthread_rwlock_unlock(&xv->msr_filter_lock);
	return ok;
}

bool x86_msr_exit_reply(struct x86_cpu *cpu, uint32_t idx, bool write, uint64_t *val, bool *ok)
{
	struct x86_sys *sys = x86_sys(cpu);
	if (!sys->msr_exit.pending)
		return false;
	sys->msr_exit.pending = false;
	/* Another instruction runs: the one that exited was abandoned. */
	if (sys->msr_exit.write != write || sys->msr_exit.index != idx ||
	    sys->msr_exit.rip != cpu->insn_rip)
		return false;
	const struct kvm_run *run = x86_run(cpu);
	*ok = !run->msr.error;
	if (*ok && !write)
		*val = run->msr.data;
	return true;
}

void x86_msr_exit(struct x86_cpu *cpu, uint32_t idx, bool write, uint64_t data, uint32_t reason)
{
	struct x86_vm *xv = cpu->vm->arch_vm;
	if (!(atomic_load_explicit(&xv->user_space_msr_mask, memory_order_relaxed) & reason))
		return;
	struct kvm_run *run = x86_run(cpu);
	run->exit_reason = write ? KVM_EXIT_X86_WRMSR : KVM_EXIT_X86_RDMSR;
	run->msr.error = 0;
	memset(run->msr.pad, 0, sizeof(run->msr.pad));
	run->msr.reason = reason;
	run->msr.index = idx;
	run->msr.data = data;
	struct x86_sys *sys = x86_sys(cpu);
	sys->msr_exit.pending = true;
	sys->msr_exit.write = write;
	sys->msr_exit.index = idx;
	sys->msr_exit.rip = cpu->insn_rip;
	x86_exit_to_user(cpu);
}
