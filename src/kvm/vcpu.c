/* The vCPU fd: creation, the shared kvm_run area and the KVM_RUN sequence.
 *
 * The vCPU fd is a memfd holding the kvm_run page (and the arch's extra
 * pages), so the VMM's mmap of the fd maps the very pages softkvm writes:
 * no mmap interposition, and fork/dup/close behave as for any file.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "kvm/dispatch.h"
#include "kvm/kvm.h"
#include "kvm/uaccess.h"

_Thread_local struct sk_vcpu *sk_current_vcpu;

static struct sk_vcpu *find_vcpu(struct sk_vm *vm, uint32_t id)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i]->id == id)
			return vm->vcpus[i];
	return NULL;
}

void sk_vcpu_free(struct sk_vcpu *vcpu)
{
	vcpu->vm->arch->vcpu_destroy(vcpu);
	sk_stats_destroy(&vcpu->stats);
	munmap(vcpu->run, vcpu->run_size);
	pthread_mutex_destroy(&vcpu->run_lock);
	free(vcpu);
}

/* The vCPU with its run area; returns its fd (a memfd) in *fd, or NULL
 * with the error in *fd. */
static struct sk_vcpu *vcpu_alloc(struct sk_vm *vm, uint32_t id, int *fd)
{
	int err = -ENOMEM;
	char name[32];
	snprintf(name, sizeof(name), "kvm-vcpu:%d", vm->nr_vcpus);
	struct sk_vcpu *vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return NULL;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->index = vm->nr_vcpus;
	vcpu->run_size = (size_t)vm->arch->vcpu_mmap_pages * getpagesize();
	pthread_mutex_init(&vcpu->run_lock, NULL);
	*fd = memfd_create(name, MFD_CLOEXEC);
	if (*fd < 0 || ftruncate(*fd, vcpu->run_size) < 0)
		goto fail;
	vcpu->run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (vcpu->run == MAP_FAILED)
		goto fail;
	err = vm->arch->vcpu_init(vcpu);
	if (err) {
		munmap(vcpu->run, vcpu->run_size);
		goto fail;
	}
	sk_vcpu_stats_init(vcpu);
	return vcpu;
fail:
	if (*fd >= 0)
		sk_sys_close(*fd);
	*fd = err < 0 ? err : -ENOMEM;
	pthread_mutex_destroy(&vcpu->run_lock);
	free(vcpu);
	return NULL;
}

long sk_vcpu_create(struct sk_vm *vm, unsigned long id)
{
	if (id >= SK_MAX_VCPU_ID)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	long r = -EINVAL;
	if (vm->nr_vcpus >= vm->max_vcpus)
		goto out;
	r = -EEXIST;
	if (find_vcpu(vm, id))
		goto out;
	int fd = -ENOMEM;
	struct sk_vcpu *vcpu = vcpu_alloc(vm, id, &fd);
	r = fd;
	if (!vcpu)
		goto out;
	sk_vm_get(vm);
	r = sk_fd_install(SK_FILE_VCPU, vcpu, fd);
	if (r < 0) {
		sk_vm_put(vm);
		sk_vcpu_free(vcpu);
		sk_sys_close(fd);
		goto out;
	}
	vm->vcpus[vm->nr_vcpus] = vcpu;
	atomic_fetch_add(&vm->nr_vcpus, 1);
out:
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static bool is_io_exit(uint32_t reason)
{
	return reason == KVM_EXIT_IO || reason == KVM_EXIT_MMIO;
}

/* Everything between the entry checks and the guest: complete the last
 * exit, honour immediate_exit and signals, then run. */
static long run_guest(struct sk_vcpu *vcpu)
{
	const struct sk_arch_ops *arch = vcpu->vm->arch;
	struct kvm_run *run = vcpu->run;
	long r = arch->vcpu_prepare(vcpu);
	if (r)
		return r;
	if (vcpu->io_pending) {
		vcpu->io_pending = false;
		r = arch->vcpu_complete_io(vcpu);
		if (r)
			return r < 0 ? r : 0;
	}
	if (run->immediate_exit)
		return -EINTR;
	if (atomic_load(&vcpu->requests) & SK_REQ_EXIT) {
		run->exit_reason = KVM_EXIT_INTR;
		return -EINTR;
	}
	sigjmp_buf jb;
	sk_guest_hwpoison_set = false;
	if (sigsetjmp(jb, 0)) {
		sk_guest_fault_jb = NULL;
		if (sk_guest_hwpoison_set) {
			/* hardware poison: the VMM gets the SIGBUS, the guest
			 * access is retried on the next KVM_RUN */
			sk_guest_hwpoison_set = false;
			sk_signals_defer(&sk_guest_hwpoison);
			run->exit_reason = KVM_EXIT_INTR;
			return -EINTR;
		}
		return -EFAULT;
	}
	sk_guest_fault_jb = &jb;
	r = arch->vcpu_run(vcpu);
	sk_guest_fault_jb = NULL;
	return r;
}

struct run_frame {
	struct sk_vcpu *vcpu;
	bool masked;
	sigset_t old;
};

/* The end of every KVM_RUN, also when the thread is cancelled inside it
 * (a VMM may pthread_cancel a vCPU thread that sleeps in a halted vCPU). */
static void run_leave(void *arg)
{
	struct run_frame *f = arg;
	struct sk_vcpu *vcpu = f->vcpu;
	atomic_store(&vcpu->in_run, false);
	if (f->masked)
		pthread_sigmask(SIG_SETMASK, &f->old, NULL);
	sk_current_vcpu = NULL;
	atomic_fetch_and(&vcpu->requests, ~(uint32_t)SK_REQ_EXIT);
}

static long vcpu_run(struct sk_vcpu *vcpu, unsigned long arg)
{
	if (arg)
		return -EINVAL;
	struct run_frame f = {.vcpu = vcpu, .masked = vcpu->sigmask_set};
	sk_current_vcpu = vcpu;
	atomic_store(&vcpu->in_run, true);
	sk_vm_refresh_slots(vcpu->vm);
	if (f.masked)
		pthread_sigmask(SIG_SETMASK, &vcpu->sigmask, &f.old);
	long r;
	pthread_cleanup_push(run_leave, &f);
	r = run_guest(vcpu);
	vcpu->vm->arch->vcpu_post_run(vcpu);
	if (r == 0 || r == -EINTR)
		sk_vcpu_count_exit(vcpu, r ? KVM_EXIT_INTR : vcpu->run->exit_reason);
	if (r == 0 && is_io_exit(vcpu->run->exit_reason))
		vcpu->io_pending = true;
	pthread_cleanup_pop(1);
	sk_signals_redeliver();
	return r;
}

/* The kernel's sigset_t: 64 bits on the arches softkvm serves. */
#define KERNEL_SIGSET_BYTES 8

static long set_signal_mask(struct sk_vcpu *vcpu, unsigned long arg)
{
	if (!arg) {
		vcpu->sigmask_set = false;
		return 0;
	}
	struct kvm_signal_mask hdr;
	if (sk_copy_from_user(&hdr, (void *)arg, sizeof(hdr)))
		return -EFAULT;
	if (hdr.len != KERNEL_SIGSET_BYTES)
		return -EINVAL;
	uint64_t bits;
	if (sk_copy_from_user(&bits, (char *)arg + sizeof(hdr), sizeof(bits)))
		return -EFAULT;
	sigemptyset(&vcpu->sigmask);
	for (int sig = 1; sig <= 64; sig++)
		if ((bits >> (sig - 1)) & 1)
			sigaddset(&vcpu->sigmask, sig);
	vcpu->sigmask_set = true;
	return 0;
}

static long enable_cap(struct sk_vcpu *vcpu, unsigned long arg)
{
	struct kvm_enable_cap cap;
	if (sk_copy_from_user(&cap, (void *)arg, sizeof(cap)))
		return -EFAULT;
	if (cap.flags)
		return -EINVAL;
	return vcpu->vm->arch->vcpu_enable_cap(vcpu, &cap);
}

static long vcpu_ioctl_locked(struct sk_vcpu *vcpu, unsigned long cmd, unsigned long arg)
{
	switch (cmd) {
	case KVM_RUN:
		return vcpu_run(vcpu, arg);
	case KVM_SET_SIGNAL_MASK:
		return set_signal_mask(vcpu, arg);
	case KVM_ENABLE_CAP:
		return enable_cap(vcpu, arg);
	case KVM_GET_STATS_FD:
		return sk_stats_fd(&vcpu->stats);
	}
	bool found;
	long r = sk_call_table(vcpu->vm->arch->vcpu_ioctls, vcpu, cmd, arg, &found);
	return found ? r : -EINVAL;
}

static void unlock_run(void *vcpu)
{
	pthread_mutex_unlock(&((struct sk_vcpu *)vcpu)->run_lock);
}

long sk_vcpu_ioctl(struct sk_vcpu *vcpu, unsigned long cmd, unsigned long arg)
{
	if (sk_vm_foreign(vcpu->vm))
		return -EIO;
	if (_IOC_TYPE(cmd) != KVMIO)
		return -EINVAL;
	long r;
	pthread_mutex_lock(&vcpu->run_lock);
	pthread_cleanup_push(unlock_run, vcpu);
	r = vcpu_ioctl_locked(vcpu, cmd, arg);
	pthread_cleanup_pop(1);
	return r;
}
