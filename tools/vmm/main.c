/* softkvm-vmm: run a flat x86 guest image on KVM (or on softkvm). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "softkvm-config.h"
#include "vmm.h"

#define DEFAULT_MEM_SIZE (16ul << 20)
#define MAX_MEM_SIZE     (3ul << 30)	/* stay below the 32-bit PCI hole */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: softkvm-vmm [OPTIONS] IMAGE\n"
		"Run a flat x86 guest image, entered in real mode at %04x:0000\n"
		"(loaded at %#x), with a 16550 UART at 0x3f8 (output to stdout)\n"
		"and a debug-exit port at 0x501 (the byte written is the exit\n"
		"status). Prints a summary of exits by kind on stderr.\n"
		"\n"
		"  -m, --mem SIZE   guest memory, bytes with optional K/M/G suffix,\n"
		"                   a bare number is MiB (default 16M)\n"
		"  -q, --quiet      no exit summary\n"
		"  -t, --timeout S  stop the guest after S seconds (status %d)\n"
		"  -h, --help       this text\n"
		"  -V, --version    print the version\n"
		"\n"
		"Exit status: the guest's status byte; 0 if it halts; %d if the\n"
		"VMM fails or the guest crashes (triple fault, KVM error);\n"
		"128 + N when stopped by signal N.\n",
		VMM_LOAD_ADDR >> 4, VMM_LOAD_ADDR, VMM_STATUS_TIMEOUT,
		VMM_STATUS_ERROR);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	static struct vmm vmm;
	size_t mem_size = DEFAULT_MEM_SIZE;
	unsigned long timeout_s = 0;
	int c;

	while ((c = getopt_long(argc, argv, "m:qt:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (vmm_parse_size(optarg, MAX_MEM_SIZE, &mem_size) < 0 ||
			    mem_size < 2 * VMM_LOAD_ADDR || mem_size % 4096) {
				fprintf(stderr, "softkvm-vmm: bad memory size '%s' "
					"(a multiple of 4K, at least 128K, at most "
					"3G)\n", optarg);
				return VMM_STATUS_ERROR;
			}
			break;
		case 'q':
			vmm.quiet = true;
			break;
		case 't':
			if (vmm_parse_timeout(optarg, &timeout_s) < 0) {
				fprintf(stderr, "softkvm-vmm: bad timeout '%s'\n",
					optarg);
				return VMM_STATUS_ERROR;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("softkvm-vmm %s\n", SOFTKVM_VERSION);
			return 0;
		default:
			usage(stderr);
			return VMM_STATUS_ERROR;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return VMM_STATUS_ERROR;
	}

	int status = VMM_STATUS_ERROR;
	if (vmm_kvm_init(&vmm, mem_size) == 0 &&
	    vmm_load_flat(&vmm, argv[optind], VMM_LOAD_ADDR) == 0 &&
	    vmm_boot_real_mode(&vmm, VMM_LOAD_ADDR) == 0 &&
	    uart_init(&vmm) == 0 && exitdev_init(&vmm) == 0 &&
	    vmm_catch_stop_signals("softkvm-vmm", vmm.run, timeout_s) == 0) {
		status = vmm_run(&vmm);
		if (!vmm.quiet)
			stats_print(&vmm);
	}
	vmm_kvm_destroy(&vmm);
	return status;
}
