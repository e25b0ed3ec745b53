/* softkvm-vmm-arm64: a small reference VMM for arm64, written as an
 * ordinary arm64 KVM program (it runs on real arm64 KVM unchanged). One
 * vCPU, RAM at 0x40000000, a raw image entered like an arm64 Linux Image,
 * a PL011 UART at QEMU virt's address. One file per concern. */
#ifndef VMM_ARM64_H
#define VMM_ARM64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "vmmlib.h"

#define VMM_STATUS_ERROR 125
#define VMM_STATUS_TIMEOUT 124

/* QEMU virt's memory map, so that one image runs on both. */
#define VMM_RAM_BASE 0x40000000ull
#define VMM_IMAGE_OFFSET 0x80000ull	/* arm64 Linux boot protocol */
#define VMM_PL011_BASE 0x09000000ull
#define VMM_PL011_SIZE 0x1000ull
#define VMM_EXIT_BASE 0x09010000ull	/* QEMU virt: the PL031's DR */
#define VMM_EXIT_SIZE 0x4ull

#define VMM_SCRATCH_BASE 0x09020000ull	/* the nisv flow's device */
#define VMM_SCRATCH_SIZE 0x80ull

#define VMM_POISON_GPA 0x40200000ull	/* the sea flow's two poisoned pages */

#define VMM_MAX_MMIO_DEVICES 4

struct vmm;

/* An MMIO device: one access of `len` bytes at `offset` into its window. */
typedef void (*mmio_handler)(struct vmm *vmm, uint64_t offset, bool is_write,
			     uint8_t *data, unsigned len);

struct mmio_device {
	const char *name;
	uint64_t base;
	uint64_t size;
	mmio_handler handle;
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

	struct mmio_device mmio[VMM_MAX_MMIO_DEVICES];
	unsigned nmmio;

	struct vmm_exit_stats stats;
	uint64_t mmio_unclaimed;
	bool quiet;
	bool done;
	int status;
	int guest_status;	/* last byte written to the exit register */

	/* The seed flows (--flow NAME), see flows.c. */
	const char *flow;
	bool user_irq;		/* vtimer: userirq.c is the interrupt controller */
	bool irq_level;		/* the vCPU's IRQ line as last set */
	unsigned irq_rises;
	unsigned nisv_emulated;	/* nisv: instructions the VMM completed */
	unsigned nisv_aborted;	/* nisv: external aborts injected */
	bool sea;		/* sea: SIGBUS on KVM_RUN becomes an SEA */
	unsigned sea_injected;
};

/* kvm.c: the VM, its RAM and its one vCPU. 0, or -1 (message printed). */
int vmm_kvm_init(struct vmm *vmm, size_t mem_size);
int vmm_set_reg(struct vmm *vmm, uint64_t id, uint64_t val);
int vmm_get_reg(struct vmm *vmm, uint64_t id, uint64_t *val);
int vmm_inject_ext_dabt(struct vmm *vmm);

/* linux.c: --linux, the GICv3 and the device tree; *dtb its address. */
int linux_setup(struct vmm *vmm, const char *initrd, const char *cmdline, uint64_t *dtb);
uint64_t vmm_core_reg_id(size_t offset);

/* loader.c: the image into RAM; *entry is where it was put. */
int vmm_load_image(struct vmm *vmm, const char *path, uint64_t *entry);

/* boot.c: the vCPU's registers for the arm64 Linux boot protocol. */
int vmm_boot(struct vmm *vmm, uint64_t entry, uint64_t dtb);

/* mmio.c: the bus. */
int mmio_register(struct vmm *vmm, const char *name, uint64_t base,
		  uint64_t size, mmio_handler handle);
void mmio_dispatch(struct vmm *vmm);
struct mmio_device *mmio_find(struct vmm *vmm, uint64_t addr);
/* One access by the VMM itself; false if no device claims addr. */
bool mmio_access(struct vmm *vmm, uint64_t addr, bool is_write,
		 uint8_t *data, unsigned len);

/* scratch.c: 16 read-back registers at VMM_SCRATCH_BASE. */
int scratch_init(struct vmm *vmm);

/* nisv.c: flow "nisv", KVM_EXIT_ARM_NISV emulated by the VMM. */
int nisv_init(struct vmm *vmm);
void nisv_handle(struct vmm *vmm);
void nisv_report(const struct vmm *vmm);

/* pl011.c: the UART. */
int pl011_init(struct vmm *vmm);

/* exitdev.c: the exit register. */
int exitdev_init(struct vmm *vmm);

/* run.c: KVM_RUN until the guest powers off or fails. */
int vmm_run(struct vmm *vmm, unsigned long timeout_s);

/* flows.c: the --flow table; 0 when none was asked for. */
int flow_init(struct vmm *vmm);
void flow_report(const struct vmm *vmm);

/* userirq.c: flow "vtimer", an interrupt controller in the VMM. */
int userirq_init(struct vmm *vmm);
int userirq_sync(struct vmm *vmm);
void userirq_report(const struct vmm *vmm);

/* sea.c: flow "sea", poisoned guest memory forwarded as an SEA. */
int sea_init(struct vmm *vmm);
int sea_after_eintr(struct vmm *vmm);
int sea_handle_exit(struct vmm *vmm);
void sea_report(const struct vmm *vmm);

/* stats.c */
void stats_print(const struct vmm *vmm);

#endif
