/* softkvm-vmm-arm64: run a raw arm64 guest image on KVM (or on softkvm). */
#include <stdio.h>

#include "vmm.h"

#define DEFAULT_MEM_SIZE (64ul << 20)
#define MIN_MEM_SIZE (1ul << 20)
#define MAX_MEM_SIZE (3ul << 30)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: softkvm-vmm-arm64 [OPTIONS] IMAGE\n"
		"Run a raw arm64 image with one vCPU, RAM at %#llx and a PL011\n"
		"UART at %#llx (output to stdout), as on QEMU's virt machine.\n"
		"An image with an arm64 Linux Image header is loaded at RAM +\n"
		"its text_offset (%#llx), any other at the RAM base; it is\n"
		"entered there in EL1h, DAIF masked, x0 = 0 (no DTB). PSCI 0.2\n"
		"through HVC; SYSTEM_OFF ends the run with the status byte last\n"
		"written to the exit register at %#llx (0 if none).\n"
		"Prints a summary of exits by kind on stderr.\n"
		"\n"
		"  -m, --mem SIZE   guest memory, bytes with optional K/M/G suffix,\n"
		"                   a bare number is MiB (default 64M)\n"
		"  -f, --flow NAME  drive a seed flow: vtimer (no GIC: the VMM\n"
		"                   feeds the vtimer's line back as the IRQ),\n"
		"                   nisv (LDP/STP to MMIO emulated by the VMM),\n"
		"                   sea (poisoned RAM: SIGBUS, then an SEA)\n"
		"  -L, --linux      boot a Linux Image: an in-kernel GICv3 and a\n"
		"                   device tree (x0) as on QEMU virt\n"
		"  -i, --initrd F   with --linux: the initrd\n"
		"  -a, --append S   with --linux: the kernel command line\n"
		"  -q, --quiet      no exit summary\n"
		"  -t, --timeout S  stop the guest after S seconds (status %d)\n"
		"  -h, --help       this text\n"
		"  -V, --version    print the version\n"
		"\n"
		"Exit status: the guest's; %d if the VMM fails or the guest\n"
		"crashes; 128 + N when stopped by signal N.\n",
		VMM_RAM_BASE, VMM_PL011_BASE, VMM_IMAGE_OFFSET, VMM_EXIT_BASE,
		VMM_STATUS_TIMEOUT, VMM_STATUS_ERROR);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "flow", required_argument, NULL, 'f' },
		{ "linux", no_argument, NULL, 'L' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ 0 },
	};
	static struct vmm vmm;
	struct vmm_args a = {
		.prog = "softkvm-vmm-arm64", .usage = usage,
		.mem_min = MIN_MEM_SIZE, .mem_max = MAX_MEM_SIZE,
		.error_status = VMM_STATUS_ERROR, .mem_size = DEFAULT_MEM_SIZE,
	};
	const char *initrd = NULL, *cmdline = NULL;
	bool linux_boot = false;
	int c;

	while ((c = vmm_getopt(&a, argc, argv, "f:Li:a:", opts))) {
		switch (c) {
		case 'f':
			vmm.flow = optarg;
			break;
		case 'L':
			linux_boot = true;
			break;
		case 'i':
			initrd = optarg;
			break;
		case 'a':
			cmdline = optarg;
			break;
		}
	}
	if (a.exit >= 0)
		return a.exit;
	vmm.quiet = a.quiet;
	if ((initrd || cmdline) && !linux_boot) {
		fprintf(stderr, "%s: --initrd and --append go with --linux\n", a.prog);
		return VMM_STATUS_ERROR;
	}

	uint64_t entry, dtb = 0;
	int status = VMM_STATUS_ERROR;
	if (vmm_kvm_init(&vmm, a.mem_size) == 0 &&
	    vmm_load_image(&vmm, a.image, &entry) == 0 &&
	    (!linux_boot || linux_setup(&vmm, initrd, cmdline, &dtb) == 0) &&
	    vmm_boot(&vmm, entry, dtb) == 0 && pl011_init(&vmm) == 0 &&
	    exitdev_init(&vmm) == 0 && flow_init(&vmm) == 0) {
		status = vmm_run(&vmm, a.timeout_s);
		flow_report(&vmm);
		if (!vmm.quiet)
			stats_print(&vmm);
	}
	return status;
}
