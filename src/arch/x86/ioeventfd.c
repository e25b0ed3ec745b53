/* KVM_IOEVENTFD: a guest write to a port or MMIO address (optionally of
 * one value) signals an eventfd instead of exiting to userspace, as KVM's
 * virt/kvm/eventfd.c. Registrations come from another thread while vCPUs
 * run: a list under a mutex, skipped while empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/x86/sys.h"

#define BUS_FLAGS (KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY)
#define VALID_FLAGS (KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_PIO | \
		     KVM_IOEVENTFD_FLAG_DEASSIGN | KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY)

struct ioeventfd {
	struct ioeventfd *next;
	uint64_t addr, datamatch;
	uint32_t len;      /* 0: any write length */
	uint32_t bus;      /* BUS_FLAGS of the registration */
	bool wildcard;     /* no DATAMATCH */
	int user_fd;       /* the number the VMM gave (for deassign) */
	int fd;            /* our duplicate: KVM holds a reference too */
};

struct x86_ioeventfds {
	pthread_mutex_t lock;
	struct ioeventfd *list;
};

static struct x86_ioeventfds *table(struct sk_vm *vm)
{
	struct x86_vm *xv = vm->arch_vm;
	pthread_mutex_lock(&vm->lock);
	if (!xv->ioeventfds) {
		struct x86_ioeventfds *t = calloc(1, sizeof(*t));
		if (t) {
			pthread_mutex_init(&t->lock, NULL);
			xv->ioeventfds = t;
		}
	}
	pthread_mutex_unlock(&vm->lock);
	return xv->ioeventfds;
}

static bool collides(const struct ioeventfd *a, const struct ioeventfd *b)
{
	return a->bus == b->bus && a->addr == b->addr &&
	       (!a->len || !b->len ||
		(a->len == b->len && (a->wildcard || b->wildcard || a->datamatch == b->datamatch)));
}

static int assign(struct sk_vm *vm, const struct kvm_ioeventfd *a)
{
	switch (a->len) {
	case 0: case 1: case 2: case 4: case 8: break;
	default: return -EINVAL;
	}
	if (a->addr + a->len < a->addr)
		return -EINVAL;
	if (!a->len && (a->flags & KVM_IOEVENTFD_FLAG_DATAMATCH))
		return -EINVAL;
	int r = sk_check_eventfd(a->fd);
	if (r)
		return r;
	struct x86_ioeventfds *t = table(vm);
	struct ioeventfd *p = calloc(1, sizeof(*p));
	if (!t || !p) {
		free(p);
		return -ENOMEM;
	}
	p->addr = a->addr;
	p->len = a->len;
	p->bus = a->flags & BUS_FLAGS;
	p->wildcard = !(a->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	p->datamatch = p->wildcard ? 0 : a->datamatch;
	p->user_fd = a->fd;
	pthread_mutex_lock(&t->lock);
	for (struct ioeventfd *q = t->list; q; q = q->next) {
		if (collides(q, p)) {
			pthread_mutex_unlock(&t->lock);
			free(p);
			return -EEXIST;
		}
	}
	p->fd = fcntl(a->fd, F_DUPFD_CLOEXEC, 0);
	if (p->fd < 0) {
		pthread_mutex_unlock(&t->lock);
		free(p);
		return -EMFILE;
	}
	p->next = t->list;
	t->list = p;
	atomic_fetch_add(&((struct x86_vm *)vm->arch_vm)->nr_ioeventfds, 1);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static int deassign(struct sk_vm *vm, const struct kvm_ioeventfd *a)
{
	int r = sk_check_eventfd(a->fd);
	if (r)
		return r;
	struct x86_ioeventfds *t = table(vm);
	if (!t)
		return -ENOMEM;
	bool wildcard = !(a->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	r = -ENOENT;
	pthread_mutex_lock(&t->lock);
	for (struct ioeventfd **pp = &t->list; *pp; pp = &(*pp)->next) {
		struct ioeventfd *p = *pp;
		if (p->user_fd != a->fd || p->bus != (a->flags & BUS_FLAGS) || p->addr != a->addr ||
		    p->len != a->len || p->wildcard != wildcard ||
		    (!wildcard && p->datamatch != a->datamatch))
			continue;
		*pp = p->next;
		syscall(SYS_close, p->fd);
		free(p);
		atomic_fetch_sub(&((struct x86_vm *)vm->arch_vm)->nr_ioeventfds, 1);
		r = 0;
		break;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

long x86_ioc_ioeventfd(void *obj, void *arg)
{
	const struct kvm_ioeventfd *a = arg;
	if (a->flags & ~(uint32_t)VALID_FLAGS)
		return -EINVAL;
	if (a->flags & KVM_IOEVENTFD_FLAG_DEASSIGN)
		return deassign(obj, a);
	return assign(obj, a);
}

/* A guest write: true when an ioeventfd took it (no exit then). */
bool x86_ioeventfd_write(struct sk_vm *vm, bool pio, uint64_t addr, unsigned size, uint64_t val)
{
	struct x86_vm *xv = vm->arch_vm;
	if (!atomic_load_explicit(&xv->nr_ioeventfds, memory_order_relaxed))
		return false;
	struct x86_ioeventfds *t = xv->ioeventfds;
	uint32_t bus = pio ? KVM_IOEVENTFD_FLAG_PIO : 0;
	if (size < 8)
		val &= (1ull << (8 * size)) - 1;
	bool hit = false;
	pthread_mutex_lock(&t->lock);
	for (struct ioeventfd *p = t->list; p; p = p->next) {
		if (p->bus != bus || p->addr != addr || (p->len && p->len != size) ||
		    (!p->wildcard && p->datamatch != val))
			continue;
		uint64_t one = 1;
		if (write(p->fd, &one, sizeof(one)) < 0) {
			/* a saturated counter: KVM's eventfd_signal drops it too */
		}
		hit = true;
		break;
	}
	pthread_mutex_unlock(&t->lock);
	return hit;
}

void x86_ioeventfd_destroy(struct sk_vm *vm)
{
	struct x86_vm *xv = vm->arch_vm;
	struct x86_ioeventfds *t = xv->ioeventfds;
	if (!t)
		return;
	while (t->list) {
		struct ioeventfd *p = t->list;
		t->list = p->next;
		syscall(SYS_close, p->fd);
		free(p);
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
	xv->ioeventfds = NULL;
}
