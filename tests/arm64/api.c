/* The arm64 vCPU/VM API: capabilities, KVM_ARM_PREFERRED_TARGET,
 * KVM_ARM_VCPU_INIT validation, ONE_REG and KVM_GET_REG_LIST, MP state,
 * KVM_IRQ_LINE without an in-kernel irqchip, VM types. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "a64t.h"

static struct tvm vm;

static void caps(void)
{
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ONE_REG));
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_PSCI));
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_PSCI_0_2));
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_NISV_TO_USER));
	CHECK(ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_USER_IRQ) >= 1);
	CHECK_EQ(40, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE));
	CHECK_EQ(0, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_EL1_32BIT));
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_PMU_V3));   /* U5 */
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_MP_STATE));
	struct kvm_enable_cap cap = {.cap = KVM_CAP_ARM_NISV_TO_USER};
	CHECK_OK(ioctl(vm.fd, KVM_ENABLE_CAP, &cap));
}

static void vm_types(void)
{
	int fd;
	CHECK_ERRNO(ioctl(vm.kvm, KVM_CREATE_VM, VM_TYPE | 20), EINVAL);
	CHECK_ERRNO(ioctl(vm.kvm, KVM_CREATE_VM, VM_TYPE | 41), EINVAL);
	CHECK_ERRNO(ioctl(vm.kvm, KVM_CREATE_VM, VM_TYPE | 0x100), EINVAL);
	if (CHECK_OK(fd = ioctl(vm.kvm, KVM_CREATE_VM, VM_TYPE | 36)))
		close(fd);
}

static void init_rules(void)
{
	struct kvm_vcpu_init init;
	CHECK_OK(ioctl(vm.fd, KVM_ARM_PREFERRED_TARGET, &init));
	CHECK_EQ(KVM_ARM_TARGET_GENERIC_V8, init.target);
	CHECK_EQ(0, init.features[0]);
	int fd = ioctl(vm.fd, KVM_CREATE_VCPU, 0x12);
	CHECK(fd >= 0);
	uint64_t val;
	struct kvm_one_reg r = {.id = CORE_REG(regs.pc), .addr = (uintptr_t)&val};
	CHECK_ERRNO(ioctl(fd, KVM_GET_ONE_REG, &r), ENOEXEC);
	CHECK_ERRNO(ioctl(fd, KVM_RUN, 0), ENOEXEC);
	struct kvm_reg_list rl = {.n = 0};
	CHECK_ERRNO(ioctl(fd, KVM_GET_REG_LIST, &rl), ENOEXEC);

	struct kvm_vcpu_init bad = init;
	bad.target = KVM_ARM_TARGET_CORTEX_A53;
	CHECK_ERRNO(ioctl(fd, KVM_ARM_VCPU_INIT, &bad), EINVAL);
	bad = init;
	bad.features[0] = 1u << 8;   /* past KVM_ARM_VCPU_HAS_EL2 (7), the last one offered */
	CHECK_ERRNO(ioctl(fd, KVM_ARM_VCPU_INIT, &bad), ENOENT);
	bad = init;
	bad.features[1] = 1;
	CHECK_ERRNO(ioctl(fd, KVM_ARM_VCPU_INIT, &bad), ENOENT);
	bad = init;
	bad.features[0] = 1u << KVM_ARM_VCPU_EL1_32BIT;
	CHECK_ERRNO(ioctl(fd, KVM_ARM_VCPU_INIT, &bad), EINVAL);
	bad.features[0] = 1u << KVM_ARM_VCPU_SVE;   /* not emulated */
	CHECK_ERRNO(ioctl(fd, KVM_ARM_VCPU_INIT, &bad), EINVAL);
	init.features[0] = 1u << KVM_ARM_VCPU_PSCI_0_2;
	CHECK_OK(ioctl(fd, KVM_ARM_VCPU_INIT, &init));
	bad = init;
	bad.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	CHECK_ERRNO(ioctl(fd, KVM_ARM_VCPU_INIT, &bad), EINVAL);
	CHECK_OK(ioctl(fd, KVM_ARM_VCPU_INIT, &init));   /* same features: a reset */

	struct tvcpu v = {.fd = fd, .vm = &vm};
	CHECK_EQ(0, get_reg(&v, CORE_REG(regs.pc)));
	CHECK_EQ(0x3c5, get_reg(&v, CORE_REG(regs.pstate)));
	CHECK_EQ(0x80000102, get_reg(&v, SYS_REG(3, 0, 0, 0, 5)));   /* MPIDR of vcpu id 0x12 */
	CHECK_EQ(0x00c50078, get_reg(&v, SYS_REG(3, 0, 1, 0, 0)));   /* SCTLR_EL1 reset */
	CHECK_EQ(0x410fd083, get_reg(&v, SYS_REG(3, 0, 0, 0, 0)));   /* MIDR_EL1 */
	CHECK_EQ(0x10001, get_reg(&v, KVM_REG_ARM_PSCI_VERSION));
	CHECK_ERRNO(set_reg(&v, KVM_REG_ARM_PSCI_VERSION, 0), EINVAL);
	CHECK_OK(set_reg(&v, KVM_REG_ARM_PSCI_VERSION, 2));
	CHECK_EQ(2, get_reg(&v, KVM_REG_ARM_PSCI_VERSION));
	CHECK_ERRNO(set_reg(&v, CORE_REG(regs.pstate), 0x9), EINVAL);    /* EL2h */
	CHECK_ERRNO(set_reg(&v, CORE_REG(regs.pstate), 0x13), EINVAL);   /* AArch32 SVC */
	CHECK_OK(set_reg(&v, CORE_REG(regs.pstate), 0x3c4));
	CHECK_EQ(0x3c4, get_reg(&v, CORE_REG(regs.pstate)));
	CHECK_OK(set_reg(&v, CORE_REG(sp_el1), 0x1234));
	CHECK_OK(set_reg(&v, CORE_REG(regs.sp), 0x5678));
	CHECK_EQ(0x1234, get_reg(&v, CORE_REG(sp_el1)));
	CHECK_EQ(0x5678, get_reg(&v, CORE_REG(regs.sp)));

	/* sizes: fpsr is 32 bits, vregs 128; a wrong size is EINVAL */
	uint64_t fp_id = KVM_REG_ARM64 | KVM_REG_SIZE_U32 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(fp_regs.fpsr);
	r.id = fp_id;
	CHECK_OK(ioctl(fd, KVM_GET_ONE_REG, &r));
	r.id = CORE_REG(fp_regs.fpsr);
	CHECK_ERRNO(ioctl(fd, KVM_GET_ONE_REG, &r), EINVAL);
	__uint128_t q = ((__uint128_t)0x1122334455667788ull << 64) | 0x99aabbccddeeff00ull, q2 = 0;
	struct kvm_one_reg rq = {
		.id = KVM_REG_ARM64 | KVM_REG_SIZE_U128 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(fp_regs.vregs[3]),
		.addr = (uintptr_t)&q};
	CHECK_OK(ioctl(fd, KVM_SET_ONE_REG, &rq));
	rq.addr = (uintptr_t)&q2;
	CHECK_OK(ioctl(fd, KVM_GET_ONE_REG, &rq));
	CHECK(q == q2);
	r.id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | (0x99 << KVM_REG_ARM_COPROC_SHIFT);
	CHECK_ERRNO(ioctl(fd, KVM_GET_ONE_REG, &r), ENOENT);
	r.addr = 8;   /* a bad pointer */
	r.id = CORE_REG(regs.pc);
	CHECK_ERRNO(ioctl(fd, KVM_GET_ONE_REG, &r), EFAULT);

	/* the timer: CNT is settable and then counts on */
	CHECK_OK(set_reg(&v, KVM_REG_ARM_TIMER_CNT, 1000000));
	uint64_t cnt = get_reg(&v, KVM_REG_ARM_TIMER_CNT);
	CHECK(cnt >= 1000000 && cnt < 1000000 + 62500000ull);
	CHECK_OK(set_reg(&v, KVM_REG_ARM_TIMER_CVAL, 0x1234));
	CHECK_EQ(0x1234, get_reg(&v, KVM_REG_ARM_TIMER_CVAL));

	struct kvm_mp_state mp;
	CHECK_OK(ioctl(fd, KVM_GET_MP_STATE, &mp));
	CHECK_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);
	mp.mp_state = KVM_MP_STATE_HALTED;
	CHECK_ERRNO(ioctl(fd, KVM_SET_MP_STATE, &mp), EINVAL);
	close(fd);
}

static void reg_list(void)
{
	struct tvcpu v;
	CHECK_OK(tvcpu_create(&vm, &v, 1, 1u << KVM_ARM_VCPU_PSCI_0_2));
	struct kvm_reg_list hdr = {.n = 0};
	CHECK_ERRNO(ioctl(v.fd, KVM_GET_REG_LIST, &hdr), E2BIG);
	CHECK(hdr.n > 80);
	struct kvm_reg_list *l = calloc(1, sizeof(*l) + hdr.n * 8);
	l->n = hdr.n;
	CHECK_OK(ioctl(v.fd, KVM_GET_REG_LIST, l));
	CHECK_EQ(hdr.n, l->n);
	int bad = 0;
	for (uint64_t i = 0; i < l->n; i++) {
		__uint128_t buf = 0;
		struct kvm_one_reg r = {.id = l->reg[i], .addr = (uintptr_t)&buf};
		if (ioctl(v.fd, KVM_GET_ONE_REG, &r) < 0 || ioctl(v.fd, KVM_SET_ONE_REG, &r) < 0) {
			printf("reg %#llx: %s\n", (unsigned long long)l->reg[i], strerror(errno));
			bad++;
		}
	}
	CHECK_EQ(0, bad);
	free(l);

	struct tvcpu off;
	CHECK_OK(tvcpu_create(&vm, &off, 2, 1u << KVM_ARM_VCPU_POWER_OFF));
	struct kvm_mp_state mp;
	CHECK_OK(ioctl(off.fd, KVM_GET_MP_STATE, &mp));
	CHECK_EQ(KVM_MP_STATE_STOPPED, mp.mp_state);
	CHECK_EQ(0, get_reg(&off, KVM_REG_ARM_PSCI_VERSION));   /* PSCI 0.1 without the feature */
	mp.mp_state = KVM_MP_STATE_RUNNABLE;
	CHECK_OK(ioctl(off.fd, KVM_SET_MP_STATE, &mp));
	CHECK_OK(ioctl(off.fd, KVM_GET_MP_STATE, &mp));
	CHECK_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);
}

static void irq_line(void)
{
	struct kvm_irq_level l = {.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | 40, .level = 1};
	CHECK_ERRNO(ioctl(vm.fd, KVM_IRQ_LINE, &l), ENXIO);
	l.irq = (KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT) | (200 << KVM_ARM_IRQ_VCPU_SHIFT);
	CHECK_ERRNO(ioctl(vm.fd, KVM_IRQ_LINE, &l), EINVAL);
	l.irq = (KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT) | 2;
	CHECK_ERRNO(ioctl(vm.fd, KVM_IRQ_LINE, &l), EINVAL);
	l.irq = (KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT) | KVM_ARM_IRQ_CPU_IRQ;
	CHECK_OK(ioctl(vm.fd, KVM_IRQ_LINE, &l));
	l.level = 0;
	CHECK_OK(ioctl(vm.fd, KVM_IRQ_LINE, &l));
}

int main(void)
{
	if (tvm_create(&vm) < 0) {
		perror("vm");
		return 1;
	}
	RUN_CASE(caps);
	RUN_CASE(vm_types);
	RUN_CASE(init_rules);
	RUN_CASE(reg_list);
	RUN_CASE(irq_line);
	return t_done();
}
