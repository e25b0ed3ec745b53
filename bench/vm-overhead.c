/* Memory overhead per VM and per vCPU, an ordinary KVM program.
 *
 *   vm-overhead [-n N] [--short]
 *
 * Creates N VMs (no memory, no vCPU), then N vCPUs in one more VM with
 * their kvm_run mapped and read as a VMM would, and reads VmRSS from
 * /proc/self/status before and after each batch. A first VM with one vCPU
 * is made beforehand so that one-time setup is not counted. Last line:
 * "vm_kib=... vcpu_kib=...".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "benchopt.h"

#define MAX_N 1024

static int die(const char *what)
{
	fprintf(stderr, "vm-overhead: %s: %s\n", what, strerror(errno));
	return -1;
}

/* VmRSS in KiB, or -1. */
static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static int add_vcpu(int kvm, int vm, int id)
{
	int fd = ioctl(vm, KVM_CREATE_VCPU, id);
	int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);

	if (fd < 0)
		return die("KVM_CREATE_VCPU");
	if (size <= 0)
		return die("KVM_GET_VCPU_MMAP_SIZE");
	volatile struct kvm_run *run = mmap(NULL, (size_t)size,
		PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (run == MAP_FAILED)
		return die("mmap kvm_run");
	(void)run->exit_reason;
	return fd;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vm-overhead [-n N] [--short]\n"
		"RSS growth per VM and per vCPU, over N of each.\n"
		"  -n N       VMs and vCPUs to create (default 64, at most %d)\n"
		"  --short    4 of each: a correctness check\n", MAX_N);
}

int main(int argc, char **argv)
{
	uint64_t nn;
	int st = bench_options(argc, argv, 64, 4, MAX_N, usage, &nn);
	if (st >= 0)
		return st;
	long n = (long)nn;

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return die("/dev/kvm"), 1;
	long max = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max > 0 && n > max - 1)
		n = max - 1;

	int warm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (warm < 0 || add_vcpu(kvm, warm, 0) < 0)
		return die("warm-up VM"), 1;

	long r0 = rss_kib();
	for (long i = 0; i < n; i++)
		if (ioctl(kvm, KVM_CREATE_VM, 0) < 0)
			return die("KVM_CREATE_VM"), 1;
	long r1 = rss_kib();

	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return die("KVM_CREATE_VM"), 1;
	long r2 = rss_kib();
	for (long i = 0; i < n; i++)
		if (add_vcpu(kvm, vm, (int)i) < 0)
			return 1;
	long r3 = rss_kib();
	if (r0 < 0 || r3 < 0) {
		fprintf(stderr, "vm-overhead: no VmRSS in /proc/self/status\n");
		return 1;
	}

	double vm_kib = (double)(r1 - r0) / (double)n;
	double vcpu_kib = (double)(r3 - r2) / (double)n;
	printf("%ld VMs: RSS %ld -> %ld KiB; %ld vCPUs: RSS %ld -> %ld KiB\n",
	       n, r0, r1, n, r2, r3);
	printf("vm_kib=%.1f vcpu_kib=%.1f\n", vm_kib, vcpu_kib);
	return 0;
}
