/* KVM_IRQFD: an eventfd bound to a GSI. A thread per VM waits on every
 * bound eventfd (epoll); a write by anyone (a device thread, vhost) becomes
 * an edge on the GSI through the irqchip's routing, as KVM's irqfd_inject.
 * KVM_IRQFD_FLAG_RESAMPLE (level interrupts re-armed at EOI) is not done.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/x86/irq.h"
#include "arch/x86/irqfd.h"

struct irqfd {
	struct irqfd *next;
	int user_fd;     /* the number the VMM gave (for deassign) */
	int fd;          /* our duplicate: KVM holds a reference too */
	uint32_t gsi;
};

struct x86_irqfds {
	struct sk_vm *vm;
	pthread_mutex_t lock;
	struct irqfd *list;
	int epfd, wakefd;
	pthread_t thread;
	bool stop;
};

static int raw_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

static void inject(struct x86_irqfds *t, uint32_t gsi)
{
	struct x86_irqchip *ic = x86_irqchip(t->vm);
	pthread_mutex_lock(&ic->lock);
	x86_irq_set_gsi(ic, gsi, true);
	x86_irq_set_gsi(ic, gsi, false);
	pthread_mutex_unlock(&ic->lock);
}

static void *irqfd_main(void *arg)
{
	struct x86_irqfds *t = arg;
	struct epoll_event ev[16];
	for (;;) {
		int n = epoll_wait(t->epfd, ev, 16, -1);
		pthread_mutex_lock(&t->lock);
		bool stop = t->stop;
		for (int i = 0; i < n && !stop; i++) {
			int fd = ev[i].data.fd;
			uint64_t cnt;
			if (fd == t->wakefd) {
				if (read(fd, &cnt, sizeof(cnt)) < 0)
					continue;
				continue;
			}
			/* The irqfd may have been removed since epoll_wait. */
			for (struct irqfd *q = t->list; q; q = q->next) {
				if (q->fd != fd)
					continue;
				if (read(fd, &cnt, sizeof(cnt)) == sizeof(cnt))
					inject(t, q->gsi);
				break;
			}
		}
		pthread_mutex_unlock(&t->lock);
		if (stop)
			return NULL;
	}
}

static struct x86_irqfds *irqfds_get(struct sk_vm *vm)
{
	struct x86_vm *xv = vm->arch_vm;
	if (xv->irqfds)
		return xv->irqfds;
	struct x86_irqfds *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->vm = vm;
	pthread_mutex_init(&t->lock, NULL);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event e = {.events = EPOLLIN, .data.fd = t->wakefd};
	if (t->epfd < 0 || t->wakefd < 0 || epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wakefd, &e))
		goto fail;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&t->thread, NULL, irqfd_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		goto fail;
	xv->irqfds = t;
	return t;
fail:
	if (t->epfd >= 0)
		raw_close(t->epfd);
	if (t->wakefd >= 0)
		raw_close(t->wakefd);
	free(t);
	return NULL;
}

static long assign(struct sk_vm *vm, const struct kvm_irqfd *a)
{
	int r = sk_check_eventfd((int)a->fd);
	if (r)
		return r;
	pthread_mutex_lock(&vm->lock);
	struct x86_irqfds *t = irqfds_get(vm);
	pthread_mutex_unlock(&vm->lock);
	if (!t)
		return -ENOMEM;
	int fd = (int)syscall(SYS_fcntl, (int)a->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&t->lock);
	long ret = 0;
	for (struct irqfd *q = t->list; q; q = q->next) {
		/* KVM: one eventfd backs one irqfd (compared by the file). */
		if (q->user_fd == (int)a->fd) {
			ret = -EBUSY;
			goto out;
		}
	}
	struct irqfd *n = calloc(1, sizeof(*n));
	struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
	if (!n || epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &e)) {
		free(n);
		ret = -ENOMEM;
		goto out;
	}
	n->user_fd = (int)a->fd;
	n->fd = fd;
	n->gsi = a->gsi;
	n->next = t->list;
	t->list = n;
	fd = -1;
out:
	pthread_mutex_unlock(&t->lock);
	if (fd >= 0)
		raw_close(fd);
	return ret;
}

static long deassign(struct sk_vm *vm, const struct kvm_irqfd *a)
{
	int r = sk_check_eventfd((int)a->fd);
	if (r)
		return r;
	struct x86_irqfds *t = ((struct x86_vm *)vm->arch_vm)->irqfds;
	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	for (struct irqfd **p = &t->list; *p; p = &(*p)->next) {
		struct irqfd *q = *p;
		if (q->user_fd == (int)a->fd && q->gsi == a->gsi) {
			*p = q->next;
			epoll_ctl(t->epfd, EPOLL_CTL_DEL, q->fd, NULL);
			raw_close(q->fd);
			free(q);
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}

long x86_ioc_irqfd(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	const struct kvm_irqfd *a = arg;
	if (a->flags & ~(uint32_t)(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (a->flags & KVM_IRQFD_FLAG_DEASSIGN)
		return deassign(vm, a);
	/* kvm_arch_irqfd_allowed: an in-kernel irqchip; resampling not modelled. */
	if (!x86_irqchip(vm) || (a->flags & KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	return assign(vm, a);
}

void x86_irqfd_destroy(struct sk_vm *vm)
{
	struct x86_vm *xv = vm->arch_vm;
	struct x86_irqfds *t = xv ? xv->irqfds : NULL;
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_mutex_unlock(&t->lock);
	uint64_t one = 1;
	ssize_t w = write(t->wakefd, &one, sizeof(one));
	(void)w;   /* an eventfd write of 1 cannot fail here */
	pthread_join(t->thread, NULL);
	while (t->list) {
		struct irqfd *q = t->list;
		t->list = q->next;
		raw_close(q->fd);
		free(q);
	}
	raw_close(t->epfd);
	raw_close(t->wakefd);
	pthread_mutex_destroy(&t->lock);
	free(t);
	xv->irqfds = NULL;
}
