/* Helpers for the arm64 tests: ordinary KVM users written against arm64's
 * <linux/kvm.h>. On an x86-64 host they create their VMs with
 * SOFTKVM_VM_ARM64 (softkvm's way to offer arm64 guests there); on an
 * arm64 host the type is the plain arm64 one. */
#ifndef A64T_H
#define A64T_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "../t.h"

#define RAM_GPA 0x40000000ull
#define RAM_SIZE (32ull << 20)
#define PORT_GPA 0x09000000ull

#ifdef __x86_64__
#define VM_TYPE 0x01000000UL   /* SOFTKVM_VM_ARM64 */
#else
#define VM_TYPE 0UL
#endif

#define CORE_REG(x) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(x))
#define SYS_REG(op0, op1, crn, crm, op2) ARM64_SYS_REG(op0, op1, crn, crm, op2)

struct tvm {
	int kvm, fd;
	uint8_t *ram;
};

struct tvcpu {
	int fd;
	struct kvm_run *run;
	struct tvm *vm;
	/* what the guest reported */
	int checks, fails;
	uint64_t values[64];
	int nvalues;
	uint64_t id, got;
};

int tvm_create(struct tvm *vm);
int tvcpu_create(struct tvm *vm, struct tvcpu *v, int id, uint32_t features);
int tvcpu_init(struct tvcpu *v, uint32_t features);
uint64_t get_reg(struct tvcpu *v, uint64_t id);
int set_reg(struct tvcpu *v, uint64_t id, uint64_t val);
/* Load a guest image (argv path) at the start of RAM; 0 or -1. */
int load_guest(struct tvm *vm, const char *path);
/* Run until the guest powers off (SYSTEM_EVENT) or something unexpected
 * happens; the port protocol of guests/arm64/lib.h is served. Returns the
 * last exit reason (KVM_EXIT_SYSTEM_EVENT on a clean end) or -1. */
int run_guest(struct tvcpu *v);
/* One KVM_RUN with the port protocol served; returns the exit reason, or
 * -errno when KVM_RUN failed. MMIO to the port is completed here. */
int run_once(struct tvcpu *v, int *handled);

#endif
