/* KVM_EXIT_MMIO fields and completion, KVM_EXIT_ARM_NISV / ENOSYS, writes
 * to a read-only memslot (guests/arm64/mmio.c runs the other side). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "a64t.h"

#define DEV 0x0a000000ull

static struct tvcpu v;

/* The next exit that is not the port's. */
static int next_exit(void)
{
	for (;;) {
		int handled;
		int r = run_once(&v, &handled);
		if (!handled)
			return r;
	}
}

static void expect_mmio(bool write, uint64_t addr, unsigned len, uint64_t data)
{
	int r = next_exit();
	CHECK_EQ(KVM_EXIT_MMIO, r);
	if (r != KVM_EXIT_MMIO)
		return;
	CHECK_EQ(write, v.run->mmio.is_write);
	CHECK_EQ(addr, v.run->mmio.phys_addr);
	CHECK_EQ(len, v.run->mmio.len);
	if (write) {
		uint64_t d = 0;
		memcpy(&d, v.run->mmio.data, len);
		CHECK_EQ(data, d);
	} else {
		memcpy(v.run->mmio.data, &data, len);
	}
}

int main(int argc, char **argv)
{
	struct tvm vm;
	if (argc < 2 || tvm_create(&vm) < 0 || load_guest(&vm, argv[1]) < 0 ||
	    tvcpu_create(&vm, &v, 0, 1u << KVM_ARM_VCPU_PSCI_0_2) < 0) {
		perror("setup");
		return 1;
	}
	uint64_t *rom = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rom[1] = 0xabcdef;
	struct kvm_userspace_memory_region r = {
		.slot = 1, .flags = KVM_MEM_READONLY, .guest_phys_addr = 0x0b000000,
		.memory_size = 4096, .userspace_addr = (uintptr_t)rom,
	};
	CHECK_OK(ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &r));
	set_reg(&v, CORE_REG(regs.pc), RAM_GPA);

	/* A5: single loads/stores with a valid syndrome: KVM_EXIT_MMIO with the
	 * size, direction, sign extension and register of the syndrome */
	expect_mmio(true, DEV, 4, 0xdeadbeef);
	expect_mmio(false, DEV + 1, 1, 0x80);
	expect_mmio(false, DEV + 2, 2, 0x8001);
	expect_mmio(false, DEV + 8, 8, 0x1122334455667788ull);
	expect_mmio(false, DEV, 1, 0xff);

	/* A6: LDP: no valid syndrome. Without KVM_CAP_ARM_NISV_TO_USER: ENOSYS. */
	CHECK_EQ(-ENOSYS, next_exit());
	uint64_t pc = get_reg(&v, CORE_REG(regs.pc));
	struct kvm_enable_cap cap = {.cap = KVM_CAP_ARM_NISV_TO_USER};
	CHECK_OK(ioctl(vm.fd, KVM_ENABLE_CAP, &cap));
	CHECK_EQ(KVM_EXIT_ARM_NISV, next_exit());
	CHECK_EQ(DEV, v.run->arm_nisv.fault_ipa);
	CHECK_EQ(0x05, v.run->arm_nisv.esr_iss);   /* a read; stage-2 translation fault, level 1 */
	CHECK_EQ(pc, get_reg(&v, CORE_REG(regs.pc)));  /* not skipped */
	/* A7: the VMM emulates the LDP and moves on */
	set_reg(&v, CORE_REG(regs.regs[6]), 0x66);
	set_reg(&v, CORE_REG(regs.regs[7]), 0x77);
	set_reg(&v, CORE_REG(regs.pc), pc + 4);

	/* STR post-index: writeback, so no syndrome either */
	CHECK_EQ(KVM_EXIT_ARM_NISV, next_exit());
	CHECK_EQ(DEV, v.run->arm_nisv.fault_ipa);
	CHECK_EQ(0x45, v.run->arm_nisv.esr_iss);   /* WnR */
	set_reg(&v, CORE_REG(regs.pc), get_reg(&v, CORE_REG(regs.pc)) + 4);

	/* a write to the read-only slot is an MMIO exit */
	expect_mmio(true, 0x0b000010, 8, 0x55);

	int e = run_guest(&v);
	CHECK_EQ(KVM_EXIT_SYSTEM_EVENT, e);
	CHECK_EQ(9, v.checks);
	CHECK_EQ(0, rom[2]);
	return t_done();
}
