/* softkvm-vmm: a small reference VMM written as an ordinary KVM program.
 * It runs one x86 vCPU on a flat guest image with a 16550 UART and a
 * debug-exit port, in the style of kvmtool: one file per concern. */
#ifndef VMM_H
#define VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "vmmlib.h"

/* Exit status of the VMM when the guest did not end by itself (triple
 * fault, entry failure, KVM error); a guest status is 0..255 otherwise. */
#define VMM_STATUS_ERROR 125
#define VMM_STATUS_TIMEOUT 124

/* The flat image is loaded here and entered in real mode at CS:IP =
 * (VMM_LOAD_ADDR >> 4):0 (see guests/x86/demo/README.md). */
#define VMM_LOAD_ADDR 0x10000

#define VMM_MAX_PIO_DEVICES 8

struct vmm;

/* A port-I/O device: handles one access of `size` bytes at `port`. */
typedef void (*pio_handler)(struct vmm *vmm, void *opaque, uint16_t port,
			    bool is_write, uint8_t *data, unsigned size);

struct pio_device {
	const char *name;
	uint16_t base;
	uint16_t len;
	pio_handler handle;
	void *opaque;
	uint64_t accesses;
};

struct vmm {
	int kvm_fd;
	int vm_fd;
	int vcpu_fd;
	struct kvm_run *run;
	size_t run_size;

	uint8_t *mem;
	size_t mem_size;

	struct pio_device pio[VMM_MAX_PIO_DEVICES];
	unsigned npio;

	struct vmm_exit_stats stats;
	uint64_t pio_unclaimed;
	bool quiet;
	bool done;
	int status;
};

/* kvm.c: the VM, its memory and its one vCPU. 0 or -1 (message printed). */
int vmm_kvm_init(struct vmm *vmm, size_t mem_size);
void vmm_kvm_destroy(struct vmm *vmm);

/* loader.c: copy a flat image into guest memory at addr. */
int vmm_load_flat(struct vmm *vmm, const char *path, uint64_t addr);

/* boot.c: put the vCPU in real mode at CS:IP = (addr >> 4):0. */
int vmm_boot_real_mode(struct vmm *vmm, uint64_t addr);

/* run.c: KVM_RUN until the guest ends (or a stop signal, vmmlib.h);
 * returns the exit status. */
int vmm_run(struct vmm *vmm);
void vmm_dump_state(struct vmm *vmm);

/* ioport.c: the port-I/O bus. */
int pio_register(struct vmm *vmm, const char *name, uint16_t base,
		 uint16_t len, pio_handler handle, void *opaque);
void pio_dispatch(struct vmm *vmm, uint16_t port, bool is_write,
		  uint8_t *data, unsigned size);

/* Devices. */
int uart_init(struct vmm *vmm);
void uart_flush(void);
int exitdev_init(struct vmm *vmm);

/* stats.c */
void stats_print(const struct vmm *vmm);

#endif
