/* Guest memory poison: which guest-physical pages are "bad", per VM.
 *
 * The bookkeeping is arch-neutral; an arch that consumes it checks a page
 * only on its slow path (the software TLB never caches a poisoned page, so
 * the fast path stays as it is) and registers a flush callback so that a
 * page poisoned while vCPUs run leaves their TLBs.
 *
 * Pages, not bytes: poison is what a memory error marks, a whole page. A
 * set is a sorted array of disjoint [first, end) page ranges under a mutex;
 * `count` lets the slow path skip the lock when nothing is poisoned.
 */
#ifndef SK_MEM_POISON_H
#define SK_MEM_POISON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct sk_vm;

struct sk_poison_range {
	uint64_t first, end;    /* guest page numbers */
	unsigned flags;         /* SOFTKVM_POISON_* */
};

struct sk_poison {
	pthread_mutex_t lock;
	atomic_int count;       /* ranges; 0: nothing poisoned */
	int cap;
	struct sk_poison_range *r;
};

void sk_poison_init(struct sk_poison *p);
void sk_poison_destroy(struct sk_poison *p);
/* [gpa, gpa + len) rounded out to pages. 0 or -errno. */
int sk_poison_add(struct sk_poison *p, uint64_t gpa, uint64_t len, unsigned flags);
int sk_poison_remove(struct sk_poison *p, uint64_t gpa, uint64_t len);
/* Is the page of gpa poisoned? *flags gets its SOFTKVM_POISON_* flags. */
bool sk_poison_lookup(struct sk_poison *p, uint64_t gpa, unsigned *flags);

static inline bool sk_poison_test(struct sk_poison *p, uint64_t gpa, unsigned *flags)
{
	if (!p || atomic_load_explicit(&p->count, memory_order_acquire) == 0)
		return false;
	return sk_poison_lookup(p, gpa, flags);
}

/* The VMs that take poison, by creation order (the control socket's
 * "vm index"). An arch registers a VM with its set and a callback that
 * makes running vCPUs drop cached translations. */
typedef void (*sk_poison_flush_fn)(struct sk_vm *vm);
int sk_poison_register(struct sk_vm *vm, struct sk_poison *p, sk_poison_flush_fn flush);
void sk_poison_unregister(struct sk_vm *vm);
/* Poison (or unpoison) on one registered VM: by pointer, or by index
 * (-1: every VM). 0 or -errno (-ENOTSUP: the VM takes no poison, -ENOENT:
 * no such index). */
int sk_poison_vm(struct sk_vm *vm, uint64_t gpa, uint64_t len, unsigned flags, bool clear);
int sk_poison_index(int index, uint64_t gpa, uint64_t len, unsigned flags, bool clear);

#endif
