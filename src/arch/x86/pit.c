/* The i8254 PIT (KVM_CREATE_PIT2): three channels on ports 0x40-0x43, the
 * speaker port 0x61 with KVM_PIT_SPEAKER_DUMMY, channel 0 raising GSI 0
 * from its own timer thread. State is struct kvm_pit_state2.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/x86/irq.h"
#include "arch/x86/pit.h"

#define PIT_HZ 1193182ull
#define MIN_PERIOD_NS 200000ull   /* as the LAPIC timer's floor */

enum { RW_LSB = 1, RW_MSB = 2, RW_WORD0 = 3, RW_WORD1 = 4 };

struct x86_pit {
	struct sk_vm *vm;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool stop;
	uint32_t flags;                  /* KVM_PIT_SPEAKER_DUMMY */
	struct kvm_pit_state2 s;
	uint64_t next_ns, period_ns;     /* channel 0's IRQ0 timer; 0 = idle */
};

static int64_t ticks_since(const struct kvm_pit_channel_state *c, uint64_t now)
{
	return (int64_t)(((now - (uint64_t)c->count_load_time) * PIT_HZ) / 1000000000ull);
}

static uint32_t get_count(const struct kvm_pit_channel_state *c, uint64_t now)
{
	int64_t d = ticks_since(c, now);
	switch (c->mode) {
	case 2:
		return c->count - (uint32_t)(d % c->count);
	case 3:
		return c->count - (uint32_t)((2 * d) % c->count);
	default:
		return (uint32_t)(c->count - d) & 0xffff;
	}
}

static int get_out(const struct kvm_pit_channel_state *c, uint64_t now)
{
	int64_t d = ticks_since(c, now);
	switch (c->mode) {
	default:
	case 0:
		return d >= c->count;
	case 1:
		return d < c->count;
	case 2:
		return (d % c->count) == 0 && d != 0;
	case 3:
		return (d % c->count) < (c->count + 1) / 2;
	case 4:
	case 5:
		return d == c->count;
	}
}

/* Channel 0 drives IRQ0: one-shot in modes 0/1/4/5, periodic in 2/3. */
static void arm_channel0(struct x86_pit *p)
{
	const struct kvm_pit_channel_state *c = &p->s.channels[0];
	uint64_t ns = (uint64_t)c->count * 1000000000ull / PIT_HZ;
	p->next_ns = p->period_ns = 0;
	if (c->mode > 5)
		return;
	if (c->mode == 2 || c->mode == 3) {
		p->period_ns = ns < MIN_PERIOD_NS ? MIN_PERIOD_NS : ns;
		ns = p->period_ns;
	}
	p->next_ns = (uint64_t)c->count_load_time + ns;
	pthread_cond_signal(&p->cond);
}

static void load_count(struct x86_pit *p, int ch, uint32_t val)
{
	struct kvm_pit_channel_state *c = &p->s.channels[ch];
	c->count = val ? val : 0x10000;
	c->count_load_time = (int64_t)x86_host_ns();
	if (ch == 0)
		arm_channel0(p);
}

static void raise_irq0(struct x86_pit *p)
{
	struct x86_irqchip *ic = x86_irqchip(p->vm);
	if (!ic)
		return;
	pthread_mutex_lock(&ic->lock);
	x86_irq_set_gsi(ic, 0, true);
	x86_irq_set_gsi(ic, 0, false);
	pthread_mutex_unlock(&ic->lock);
}

static void *pit_main(void *arg)
{
	struct x86_pit *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		uint64_t now = x86_host_ns();
		if (p->next_ns && now >= p->next_ns) {
			if (p->period_ns) {
				p->next_ns += p->period_ns;
				if (p->next_ns <= now)
					p->next_ns = now + p->period_ns;   /* coalesce missed ticks */
			} else {
				p->next_ns = 0;
			}
			pthread_mutex_unlock(&p->lock);
			raise_irq0(p);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		if (!p->next_ns) {
			pthread_cond_wait(&p->cond, &p->lock);
		} else {
			struct timespec ts = {.tv_sec = (time_t)(p->next_ns / 1000000000ull),
					      .tv_nsec = (long)(p->next_ns % 1000000000ull)};
			pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* ---- ports ---- */

static void write_control(struct x86_pit *p, uint8_t val, uint64_t now)
{
	int ch = val >> 6;
	if (ch == 3) {   /* read-back */
		for (int i = 0; i < 3; i++) {
			struct kvm_pit_channel_state *c = &p->s.channels[i];
			if (!(val & (2 << i)))
				continue;
			if (!(val & 0x20) && !c->count_latched) {
				c->latched_count = (uint16_t)get_count(c, now);
				c->count_latched = c->rw_mode;
			}
			if (!(val & 0x10) && !c->status_latched) {
				c->status = (uint8_t)((get_out(c, now) << 7) | (c->rw_mode << 4) |
						      (c->mode << 1) | c->bcd);
				c->status_latched = 1;
			}
		}
		return;
	}
	struct kvm_pit_channel_state *c = &p->s.channels[ch];
	unsigned access = (val >> 4) & 3;
	if (!access) {
		if (!c->count_latched) {
			c->latched_count = (uint16_t)get_count(c, now);
			c->count_latched = c->rw_mode;
		}
		return;
	}
	c->rw_mode = access;
	c->read_state = c->write_state = access;
	c->mode = (val >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;   /* 6, 7 alias 2, 3 */
	c->bcd = val & 1;
}

static void write_counter(struct x86_pit *p, int ch, uint8_t val)
{
	struct kvm_pit_channel_state *c = &p->s.channels[ch];
	switch (c->write_state) {
	default:
	case RW_LSB:
		load_count(p, ch, val);
		break;
	case RW_MSB:
		load_count(p, ch, (uint32_t)val << 8);
		break;
	case RW_WORD0:
		c->write_latch = val;
		c->write_state = RW_WORD1;
		break;
	case RW_WORD1:
		load_count(p, ch, c->write_latch | ((uint32_t)val << 8));
		c->write_state = RW_WORD0;
		break;
	}
}

static uint8_t read_counter(struct x86_pit *p, int ch, uint64_t now)
{
	struct kvm_pit_channel_state *c = &p->s.channels[ch];
	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->count_latched) {
		uint8_t v;
		switch (c->count_latched) {
		default:
		case RW_LSB:
			v = c->latched_count & 0xff;
			c->count_latched = 0;
			break;
		case RW_MSB:
			v = c->latched_count >> 8;
			c->count_latched = 0;
			break;
		case RW_WORD0:
			v = c->latched_count & 0xff;
			c->count_latched = RW_MSB;
			break;
		}
		return v;
	}
	uint32_t count = get_count(c, now);
	switch (c->read_state) {
	default:
	case RW_LSB:
		return count & 0xff;
	case RW_MSB:
		return (count >> 8) & 0xff;
	case RW_WORD0:
		c->read_state = RW_WORD1;
		return count & 0xff;
	case RW_WORD1:
		c->read_state = RW_WORD0;
		return (count >> 8) & 0xff;
	}
}

/* vCPUs read xv->pit without vm->lock: it is published with release and
 * read with acquire, so a vCPU that sees the PIT sees it initialized. */
static struct x86_pit *pit_of(struct sk_vm *vm)
{
	struct x86_vm *xv = vm->arch_vm;
	return xv ? __atomic_load_n(&xv->pit, __ATOMIC_ACQUIRE) : NULL;
}

static void pit_publish(struct x86_vm *xv, struct x86_pit *p)
{
	__atomic_store_n(&xv->pit, p, __ATOMIC_RELEASE);
}

bool x86_pit_claims_port(struct sk_vm *vm, uint16_t port)
{
	struct x86_pit *p = pit_of(vm);
	if (!p)
		return false;
	return (port >= 0x40 && port <= 0x43) || (port == 0x61 && (p->flags & KVM_PIT_SPEAKER_DUMMY));
}

void x86_pit_pio(struct sk_vm *vm, uint16_t port, bool write, uint32_t *val)
{
	struct x86_pit *p = pit_of(vm);
	uint64_t now = x86_host_ns();
	pthread_mutex_lock(&p->lock);
	struct kvm_pit_channel_state *c2 = &p->s.channels[2];
	if (port == 0x61) {
		if (write) {
			c2->gate = *val & 1;
			p->s.flags = (p->s.flags & ~KVM_PIT_FLAGS_SPEAKER_DATA_ON) |
				     ((*val & 2) ? KVM_PIT_FLAGS_SPEAKER_DATA_ON : 0);
		} else {
			unsigned refresh = (unsigned)(now >> 14) & 1;
			*val = (((p->s.flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON) ? 1u : 0u) << 1) |
			       c2->gate | ((unsigned)get_out(c2, now) << 5) | (refresh << 4);
		}
	} else if (write) {
		if (port == 0x43)
			write_control(p, (uint8_t)*val, now);
		else
			write_counter(p, port - 0x40, (uint8_t)*val);
	} else {
		*val = port == 0x43 ? 0xff : read_counter(p, port - 0x40, now);
	}
	pthread_mutex_unlock(&p->lock);
}

/* ---- lifecycle and ioctls ---- */

static void reset(struct x86_pit *p)
{
	memset(&p->s, 0, sizeof(p->s));
	for (int i = 0; i < 3; i++) {
		p->s.channels[i].mode = 0xff;   /* no mode programmed yet */
		p->s.channels[i].gate = i != 2;
		load_count(p, i, 0);
	}
}

long x86_ioc_create_pit2(void *obj, void *arg)
{
	struct sk_vm *vm = obj;
	struct x86_vm *xv = vm->arch_vm;
	const struct kvm_pit_config *cfg = arg;
	long r = 0;
	pthread_mutex_lock(&vm->lock);
	if (pit_of(vm)) {
		r = -EEXIST;
		goto out;
	}
	struct x86_pit *p = calloc(1, sizeof(*p));
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	p->vm = vm;
	p->flags = cfg->flags;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	reset(p);
	if (sk_thread_create(&p->thread, NULL, pit_main, p)) {
		free(p);
		r = -ENOMEM;
		goto out;
	}
	pit_publish(xv, p);
out:
	pthread_mutex_unlock(&vm->lock);
	return r;
}

void x86_pit_destroy(struct sk_vm *vm)
{
	struct x86_pit *p = pit_of(vm);
	if (!p)
		return;
	pit_publish(vm->arch_vm, NULL);
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

long x86_ioc_get_pit2(void *obj, void *arg)
{
	struct x86_pit *p = pit_of(obj);
	if (!p)
		return -ENXIO;
	pthread_mutex_lock(&p->lock);
	memcpy(arg, &p->s, sizeof(p->s));
	pthread_mutex_unlock(&p->lock);
	return 0;
}

long x86_ioc_set_pit2(void *obj, void *arg)
{
	struct x86_pit *p = pit_of(obj);
	const struct kvm_pit_state2 *s = arg;
	if (!p)
		return -ENXIO;
	pthread_mutex_lock(&p->lock);
	memcpy(&p->s, s, sizeof(p->s));
	/* As KVM: each channel restarts counting its count now. */
	for (int i = 0; i < 3; i++)
		load_count(p, i, s->channels[i].count & 0xffff);
	pthread_mutex_unlock(&p->lock);
	return 0;
}
