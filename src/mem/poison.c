/* Guest memory poison bookkeeping (see poison.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem/poison.h"
#include "mem/memslot.h"
#include "softkvm.h"

void sk_poison_init(struct sk_poison *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
}

void sk_poison_destroy(struct sk_poison *p)
{
	free(p->r);
	p->r = NULL;
	pthread_mutex_destroy(&p->lock);
}

static int page_span(uint64_t gpa, uint64_t len, uint64_t *first, uint64_t *end)
{
	if (len == 0 || gpa + len - 1 < gpa)
		return -EINVAL;
	*first = gpa >> SK_PAGE_SHIFT;
	*end = ((gpa + len - 1) >> SK_PAGE_SHIFT) + 1;
	return 0;
}

/* Drop [first, end) from every range, splitting one that straddles it.
 * Needs room for one more range (a split). Caller holds the lock. */
static void cut(struct sk_poison *p, uint64_t first, uint64_t end)
{
	int n = atomic_load(&p->count), out = 0;
	struct sk_poison_range extra = {0, 0, 0};
	for (int i = 0; i < n; i++) {
		struct sk_poison_range r = p->r[i];
		if (r.end <= first || r.first >= end) {
			p->r[out++] = r;
			continue;
		}
		if (r.first < first)
			p->r[out++] = (struct sk_poison_range){r.first, first, r.flags};
		if (r.end > end)
			extra = (struct sk_poison_range){end, r.end, r.flags};
	}
	if (extra.end) {
		/* the tail of a split range goes after everything below it */
		int at = out;
		while (at > 0 && p->r[at - 1].first > extra.first)
			at--;
		memmove(&p->r[at + 1], &p->r[at], (size_t)(out - at) * sizeof(p->r[0]));
		p->r[at] = extra;
		out++;
	}
	atomic_store(&p->count, out);
}

static int reserve(struct sk_poison *p, int need)
{
	if (need <= p->cap)
		return 0;
	int cap = p->cap ? p->cap * 2 : 8;
	while (cap < need)
		cap *= 2;
	struct sk_poison_range *r = realloc(p->r, (size_t)cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	p->r = r;
	p->cap = cap;
	return 0;
}

int sk_poison_add(struct sk_poison *p, uint64_t gpa, uint64_t len, unsigned flags)
{
	uint64_t first, end;
	int r = page_span(gpa, len, &first, &end);
	if (r)
		return r;
	pthread_mutex_lock(&p->lock);
	r = reserve(p, atomic_load(&p->count) + 2);
	if (!r) {
		cut(p, first, end);
		int n = atomic_load(&p->count), at = n;
		while (at > 0 && p->r[at - 1].first > first)
			at--;
		memmove(&p->r[at + 1], &p->r[at], (size_t)(n - at) * sizeof(p->r[0]));
		p->r[at] = (struct sk_poison_range){first, end, flags};
		atomic_store_explicit(&p->count, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

int sk_poison_remove(struct sk_poison *p, uint64_t gpa, uint64_t len)
{
	uint64_t first, end;
	int r = page_span(gpa, len, &first, &end);
	if (r)
		return r;
	pthread_mutex_lock(&p->lock);
	r = reserve(p, atomic_load(&p->count) + 1);
	if (!r)
		cut(p, first, end);
	pthread_mutex_unlock(&p->lock);
	return r;
}

bool sk_poison_lookup(struct sk_poison *p, uint64_t gpa, unsigned *flags)
{
	uint64_t pg = gpa >> SK_PAGE_SHIFT;
	bool hit = false;
	pthread_mutex_lock(&p->lock);
	int lo = 0, hi = atomic_load(&p->count);
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (p->r[mid].end <= pg) {
			lo = mid + 1;
		} else if (p->r[mid].first > pg) {
			hi = mid;
		} else {
			hit = true;
			if (flags)
				*flags = p->r[mid].flags;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return hit;
}

/* ---- the registry of VMs that take poison ---- */

struct entry {
	struct sk_vm *vm;
	struct sk_poison *p;
	sk_poison_flush_fn flush;
	int index;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *reg;
static int reg_n, reg_cap, next_index;

int sk_poison_register(struct sk_vm *vm, struct sk_poison *p, sk_poison_flush_fn flush)
{
	pthread_mutex_lock(&reg_lock);
	int r = -ENOMEM;
	if (reg_n == reg_cap) {
		int cap = reg_cap ? reg_cap * 2 : 8;
		struct entry *e = realloc(reg, (size_t)cap * sizeof(*e));
		if (!e)
			goto out;
		reg = e;
		reg_cap = cap;
	}
	r = next_index++;
	reg[reg_n++] = (struct entry){vm, p, flush, r};
out:
	pthread_mutex_unlock(&reg_lock);
	return r;
}

void sk_poison_unregister(struct sk_vm *vm)
{
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < reg_n; i++)
		if (reg[i].vm == vm) {
			memmove(&reg[i], &reg[i + 1], (size_t)(reg_n - i - 1) * sizeof(*reg));
			reg_n--;
			break;
		}
	pthread_mutex_unlock(&reg_lock);
}

static int apply(const struct entry *e, uint64_t gpa, uint64_t len, unsigned flags, bool clear)
{
	int r = clear ? sk_poison_remove(e->p, gpa, len) : sk_poison_add(e->p, gpa, len, flags);
	if (!r && !clear && e->flush)
		e->flush(e->vm);
	return r;
}

static int check_args(uint64_t gpa, uint64_t len, unsigned flags)
{
	if (flags & ~(unsigned)SOFTKVM_POISON_PARITY)
		return -EINVAL;
	uint64_t first, end;
	return page_span(gpa, len, &first, &end);
}

int sk_poison_vm(struct sk_vm *vm, uint64_t gpa, uint64_t len, unsigned flags, bool clear)
{
	int r = check_args(gpa, len, flags);
	if (r)
		return r;
	r = -ENOTSUP;
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < reg_n; i++)
		if (reg[i].vm == vm) {
			r = apply(&reg[i], gpa, len, flags, clear);
			break;
		}
	pthread_mutex_unlock(&reg_lock);
	return r;
}

int sk_poison_index(int index, uint64_t gpa, uint64_t len, unsigned flags, bool clear)
{
	int r = check_args(gpa, len, flags);
	if (r)
		return r;
	r = -ENOENT;
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < reg_n; i++)
		if (index < 0 || reg[i].index == index) {
			int e = apply(&reg[i], gpa, len, flags, clear);
			if (r == -ENOENT || e)
				r = e;
		}
	pthread_mutex_unlock(&reg_lock);
	return r;
}
