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
#define NO_GPA UINT64_MAX             /* gpa_of: no such slot */

static size_t bitmap_bytes(uint64_t npages)
{
	return (npages + LONG_BITS - 1) / LONG_BITS * sizeof(long);
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

/* ---- the map ---- */

/* Index of the first slot whose gpa is >= gpa. */
static int lower_bound(const struct sk_slotmap *mp, uint64_t gpa)
{
	int lo = 0, hi = mp->n;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (mp->slots[mid].gpa < gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of slot id, which is in the map: slots do not overlap and are not
 * empty, so no other slot starts at its gpa. */
static int index_of(const struct sk_slotmap *mp, uint32_t id)
{
	return lower_bound(mp, mp->gpa_of[(uint16_t)id]);
}

static struct sk_memslot *map_get(const struct sk_memslots *m, uint32_t id)
{
	const struct sk_slotmap *mp = &m->map[id >> 16];
	if (!mp->gpa_of || mp->gpa_of[(uint16_t)id] == NO_GPA)
		return NULL;
	return &mp->slots[index_of(mp, id)];
}

/* Does [gpa, gpa+size) meet a slot of the map other than id? Slots do not
 * overlap each other, so only the neighbours of the insertion point can. */
static bool overlaps(const struct sk_slotmap *mp, uint32_t id, uint64_t gpa, uint64_t size)
{
	int i = lower_bound(mp, gpa);
	for (int j = i - 1; j <= i + 1; j++) {
		if (j < 0 || j >= mp->n || mp->slots[j].id == id)
			continue;
		const struct sk_memslot *s = &mp->slots[j];
		if (gpa < s->gpa + s->size && s->gpa < gpa + size)
			return true;
	}
	return false;
}

static int map_insert(struct sk_slotmap *mp, const struct sk_memslot *s)
{
	if (!mp->gpa_of) {
		mp->gpa_of = malloc(SK_USER_MEM_SLOTS * sizeof(*mp->gpa_of));
		if (!mp->gpa_of)
			return -ENOMEM;
		memset(mp->gpa_of, 0xff, SK_USER_MEM_SLOTS * sizeof(*mp->gpa_of));
	}
	if (mp->n == mp->cap) {
		int cap = mp->cap ? 2 * mp->cap : 16;
		struct sk_memslot *n = realloc(mp->slots, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		mp->slots = n;
		mp->cap = cap;
	}
	int i = lower_bound(mp, s->gpa);
	memmove(&mp->slots[i + 1], &mp->slots[i], (mp->n - i) * sizeof(*s));
	mp->slots[i] = *s;
	mp->n++;
	mp->gpa_of[(uint16_t)s->id] = s->gpa;
	return 0;
}

static void map_remove(struct sk_slotmap *mp, uint32_t id)
{
	int i = index_of(mp, id);
	memmove(&mp->slots[i], &mp->slots[i + 1], (mp->n - i - 1) * sizeof(mp->slots[0]));
	mp->n--;
	mp->gpa_of[(uint16_t)id] = NO_GPA;
}

static int retire_bitmap(struct sk_memslots *m, _Atomic unsigned long *b)
{
	if (!b)
		return 0;
	_Atomic unsigned long **r = realloc(m->retired, (m->n_retired + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	m->retired = r;
	m->retired[m->n_retired++] = b;
	return 0;
}

/* ---- snapshots ---- */

void sk_mem_free_set(struct sk_slotset *set)
{
	if (!set)
		return;
	for (int i = 0; i < set->n_retired; i++)
		free((void *)set->retired[i]);
	free(set->retired);
	free(set->slots);
	sk_mem_free_set(set->as1);
	free(set);
}

void sk_mem_free_retired(struct sk_memslots *m)
{
	for (int i = 0; i < m->n_retired; i++)
		free((void *)m->retired[i]);
	free(m->retired);
	m->retired = NULL;
	m->n_retired = 0;
}

/* A copy of one address space's slots (no generation yet). */
static struct sk_slotset *snapshot(const struct sk_slotmap *mp)
{
	struct sk_slotset *set = calloc(1, sizeof(*set));
	struct sk_memslot *slots = malloc((mp->n ? mp->n : 1) * sizeof(*slots));
	if (!set || !slots) {
		free(set);
		free(slots);
		return NULL;
	}
	if (mp->n)
		memcpy(slots, mp->slots, mp->n * sizeof(*slots));
	set->slots = slots;
	set->n = mp->n;
	return set;
}

struct sk_slotset *sk_mem_publish(struct sk_memslots *m)
{
	struct sk_slotset *set = snapshot(&m->map[0]);
	if (set && m->nr_as > 1 && !(set->as1 = snapshot(&m->map[1]))) {
		sk_mem_free_set(set);
		set = NULL;
	}
	if (!set)
		return NULL;   /* keep the stale snapshot and try again at the next chance */
	set->gen = atomic_fetch_add(&m->gen, 1) + 1;
	if (set->as1)
		set->as1->gen = set->gen;
	struct sk_slotset *old = atomic_load(&m->cur);
	old->retired = m->retired;
	old->n_retired = m->n_retired;
	m->retired = NULL;
	m->n_retired = 0;
	atomic_store(&m->stale, false);
	atomic_store_explicit(&m->cur, set, memory_order_release);
	return old;
}

void sk_mem_init(struct sk_memslots *m, int nr_address_spaces)
{
	memset(m, 0, sizeof(*m));
	m->nr_as = nr_address_spaces;
	struct sk_slotset *set = calloc(1, sizeof(*set));
	atomic_init(&m->cur, set);
	atomic_init(&m->gen, 0);
	atomic_init(&m->stale, false);
}

void sk_mem_destroy(struct sk_memslots *m)
{
	for (int as = 0; as < SK_ADDRESS_SPACES; as++) {
		struct sk_slotmap *mp = &m->map[as];
		for (int i = 0; i < mp->n; i++)
			free((void *)mp->slots[i].dirty);
		free(mp->slots);
		free(mp->gpa_of);
	}
	struct sk_slotset *set = atomic_load(&m->cur);
	if (set) {
		set->retired = m->retired;
		set->n_retired = m->n_retired;
	} else {
		for (int i = 0; i < m->n_retired; i++)
			free((void *)m->retired[i]);
		free(m->retired);
	}
	sk_mem_free_set(set);
	memset(m, 0, sizeof(*m));
}

static int check_region(const struct sk_memslots *m, const struct kvm_userspace_memory_region *r,
			uint32_t valid_flags)
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
	if ((r->slot >> 16) >= (uint32_t)m->nr_as)
		return -EINVAL;
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr)
		return -EINVAL;
	if ((r->memory_size >> SK_PAGE_SHIFT) > MAX_NR_PAGES)
		return -EINVAL;
	return 0;
}

static _Atomic unsigned long *new_bitmap(uint64_t size, bool all_set)
{
	uint64_t pages = size >> SK_PAGE_SHIFT;
	size_t n = bitmap_bytes(pages);
	_Atomic unsigned long *b = calloc(1, n ? n : sizeof(long));
	if (b && all_set) {
		memset((void *)b, 0xff, pages / 8);
		for (uint64_t p = pages & ~7ull; p < pages; p++)
			b[p / LONG_BITS] |= 1ul << (p % LONG_BITS);
	}
	return b;
}

int sk_mem_set_region(struct sk_memslots *m, const struct kvm_userspace_memory_region *r,
		      uint32_t valid_flags, bool dirty_initially_set)
{
	int rc = check_region(m, r, valid_flags);
	if (rc)
		return rc;
	struct sk_slotmap *mp = &m->map[r->slot >> 16];
	struct sk_memslot *old = map_get(m, r->slot);
	if (!r->memory_size) {
		if (!old)
			return -EINVAL;
	} else if (old) {
		if (r->userspace_addr != (uint64_t)(uintptr_t)old->hva || r->memory_size != old->size ||
		    ((r->flags ^ old->flags) & KVM_MEM_READONLY))
			return -EINVAL;
		if (r->guest_phys_addr == old->gpa && r->flags == old->flags)
			return 1;
	}
	if (r->memory_size && (!old || r->guest_phys_addr != old->gpa) &&
	    overlaps(mp, r->slot, r->guest_phys_addr, r->memory_size))
		return -EEXIST;

	struct sk_memslot s = {
		.id = r->slot, .flags = r->flags, .gpa = r->guest_phys_addr,
		.size = r->memory_size, .hva = (uint8_t *)(uintptr_t)r->userspace_addr,
		.dirty = old ? old->dirty : NULL,
	};
	bool log = r->flags & KVM_MEM_LOG_DIRTY_PAGES;
	_Atomic unsigned long *fresh = NULL, *dropped = NULL;
	if (r->memory_size && log && !s.dirty) {
		fresh = s.dirty = new_bitmap(s.size, dirty_initially_set);
		if (!fresh)
			return -ENOMEM;
	} else if (!log || !r->memory_size) {
		dropped = s.dirty;
		s.dirty = NULL;
	}
	/* Make room for the retired bitmap first: after this nothing fails
	 * but map_insert, and that only before anything changed. */
	uint64_t old_size = old ? old->size : 0;
	if (dropped && (rc = retire_bitmap(m, dropped)) != 0) {
		free((void *)fresh);
		return rc;
	}
	if (old)
		map_remove(mp, r->slot);
	/* Only a new slot can need memory here: a changed one reuses its place. */
	if (r->memory_size && (rc = map_insert(mp, &s)) != 0) {
		free((void *)fresh);
		return rc;
	}
	if (!old || !r->memory_size) {   /* created or deleted */
		m->npages = m->npages + (r->memory_size >> SK_PAGE_SHIFT) - (old_size >> SK_PAGE_SHIFT);
		m->sized = true;
	}
	atomic_store(&m->stale, true);
	return 0;
}

static const struct sk_memslot *log_slot(struct sk_memslots *m, uint32_t slot, int *err)
{
	*err = 0;
	if ((slot >> 16) >= (uint32_t)m->nr_as || (uint16_t)slot >= SK_USER_MEM_SLOTS) {
		*err = -EINVAL;
		return NULL;
	}
	const struct sk_memslot *s = map_get(m, slot);
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
	for (size_t i = 0; i < n / sizeof(long); i++) {
		/* Most words of a big slot are clean: read before exchanging. */
		buf[i] = atomic_load_explicit(&s->dirty[i], memory_order_relaxed);
		if (buf[i] && !manual)
			buf[i] = atomic_exchange(&s->dirty[i], 0);
	}
	int rc = sk_copy_to_user(user_bitmap, buf, n);
	free(buf);
	return rc;
}

int sk_mem_clear_dirty_log(struct sk_memslots *m, uint32_t slot, uint64_t first_page,
			   uint32_t num_pages, void *user_bitmap)
{
	if ((slot >> 16) >= (uint32_t)m->nr_as || (uint16_t)slot >= SK_USER_MEM_SLOTS)
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
