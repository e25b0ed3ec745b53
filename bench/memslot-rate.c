/* Memslot update and dirty-log harvest rates, an ordinary KVM program.
 *
 *   memslot-rate [-n N] [--short]
 *
 * One 1 GiB slot backed by MAP_NORESERVE anonymous memory (never touched,
 * so it costs nothing). Times N KVM_SET_USER_MEMORY_REGION updates of each
 * kind: toggles of KVM_MEM_LOG_DIRTY_PAGES, moves of the slot between two
 * guest addresses, and the two alternating; then N KVM_GET_DIRTY_LOG
 * harvests of the logged slot (a 32 KiB bitmap each). Last two lines:
 * "log_toggle_per_s=... move_per_s=..." and
 * "memslot_updates_per_s=... dirty_log_per_s=...".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "benchopt.h"

#define SLOT_SIZE   (1ull << 30)
#define GPA_A       (1ull << 32)
#define GPA_B       (2ull << 32)
#define PAGE_SIZE   4096
#define BITMAP_SIZE (SLOT_SIZE / PAGE_SIZE / 8)

static int die(const char *what)
{
	fprintf(stderr, "memslot-rate: %s: %s\n", what, strerror(errno));
	return -1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int set_slot(int vm, void *mem, uint64_t gpa, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = SLOT_SIZE, .userspace_addr = (uintptr_t)mem,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
}

enum update_kind { TOGGLE = 1, MOVE = 2, BOTH = 3 };

/* One update: toggle dirty logging or move the slot; BOTH alternates. */
static int update(int vm, void *mem, enum update_kind kind, uint64_t i,
		  uint64_t *gpa, uint32_t *flags)
{
	if (kind == MOVE || (kind == BOTH && (i & 1)))
		*gpa = *gpa == GPA_A ? GPA_B : GPA_A;
	else
		*flags ^= KVM_MEM_LOG_DIRTY_PAGES;
	return set_slot(vm, mem, *gpa, *flags);
}

static double updates_per_s(int vm, void *mem, enum update_kind kind,
			    uint64_t n)
{
	uint64_t gpa = GPA_A;
	uint32_t flags = KVM_MEM_LOG_DIRTY_PAGES;
	double t0 = now_s();

	for (uint64_t i = 0; i < n; i++)
		if (update(vm, mem, kind, i, &gpa, &flags) < 0)
			return die("KVM_SET_USER_MEMORY_REGION (update)");
	double dt = now_s() - t0;
	/* Back to logged at GPA_A for what comes next. */
	if (set_slot(vm, mem, GPA_A, KVM_MEM_LOG_DIRTY_PAGES) < 0)
		return die("KVM_SET_USER_MEMORY_REGION (reset)");
	return (double)n / dt;
}

static double harvests_per_s(int vm, uint64_t n)
{
	static uint64_t bitmap[BITMAP_SIZE / 8];
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = bitmap };
	double t0 = now_s();

	for (uint64_t i = 0; i < n; i++) {
		if (ioctl(vm, KVM_GET_DIRTY_LOG, &log) < 0)
			return die("KVM_GET_DIRTY_LOG");
		/* Nothing ran, so nothing may be dirty. */
		if (bitmap[i % (BITMAP_SIZE / 8)]) {
			fprintf(stderr, "memslot-rate: page dirty without a "
				"vCPU\n");
			return -1;
		}
	}
	return (double)n / (now_s() - t0);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: memslot-rate [-n N] [--short]\n"
		"Time N memslot updates (dirty-log toggles and moves) and N\n"
		"dirty-log harvests on a 1 GiB slot.\n"
		"  -n N       operations of each kind (default 20000)\n"
		"  --short    200 of each: a correctness check, not a timing\n");
}

int main(int argc, char **argv)
{
	uint64_t n;
	int st = bench_options(argc, argv, 20000, 200, UINT64_MAX, usage, &n);
	if (st >= 0)
		return st;

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return die("/dev/kvm"), 1;
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return die("KVM_CREATE_VM"), 1;
	void *mem = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return die("mmap 1 GiB"), 1;
	if (set_slot(vm, mem, GPA_A, KVM_MEM_LOG_DIRTY_PAGES) < 0)
		return die("KVM_SET_USER_MEMORY_REGION"), 1;

	double tg = updates_per_s(vm, mem, TOGGLE, n);
	double mv = tg < 0 ? -1 : updates_per_s(vm, mem, MOVE, n);
	double up = mv < 0 ? -1 : updates_per_s(vm, mem, BOTH, n);
	double dl = up < 0 ? -1 : harvests_per_s(vm, n);
	if (up < 0 || dl < 0)
		return 1;
	printf("log toggles %llu, %.0f per second (%.2f us each)\n",
	       (unsigned long long)n, tg, 1e6 / tg);
	printf("moves    %llu, %.0f per second (%.2f us each)\n",
	       (unsigned long long)n, mv, 1e6 / mv);
	printf("updates  %llu, %.0f per second (%.2f us each), alternating\n",
	       (unsigned long long)n, up, 1e6 / up);
	printf("harvests %llu, %.0f per second (%.2f us each)\n",
	       (unsigned long long)n, dl, 1e6 / dl);
	printf("log_toggle_per_s=%.0f move_per_s=%.0f\n", tg, mv);
	printf("memslot_updates_per_s=%.0f dirty_log_per_s=%.0f\n", up, dl);
	close(vm);
	munmap(mem, SLOT_SIZE);
	close(kvm);
	return 0;
}
