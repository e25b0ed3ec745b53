/* Binary statistics (KVM_GET_STATS_FD) of a VM or a vCPU.
 *
 * A stats block is a memfd laid out as KVM's stats file: header, id string,
 * descriptors, then the data block. The data block is mapped shared into the
 * process and is where the counters live, so every fd handed out reads the
 * current values with read/pread/lseek and no interposition. Each
 * KVM_GET_STATS_FD returns a fresh read-only open file of that memfd (its
 * own file offset), as KVM's anon inode files are.
 */
#ifndef SK_STATS_H
#define SK_STATS_H

#include <stddef.h>
#include <stdint.h>

struct sk_stat_desc {
	const char *name;
	uint32_t flags;        /* KVM_STATS_TYPE_* | KVM_STATS_UNIT_* | KVM_STATS_BASE_* */
	int16_t exponent;
	uint16_t size;         /* values (histogram buckets) */
};

#define SK_STATS_LISTS 2

/* The counters start in plain memory; the first KVM_GET_STATS_FD moves
 * them into the memfd, so objects nobody reads stats of cost no fd. */
struct sk_stats {
	uint64_t *data;        /* where the counters are now */
	uint64_t *heap;        /* where they started */
	int memfd;             /* -1 until the first KVM_GET_STATS_FD */
	unsigned nlists;
	const struct sk_stat_desc *lists[SK_STATS_LISTS];
	size_t map_size;
	char id[48];
};

/* descs from each NULL-name-terminated list in turn (at most
 * SK_STATS_LISTS). Returns 0 or -ENOMEM. */
int sk_stats_init(struct sk_stats *st, const char *id,
		  const struct sk_stat_desc *const lists[], unsigned nlists);
void sk_stats_destroy(struct sk_stats *st);
/* KVM_GET_STATS_FD: a new fd, or -errno. The caller keeps the counters'
 * writers out (they may move). */
long sk_stats_fd(struct sk_stats *st);
/* The first value of the descriptor named name (index into data), or -1. */
int sk_stats_index(const struct sk_stat_desc *const lists[], unsigned nlists, const char *name);

static inline void sk_stat_add(uint64_t *data, int idx, uint64_t n)
{
	if (data && idx >= 0)
		__atomic_fetch_add(&data[idx], n, __ATOMIC_RELAXED);
}

static inline void sk_stat_set(uint64_t *data, int idx, uint64_t v)
{
	if (data && idx >= 0)
		__atomic_store_n(&data[idx], v, __ATOMIC_RELAXED);
}

#endif
