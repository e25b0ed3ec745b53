/* The one narrow seam between the kvm core and a CPU architecture.
 *
 * The core parses ioctls: it checks the fd kind, copies the argument in from
 * the caller (EFAULT on a bad pointer) into a kernel-side buffer sized by the
 * request number (or by `varlen` for structs with a trailing array), calls
 * the arch's handler from a table, and copies the result out. An arch
 * handler only sees a valid, already-copied struct and converts it to and
 * from its CPU state; it never dereferences a caller's pointer.
 */
#ifndef SK_ARCH_H
#define SK_ARCH_H

#include <stddef.h>
#include <stdint.h>

struct sk_vm;
struct sk_vcpu;

enum {
	SK_IOC_COPYOUT_ON_ERROR = 1u << 0, /* copy the header back even when fn fails (E2BIG nent) */
	SK_IOC_VALUE = 1u << 1,            /* arg is a value, not a pointer (_IO ioctls) */
	/* The struct is an input although the number says _IOR (KVM_SET_IRQCHIP
	 * and a few others were declared with the wrong direction). */
	SK_IOC_IN = 1u << 2,
};

/* obj is struct sk_vcpu * for vCPU tables, struct sk_vm * for VM tables and
 * NULL for system tables. karg is the kernel copy (or the value, cast). The
 * return value is the ioctl's (>= 0) or -errno. */
struct sk_ioctl {
	unsigned long cmd;
	long (*fn)(void *obj, void *karg);
	/* For a struct with a trailing array: given the fixed part already copied
	 * in, the whole size to copy (or SIZE_MAX for "too big": E2BIG). */
	size_t (*varlen)(const void *hdr);
	uint32_t flags;
};

/* A vCPU statistic (KVM_GET_STATS_FD) the core counts for the arch: one
 * more each time KVM_RUN returns to userspace with exit_reason reason
 * (SK_STAT_EVERY_EXIT: every return), under the name the arch's KVM uses. */
#define SK_STAT_EVERY_EXIT UINT32_MAX
struct sk_exit_stat {
	uint32_t reason;
	const char *name;
};

/* A device type KVM_CREATE_DEVICE can make (virt/kvm's kvm_device_ops).
 * The core owns the device fd (its references, close, dup) and copies the
 * struct kvm_device_attr in; the value behind attr->addr is the device's to
 * read or write (through kvm/uaccess.h). A device holds a reference to its
 * VM while any fd refers to it. */
struct sk_device_ops {
	uint32_t type;            /* KVM_DEV_TYPE_* */
	const char *name;
	/* Called with vm->lock held; 0 and *priv set, or -errno. */
	int (*create)(struct sk_vm *vm, uint32_t type, void **priv);
	/* The last fd is gone (the arch may keep the state until vm_destroy,
	 * as KVM keeps a device until its VM dies). May be NULL. */
	void (*release)(void *priv);
	/* attr is a struct kvm_device_attr; NULL accessors give EPERM. */
	int (*set_attr)(void *priv, const void *attr);
	int (*get_attr)(void *priv, const void *attr);
	int (*has_attr)(void *priv, const void *attr);
};

struct sk_arch_ops {
	const char *name;
	/* KVM_CHECK_EXTENSION answers of this arch; vm is NULL on the system fd.
	 * Returns the answer (0 = no) for any ext. */
	long (*check_extension)(struct sk_vm *vm, long ext);
	/* KVM_CREATE_VM's type: 0 or -EINVAL. */
	int (*vm_type_valid)(unsigned long type);
	int (*vm_init)(struct sk_vm *vm);
	void (*vm_destroy)(struct sk_vm *vm);
	/* KVM_ENABLE_CAP on a VM / vCPU (flags already checked to be 0). */
	int (*vm_enable_cap)(struct sk_vm *vm, const void *kvm_enable_cap);
	int (*vcpu_enable_cap)(struct sk_vcpu *vcpu, const void *kvm_enable_cap);
	int (*vcpu_init)(struct sk_vcpu *vcpu);   /* sets vcpu->arch_vcpu */
	void (*vcpu_destroy)(struct sk_vcpu *vcpu);
	/* KVM_RUN entry, after the signal mask is set: validate and load
	 * kvm_valid_regs/kvm_dirty_regs (sync regs), cr8 and the like from
	 * kvm_run. 0 or -errno (the run then ends with that error). */
	int (*vcpu_prepare)(struct sk_vcpu *vcpu);
	/* Finish an IO/MMIO exit from the data userspace left in kvm_run
	 * (the instruction retires). Called on KVM_RUN entry when io_pending,
	 * before immediate_exit and signals are looked at. Returns 0 when
	 * done, 1 when finishing it produced a new exit (filled in kvm_run;
	 * KVM_RUN returns 0 at once), or -errno. */
	int (*vcpu_complete_io)(struct sk_vcpu *vcpu);
	/* Run the guest until it needs userspace. Fills vcpu->run (exit_reason
	 * and the exit's fields) and returns 0, or returns -errno. Returns with
	 * exit_reason KVM_EXIT_INTR when SK_REQ_EXIT is seen. */
	int (*vcpu_run)(struct sk_vcpu *vcpu);
	/* Every return of KVM_RUN to userspace, whatever the outcome: the
	 * per-exit fields of kvm_run (x86: if_flag, cr8, apic_base,
	 * ready_for_interrupt_injection, flags; sync regs out). */
	void (*vcpu_post_run)(struct sk_vcpu *vcpu);
	/* Arch ioctl tables, each ended by an entry with cmd 0. */
	const struct sk_ioctl *sys_ioctls;
	const struct sk_ioctl *vm_ioctls;
	const struct sk_ioctl *vcpu_ioctls;
	/* KVM_ADDRESS_SPACE_NUM: memslot address spaces (0 counts as 1). */
	unsigned address_spaces;
	/* KVM_GET_VCPU_MMAP_SIZE in pages, and the pio data page (0 if none). */
	unsigned vcpu_mmap_pages;
	unsigned pio_page;
	/* KVM_CREATE_DEVICE's types, ended by NULL (NULL: none). */
	const struct sk_device_ops *const *devices;
	/* VM ioctls looked up when vm_ioctls has no entry (the in-kernel
	 * irqchip's: KVM_IRQFD, KVM_SET_GSI_ROUTING, KVM_SIGNAL_MSI). May be NULL. */
	const struct sk_ioctl *vm_irqchip_ioctls;
	/* Exit counters of the vCPU stats, ended by a NULL name (may be NULL). */
	const struct sk_exit_stat *exit_stats;
};

/* The architectures this build offers (SK_ARCH_X86 / SK_ARCH_ARM64 are
 * defined by the build for the arches compiled in). */
extern const struct sk_arch_ops sk_arch_x86;
extern const struct sk_arch_ops sk_arch_arm64;

/* The arch of VMs created by default on this host (and of the system fd). */
const struct sk_arch_ops *sk_arch_default(void);
/* The arch KVM_CREATE_VM's type asks for; strips softkvm's own type bits
 * (SOFTKVM_VM_ARM64 in softkvm.h) from *type. */
const struct sk_arch_ops *sk_arch_for_vm_type(unsigned long *type);

#endif
