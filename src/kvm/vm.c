/* The VM fd: kvm_vm_ioctl's counterpart (memslots, dirty log, vCPUs). */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "kvm/device.h"
#include "kvm/dispatch.h"
#include "kvm/kvm.h"
#include "kvm/uaccess.h"

struct sk_vm *sk_vm_create(const struct sk_arch_ops *arch, unsigned long type)
{
	struct sk_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	atomic_init(&vm->refs, 1);
	vm->arch = arch;
	vm->type = type;
	vm->max_vcpus = SK_MAX_VCPUS;
	vm->vcpus = calloc(SK_MAX_VCPUS, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		free(vm);
		return NULL;
	}
	vm->fork_gen = sk_fork_gen;
	pthread_mutex_init(&vm->lock, NULL);
	sk_mem_init(&vm->mem, arch->address_spaces ? (int)arch->address_spaces : 1);
	if (vm->arch->vm_init(vm)) {
		sk_mem_destroy(&vm->mem);
		free(vm->vcpus);
		free(vm);
		return NULL;
	}
	sk_vm_stats_init(vm);
	return vm;
}

void sk_vm_get(struct sk_vm *vm)
{
	atomic_fetch_add(&vm->refs, 1);
}

void sk_vm_put(struct sk_vm *vm)
{
	if (atomic_fetch_sub(&vm->refs, 1) != 1)
		return;
	for (int i = 0; i < vm->nr_vcpus; i++)
		sk_vcpu_free(vm->vcpus[i]);
	free(vm->vcpus);
	vm->arch->vm_destroy(vm);
	sk_mem_destroy(&vm->mem);
	sk_stats_destroy(&vm->stats);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

void sk_vm_flush_vcpus(struct sk_vm *vm)
{
	uint64_t gen = sk_mem_current(&vm->mem)->gen;
	sk_vm_count_flush(vm);
	for (int i = 0; i < vm->nr_vcpus; i++)
		sk_vcpu_request(vm->vcpus[i], SK_REQ_TLB_FLUSH);
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct sk_vcpu *v = vm->vcpus[i];
		while (atomic_load(&v->in_run) && atomic_load(&v->seen_gen) < gen)
			sched_yield();
	}
}

static bool any_vcpu_running(struct sk_vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (atomic_load(&vm->vcpus[i]->in_run))
			return true;
	return false;
}

/* Called with the lock held; returns with it released. A running vCPU
 * gets the new map at once (and the old snapshot is freed once every
 * running vCPU has left it); otherwise the next KVM_RUN publishes it. */
static void publish_slots(struct sk_vm *vm)
{
	/* Pairs with sk_vm_refresh_slots: the store of stale (in
	 * sk_mem_set_region) and the loads of in_run are sequentially
	 * consistent, so a vCPU entering now either is seen here or sees
	 * the map stale. */
	struct sk_slotset *old = NULL;
	if (any_vcpu_running(vm))
		old = sk_mem_publish(&vm->mem);
	else
		sk_mem_free_retired(&vm->mem);
	pthread_mutex_unlock(&vm->lock);
	if (old) {
		sk_vm_flush_vcpus(vm);
		sk_mem_free_set(old);
	}
}

void sk_vm_refresh_slots(struct sk_vm *vm)
{
	if (!atomic_load(&vm->mem.stale))
		return;
	pthread_mutex_lock(&vm->lock);
	/* Nobody runs with the stale snapshot: free it at once. */
	if (atomic_load(&vm->mem.stale))
		sk_mem_free_set(sk_mem_publish(&vm->mem));
	pthread_mutex_unlock(&vm->lock);
}

static long set_memory_region(struct sk_vm *vm, unsigned long arg)
{
	struct kvm_userspace_memory_region r;
	if (sk_copy_from_user(&r, (void *)arg, sizeof(r)))
		return -EFAULT;
	pthread_mutex_lock(&vm->lock);
	int rc = sk_mem_set_region(&vm->mem, &r, KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY,
				   vm->dirty_initially_set);
	if (rc != 0) {
		pthread_mutex_unlock(&vm->lock);
		return rc > 0 ? 0 : rc;
	}
	publish_slots(vm);
	return 0;
}

static long get_dirty_log(struct sk_vm *vm, unsigned long arg)
{
	struct kvm_dirty_log log;
	if (sk_copy_from_user(&log, (void *)arg, sizeof(log)))
		return -EFAULT;
	pthread_mutex_lock(&vm->lock);
	long r = sk_mem_get_dirty_log(&vm->mem, log.slot, log.dirty_bitmap, vm->manual_dirty_protect);
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static long clear_dirty_log(struct sk_vm *vm, unsigned long arg)
{
	struct kvm_clear_dirty_log log;
	if (sk_copy_from_user(&log, (void *)arg, sizeof(log)))
		return -EFAULT;
	pthread_mutex_lock(&vm->lock);
	long r = sk_mem_clear_dirty_log(&vm->mem, log.slot, log.first_page, log.num_pages,
					log.dirty_bitmap);
	pthread_mutex_unlock(&vm->lock);
	return r;
}

/* KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE and KVM_DIRTY_LOG_INITIALLY_SET. */
#define MANUAL_PROTECT_ENABLE 1ull
#define INITIALLY_SET 2ull

static long enable_cap(struct sk_vm *vm, unsigned long arg)
{
	struct kvm_enable_cap cap;
	if (sk_copy_from_user(&cap, (void *)arg, sizeof(cap)))
		return -EFAULT;
	if (cap.flags)
		return -EINVAL;
	switch (cap.cap) {
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: {
		uint64_t allowed = MANUAL_PROTECT_ENABLE;
		if (cap.args[0] & MANUAL_PROTECT_ENABLE)
			allowed |= INITIALLY_SET;
		if (cap.args[0] & ~allowed)
			return -EINVAL;
		vm->manual_dirty_protect = cap.args[0] & MANUAL_PROTECT_ENABLE;
		vm->dirty_initially_set = cap.args[0] & INITIALLY_SET;
		return 0;
	}
	case KVM_CAP_HALT_POLL:
		return cap.args[0] != (unsigned int)cap.args[0] ? -EINVAL : 0;
	}
	return vm->arch->vm_enable_cap(vm, &cap);
}

unsigned sk_fork_gen;

static void forked_child(void)
{
	sk_fork_gen++;
}

__attribute__((constructor)) static void watch_forks(void)
{
	pthread_atfork(NULL, NULL, forked_child);
}

long sk_vm_ioctl(struct sk_vm *vm, unsigned long cmd, unsigned long arg)
{
	if (sk_vm_foreign(vm))
		return -EIO;
	switch (cmd) {
	case KVM_CREATE_VCPU:
		return sk_vcpu_create(vm, arg);
	case KVM_CREATE_DEVICE:
		return sk_device_create(vm, arg);
	case KVM_SET_USER_MEMORY_REGION:
		return set_memory_region(vm, arg);
	case KVM_GET_DIRTY_LOG:
		return get_dirty_log(vm, arg);
	case KVM_CLEAR_DIRTY_LOG:
		return clear_dirty_log(vm, arg);
	case KVM_ENABLE_CAP:
		return enable_cap(vm, arg);
	case KVM_CHECK_EXTENSION:
		return sk_check_extension(vm, (long)arg);
	case KVM_GET_STATS_FD: {
		pthread_mutex_lock(&vm->lock);
		long r = sk_stats_fd(&vm->stats);
		pthread_mutex_unlock(&vm->lock);
		return r;
	}
	}
	bool found;
	long r = sk_call_table(vm->arch->vm_ioctls, vm, cmd, arg, &found);
	if (!found)
		r = sk_call_table(vm->arch->vm_irqchip_ioctls, vm, cmd, arg, &found);
	return found ? r : -ENOTTY;
}
