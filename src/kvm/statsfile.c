/* The binary stats file format of KVM_GET_STATS_FD (see stats.h). */
#include "kvm/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* KVM's KVM_STATS_NAME_SIZE: every descriptor carries a name of this size. */
#define NAME_SIZE 48
#define DESC_SIZE (sizeof(struct kvm_stats_desc) + NAME_SIZE)

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

static unsigned count_descs(const struct sk_stat_desc *const lists[], unsigned nlists,
			    size_t *values)
{
	unsigned n = 0;
	*values = 0;
	for (unsigned l = 0; l < nlists; l++)
		for (const struct sk_stat_desc *d = lists[l]; d && d->name; d++, n++)
			*values += d->size;
	return n;
}

int sk_stats_index(const struct sk_stat_desc *const lists[], unsigned nlists, const char *name)
{
	int idx = 0;
	for (unsigned l = 0; l < nlists; l++)
		for (const struct sk_stat_desc *d = lists[l]; d && d->name; d++) {
			if (!strcmp(d->name, name))
				return idx;
			idx += d->size;
		}
	return -1;
}

/* Header, id and descriptors: written once with pwrite, immutable after. */
static int write_layout(int fd, const char *id, const struct sk_stat_desc *const lists[],
			unsigned nlists, unsigned ndesc, size_t data_off)
{
	size_t id_off = sizeof(struct kvm_stats_header);
	size_t desc_off = align_up(id_off + NAME_SIZE, 8);
	size_t len = desc_off + ndesc * DESC_SIZE;
	char *buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	struct kvm_stats_header h = {
		.flags = 0, .name_size = NAME_SIZE, .num_desc = ndesc,
		.id_offset = (uint32_t)id_off, .desc_offset = (uint32_t)desc_off,
		.data_offset = (uint32_t)data_off,
	};
	memcpy(buf, &h, sizeof(h));
	snprintf(buf + id_off, NAME_SIZE, "%s", id);
	char *p = buf + desc_off;
	uint32_t value = 0;
	for (unsigned l = 0; l < nlists; l++)
		for (const struct sk_stat_desc *d = lists[l]; d && d->name; d++, p += DESC_SIZE) {
			struct kvm_stats_desc kd = {
				.flags = d->flags, .exponent = d->exponent, .size = d->size,
				.offset = value * 8, .bucket_size = 0,
			};
			memcpy(p, &kd, sizeof(kd));
			snprintf(p + sizeof(kd), NAME_SIZE, "%s", d->name);
			value += d->size;
		}
	int r = pwrite(fd, buf, len, 0) == (ssize_t)len ? 0 : -errno;
	free(buf);
	return r;
}

/* The file: layout, then the current counters in a page-aligned data
 * block that is mapped and becomes the counters' home. */
static int make_file(struct sk_stats *st, size_t values)
{
	unsigned ndesc = 0;
	for (unsigned l = 0; l < st->nlists; l++)
		for (const struct sk_stat_desc *d = st->lists[l]; d && d->name; d++)
			ndesc++;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t layout = align_up(sizeof(struct kvm_stats_header), 8) + NAME_SIZE + ndesc * DESC_SIZE;
	/* The file ends right after the data, so reads past it return 0. */
	size_t data_off = align_up(layout, page), data_len = values * sizeof(uint64_t);
	int fd = memfd_create("kvm-stats", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = ftruncate(fd, (off_t)(data_off + data_len)) ? -errno : 0;
	if (!r)
		r = write_layout(fd, st->id, st->lists, st->nlists, ndesc, data_off);
	size_t map_size = align_up(data_len ? data_len : 1, page);
	void *map = MAP_FAILED;
	if (!r) {
		map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)data_off);
		if (map == MAP_FAILED)
			r = -errno;
	}
	if (r) {
		close(fd);
		return r;
	}
	memcpy(map, st->data, data_len);
	st->map_size = map_size;
	st->memfd = fd;
	__atomic_store_n(&st->data, (uint64_t *)map, __ATOMIC_RELEASE);
	return 0;
}

int sk_stats_init(struct sk_stats *st, const char *id,
		  const struct sk_stat_desc *const lists[], unsigned nlists)
{
	memset(st, 0, sizeof(*st));
	st->memfd = -1;
	st->nlists = nlists < SK_STATS_LISTS ? nlists : SK_STATS_LISTS;
	for (unsigned l = 0; l < st->nlists; l++)
		st->lists[l] = lists[l];
	snprintf(st->id, sizeof(st->id), "%s", id);
	size_t values;
	count_descs(st->lists, st->nlists, &values);
	st->heap = calloc(values ? values : 1, sizeof(uint64_t));
	st->data = st->heap;
	return st->heap ? 0 : -ENOMEM;
}

void sk_stats_destroy(struct sk_stats *st)
{
	if (st->memfd >= 0) {
		munmap(st->data, st->map_size);
		close(st->memfd);
	}
	free(st->heap);
	st->data = st->heap = NULL;
	st->memfd = -1;
}

long sk_stats_fd(struct sk_stats *st)
{
	if (!st->data)
		return -ENOMEM;
	if (st->memfd < 0) {
		size_t values;
		count_descs(st->lists, st->nlists, &values);
		int r = make_file(st, values);
		if (r)
			return r;
	}
	/* A new open file of the same memfd: its own offset, read-only, like
	 * the anon inode file KVM creates per call. */
	char path[40];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", st->memfd);
	long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	/* No /proc: a duplicate shares the file offset with other stats fds
	 * of this object, the one visible difference. */
	fd = fcntl(st->memfd, F_DUPFD_CLOEXEC, 0);
	return fd >= 0 ? fd : -errno;
}
