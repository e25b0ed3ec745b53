/* Guest-physical memory: the memslot map shared by every arch.
 *
 * Two forms of the map. The authoritative one is changed in place under
 * the VM lock: a sorted array per address space plus an id index, so that
 * adding a slot at the end (as VMMs and the selftests do, thousands of
 * times) costs O(log n); a slot elsewhere costs a memmove of the array. vCPUs read an immutable snapshot of it, struct
 * sk_slotset, without locks. A change publishes a new snapshot at once when
 * a vCPU is running (then waits, in the kvm core, until every running vCPU
 * has moved to it before freeing the old one); otherwise it only marks the
 * snapshot stale, and the next KVM_RUN publishes it (sk_mem_refresh).
 *
 * Dirty logging marks a bit per page, atomically, on every guest write to a
 * slot with KVM_MEM_LOG_DIRTY_PAGES (write fast paths must call
 * sk_mem_mark_dirty for such slots, never cache the write).
 */
#ifndef SK_MEM_MEMSLOT_H
#define SK_MEM_MEMSLOT_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SK_PAGE_SHIFT 12
#define SK_PAGE_SIZE (1ull << SK_PAGE_SHIFT)
#define SK_ADDRESS_SPACES 2   /* the most any arch has (x86: normal and SMM) */
#define SK_USER_MEM_SLOTS 32764 /* KVM_USER_MEM_SLOTS on x86 in 6.1 */

struct sk_memslot {
	uint32_t id;             /* as_id << 16 | slot, as userspace names it */
	uint32_t flags;          /* KVM_MEM_* */
	uint64_t gpa;            /* guest-physical base */
	uint64_t size;           /* bytes, a multiple of the page size */
	uint8_t *hva;            /* host address of gpa */
	_Atomic unsigned long *dirty; /* one bit per page when logging, else NULL */
};

/* A snapshot: the slots of address space 0, sorted by gpa. */
struct sk_slotset {
	uint64_t gen;
	int n;
	struct sk_memslot *slots;
	/* Dirty bitmaps dropped while this set was current: freed with it,
	 * once no vCPU can still be marking them. */
	int n_retired;
	_Atomic unsigned long **retired;
	/* Address space 1 (x86: SMM) in the same form, published and freed
	 * with this set; NULL where the arch has one address space. */
	struct sk_slotset *as1;
};

struct sk_slotmap {
	struct sk_memslot *slots; /* sorted by gpa */
	int n, cap;
	/* slot id -> its gpa (all ones: no such slot). A gpa, not an index:
	 * inserting or removing a slot then moves the array, and renumbers
	 * nothing (a binary search finds the index). */
	uint64_t *gpa_of;
};

struct sk_memslots {
	_Atomic(struct sk_slotset *) cur;
	atomic_uint_fast64_t gen;
	atomic_bool stale;        /* cur lags the map */
	int nr_as;                /* the arch's KVM_ADDRESS_SPACE_NUM */
	struct sk_slotmap map[SK_ADDRESS_SPACES];
	int n_retired;            /* bitmaps dropped since cur was published */
	_Atomic unsigned long **retired;
	/* Pages in the slots of every address space, and whether a slot was
	 * ever created or deleted: what x86 KVM sizes its MMU cache from
	 * (KVM_GET_NR_MMU_PAGES). */
	uint64_t npages;
	bool sized;
};

/* The slot holding gpa in address space 0, or NULL (an MMIO address). */
const struct sk_memslot *sk_mem_find(const struct sk_slotset *set, uint64_t gpa);

static inline const struct sk_slotset *sk_mem_current(struct sk_memslots *m)
{
	return atomic_load_explicit(&m->cur, memory_order_acquire);
}

static inline bool sk_slot_contains(const struct sk_memslot *s, uint64_t gpa)
{
	return gpa - s->gpa < s->size;
}

/* Record a guest write to gpa (inside slot). Cheap when already set. */
static inline void sk_mem_mark_dirty(const struct sk_memslot *slot, uint64_t gpa)
{
	if (!slot->dirty)
		return;
	uint64_t pg = (gpa - slot->gpa) >> SK_PAGE_SHIFT;
	unsigned long bit = 1ul << (pg % (8 * sizeof(long)));
	_Atomic unsigned long *w = &slot->dirty[pg / (8 * sizeof(long))];
	if (!(atomic_load_explicit(w, memory_order_relaxed) & bit))
		atomic_fetch_or_explicit(w, bit, memory_order_relaxed);
}

/* Set up / tear down a VM's map. */
void sk_mem_init(struct sk_memslots *m, int nr_address_spaces);
void sk_mem_destroy(struct sk_memslots *m);

/* KVM_SET_USER_MEMORY_REGION with the rules of virt/kvm/kvm_main.c, on
 * the map; the snapshot is then stale. Returns 0 or -errno (1 when nothing
 * changed). Caller holds the VM lock. */
int sk_mem_set_region(struct sk_memslots *m, const struct kvm_userspace_memory_region *r,
		      uint32_t valid_flags, bool dirty_initially_set);
/* Publish a new snapshot of the map; returns the previous one, to free
 * with sk_mem_free_set once no vCPU uses it. Caller holds the VM lock. */
struct sk_slotset *sk_mem_publish(struct sk_memslots *m);
void sk_mem_free_set(struct sk_slotset *set);
/* Free the dirty bitmaps changes have dropped since the last publish; only
 * when no vCPU runs (the stale snapshot that names them is never read:
 * the next KVM_RUN publishes a fresh one first). Caller holds the VM lock. */
void sk_mem_free_retired(struct sk_memslots *m);

/* KVM_GET_DIRTY_LOG / KVM_CLEAR_DIRTY_LOG on the current set. `manual`
 * is KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: GET then does not clear.
 * Bitmaps are copied to/from the caller with sk_copy_to_user. */
int sk_mem_get_dirty_log(struct sk_memslots *m, uint32_t slot, void *user_bitmap, bool manual);
int sk_mem_clear_dirty_log(struct sk_memslots *m, uint32_t slot, uint64_t first_page,
			   uint32_t num_pages, void *user_bitmap);

#endif
