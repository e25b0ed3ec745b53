/* The fd table: which kernel fds are softkvm's, and what is behind them.
 *
 * Each entry holds one reference to its object; dup'ing an fd adds an entry
 * and a reference, closing it drops both. Lookups take a reference under the
 * lock so an object cannot vanish while an ioctl on another thread uses it.
 *
 * The ioctl path (a KVM_RUN loop calls it for every exit) uses a per-thread
 * cache of the last fd looked up instead: the cache owns a reference to the
 * object, and any change to the table bumps an epoch that invalidates every
 * thread's cache. A hit costs no lock and no atomic read-modify-write.
 *
 * The seam asks about every close, dup and ioctl of the process, and the
 * answer is nearly always "not ours": a bitmap of the fds in the table,
 * read without the lock, gives it at the cost of one atomic load.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/device.h"
#include "kvm/kvm.h"

struct entry {
	enum sk_file_kind kind;
	void *obj;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table;
static int table_len;
static atomic_uint_fast64_t epoch = 1;

/* Bit fd set while table[fd] is in use; changed under the lock. It grows
 * with the table: the larger copy replaces it, and the old one is kept
 * (linked from the new) because a reader may still be looking at it; what
 * it reads there is the table of an instant before, as if it had come
 * first. */
struct ownmap {
	struct ownmap *older;
	int nbits;
	_Atomic uint64_t bits[];
};
static _Atomic(struct ownmap *) owned;

static bool owned_bit(int fd)
{
	struct ownmap *m = atomic_load_explicit(&owned, memory_order_acquire);
	if (fd < 0 || !m || fd >= m->nbits)
		return false;
	uint64_t w = atomic_load_explicit(&m->bits[fd / 64], memory_order_acquire);
	return (w >> (fd % 64)) & 1;
}

/* Lock held. */
static void set_owned_bit(int fd, bool on)
{
	struct ownmap *m = atomic_load_explicit(&owned, memory_order_relaxed);
	uint64_t bit = 1ull << (fd % 64);
	if (on)
		atomic_fetch_or_explicit(&m->bits[fd / 64], bit, memory_order_release);
	else
		atomic_fetch_and_explicit(&m->bits[fd / 64], ~bit, memory_order_release);
}

/* Lock held; nbits a multiple of 64. */
static int grow_owned(int nbits)
{
	struct ownmap *old = atomic_load_explicit(&owned, memory_order_relaxed);
	struct ownmap *m = calloc(1, sizeof(*m) + (size_t)nbits / 8);
	if (!m)
		return -ENOMEM;
	m->older = old;
	m->nbits = nbits;
	for (int i = 0; old && i < old->nbits / 64; i++)
		atomic_init(&m->bits[i], atomic_load_explicit(&old->bits[i], memory_order_relaxed));
	atomic_store_explicit(&owned, m, memory_order_release);
	return 0;
}

struct cache {
	int fd;
	uint64_t epoch;
	enum sk_file_kind kind;
	void *obj;
};
static _Thread_local struct cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void obj_get(enum sk_file_kind kind, void *obj)
{
	if (kind == SK_FILE_VM)
		sk_vm_get(obj);
	else if (kind == SK_FILE_VCPU)
		sk_vm_get(((struct sk_vcpu *)obj)->vm);
	else if (kind == SK_FILE_DEVICE)
		sk_device_get(obj);
}

void sk_fd_put(enum sk_file_kind kind, void *obj)
{
	if (kind == SK_FILE_VM)
		sk_vm_put(obj);
	else if (kind == SK_FILE_VCPU)
		sk_vm_put(((struct sk_vcpu *)obj)->vm);
	else if (kind == SK_FILE_DEVICE)
		sk_device_put(obj);
}

/* Takes over the caller's reference to obj. */
int sk_fd_install(enum sk_file_kind kind, void *obj, int fd)
{
	pthread_mutex_lock(&lock);
	if (fd >= table_len) {
		int n = table_len ? table_len : 64;
		while (n <= fd)
			n *= 2;
		struct entry *t = realloc(table, n * sizeof(*t));
		if (t)
			table = t;
		if (!t || grow_owned(n)) {
			pthread_mutex_unlock(&lock);
			return -ENOMEM;
		}
		memset(t + table_len, 0, (n - table_len) * sizeof(*t));
		table_len = n;
	}
	struct entry old = table[fd];
	table[fd] = (struct entry){kind, obj};
	if (old.kind)
		atomic_fetch_add(&epoch, 1);
	else
		set_owned_bit(fd, true);
	pthread_mutex_unlock(&lock);
	if (old.kind)
		sk_fd_put(old.kind, old.obj);
	return fd;
}

void *sk_fd_get(int fd, enum sk_file_kind *kind)
{
	void *obj = NULL;
	*kind = 0;
	if (!owned_bit(fd))
		return NULL;
	pthread_mutex_lock(&lock);
	if (fd >= 0 && fd < table_len && table[fd].kind) {
		*kind = table[fd].kind;
		obj = table[fd].obj;
		obj_get(*kind, obj);
	}
	pthread_mutex_unlock(&lock);
	return obj;
}

bool sk_fd_owned(int fd)
{
	return owned_bit(fd);
}

/* Drop fd's entry (the kernel fd is the caller's business). */
void sk_fd_remove(int fd)
{
	struct entry old = {0};
	pthread_mutex_lock(&lock);
	if (fd >= 0 && fd < table_len) {
		old = table[fd];
		table[fd] = (struct entry){0};
	}
	if (old.kind) {
		set_owned_bit(fd, false);
		atomic_fetch_add(&epoch, 1);
	}
	pthread_mutex_unlock(&lock);
	if (old.kind)
		sk_fd_put(old.kind, old.obj);
}

/* newfd now refers to what oldfd does (after a successful kernel dup). */
void sk_fd_dup(int oldfd, int newfd)
{
	enum sk_file_kind kind;
	void *obj = sk_fd_get(oldfd, &kind);
	if (kind) {
		if (sk_fd_install(kind, obj, newfd) < 0)
			sk_fd_put(kind, obj);
	} else {
		sk_fd_remove(newfd);
	}
}

static void cache_drop(void *unused)
{
	if (cache.kind)
		sk_fd_put(cache.kind, cache.obj);
	cache = (struct cache){0};
}

static void cache_init(void)
{
	pthread_key_create(&cache_key, cache_drop);
}

void *sk_fd_lookup_cached(int fd, enum sk_file_kind *kind)
{
	uint64_t now = atomic_load_explicit(&epoch, memory_order_acquire);
	if (cache.kind && cache.fd == fd && cache.epoch == now) {
		*kind = cache.kind;
		return cache.obj;
	}
	cache_drop(NULL);
	void *obj = sk_fd_get(fd, kind);
	if (*kind) {
		pthread_once(&cache_once, cache_init);
		pthread_setspecific(cache_key, &cache);
		cache = (struct cache){fd, now, *kind, obj};
	}
	return obj;
}
