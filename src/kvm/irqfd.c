/* KVM_IRQFD: the bindings, their thread and the ioctl's rules. See irqfd.h.
 *
 * Each binding holds a duplicate of the VMM's eventfd, as KVM's irqfd holds
 * a reference to the eventfd: a write made just before the VMM closes its
 * fd still reaches the guest. KVM also drops a binding when the eventfd's
 * last reference goes; the duplicate keeps it alive, so a binding whose fd
 * number the VMM has since given to another file is dropped at the next
 * assign instead.
 */
#include "kvm/irqfd.h"

#include <errno.h>
#include <linux/kcmp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "kvm/kvm.h"

struct irqfd {
	struct irqfd *next;
	int user_fd;     /* the number the VMM gave */
	int fd;          /* our duplicate of it */
	uint32_t gsi;
};

struct sk_irqfds {
	struct sk_vm *vm;
	const struct sk_irqfd_ops *ops;
	/* The list. Held while injecting, so that no event of a binding is
	 * delivered once its deassign has returned. */
	pthread_mutex_t lock;
	struct irqfd *list;
	int epfd, wakefd;
	pthread_t thread;
	bool stop;
};

static bool drain(int fd)
{
	uint64_t cnt;
	return read(fd, &cnt, sizeof(cnt)) == sizeof(cnt);
}

static void deliver(struct sk_irqfds *t, int fd)
{
	for (struct irqfd *q = t->list; q; q = q->next) {
		if (q->fd != fd)
			continue;
		if (drain(fd)) {   /* KVM's irqfd_inject: an edge */
			t->ops->inject(t->vm, q->gsi, true);
			t->ops->inject(t->vm, q->gsi, false);
		}
		return;
	}
	/* Deassigned since epoll_wait: nothing to deliver. */
}

static void *irqfd_main(void *arg)
{
	struct sk_irqfds *t = arg;
	struct epoll_event ev[16];
	for (;;) {
		int n = epoll_wait(t->epfd, ev, 16, -1);
		pthread_mutex_lock(&t->lock);
		bool stop = t->stop;
		for (int i = 0; i < n && !stop; i++) {
			if (ev[i].data.fd == t->wakefd)
				drain(t->wakefd);
			else
				deliver(t, ev[i].data.fd);
		}
		pthread_mutex_unlock(&t->lock);
		if (stop)
			return NULL;
	}
}

static void irqfds_free(struct sk_irqfds *t)
{
	if (t->epfd >= 0)
		sk_sys_close(t->epfd);
	if (t->wakefd >= 0)
		sk_sys_close(t->wakefd);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* The VM's irqfds, made with their thread on first use; vm->lock held. */
static struct sk_irqfds *irqfds_make(struct sk_vm *vm, const struct sk_irqfd_ops *ops)
{
	if (vm->irqfds)
		return vm->irqfds;
	struct sk_irqfds *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->vm = vm;
	t->ops = ops;
	pthread_mutex_init(&t->lock, NULL);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event e = {.events = EPOLLIN, .data.fd = t->wakefd};
	if (t->epfd < 0 || t->wakefd < 0 || epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wakefd, &e))
		goto fail;
	if (sk_thread_create(&t->thread, NULL, irqfd_main, t))
		goto fail;
	vm->irqfds = t;
	return t;
fail:
	irqfds_free(t);
	return NULL;
}

static struct sk_irqfds *irqfds_of(struct sk_vm *vm, const struct sk_irqfd_ops *ops)
{
	pthread_mutex_lock(&vm->lock);
	struct sk_irqfds *t = ops ? irqfds_make(vm, ops) : vm->irqfds;
	pthread_mutex_unlock(&vm->lock);
	return t;
}

static void drop(struct sk_irqfds *t, struct irqfd **p)
{
	struct irqfd *q = *p;
	*p = q->next;
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, q->fd, NULL);
	sk_sys_close(q->fd);
	free(q);
}

/* KVM compares eventfds, not numbers: kcmp says whether q's eventfd is the
 * file behind fd; where kcmp is refused, the number decides. */
static bool same_eventfd(const struct irqfd *q, int fd)
{
	pid_t pid = getpid();
	long r = syscall(SYS_kcmp, pid, pid, KCMP_FILE, q->fd, fd);
	return r < 0 ? q->user_fd == fd : r == 0;
}

/* KVM's order: EAGAIN/EINVAL from the irqchip, EBADF/EINVAL for the fd,
 * then EBUSY for an eventfd already bound in this VM (to any GSI). */
static long assign(struct sk_vm *vm, const struct kvm_irqfd *a, const struct sk_irqfd_ops *ops)
{
	int fd = (int)a->fd;
	long r = ops->allowed(vm);
	if (!r && (a->flags & KVM_IRQFD_FLAG_RESAMPLE))
		r = -EINVAL;   /* see irqfd.h */
	if (!r)
		r = sk_check_eventfd(fd);
	if (r)
		return r;
	struct sk_irqfds *t = irqfds_of(vm, ops);
	struct irqfd *n = calloc(1, sizeof(*n));
	if (!t || !n) {
		free(n);
		return -ENOMEM;
	}
	*n = (struct irqfd){.user_fd = fd, .fd = sk_sys_dup_cloexec(fd), .gsi = a->gsi};
	if (n->fd < 0) {
		free(n);
		return -EBADF;   /* closed since the check */
	}
	pthread_mutex_lock(&t->lock);
	for (struct irqfd **p = &t->list; *p && !r;) {
		if (same_eventfd(*p, fd))
			r = -EBUSY;
		else if ((*p)->user_fd == fd)
			drop(t, p);   /* the VMM closed that eventfd: the number was reused */
		else
			p = &(*p)->next;
	}
	/* An eventfd already readable is delivered at once, as KVM's poll at
	 * assign does: epoll reports it on the first wait. */
	struct epoll_event e = {.events = EPOLLIN, .data.fd = n->fd};
	if (!r && epoll_ctl(t->epfd, EPOLL_CTL_ADD, n->fd, &e))
		r = -ENOMEM;
	if (!r) {
		n->next = t->list;
		t->list = n;
	}
	pthread_mutex_unlock(&t->lock);
	if (r) {
		sk_sys_close(n->fd);
		free(n);
	}
	return r;
}

/* The eventfd is checked as KVM's eventfd_ctx_fdget does; a pair that is
 * not bound is no error. */
static long deassign(struct sk_vm *vm, const struct kvm_irqfd *a)
{
	int fd = (int)a->fd;
	int r = sk_check_eventfd(fd);
	if (r)
		return r;
	struct sk_irqfds *t = irqfds_of(vm, NULL);
	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	for (struct irqfd **p = &t->list; *p;) {
		if ((*p)->gsi == a->gsi && same_eventfd(*p, fd))
			drop(t, p);
		else
			p = &(*p)->next;
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}

long sk_irqfd_ioctl(struct sk_vm *vm, const void *karg, const struct sk_irqfd_ops *ops)
{
	const struct kvm_irqfd *a = karg;
	if (a->flags & ~(uint32_t)(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (a->flags & KVM_IRQFD_FLAG_DEASSIGN)
		return deassign(vm, a);
	return assign(vm, a, ops);
}

void sk_irqfd_destroy(struct sk_vm *vm)
{
	struct sk_irqfds *t = vm->irqfds;
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_mutex_unlock(&t->lock);
	uint64_t one = 1;
	ssize_t w = write(t->wakefd, &one, sizeof(one));
	(void)w;   /* an eventfd write of 1 cannot fail here */
	pthread_join(t->thread, NULL);
	while (t->list)
		drop(t, &t->list);
	irqfds_free(t);
	vm->irqfds = NULL;
}
