/* softkvm-vmm: run a flat x86 guest image on KVM (or on softkvm). */
#include <stdio.h>

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
	static struct vmm vmm;
	struct vmm_args a = {
		.prog = "softkvm-vmm", .usage = usage,
		.mem_min = 2 * VMM_LOAD_ADDR, .mem_max = MAX_MEM_SIZE,
		.error_status = VMM_STATUS_ERROR, .mem_size = DEFAULT_MEM_SIZE,
	};
	vmm_getopt(&a, argc, argv, "", NULL);   /* no options of its own */
	if (a.exit >= 0)
		return a.exit;
	vmm.quiet = a.quiet;

	int status = VMM_STATUS_ERROR;
	if (vmm_kvm_init(&vmm, a.mem_size) == 0 &&
	    vmm_load_flat(&vmm, a.image, VMM_LOAD_ADDR) == 0 &&
	    vmm_boot_real_mode(&vmm, VMM_LOAD_ADDR) == 0 &&
	    uart_init(&vmm) == 0 && exitdev_init(&vmm) == 0 &&
	    vmm_catch_stop_signals(a.prog, vmm.run, a.timeout_s) == 0) {
		status = vmm_run(&vmm);
		if (!vmm.quiet)
			stats_print(&vmm);
	}
	vmm_kvm_destroy(&vmm);
	return status;
}
