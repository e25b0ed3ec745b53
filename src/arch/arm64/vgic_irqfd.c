/* KVM_SET_GSI_ROUTING and KVM_IRQFD with the vGIC (virt/kvm/irqchip.c,
 * eventfd.c and vgic-irqfd.c's rules): a GSI routes to an SPI (irqchip
 * pin + 32) or to an MSI (kept, but without an ITS it goes nowhere). A
 * thread per VM waits on the bound eventfds; a write becomes an edge on
 * the GSI. KVM_IRQFD_FLAG_RESAMPLE is not offered. No raw system calls
 * here: SYS_* would be arm64's numbers on an x86-64 host (kvm.h's
 * sk_sys_* helpers have the host's). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "arch/arm64/vgic.h"

#define MAX_IRQ_ROUTES 4096      /* KVM_MAX_IRQ_ROUTES */
#define IRQCHIP_NUM_PINS 988     /* KVM_IRQCHIP_NUM_PINS: the SPIs */

struct vgic_route {
	uint32_t gsi, type, pin;
};

struct vgic_irqfd {
	struct vgic_irqfd *next;
	int user_fd;             /* the number the VMM gave */
	int fd;                  /* our duplicate of it */
	uint32_t gsi;
};

struct vgic_irqfds {
	pthread_mutex_t lock;
	struct vgic_irqfd *list;
	int epfd, wakefd;
	pthread_t thread;
	bool stop;
};

/* ---- routing (vg->lock) ---- */

static void set_default_routes(struct a64_vgic *vg)
{
	free(vg->routes);
	vg->nr_routes = 0;
	vg->routes = calloc(vg->nr_spis ? vg->nr_spis : 1, sizeof(*vg->routes));
	if (!vg->routes)
		return;
	for (uint32_t i = 0; i < vg->nr_spis; i++)
		vg->routes[i] = (struct vgic_route){i, KVM_IRQ_ROUTING_IRQCHIP, i};
	vg->nr_routes = (int)vg->nr_spis;
}

void vgic_routes_init(struct a64_vgic *vg)
{
	set_default_routes(vg);
}

/* An edge on gsi. A level-sensitive SPI keeps it pending until taken, as
 * the guest sees on KVM once the pulse reached the vCPU. */
static void set_gsi(struct a64_vgic *vg, uint32_t gsi)
{
	for (int i = 0; i < vg->nr_routes; i++) {
		const struct vgic_route *r = &vg->routes[i];
		if (r->gsi != gsi || r->type != KVM_IRQ_ROUTING_IRQCHIP)
			continue;
		struct vgic_irq *irq = vgic_get_irq(vg, NULL, r->pin + VGIC_NR_PRIVATE);
		if (!irq)
			continue;
		irq->latch = true;
		vgic_update(vg, vgic_target(vg, NULL, r->pin + VGIC_NR_PRIVATE));
	}
}

static size_t routing_size(const void *hdr)
{
	const struct kvm_irq_routing *r = hdr;
	if (r->nr > MAX_IRQ_ROUTES)
		return sizeof(*r);   /* refused with EINVAL by the handler */
	return sizeof(*r) + (size_t)r->nr * sizeof(struct kvm_irq_routing_entry);
}

static int check_entry(const struct kvm_irq_routing_entry *e, const struct kvm_irq_routing_entry *all, uint32_t i)
{
	if (e->gsi >= MAX_IRQ_ROUTES)
		return -EINVAL;
	if (e->type == KVM_IRQ_ROUTING_MSI ? (e->flags & ~KVM_MSI_VALID_DEVID) : e->flags)
		return -EINVAL;
	/* one irqchip pin per GSI; anything else maps one to one */
	for (uint32_t j = 0; j < i; j++)
		if (all[j].gsi == e->gsi)
			return -EINVAL;
	switch (e->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		return e->u.irqchip.irqchip || e->u.irqchip.pin >= IRQCHIP_NUM_PINS ? -EINVAL : 0;
	case KVM_IRQ_ROUTING_MSI:
		return 0;
	}
	return -EINVAL;
}

static long set_gsi_routing(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	const struct kvm_irq_routing *rt = arg;
	struct a64_vgic *vg = vgic_of(vm);
	if (rt->nr > MAX_IRQ_ROUTES || rt->flags)
		return -EINVAL;
	for (uint32_t i = 0; i < rt->nr; i++)
		if (check_entry(&rt->entries[i], rt->entries, i))
			return -EINVAL;
	if (!vg)
		return 0;   /* kept by KVM for a later irqchip; nothing to route to here */
	struct vgic_route *n = calloc(rt->nr ? rt->nr : 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (uint32_t i = 0; i < rt->nr; i++)
		n[i] = (struct vgic_route){rt->entries[i].gsi, rt->entries[i].type, rt->entries[i].u.irqchip.pin};
	pthread_mutex_lock(&vg->lock);
	free(vg->routes);
	vg->routes = n;
	vg->nr_routes = (int)rt->nr;
	pthread_mutex_unlock(&vg->lock);
	return 0;
}

/* ---- KVM_IRQFD ---- */

static void *irqfd_main(void *arg)
{
	struct a64_vgic *vg = arg;
	struct vgic_irqfds *t = vg->irqfds;
	struct epoll_event ev[16];
	for (;;) {
		int n = epoll_wait(t->epfd, ev, 16, -1);
		pthread_mutex_lock(&t->lock);
		bool stop = t->stop;
		for (int i = 0; i < n && !stop; i++) {
			int fd = ev[i].data.fd;
			uint64_t cnt;
			if (read(fd, &cnt, sizeof(cnt)) != sizeof(cnt) || fd == t->wakefd)
				continue;
			for (struct vgic_irqfd *q = t->list; q; q = q->next) {
				if (q->fd != fd)
					continue;
				pthread_mutex_lock(&vg->lock);
				set_gsi(vg, q->gsi);
				pthread_mutex_unlock(&vg->lock);
				break;
			}
		}
		pthread_mutex_unlock(&t->lock);
		if (stop)
			return NULL;
	}
}

static struct vgic_irqfds *irqfds_get(struct a64_vgic *vg)
{
	if (vg->irqfds)
		return vg->irqfds;
	struct vgic_irqfds *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event e = {.events = EPOLLIN, .data.fd = t->wakefd};
	if (t->epfd < 0 || t->wakefd < 0 || epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wakefd, &e))
		goto fail;
	vg->irqfds = t;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&t->thread, NULL, irqfd_main, vg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!r)
		return t;
	vg->irqfds = NULL;
fail:
	if (t->epfd >= 0)
		sk_sys_close(t->epfd);
	if (t->wakefd >= 0)
		sk_sys_close(t->wakefd);
	free(t);
	return NULL;
}

static void drop(struct vgic_irqfds *t, struct vgic_irqfd **p)
{
	struct vgic_irqfd *q = *p;
	*p = q->next;
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, q->fd, NULL);
	sk_sys_close(q->fd);
	free(q);
}

/* The irqfd holds its own reference to the eventfd (as KVM's does): a
 * write the VMM makes just before closing its fd is not lost. */
static long assign(struct a64_vgic *vg, const struct kvm_irqfd *a)
{
	int r = sk_check_eventfd((int)a->fd);
	if (r)
		return r;
	pthread_mutex_lock(&vg->vm->lock);
	struct vgic_irqfds *t = irqfds_get(vg);
	pthread_mutex_unlock(&vg->vm->lock);
	if (!t)
		return -ENOMEM;
	struct vgic_irqfd *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->user_fd = (int)a->fd;
	n->gsi = a->gsi;
	n->fd = sk_sys_dup_cloexec(n->user_fd);
	if (n->fd < 0) {
		free(n);
		return -EBADF;
	}
	long ret = 0;
	pthread_mutex_lock(&t->lock);
	for (struct vgic_irqfd **p = &t->list; *p;) {
		if (sk_same_file((*p)->fd, n->user_fd)) {
			ret = -EBUSY;   /* one irqfd per eventfd */
			goto out;
		}
		if ((*p)->user_fd == n->user_fd)
			drop(t, p);     /* the VMM closed that one: the number is reused */
		else
			p = &(*p)->next;
	}
	struct epoll_event e = {.events = EPOLLIN, .data.fd = n->fd};
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, n->fd, &e)) {
		ret = -ENOMEM;
		goto out;
	}
	n->next = t->list;
	t->list = n;
	n = NULL;
out:
	pthread_mutex_unlock(&t->lock);
	if (n) {
		sk_sys_close(n->fd);
		free(n);
	}
	return ret;
}

static long deassign(struct a64_vgic *vg, const struct kvm_irqfd *a)
{
	struct vgic_irqfds *t = vg->irqfds;
	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	for (struct vgic_irqfd **p = &t->list; *p; p = &(*p)->next) {
		if ((*p)->user_fd == (int)a->fd && (*p)->gsi == a->gsi) {
			drop(t, p);
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static long irqfd(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	const struct kvm_irqfd *a = arg;
	struct a64_vgic *vg = vgic_of(vm);
	if (a->flags & ~(uint32_t)(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (a->flags & KVM_IRQFD_FLAG_DEASSIGN)
		return vg ? deassign(vg, a) : 0;
	if (!vg || !vg->initialized)
		return -EAGAIN;   /* kvm_arch_intc_initialized */
	if (a->flags & KVM_IRQFD_FLAG_RESAMPLE)
		return -EINVAL;
	return assign(vg, a);
}

void vgic_irqfds_destroy(struct a64_vgic *vg)
{
	struct vgic_irqfds *t = vg->irqfds;
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_mutex_unlock(&t->lock);
	uint64_t one = 1;
	ssize_t w = write(t->wakefd, &one, sizeof(one));
	(void)w;
	pthread_join(t->thread, NULL);
	while (t->list)
		drop(t, &t->list);
	sk_sys_close(t->epfd);
	sk_sys_close(t->wakefd);
	pthread_mutex_destroy(&t->lock);
	free(t);
	vg->irqfds = NULL;
}

static long signal_msi(void *obj, void *arg)
{
	(void)obj;
	(void)arg;
	return -ENODEV;   /* MSIs need an ITS */
}

const struct sk_ioctl a64_vgic_vm_ioctls[] = {
	{KVM_SIGNAL_MSI, signal_msi, NULL, 0},
	{KVM_SET_GSI_ROUTING, set_gsi_routing, routing_size, 0},
	{KVM_IRQFD, irqfd, NULL, 0},
	{0, NULL, NULL, 0},
};
