/* X6: changes in a slot's backing are what the guest sees next
 * (KVM_CAP_SYNC_MMU): a new mmap(MAP_FIXED) over part of a slot, and
 * madvise(MADV_DONTNEED) on private anonymous memory, without any ioctl. */
#include "vm.h"

#include <pthread.h>
#include <sys/ioctl.h>
#include <time.h>
#include <sys/mman.h>

#define PAGE 4096u
#define GPA 0x40000000u
#define PAGES 16u

static void backing_changes_seen(void)
{
	struct vm vm;
	struct vcpu v;
	probe_init(&vm, &v);
	CHECK(check_ext(vm.kvm, KVM_CAP_SYNC_MMU) > 0);
	uint8_t *m = map_anon(PAGES * PAGE);
	for (uint32_t i = 0; i < PAGES; i++)
		((uint32_t *)(m + i * PAGE))[0] = 0xa0000000 + i;
	CHECK_OK(vm_set_slot(&vm, 1, GPA, PAGES * PAGE, m, 0));
	for (uint32_t i = 2; i < 6; i++)
		CHECK_GUEST_READS(&v, GPA + i * PAGE, 0xa0000000 + i);

	/* New anonymous memory over page 2. */
	void *p = mmap(m + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(p == m + 2 * PAGE);
	CHECK_GUEST_READS(&v, GPA + 2 * PAGE, 0);
	((uint32_t *)(m + 2 * PAGE))[0] = 0xb0000002;
	CHECK_GUEST_READS(&v, GPA + 2 * PAGE, 0xb0000002);
	uint64_t mmio = 0;
	CHECK_EQ(1, probe_write(&v, GPA + 2 * PAGE + 4, 0xc0000002, &mmio));
	CHECK_EQ(0xc0000002, ((uint32_t *)(m + 2 * PAGE))[1]);

	/* A memfd page over page 3, written through another mapping. */
	int fd = memfd_create("x6", MFD_CLOEXEC);
	if (CHECK(fd >= 0) && CHECK_OK(ftruncate(fd, PAGE))) {
		uint32_t *other = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		CHECK(mmap(m + 3 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
		      m + 3 * PAGE);
		other[0] = 0xd0000003;
		CHECK_GUEST_READS(&v, GPA + 3 * PAGE, 0xd0000003);
		other[0] = 0xd1000003;
		CHECK_GUEST_READS(&v, GPA + 3 * PAGE, 0xd1000003);
		CHECK_EQ(1, probe_write(&v, GPA + 3 * PAGE + 8, 0xe0000003, &mmio));
		CHECK_EQ(0xe0000003, other[2]);
		munmap(other, PAGE);
		close(fd);
	}

	/* MADV_DONTNEED: private anonymous memory reads as zero again. */
	CHECK_OK(madvise(m + 4 * PAGE, 2 * PAGE, MADV_DONTNEED));
	CHECK_GUEST_READS(&v, GPA + 4 * PAGE, 0);
	CHECK_GUEST_READS(&v, GPA + 5 * PAGE, 0);
	CHECK_GUEST_READS(&v, GPA + 6 * PAGE, 0xa0000006);
	/* ...and the guest's next write lands in the fresh page the VMM sees. */
	CHECK_EQ(1, probe_write(&v, GPA + 4 * PAGE, 0xf0000004, &mmio));
	CHECK_EQ(0xf0000004, ((uint32_t *)(m + 4 * PAGE))[0]);
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* The guest spins on a word of page 2 of the slot until it is nonzero (then
 * OUT 0x10), then on page 3 until it is zero (then OUT 0x11). */
GUEST_CODE(x6_spin, 32,
	"1: cmpl $0, 0x40002000\n"
	"je 1b\n"
	"out %al, $0x10\n"
	"2: cmpl $0, 0x40003000\n"
	"jne 2b\n"
	"out %al, $0x11\n"
	"hlt\n");

struct changer {
	uint8_t *page;
	int fd;
	int step;
};

/* While the vCPU runs on the main thread: replace page 2 by a memfd page
 * holding 1 (step 0), or MADV_DONTNEED anonymous page 3 (step 1). */
static void *change_backing(void *arg)
{
	struct changer *c = arg;
	struct timespec ts = {0, 50 * 1000000L};
	nanosleep(&ts, NULL);
	if (c->step == 0)
		mmap(c->page, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, c->fd, 0);
	else
		madvise(c->page + PAGE, PAGE, MADV_DONTNEED);
	return NULL;
}

static void changes_seen_by_running_guest(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, x6_spin);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	uint8_t *m = map_anon(PAGES * PAGE);
	((uint32_t *)(m + 3 * PAGE))[0] = 1;
	CHECK_OK(vm_set_slot(&vm, 1, GPA, PAGES * PAGE, m, 0));
	int fd = memfd_create("x6-one", MFD_CLOEXEC);
	uint32_t one = 1;
	CHECK_OK(pwrite(fd, &one, 4, 0));
	CHECK_OK(ftruncate(fd, PAGE));

	struct changer c = {.page = m + 2 * PAGE, .fd = fd, .step = 0};
	pthread_t t;
	pthread_create(&t, NULL, change_backing, &c);
	RUN_EXPECT_OUT(&v, 0x10);   /* saw the new page */
	pthread_join(t, NULL);
	c.step = 1;
	pthread_create(&t, NULL, change_backing, &c);
	RUN_EXPECT_OUT(&v, 0x11);   /* saw the zero page */
	pthread_join(t, NULL);
	close(fd);
	vcpu_fini(&v);
	vm_fini(&vm);
}

int main(void)
{
	RUN_CASE(backing_changes_seen);
	RUN_CASE(changes_seen_by_running_guest);
	return t_done();
}
