/* The memslot map: KVM_SET_USER_MEMORY_REGION's rules and dirty logging.
 *
 * Validation follows virt/kvm/kvm_main.c (6.1) check for check, in the same
 * order, so the same mistake gets the same errno.
 */
#include "mem/memslot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/uaccess.h"

#define TASK_SIZE_MAX 0x7ffffffff000ull /* x86-64 with 4-level paging */
#define MAX_NR_PAGES ((1ull << 31) - 1)  /* KVM_MEM_MAX_NR_PAGES */
#define LONG_BITS (8 * sizeof(long))

static size_t bitmap_bytes(uint64_t npages)
{
	return (npages + LONG_BITS - 1) / LONG_BITS * sizeof(long);
}

static int cmp_gpa(const void *a, const void *b)
{
	const struct sk_memslot *x = a, *y = b;
	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

const struct sk_memslot *sk_mem_find(const struct sk_slotset *set, uint64_t gpa)
{
	int lo = 0, hi = set->n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct sk_memslot *s = &set->slots[mid];
		if (gpa < s->gpa)
			hi = mid - 1;
		else if (gpa - s->gpa >= s->size)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}

static struct sk_memslot *find_id(const struct sk_slotset *set, uint32_t id)
{
	for (int i = 0; i < set->n_all; i++)
		if (set->all[i].id == id)
			return &set->all[i];
	return NULL;
}

static bool overlaps(const struct sk_slotset *set, uint32_t id, uint64_t gpa, uint64_t size)
{
	for (int i = 0; i < set->n_all; i++) {
		const struct sk_memslot *s = &set->all[i];
		if (s->id == id || (s->id >> 16) != (id >> 16))
			continue;
		if (gpa < s->gpa + s->size && s->gpa < gpa + size)
			return true;
	}
	return false;
}

static struct sk_slotset *set_alloc(int n_all)
{
	struct sk_slotset *set = calloc(1, sizeof(*set));
	if (!set)
		return NULL;
	set->all = calloc(n_all ? n_all : 1, sizeof(*set->all));
	set->slots = calloc(n_all ? n_all : 1, sizeof(*set->slots));
	if (!set->all || !set->slots) {
		sk_mem_free_set(set);
		return NULL;
	}
	return set;
}

/* Rebuild the sorted address-space-0 view of set->all. */
static void set_index(struct sk_slotset *set)
{
	set->n = 0;
	for (int i = 0; i < set->n_all; i++)
		if ((set->all[i].id >> 16) == 0)
			set->slots[set->n++] = set->all[i];
	qsort(set->slots, set->n, sizeof(*set->slots), cmp_gpa);
}

void sk_mem_free_set(struct sk_slotset *set)
{
	if (!set)
		return;
	free((void *)set->retired_dirty);
	free(set->all);
	free(set->slots);
	free(set);
}

void sk_mem_init(struct sk_memslots *m)
{
	struct sk_slotset *set = set_alloc(0);
	atomic_init(&m->cur, set);
	atomic_init(&m->gen, 0);
}

void sk_mem_destroy(struct sk_memslots *m)
{
	struct sk_slotset *set = atomic_load(&m->cur);
	if (!set)
		return;
	for (int i = 0; i < set->n_all; i++)
		free((void *)set->all[i].dirty);
	sk_mem_free_set(set);
	atomic_store(&m->cur, NULL);
}

static int check_region(const struct kvm_userspace_memory_region *r, uint32_t valid_flags)
{
	if ((uint16_t)r->slot >= SK_USER_MEM_SLOTS)
		return -EINVAL;
	if (r->flags & ~valid_flags)
		return -EINVAL;
	if ((r->memory_size & (SK_PAGE_SIZE - 1)) || (r->guest_phys_addr & (SK_PAGE_SIZE - 1)))
		return -EINVAL;
	if ((r->userspace_addr & (SK_PAGE_SIZE - 1)) || r->userspace_addr > TASK_SIZE_MAX ||
	    r->memory_size > TASK_SIZE_MAX - r->userspace_addr)
		return -EINVAL;
	if ((r->slot >> 16) >= SK_ADDRESS_SPACES)
		return -EINVAL;
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr)
		return -EINVAL;
	if ((r->memory_size >> SK_PAGE_SHIFT) > MAX_NR_PAGES)
		return -EINVAL;
	return 0;
}

static _Atomic unsigned long *new_bitmap(uint64_t size, bool all_set)
{
	size_t n = bitmap_bytes(size >> SK_PAGE_SHIFT);
	_Atomic unsigned long *b = calloc(1, n ? n : sizeof(long));
	if (b && all_set) {
		uint64_t pages = size >> SK_PAGE_SHIFT;
		for (uint64_t p = 0; p < pages; p++)
			b[p / LONG_BITS] |= 1ul << (p % LONG_BITS);
	}
	return b;
}

int sk_mem_set_region(struct sk_memslots *m, const struct kvm_userspace_memory_region *r,
		      uint32_t valid_flags, bool dirty_initially_set, struct sk_slotset **old_set)
{
	*old_set = NULL;
	int rc = check_region(r, valid_flags);
	if (rc)
		return rc;
	struct sk_slotset *cur = atomic_load(&m->cur);
	struct sk_memslot *old = find_id(cur, r->slot);
	bool create = false;
	if (!r->memory_size) {
		if (!old)
			return -EINVAL;
	} else if (!old) {
		create = true;
	} else {
		if (r->userspace_addr != (uint64_t)(uintptr_t)old->hva || r->memory_size != old->size ||
		    ((r->flags ^ old->flags) & KVM_MEM_READONLY))
			return -EINVAL;
		if (r->guest_phys_addr == old->gpa && r->flags == old->flags)
			return 0;
	}
	if (r->memory_size && (create || r->guest_phys_addr != old->gpa) &&
	    overlaps(cur, r->slot, r->guest_phys_addr, r->memory_size))
		return -EEXIST;

	struct sk_slotset *set = set_alloc(cur->n_all + 1);
	if (!set)
		return -ENOMEM;
	_Atomic unsigned long *dropped = NULL;
	for (int i = 0; i < cur->n_all; i++)
		if (&cur->all[i] != old)
			set->all[set->n_all++] = cur->all[i];
	if (r->memory_size) {
		struct sk_memslot s = {
			.id = r->slot, .flags = r->flags, .gpa = r->guest_phys_addr,
			.size = r->memory_size, .hva = (uint8_t *)(uintptr_t)r->userspace_addr,
			.dirty = old ? old->dirty : NULL,
		};
		bool log = r->flags & KVM_MEM_LOG_DIRTY_PAGES;
		if (log && !s.dirty) {
			s.dirty = new_bitmap(s.size, dirty_initially_set);
			if (!s.dirty) {
				sk_mem_free_set(set);
				return -ENOMEM;
			}
		} else if (!log && s.dirty) {
			dropped = s.dirty;
			s.dirty = NULL;
		}
		set->all[set->n_all++] = s;
	} else {
		dropped = old->dirty;
	}
	set_index(set);
	set->gen = atomic_fetch_add(&m->gen, 1) + 1;
	cur->retired_dirty = dropped;
	atomic_store_explicit(&m->cur, set, memory_order_release);
	*old_set = cur;
	return 0;
}

static const struct sk_memslot *log_slot(struct sk_memslots *m, uint32_t slot, int *err)
{
	*err = 0;
	if ((slot >> 16) >= SK_ADDRESS_SPACES || (uint16_t)slot >= SK_USER_MEM_SLOTS) {
		*err = -EINVAL;
		return NULL;
	}
	const struct sk_memslot *s = find_id(atomic_load(&m->cur), slot);
	if (!s || !s->dirty)
		*err = -ENOENT;
	return *err ? NULL : s;
}

int sk_mem_get_dirty_log(struct sk_memslots *m, uint32_t slot, void *user_bitmap, bool manual)
{
	int err;
	const struct sk_memslot *s = log_slot(m, slot, &err);
	if (!s)
		return err;
	size_t n = bitmap_bytes(s->size >> SK_PAGE_SHIFT);
	unsigned long *buf = malloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n / sizeof(long); i++)
		buf[i] = manual ? atomic_load(&s->dirty[i]) : atomic_exchange(&s->dirty[i], 0);
	int rc = sk_copy_to_user(user_bitmap, buf, n);
	free(buf);
	return rc;
}

int sk_mem_clear_dirty_log(struct sk_memslots *m, uint32_t slot, uint64_t first_page,
			   uint32_t num_pages, void *user_bitmap)
{
	if ((slot >> 16) >= SK_ADDRESS_SPACES || (uint16_t)slot >= SK_USER_MEM_SLOTS)
		return -EINVAL;
	if (first_page & (LONG_BITS - 1))
		return -EINVAL;
	int err;
	const struct sk_memslot *s = log_slot(m, slot, &err);
	if (!s)
		return err;
	uint64_t npages = s->size >> SK_PAGE_SHIFT;
	if (first_page > npages || num_pages > npages - first_page ||
	    (num_pages < npages - first_page && (num_pages & (LONG_BITS - 1))))
		return -EINVAL;
	size_t n = bitmap_bytes(num_pages);
	unsigned long *buf = malloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	int rc = sk_copy_from_user(buf, user_bitmap, n);
	if (!rc) {
		size_t base = first_page / LONG_BITS;
		for (size_t i = 0; i < n / sizeof(long); i++) {
			unsigned long mask = buf[i];
			if (i == n / sizeof(long) - 1 && num_pages % LONG_BITS)
				mask &= (1ul << (num_pages % LONG_BITS)) - 1;
			if (mask)
				atomic_fetch_and(&s->dirty[base + i], ~mask);
		}
	}
	free(buf);
	return rc;
}
