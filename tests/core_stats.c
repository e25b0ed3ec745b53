/* KVM_GET_STATS_FD (KVM_CAP_BINARY_STATS_FD) on VM and vCPU fds: the file
 * layout api.rst gives (header, id, descriptors with KVM's names and units,
 * data), live counters (an OUT exit moves "exits" and "io_exits"), one file
 * offset per fd, read-only, and each fd gone after close. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "vm.h"

GUEST_CODE(stats_guest, 16, "mov $0x10, %dx\n out %al, (%dx)\n out %al, (%dx)\n hlt\n");

struct stats {
	struct kvm_stats_header h;
	char id[256];
	char *descs;
	size_t desc_size;
};

static bool read_stats(int fd, struct stats *s)
{
	memset(s, 0, sizeof(*s));
	if (!CHECK_EQ(sizeof(s->h), read(fd, &s->h, sizeof(s->h))))
		return false;
	CHECK_EQ(0, s->h.flags);
	CHECK(s->h.name_size > 0 && s->h.name_size <= sizeof(s->id));
	CHECK(s->h.id_offset % 8 == 0 && s->h.desc_offset % 8 == 0 && s->h.data_offset % 8 == 0);
	CHECK(s->h.num_desc > 0);
	CHECK_EQ(s->h.name_size, pread(fd, s->id, s->h.name_size, s->h.id_offset));
	s->desc_size = sizeof(struct kvm_stats_desc) + s->h.name_size;
	s->descs = calloc(s->h.num_desc, s->desc_size);
	size_t len = s->h.num_desc * s->desc_size;
	return CHECK_EQ(len, pread(fd, s->descs, len, s->h.desc_offset));
}

static struct kvm_stats_desc *desc(struct stats *s, unsigned i)
{
	return (struct kvm_stats_desc *)(s->descs + i * s->desc_size);
}

/* The value of the stat named name (its first value), or ~0. */
static uint64_t stat(int fd, struct stats *s, const char *name)
{
	for (unsigned i = 0; i < s->h.num_desc; i++) {
		struct kvm_stats_desc *d = desc(s, i);
		if (strcmp(d->name, name))
			continue;
		uint64_t v = ~0ull;
		CHECK_EQ(8, pread(fd, &v, 8, s->h.data_offset + d->offset));
		return v;
	}
	fprintf(stderr, "     no stat %s\n", name);
	CHECK(!"stat present");
	return ~0ull;
}

static void check_descs(struct stats *s)
{
	for (unsigned i = 0; i < s->h.num_desc; i++) {
		struct kvm_stats_desc *d = desc(s, i);
		uint32_t type = d->flags & KVM_STATS_TYPE_MASK;
		CHECK(type <= KVM_STATS_TYPE_MAX);
		CHECK((d->flags & KVM_STATS_UNIT_MASK) <= KVM_STATS_UNIT_MAX);
		CHECK(d->size >= 1);
		CHECK(strlen(d->name) < s->h.name_size);
		if (type == KVM_STATS_TYPE_CUMULATIVE || type == KVM_STATS_TYPE_INSTANT)
			CHECK_EQ(1, d->size);
		CHECK_EQ(0, d->bucket_size);
	}
}

static void vm_stats(void)
{
	struct vm vm;
	vm_init(&vm);
	CHECK_EQ(1, check_ext(vm.kvm, KVM_CAP_BINARY_STATS_FD));
	int fd = ioctl(vm.fd, KVM_GET_STATS_FD, 0);
	if (!CHECK_OK(fd))
		return;
	CHECK_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	struct stats s;
	if (read_stats(fd, &s)) {
		char want[32];
		snprintf(want, sizeof(want), "kvm-%d", (int)getpid());
		CHECK(strcmp(s.id, want) == 0);
		check_descs(&s);
		CHECK(stat(fd, &s, "remote_tlb_flush") != ~0ull);
	}
	CHECK_ERRNO(write(fd, "x", 1), EBADF);
	free(s.descs);
	close(fd);
	CHECK_ERRNO(fcntl(fd, F_GETFD), EBADF);
	vm_fini(&vm);
}

static void vcpu_stats(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 3);
	GUEST_LOAD(&vm, stats_guest);
	vcpu_setup(&v, MODE_REAL, G_CODE);
	int fd = ioctl(v.fd, KVM_GET_STATS_FD, 0);
	int fd2 = ioctl(v.fd, KVM_GET_STATS_FD, 0);
	if (!CHECK_OK(fd) || !CHECK_OK(fd2))
		return;
	struct stats s;
	if (!read_stats(fd, &s))
		return;
	char want[48];
	snprintf(want, sizeof(want), "kvm-%d/vcpu-3", (int)getpid());
	CHECK(strcmp(s.id, want) == 0);
	check_descs(&s);
	/* A second fd has its own file offset: it starts at the header. */
	struct kvm_stats_header h2;
	CHECK_EQ(sizeof(h2), read(fd2, &h2, sizeof(h2)));
	CHECK(memcmp(&h2, &s.h, sizeof(h2)) == 0);

	uint64_t exits0 = stat(fd, &s, "exits"), io0 = stat(fd, &s, "io_exits");
	CHECK(run_expect_out_at(&v, 0x10, __FILE__, __LINE__) != ~0u);
	CHECK_EQ(exits0 + 1, stat(fd, &s, "exits"));
	CHECK_EQ(io0 + 1, stat(fd2, &s, "io_exits"));
	CHECK(run_expect_out_at(&v, 0x10, __FILE__, __LINE__) != ~0u);
	CHECK_EQ(io0 + 2, stat(fd, &s, "io_exits"));
	CHECK_EQ(0, stat(fd, &s, "blocking"));
	CHECK_EQ(0, stat(fd, &s, "halt_successful_poll"));
	free(s.descs);
	close(fd);
	close(fd2);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(vm_stats);
	RUN_CASE(vcpu_stats);
	return t_done();
}
