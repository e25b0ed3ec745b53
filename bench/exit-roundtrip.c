/* Exit round-trip benchmark, an ordinary KVM program: a real-mode guest
 * loops on one exiting instruction and the host times N round trips
 * (guest exit -> KVM_RUN returns -> KVM_RUN re-enters), checking every exit.
 *
 *   exit-roundtrip [-n N] [--short]
 *
 * Prints one line per kind, then "pio_exit_ns=... mmio_exit_ns=...
 * hlt_exit_ns=...". Exit status 0 if every exit was the expected one.
 * Run it on softkvm with: softkvm -- exit-roundtrip (or `ninja bench`).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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

#define MEM_SIZE   0x10000	/* one slot, gpa 0..64K */
#define CODE_ADDR  0x1000
#define BENCH_PORT 0x510
#define MMIO_ADDR  0x10000	/* first byte past the slot */

struct exit_kind {
	const char *name;
	const uint8_t *code;
	size_t code_len;
	uint32_t exit_reason;
};

/* out %al,(%dx) with al counting up, so the data of each exit is known. */
static const uint8_t pio_code[] = {
	0xba, 0x10, 0x05,	/* mov $BENCH_PORT, %dx */
	0x30, 0xc0,		/* xor %al, %al */
	0xee,			/* 1: out %al, (%dx) */
	0xfe, 0xc0,		/* inc %al */
	0xeb, 0xfb,		/* jmp 1b */
};

/* mov %al,(%bx) at DS:BX = 1000:0000 = MMIO_ADDR, al counting up. */
static const uint8_t mmio_code[] = {
	0xb8, 0x00, 0x10,	/* mov $0x1000, %ax */
	0x8e, 0xd8,		/* mov %ax, %ds */
	0x31, 0xdb,		/* xor %bx, %bx */
	0x30, 0xc0,		/* xor %al, %al */
	0x88, 0x07,		/* 1: mov %al, (%bx) */
	0xfe, 0xc0,		/* inc %al */
	0xeb, 0xfa,		/* jmp 1b */
};

/* hlt: without an in-kernel irqchip each one exits to userspace. */
static const uint8_t hlt_code[] = {
	0xf4,			/* 1: hlt */
	0xeb, 0xfd,		/* jmp 1b */
};

static const struct exit_kind kinds[] = {
	{ "pio", pio_code, sizeof(pio_code), KVM_EXIT_IO },
	{ "mmio", mmio_code, sizeof(mmio_code), KVM_EXIT_MMIO },
	{ "hlt", hlt_code, sizeof(hlt_code), KVM_EXIT_HLT },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

struct vm {
	int kvm, vm, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
};

static int die(const char *what)
{
	fprintf(stderr, "exit-roundtrip: %s: %s\n", what, strerror(errno));
	return -1;
}

static int vm_create(struct vm *v, const struct exit_kind *k)
{
	*v = (struct vm){ .kvm = -1, .vm = -1, .vcpu = -1 };
	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		return die("/dev/kvm");
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		return die("KVM_CREATE_VM");
	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED) {
		v->mem = NULL;
		return die("mmap");
	}
	memcpy(v->mem + CODE_ADDR, k->code, k->code_len);
	struct kvm_userspace_memory_region slot = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)v->mem,
	};
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return die("KVM_SET_USER_MEMORY_REGION");
	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		return die("KVM_CREATE_VCPU");
	int size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return die("KVM_GET_VCPU_MMAP_SIZE");
	v->run_size = (size_t)size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->vcpu, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return die("mmap kvm_run");
	}

	struct kvm_sregs sregs;
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return die("KVM_GET_SREGS");
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0)
		return die("KVM_SET_SREGS");
	struct kvm_regs regs = { .rip = CODE_ADDR, .rflags = 0x2 };
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0)
		return die("KVM_SET_REGS");
	return 0;
}

static void vm_destroy(struct vm *v)
{
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->vcpu >= 0)
		close(v->vcpu);
	if (v->vm >= 0)
		close(v->vm);
	if (v->mem)
		munmap(v->mem, MEM_SIZE);
	if (v->kvm >= 0)
		close(v->kvm);
}

/* Is this exit number i of kind k, exactly as the guest loop makes it? */
static bool exit_ok(const struct kvm_run *run, const struct exit_kind *k,
		    uint64_t i)
{
	uint8_t expect = (uint8_t)i;

	if (run->exit_reason != k->exit_reason)
		return false;
	switch (k->exit_reason) {
	case KVM_EXIT_IO:
		return run->io.direction == KVM_EXIT_IO_OUT &&
		       run->io.port == BENCH_PORT && run->io.size == 1 &&
		       run->io.count == 1 &&
		       ((const uint8_t *)run)[run->io.data_offset] == expect;
	case KVM_EXIT_MMIO:
		return run->mmio.is_write && run->mmio.len == 1 &&
		       run->mmio.phys_addr == MMIO_ADDR &&
		       run->mmio.data[0] == expect;
	default:
		return true;
	}
}

static int run_exits(struct vm *v, const struct exit_kind *k,
		     uint64_t first, uint64_t n)
{
	for (uint64_t i = first; i < first + n; i++) {
		if (ioctl(v->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR) {
				i--;
				continue;
			}
			return die("KVM_RUN");
		}
		if (!exit_ok(v->run, k, i)) {
			fprintf(stderr, "exit-roundtrip: %s: exit %llu is reason "
				"%u, not the expected one\n", k->name,
				(unsigned long long)i, v->run->exit_reason);
			return -1;
		}
	}
	return 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Returns ns per round trip, or a negative value on failure. */
static double bench_kind(const struct exit_kind *k, uint64_t warmup,
			 uint64_t n)
{
	struct vm v;
	double ns = -1;

	if (vm_create(&v, k) == 0 && run_exits(&v, k, 0, warmup) == 0) {
		double t0 = now_ns();
		if (run_exits(&v, k, warmup, n) == 0)
			ns = (now_ns() - t0) / (double)n;
	}
	vm_destroy(&v);
	return ns;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: exit-roundtrip [-n N] [--short]\n"
		"Time N guest exit round trips of each kind (PIO write, MMIO\n"
		"write, HLT) on /dev/kvm, checking each exit.\n"
		"  -n N       round trips per kind (default 200000)\n"
		"  --short    1000 round trips: a correctness check, not a timing\n");
}

int main(int argc, char **argv)
{
	uint64_t n;
	int st = bench_options(argc, argv, 200000, 1000, UINT64_MAX, usage, &n);
	if (st >= 0)
		return st;

	double ns[NKINDS];
	int failed = 0;
	for (size_t i = 0; i < NKINDS; i++) {
		ns[i] = bench_kind(&kinds[i], n / 10 + 1, n);
		if (ns[i] < 0) {
			failed = 1;
			printf("%-5s FAILED\n", kinds[i].name);
		} else {
			printf("%-5s %llu round trips, %.1f ns each\n",
			       kinds[i].name, (unsigned long long)n, ns[i]);
		}
	}
	for (size_t i = 0; i < NKINDS; i++)
		printf("%s%s_exit_ns=%.1f", i ? " " : "", kinds[i].name, ns[i]);
	printf("\n");
	return failed;
}
