/* The irqchip of a VM: KVM_CREATE_IRQCHIP, GSI routing (KVM's default and
 * KVM_SET_GSI_ROUTING), KVM_IRQ_LINE(_STATUS), KVM_GET/SET_IRQCHIP,
 * KVM_SIGNAL_MSI, KVM_GET/SET_LAPIC, KVM_SET_BOOT_CPU_ID, and the thread
 * that kicks a running vCPU when its APIC timer expires.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/x86/irq.h"
#include "arch/x86/irqfd.h"
#include "arch/x86/pit.h"

#define KVM_MAX_IRQ_ROUTES 4096   /* include/linux/kvm_host.h */

/* ---- the timer thread ---- */

static void *timer_main(void *arg)
{
	struct x86_irqchip *ic = arg;
	pthread_mutex_lock(&ic->timer_lock);
	while (!ic->timer_stop) {
		uint64_t now = x86_host_ns(), next = UINT64_MAX;
		int n = atomic_load(&ic->nr_apics);
		for (int i = 0; i < n; i++) {
			struct x86_lapic *a = ic->apics[i];
			uint64_t d = x86_lapic_next_deadline(a);
			if (!d || d == a->kicked_ns)
				continue;
			if (d <= now) {
				a->kicked_ns = d;
				x86_irq_kick(a);
			} else if (d < next) {
				next = d;
			}
		}
		if (next == UINT64_MAX) {
			pthread_cond_wait(&ic->timer_cond, &ic->timer_lock);
		} else {
			struct timespec ts = {.tv_sec = (time_t)(next / 1000000000ull),
					      .tv_nsec = (long)(next % 1000000000ull)};
			pthread_cond_timedwait(&ic->timer_cond, &ic->timer_lock, &ts);
		}
	}
	pthread_mutex_unlock(&ic->timer_lock);
	return NULL;
}

void x86_irqchip_timer_changed(struct x86_irqchip *ic)
{
	pthread_mutex_lock(&ic->timer_lock);
	pthread_cond_signal(&ic->timer_cond);
	pthread_mutex_unlock(&ic->timer_lock);
}

void x86_irqchip_quiesce(struct x86_irqchip *ic)
{
	pthread_mutex_lock(&ic->timer_lock);
	bool running = !ic->timer_stop;
	ic->timer_stop = true;
	pthread_cond_signal(&ic->timer_cond);
	pthread_mutex_unlock(&ic->timer_lock);
	if (running)
		pthread_join(ic->timer_thread, NULL);
}

/* ---- creation ---- */

static void default_routes(struct x86_irqchip *ic)
{
	memset(ic->routes, 0, IRQ_MAX_GSI * sizeof(*ic->routes));
	for (uint32_t gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		struct gsi_route *r = &ic->routes[gsi];
		if (gsi < 16) {
			r->e[r->n].type = KVM_IRQ_ROUTING_IRQCHIP;
			r->e[r->n].chip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
			r->e[r->n++].pin = gsi & 7;
		}
		r->e[r->n].type = KVM_IRQ_ROUTING_IRQCHIP;
		r->e[r->n].chip = KVM_IRQCHIP_IOAPIC;
		r->e[r->n++].pin = gsi;
	}
	ic->nr_routes = IOAPIC_PINS;
}

long x86_ioc_create_irqchip(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	struct x86_vm *xv = vm->arch_vm;
	long r = 0;
	pthread_mutex_lock(&vm->lock);
	if (xv->irqchip) {
		r = -EEXIST;
		goto out;
	}
	if (vm->nr_vcpus) {
		r = -EINVAL;
		goto out;
	}
	struct x86_irqchip *ic = calloc(1, sizeof(*ic));
	if (!ic || !(ic->routes = calloc(IRQ_MAX_GSI, sizeof(*ic->routes)))) {
		free(ic);
		r = -ENOMEM;
		goto out;
	}
	ic->vm = vm;
	pthread_mutex_init(&ic->lock, NULL);
	pthread_mutex_init(&ic->timer_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ic->timer_cond, &ca);
	pthread_condattr_destroy(&ca);
	x86_ioapic_reset(&ic->ioapic);
	x86_pic_reset(ic);
	default_routes(ic);
	/* The timer thread must not take the VMM's signals. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&ic->timer_thread, NULL, timer_main, ic);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		free(ic->routes);
		free(ic);
		r = -ENOMEM;
		goto out;
	}
	xv->irqchip = ic;
out:
	pthread_mutex_unlock(&vm->lock);
	(void)arg;
	return r;
}

void x86_irqchip_destroy(struct sk_vm *vm)
{
	struct x86_vm *xv = vm->arch_vm;
	struct x86_irqchip *ic = xv ? xv->irqchip : NULL;
	if (!ic)
		return;
	x86_irqchip_quiesce(ic);
	pthread_mutex_destroy(&ic->lock);
	pthread_mutex_destroy(&ic->timer_lock);
	pthread_cond_destroy(&ic->timer_cond);
	free(ic->routes);
	free(ic);
	xv->irqchip = NULL;
}

int x86_irqchip_vcpu_init(struct x86_cpu *cpu)
{
	struct x86_vm *xv = cpu->vm->arch_vm;
	struct x86_irqchip *ic = xv->irqchip;
	if (!ic)
		return 0;
	bool bsp = cpu->vcpu->id == xv->bsp_vcpu_id;
	struct x86_lapic *a = x86_lapic_new(cpu, bsp);
	if (!a)
		return -ENOMEM;
	x86_sys(cpu)->lapic = a;
	cpu->mp_state = bsp ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_UNINITIALIZED;
	/* Creation is serialized by vm->lock; readers load nr_apics. */
	int n = atomic_load(&ic->nr_apics);
	ic->apics[n] = a;
	atomic_store_explicit(&ic->nr_apics, n + 1, memory_order_release);
	return 0;
}

void x86_irqchip_vcpu_destroy(struct x86_cpu *cpu)
{
	struct x86_lapic *a = x86_lapic(cpu);
	if (!a)
		return;
	/* The VM is going away: no more kicks or IRQ0s toward the LAPICs. */
	x86_irqfd_destroy(cpu->vm);
	x86_pit_destroy(cpu->vm);
	x86_irqchip_quiesce(a->ic);
	x86_lapic_free(a);
	x86_sys(cpu)->lapic = NULL;
}

/* ---- lines and routing ---- */

/* KVM's kvm_set_irq: the sum of the routes' non-negative answers, -1 when
 * every route ignored it. */
static int merge(int acc, int r)
{
	return r < 0 ? acc : r + (acc < 0 ? 0 : acc);
}

int x86_irq_set_gsi(struct x86_irqchip *ic, uint32_t gsi, bool level)
{
	if (gsi >= IRQ_MAX_GSI)
		return -1;
	const struct gsi_route *r = &ic->routes[gsi];
	int ret = -1;
	for (unsigned i = 0; i < r->n; i++) {
		if (r->e[i].type == KVM_IRQ_ROUTING_MSI) {
			if (!level)
				continue;
			struct irq_msg m = {
				.dest = (r->e[i].addr_lo >> 12) & 0xff,
				.logical = r->e[i].addr_lo & 4,
				.vector = r->e[i].data & 0xff,
				.mode = (r->e[i].data >> 8) & 7,
				.level = true,
				.trig_level = r->e[i].data & (1u << 15),
			};
			ret = merge(ret, x86_irq_deliver(ic, NULL, &m));
		} else if (r->e[i].chip == KVM_IRQCHIP_IOAPIC) {
			ret = merge(ret, x86_ioapic_set_irq(ic, r->e[i].pin, level));
		} else {
			unsigned irq = r->e[i].pin + (r->e[i].chip == KVM_IRQCHIP_PIC_SLAVE ? 8 : 0);
			ret = merge(ret, x86_pic_set_irq(ic, irq, level));
		}
	}
	return ret;
}

static long irq_line(struct sk_vm *vm, struct kvm_irq_level *l, bool status)
{
	struct x86_irqchip *ic = x86_irqchip(vm);
	if (!ic)
		return -ENXIO;
	pthread_mutex_lock(&ic->lock);
	int r = x86_irq_set_gsi(ic, l->irq, l->level != 0);
	pthread_mutex_unlock(&ic->lock);
	if (status)
		l->status = r;
	return 0;
}

long x86_ioc_irq_line(void *obj, void *arg)
{
	return irq_line(obj, arg, false);
}

long x86_ioc_irq_line_status(void *obj, void *arg)
{
	return irq_line(obj, arg, true);
}

long x86_ioc_signal_msi(void *obj, void *arg)
{
	struct x86_irqchip *ic = x86_irqchip(obj);
	const struct kvm_msi *msi = arg;
	if (!ic || (msi->flags & ~KVM_MSI_VALID_DEVID))
		return -EINVAL;
	struct irq_msg m = {
		.dest = (msi->address_lo >> 12) & 0xff,
		.logical = msi->address_lo & 4,
		.vector = msi->data & 0xff,
		.mode = (msi->data >> 8) & 7,
		.level = true,
		.trig_level = msi->data & (1u << 15),
	};
	int r = x86_irq_deliver(ic, NULL, &m);
	return r < 0 ? 0 : r;
}

size_t x86_irq_routing_len(const void *hdr)
{
	const struct kvm_irq_routing *r = hdr;
	if (r->nr > KVM_MAX_IRQ_ROUTES)
		return SIZE_MAX;
	return sizeof(*r) + (size_t)r->nr * sizeof(struct kvm_irq_routing_entry);
}

long x86_ioc_set_gsi_routing(void *obj, void *arg)
{
	struct x86_irqchip *ic = x86_irqchip(obj);
	const struct kvm_irq_routing *rt = arg;
	if (!ic)
		return -EINVAL;
	if (rt->flags)
		return -EINVAL;
	struct gsi_route *routes = calloc(IRQ_MAX_GSI, sizeof(*routes));
	if (!routes)
		return -ENOMEM;
	for (uint32_t i = 0; i < rt->nr; i++) {
		const struct kvm_irq_routing_entry *e = &rt->entries[i];
		uint32_t flags_ok = e->type == KVM_IRQ_ROUTING_MSI ? KVM_MSI_VALID_DEVID : 0;
		if (e->gsi >= IRQ_MAX_GSI || (e->flags & ~flags_ok)) {
			free(routes);
			return -EINVAL;
		}
		struct gsi_route *r = &routes[e->gsi];
		/* At most one route per irqchip; an MSI route stands alone. */
		if (r->n == 2 || (r->n && (e->type == KVM_IRQ_ROUTING_MSI ||
					   r->e[0].type == KVM_IRQ_ROUTING_MSI))) {
			free(routes);
			return -EINVAL;
		}
		if (e->type == KVM_IRQ_ROUTING_IRQCHIP) {
			uint32_t chip = e->u.irqchip.irqchip, pin = e->u.irqchip.pin;
			if (chip > KVM_IRQCHIP_IOAPIC || pin >= (chip == KVM_IRQCHIP_IOAPIC ? IOAPIC_PINS : 8) ||
			    (r->n && r->e[0].type == KVM_IRQ_ROUTING_IRQCHIP && r->e[0].chip == chip)) {
				free(routes);
				return -EINVAL;
			}
			r->e[r->n].chip = chip;
			r->e[r->n].pin = pin;
		} else if (e->type == KVM_IRQ_ROUTING_MSI) {
			r->e[r->n].addr_lo = e->u.msi.address_lo;
			r->e[r->n].addr_hi = e->u.msi.address_hi;
			r->e[r->n].data = e->u.msi.data;
		} else {
			free(routes);
			return -EINVAL;
		}
		r->e[r->n++].type = e->type;
	}
	pthread_mutex_lock(&ic->lock);
	struct gsi_route *old = ic->routes;
	ic->routes = routes;
	ic->nr_routes = rt->nr;
	pthread_mutex_unlock(&ic->lock);
	free(old);
	return 0;
}

/* ---- chip state ---- */

long x86_ioc_get_irqchip(void *obj, void *arg)
{
	struct x86_irqchip *ic = x86_irqchip(obj);
	struct kvm_irqchip *c = arg;
	if (!ic)
		return -ENXIO;
	if (c->chip_id > KVM_IRQCHIP_IOAPIC)
		return -EINVAL;
	pthread_mutex_lock(&ic->lock);
	memset(&c->chip, 0, sizeof(c->chip));
	if (c->chip_id == KVM_IRQCHIP_IOAPIC) {
		struct kvm_ioapic_state *s = &c->chip.ioapic;
		s->base_address = ic->ioapic.base;
		s->ioregsel = ic->ioapic.ioregsel;
		s->id = ic->ioapic.id;
		s->irr = ic->ioapic.irr & ~ic->ioapic.irr_delivered;
		for (int i = 0; i < IOAPIC_PINS; i++)
			s->redirtbl[i].bits = ic->ioapic.redir[i];
	} else {
		c->chip.pic = ic->pic[c->chip_id];
	}
	pthread_mutex_unlock(&ic->lock);
	return 0;
}

/* KVM_SET_IRQCHIP: an _IOR number for an input (SK_IOC_IN in the table). */
long x86_ioc_set_irqchip(void *obj, void *arg)
{
	struct x86_irqchip *ic = x86_irqchip(obj);
	const struct kvm_irqchip c = *(const struct kvm_irqchip *)arg;
	if (!ic)
		return -ENXIO;
	if (c.chip_id > KVM_IRQCHIP_IOAPIC)
		return -EINVAL;
	pthread_mutex_lock(&ic->lock);
	if (c.chip_id == KVM_IRQCHIP_IOAPIC) {
		const struct kvm_ioapic_state *s = &c.chip.ioapic;
		ic->ioapic.id = s->id;
		ic->ioapic.ioregsel = s->ioregsel;
		ic->ioapic.irr = s->irr;
		ic->ioapic.irr_delivered = 0;
		for (int i = 0; i < IOAPIC_PINS; i++)
			ic->ioapic.redir[i] = s->redirtbl[i].bits;
	} else {
		ic->pic[c.chip_id] = c.chip.pic;
		x86_pic_update(ic);
	}
	pthread_mutex_unlock(&ic->lock);
	return 0;
}

long x86_ioc_set_boot_cpu_id(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	unsigned long id = (unsigned long)arg;
	struct x86_vm *xv = vm->arch_vm;
	long r = 0;
	pthread_mutex_lock(&vm->lock);
	if (vm->nr_vcpus)
		r = -EBUSY;
	else if (id >= SK_MAX_VCPU_ID)
		r = -EINVAL;
	else
		xv->bsp_vcpu_id = (uint32_t)id;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

/* ---- vCPU side ---- */

long x86_ioc_get_lapic(void *obj, void *arg)
{
	struct x86_cpu *cpu = ((struct sk_vcpu *)obj)->arch_vcpu;
	if (!x86_lapic(cpu))
		return -EINVAL;
	return x86_lapic_get_state(cpu, arg);
}

long x86_ioc_set_lapic(void *obj, void *arg)
{
	struct x86_cpu *cpu = ((struct sk_vcpu *)obj)->arch_vcpu;
	if (!x86_lapic(cpu))
		return -EINVAL;
	return x86_lapic_set_state(cpu, arg);
}
