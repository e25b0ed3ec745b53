/* X4: KVM_SET_USER_MEMORY_REGION. Create, move, change flags; resize fails
 * (EINVAL), overlap fails (EEXIST), size 0 deletes, misaligned address or
 * size fails (EINVAL), slot ids out of range fail (EINVAL), userspace_addr
 * must be a user address for the whole size; any backing works: anonymous
 * memory, a regular file mapping, a memfd, hugetlbfs. The guest (the probe
 * guest of vm.c) sees every change. */
#include "vm.h"

#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define PAGE 4096u
#define SLOT_GPA 0x40000000u
#define SLOT_PAGES 4u

static void fill(void *mem, uint32_t pages, uint32_t tag)
{
	for (uint32_t i = 0; i < pages; i++)
		((uint32_t *)mem)[i * PAGE / 4] = tag + i;
}

/* Slot 1 = SLOT_PAGES anonymous pages at SLOT_GPA, page i holding tag+i. */
static void *add_slot1(struct vm *vm, uint32_t tag)
{
	void *m = map_anon(SLOT_PAGES * PAGE);
	fill(m, SLOT_PAGES, tag);
	CHECK_OK(vm_set_slot(vm, 1, SLOT_GPA, SLOT_PAGES * PAGE, m, 0));
	return m;
}

static void create_and_access(void)
{
	struct vm vm;
	struct vcpu v;
	probe_init(&vm, &v);
	uint32_t *m = add_slot1(&vm, 0x11110000);
	for (uint32_t i = 0; i < SLOT_PAGES; i++)
		CHECK_GUEST_READS(&v, SLOT_GPA + i * PAGE, 0x11110000 + i);
	uint64_t mmio = 0;
	CHECK_EQ(1, probe_write(&v, SLOT_GPA + 2 * PAGE + 8, 0xfeedf00d, &mmio));
	CHECK_EQ(0xfeedf00d, m[(2 * PAGE + 8) / 4]);
	CHECK_GUEST_READ_IS_MMIO(&v, SLOT_GPA + SLOT_PAGES * PAGE);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void move(void)
{
	struct vm vm;
	struct vcpu v;
	probe_init(&vm, &v);
	void *m = add_slot1(&vm, 0x22220000);
	CHECK_GUEST_READS(&v, SLOT_GPA, 0x22220000);
	CHECK_OK(vm_set_slot(&vm, 1, 0x50000000, SLOT_PAGES * PAGE, m, 0));
	CHECK_GUEST_READS(&v, 0x50000000 + PAGE, 0x22220001);
	CHECK_GUEST_READ_IS_MMIO(&v, SLOT_GPA);
	/* Moving onto slot 0 overlaps it. */
	CHECK_ERRNO(vm_set_slot(&vm, 1, 0x1000, SLOT_PAGES * PAGE, m, 0), EEXIST);
	CHECK_GUEST_READS(&v, 0x50000000, 0x22220000);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void flags_change(void)
{
	struct vm vm;
	struct vcpu v;
	probe_init(&vm, &v);
	void *m = add_slot1(&vm, 0x33330000);
	uint64_t bitmap = 0;
	struct kvm_dirty_log log = {.slot = 1, .dirty_bitmap = &bitmap};
	CHECK_ERRNO(ioctl(vm.fd, KVM_GET_DIRTY_LOG, &log), ENOENT);
	CHECK_OK(vm_set_slot(&vm, 1, SLOT_GPA, SLOT_PAGES * PAGE, m, KVM_MEM_LOG_DIRTY_PAGES));
	CHECK_OK(ioctl(vm.fd, KVM_GET_DIRTY_LOG, &log));
	CHECK_GUEST_READS(&v, SLOT_GPA + 3 * PAGE, 0x33330003);
	CHECK_OK(vm_set_slot(&vm, 1, SLOT_GPA, SLOT_PAGES * PAGE, m, 0));
	CHECK_ERRNO(ioctl(vm.fd, KVM_GET_DIRTY_LOG, &log), ENOENT);
	/* Same values again: nothing to do, success. */
	CHECK_OK(vm_set_slot(&vm, 1, SLOT_GPA, SLOT_PAGES * PAGE, m, 0));
	/* READONLY cannot be toggled on an existing slot. */
	if (check_ext(vm.kvm, KVM_CAP_READONLY_MEM) > 0)
		CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA, SLOT_PAGES * PAGE, m, KVM_MEM_READONLY), EINVAL);
	else
		SKIP("KVM_CAP_READONLY_MEM not reported");
	/* Unknown flag bits. */
	CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA, SLOT_PAGES * PAGE, m, 1u << 7), EINVAL);
	CHECK_ERRNO(vm_set_slot(&vm, 5, 0x60000000, PAGE, m, 1u << 7), EINVAL);
	/* The host address of an existing slot cannot change. */
	CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA, SLOT_PAGES * PAGE, (char *)m + PAGE, 0), EINVAL);
	CHECK_GUEST_READS(&v, SLOT_GPA, 0x33330000);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void resize_fails(void)
{
	struct vm vm;
	struct vcpu v;
	probe_init(&vm, &v);
	void *big = map_anon(2 * SLOT_PAGES * PAGE);
	fill(big, SLOT_PAGES, 0x44440000);
	CHECK_OK(vm_set_slot(&vm, 1, SLOT_GPA, SLOT_PAGES * PAGE, big, 0));
	CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA, 2 * SLOT_PAGES * PAGE, big, 0), EINVAL);
	CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA, PAGE, big, 0), EINVAL);
	CHECK_GUEST_READS(&v, SLOT_GPA + (SLOT_PAGES - 1) * PAGE, 0x44440000 + SLOT_PAGES - 1);
	CHECK_GUEST_READ_IS_MMIO(&v, SLOT_GPA + SLOT_PAGES * PAGE);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void overlap_fails(void)
{
	struct vm vm;
	struct vcpu v;
	probe_init(&vm, &v);
	add_slot1(&vm, 0x55550000);
	void *m = map_anon(8 * PAGE);
	fill(m, 8, 0x66660000);
	CHECK_ERRNO(vm_set_slot(&vm, 2, SLOT_GPA, PAGE, m, 0), EEXIST);
	CHECK_ERRNO(vm_set_slot(&vm, 2, SLOT_GPA - PAGE, 2 * PAGE, m, 0), EEXIST);
	CHECK_ERRNO(vm_set_slot(&vm, 2, SLOT_GPA + (SLOT_PAGES - 1) * PAGE, 2 * PAGE, m, 0), EEXIST);
	CHECK_ERRNO(vm_set_slot(&vm, 2, SLOT_GPA - PAGE, 8 * PAGE, m, 0), EEXIST);
	CHECK_ERRNO(vm_set_slot(&vm, 2, G_MEM_SIZE - PAGE, 2 * PAGE, m, 0), EEXIST);
	/* Adjacent on both sides is fine; the same host memory twice too. */
	CHECK_OK(vm_set_slot(&vm, 2, SLOT_GPA - PAGE, PAGE, m, 0));
	CHECK_OK(vm_set_slot(&vm, 3, SLOT_GPA + SLOT_PAGES * PAGE, PAGE, m, 0));
	CHECK_GUEST_READS(&v, SLOT_GPA - PAGE, 0x66660000);
	CHECK_GUEST_READS(&v, SLOT_GPA, 0x55550000);
	CHECK_GUEST_READS(&v, SLOT_GPA + SLOT_PAGES * PAGE, 0x66660000);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void size_zero_deletes(void)
{
	struct vm vm;
	struct vcpu v;
	probe_init(&vm, &v);
	void *m = add_slot1(&vm, 0x77770000);
	CHECK_GUEST_READS(&v, SLOT_GPA, 0x77770000);
	CHECK_OK(vm_set_slot(&vm, 1, SLOT_GPA, 0, m, 0));
	CHECK_GUEST_READ_IS_MMIO(&v, SLOT_GPA);
	/* Deleting a slot that does not exist. */
	CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA, 0, m, 0), EINVAL);
	CHECK_ERRNO(vm_set_slot(&vm, 9, 0, 0, NULL, 0), EINVAL);
	/* The id is free again, with other memory and place. */
	void *n = map_anon(PAGE);
	fill(n, 1, 0x78780000);
	CHECK_OK(vm_set_slot(&vm, 1, 0x70000000, PAGE, n, 0));
	CHECK_GUEST_READS(&v, 0x70000000, 0x78780000);
	/* And the freed range can hold another slot. */
	CHECK_OK(vm_set_slot(&vm, 2, SLOT_GPA, SLOT_PAGES * PAGE, m, 0));
	CHECK_GUEST_READS(&v, SLOT_GPA + PAGE, 0x77770001);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void misaligned_fails(void)
{
	struct vm vm;
	vm_init(&vm);
	char *m = map_anon(4 * PAGE);
	CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA + 0x800, PAGE, m, 0), EINVAL);
	CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA, PAGE + 0x800, m, 0), EINVAL);
	CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA, 0x10, m, 0), EINVAL);
	CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA, PAGE, m + 0x10, 0), EINVAL);
	CHECK_OK(vm_set_slot(&vm, 1, SLOT_GPA, PAGE, m, 0));
	vm_fini(&vm);
}

static void slot_id_out_of_range(void)
{
	struct vm vm;
	vm_init(&vm);
	void *m = map_anon(PAGE);
	int nr = check_ext(vm.fd, KVM_CAP_NR_MEMSLOTS);
	CHECK(nr >= 32);
	if (nr > 0) {
		CHECK_ERRNO(vm_set_slot(&vm, (uint32_t)nr, SLOT_GPA, PAGE, m, 0), EINVAL);
		CHECK_OK(vm_set_slot(&vm, (uint32_t)nr - 1, SLOT_GPA, PAGE, m, 0));
	}
	CHECK_ERRNO(vm_set_slot(&vm, 0xffff, 0x60000000, PAGE, m, 0), EINVAL);
	/* Address space 1 (x86: SMM) exists exactly when the VM says so. */
	int spaces = check_ext(vm.fd, KVM_CAP_MULTI_ADDRESS_SPACE);
	if (spaces >= 2)
		CHECK_OK(vm_set_slot(&vm, (1u << 16) | 3, 0x60000000, PAGE, m, 0));
	else
		CHECK_ERRNO(vm_set_slot(&vm, (1u << 16) | 3, 0x60000000, PAGE, m, 0), EINVAL);
	/* Address space 255 (bits 16.. of slot) does not exist. */
	CHECK_ERRNO(vm_set_slot(&vm, 0xff0002, 0x60000000, PAGE, m, 0), EINVAL);
	vm_fini(&vm);
}

static void userspace_addr_rules(void)
{
	struct vm vm;
	struct vcpu v;
	probe_init(&vm, &v);
	void *m = map_anon(PAGE);
	/* Kernel-half addresses are not user memory. */
	CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA, PAGE, (void *)0xffff800000000000ull, 0), EINVAL);
	CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA, 2 * PAGE, (void *)0xfffffffffffff000ull, 0), EINVAL);
	/* Guest-physical range that wraps. */
	CHECK_ERRNO(vm_set_slot(&vm, 1, 0xfffffffffffff000ull, 2 * PAGE, m, 0), EINVAL);

	/* A user range that is not mapped is accepted; the guest touching it
	 * makes KVM_RUN fail with EFAULT and nothing crashes. */
	void *hole = map_anon(2 * PAGE);
	munmap(hole, 2 * PAGE);
	CHECK_OK(vm_set_slot(&vm, 1, SLOT_GPA, 2 * PAGE, hole, 0));
	if (probe_issue(&v, SLOT_GPA + PAGE, 0, 0))
		CHECK_ERRNO(vcpu_run(&v), EFAULT);
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* The guest spins reading slot 1 while another thread deletes the slot:
 * the next read leaves as KVM_EXIT_MMIO. */
GUEST_CODE(x4_spin, 32,
	"1: mov 0x40000000, %eax\n"
	"cmp $0x99990000, %eax\n"
	"je 1b\n"
	"out %eax, $0x10\n"
	"hlt\n");

static void *delete_slot1(void *arg)
{
	struct vm *vm = arg;
	struct timespec ts = {0, 50 * 1000000L};
	nanosleep(&ts, NULL);
	CHECK_OK(vm_set_slot(vm, 1, SLOT_GPA, 0, NULL, 0));
	return NULL;
}

static void delete_while_running(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x4_spin);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	uint32_t *m = map_anon(SLOT_PAGES * PAGE);
	fill(m, SLOT_PAGES, 0x99990000);
	CHECK_OK(vm_set_slot(&vm, 1, SLOT_GPA, SLOT_PAGES * PAGE, m, 0));
	pthread_t t;
	pthread_create(&t, NULL, delete_slot1, &vm);
	if (RUN_EXPECT_EXIT(&v, KVM_EXIT_MMIO)) {
		CHECK_EQ(SLOT_GPA, v.run->mmio.phys_addr);
		CHECK_EQ(0, v.run->mmio.is_write);
		memset(v.run->mmio.data, 0x11, 4);
	}
	pthread_join(t, NULL);
	CHECK_EQ(0x11111111, RUN_EXPECT_OUT(&v, 0x10));
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* KVM_MEM_READONLY: the guest reads the memory; its writes leave as
 * KVM_EXIT_MMIO writes and do not reach the memory. */
static void readonly_slot(void)
{
	struct vm vm;
	struct vcpu v;
	probe_init(&vm, &v);
	if (check_ext(vm.kvm, KVM_CAP_READONLY_MEM) <= 0) {
		SKIP("KVM_CAP_READONLY_MEM not reported");
	} else {
		uint32_t *m = map_anon(SLOT_PAGES * PAGE);
		fill(m, SLOT_PAGES, 0x88880000);
		CHECK_OK(vm_set_slot(&vm, 1, SLOT_GPA, SLOT_PAGES * PAGE, m, KVM_MEM_READONLY));
		CHECK_GUEST_READS(&v, SLOT_GPA + PAGE, 0x88880001);
		uint64_t mmio = 0;
		CHECK_EQ(0, probe_write(&v, SLOT_GPA + PAGE, 0x12345678, &mmio));
		CHECK_EQ(SLOT_GPA + PAGE, mmio);
		CHECK_EQ(0x88880001, m[PAGE / 4]);
		/* Flags of a read-only slot cannot drop READONLY either. */
		CHECK_ERRNO(vm_set_slot(&vm, 1, SLOT_GPA, SLOT_PAGES * PAGE, m, 0), EINVAL);
	}
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* Guest reads the first word of page 1 and writes page 0 of a slot backed by
 * mem; host_get reads the backing to see the write. */
static void check_backing(const char *what, uint8_t *mem, uint64_t gpa, size_t size, int (*reread)(uint32_t *out))
{
	struct vm vm;
	struct vcpu v;
	printf("   backing: %s\n", what);
	probe_init(&vm, &v);
	((uint32_t *)mem)[PAGE / 4] = 0xabcd0001;
	CHECK_OK(vm_set_slot(&vm, 1, gpa, size, mem, 0));
	CHECK_GUEST_READS(&v, gpa + PAGE, 0xabcd0001);
	uint64_t mmio = 0;
	CHECK_EQ(1, probe_write(&v, (uint32_t)gpa + 16, 0x600dcafe, &mmio));
	uint32_t seen = 0;
	CHECK_OK(reread(&seen));
	CHECK_EQ(0x600dcafe, seen);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static int backing_fd = -1;

static int reread_fd(uint32_t *out)
{
	return (int)pread(backing_fd, out, 4, 16);
}

static uint8_t *anon_mem;
static int reread_anon(uint32_t *out)
{
	memcpy(out, anon_mem + 16, 4);
	return 0;
}

static void backing_anonymous(void)
{
	anon_mem = map_anon(4 * PAGE);
	check_backing("anonymous", anon_mem, SLOT_GPA, 4 * PAGE, reread_anon);
}

static void backing_file(void)
{
	char path[] = "/tmp/softkvm-x4-XXXXXX";
	backing_fd = mkstemp(path);
	if (!CHECK(backing_fd >= 0))
		return;
	unlink(path);
	CHECK_OK(ftruncate(backing_fd, 4 * PAGE));
	uint8_t *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, backing_fd, 0);
	if (CHECK(m != MAP_FAILED))
		check_backing("regular file, MAP_SHARED", m, SLOT_GPA, 4 * PAGE, reread_fd);
	close(backing_fd);
}

static void backing_memfd(void)
{
	backing_fd = memfd_create("x4", MFD_CLOEXEC);
	if (!CHECK(backing_fd >= 0))
		return;
	CHECK_OK(ftruncate(backing_fd, 4 * PAGE));
	uint8_t *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, backing_fd, 0);
	if (CHECK(m != MAP_FAILED))
		check_backing("memfd", m, SLOT_GPA, 4 * PAGE, reread_fd);
	close(backing_fd);
}

static void backing_hugetlbfs(void)
{
	const size_t huge = 2u << 20;
	backing_fd = memfd_create("x4-huge", MFD_CLOEXEC | MFD_HUGETLB);
	uint8_t *m = MAP_FAILED;
	if (backing_fd >= 0 && ftruncate(backing_fd, (off_t)huge) == 0)
		m = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_SHARED, backing_fd, 0);
	if (m == MAP_FAILED) {
		char why[160];
		snprintf(why, sizeof(why), "hugetlbfs backing: no huge pages on this host (%s; "
			 "see /proc/sys/vm/nr_hugepages)", strerror(errno));
		SKIP(why);
	} else {
		m[0] = 1; /* fault the huge page in, or SIGBUS here rather than later */
		check_backing("hugetlbfs (memfd MFD_HUGETLB)", m, 0x40000000, huge, reread_fd);
	}
	if (backing_fd >= 0)
		close(backing_fd);
}

int main(void)
{
	RUN_CASE(create_and_access);
	RUN_CASE(move);
	RUN_CASE(flags_change);
	RUN_CASE(resize_fails);
	RUN_CASE(overlap_fails);
	RUN_CASE(size_zero_deletes);
	RUN_CASE(misaligned_fails);
	RUN_CASE(slot_id_out_of_range);
	RUN_CASE(userspace_addr_rules);
	RUN_CASE(readonly_slot);
	RUN_CASE(delete_while_running);
	RUN_CASE(backing_anonymous);
	RUN_CASE(backing_file);
	RUN_CASE(backing_memfd);
	RUN_CASE(backing_hugetlbfs);
	return t_done();
}
