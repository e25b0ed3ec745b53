/* KVM_GET_REG_LIST, ONE_REG and the vCPU attributes against Linux 6.1:
 * the list is exactly 6.1's for each vCPU configuration (base, PMU, EL2,
 * PMU+EL2), every listed register GETs and SETs back, what is not listed
 * is ENOENT; the AArch32 ID registers, the DEMUX CCSIDRs, the firmware
 * registers (workaround levels, the SMCCC service bitmaps: EINVAL for
 * unknown bits, EBUSY once a vCPU ran, a cleared service answers
 * NOT_SUPPORTED), the timer and PV-time vCPU attributes. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "a64t.h"

#define F(x) (1u << (x))
#define CORE_U128(x) (KVM_REG_ARM64 | KVM_REG_SIZE_U128 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(x))
#define CORE_U32(x) (KVM_REG_ARM64 | KVM_REG_SIZE_U32 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(x))
#define DEMUX(v) (KVM_REG_ARM64 | KVM_REG_SIZE_U32 | KVM_REG_ARM_DEMUX | KVM_REG_ARM_DEMUX_ID_CCSIDR | (v))
#ifndef KVM_ARM_VCPU_HAS_EL2
#define KVM_ARM_VCPU_HAS_EL2 7
#endif

struct ids {
	uint64_t v[512];
	unsigned n;
};

static void add(struct ids *s, uint64_t id)
{
	s->v[s->n++] = id;
}

static bool has(const uint64_t *v, unsigned n, uint64_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

/* Linux 6.1 on a host without SVE, pointer auth, MTE or AArch32. */
static void expected(struct ids *s, uint32_t features)
{
	s->n = 0;
	for (int i = 0; i < 31; i++)
		add(s, CORE_REG(regs.regs[i]));
	add(s, CORE_REG(regs.sp));
	add(s, CORE_REG(regs.pc));
	add(s, CORE_REG(regs.pstate));
	add(s, CORE_REG(sp_el1));
	add(s, CORE_REG(elr_el1));
	for (int i = 0; i < KVM_NR_SPSR; i++)
		add(s, CORE_REG(spsr[i]));
	for (int i = 0; i < 32; i++)
		add(s, CORE_U128(fp_regs.vregs[i]));
	add(s, CORE_U32(fp_regs.fpsr));
	add(s, CORE_U32(fp_regs.fpcr));
	for (int i = 0; i < 4; i++)
		add(s, KVM_REG_ARM_FW_REG(i));
	for (int i = 0; i < 3; i++)
		add(s, KVM_REG_ARM_FW_FEAT_BMAP_REG(i));
	add(s, KVM_REG_ARM_TIMER_CTL);
	add(s, KVM_REG_ARM_TIMER_CNT);
	add(s, KVM_REG_ARM_TIMER_CVAL);
	for (int crm = 0; crm < 16; crm++)
		for (int op2 = 4; op2 < 8; op2++)
			add(s, SYS_REG(2, 0, 0, crm, op2));
	static const uint16_t sys[][5] = {
		{2, 0, 0, 2, 0}, {2, 0, 0, 2, 2}, {2, 0, 1, 1, 4}, {2, 4, 0, 7, 0},
		{3, 0, 0, 0, 0}, {3, 0, 0, 0, 5}, {3, 0, 0, 0, 6},
		{3, 0, 1, 0, 0}, {3, 0, 1, 0, 1}, {3, 0, 1, 0, 2}, {3, 0, 2, 0, 0}, {3, 0, 2, 0, 1},
		{3, 0, 2, 0, 2}, {3, 0, 5, 1, 0}, {3, 0, 5, 1, 1}, {3, 0, 5, 2, 0}, {3, 0, 6, 0, 0},
		{3, 0, 7, 4, 0}, {3, 0, 10, 2, 0}, {3, 0, 10, 3, 0}, {3, 0, 12, 0, 0}, {3, 0, 12, 1, 1},
		{3, 0, 13, 0, 1}, {3, 0, 13, 0, 4}, {3, 0, 14, 1, 0}, {3, 1, 0, 0, 1}, {3, 1, 0, 0, 7},
		{3, 2, 0, 0, 0}, {3, 3, 0, 0, 1}, {3, 3, 13, 0, 2}, {3, 3, 13, 0, 3},
		{3, 4, 3, 0, 0}, {3, 4, 5, 0, 1}, {3, 4, 5, 3, 0},
	};
	for (unsigned i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		add(s, SYS_REG(sys[i][0], sys[i][1], sys[i][2], sys[i][3], sys[i][4]));
	for (int crm = 1; crm < 8; crm++)   /* the ID register space */
		for (int op2 = 0; op2 < 8; op2++)
			add(s, SYS_REG(3, 0, 0, crm, op2));
	for (int v = 0; v < 3; v++)         /* L1 D, L1 I, L2 */
		add(s, DEMUX(v));
	if (features & F(KVM_ARM_VCPU_PMU_V3)) {
		static const uint16_t pmu[][5] = {
			{3, 0, 9, 14, 1}, {3, 0, 9, 14, 2}, {3, 3, 9, 12, 0}, {3, 3, 9, 12, 1}, {3, 3, 9, 12, 2},
			{3, 3, 9, 12, 3}, {3, 3, 9, 12, 4}, {3, 3, 9, 12, 5}, {3, 3, 9, 13, 0}, {3, 3, 9, 14, 0},
			{3, 3, 9, 14, 3}, {3, 3, 14, 15, 7},
		};
		for (unsigned i = 0; i < sizeof(pmu) / sizeof(pmu[0]); i++)
			add(s, SYS_REG(pmu[i][0], pmu[i][1], pmu[i][2], pmu[i][3], pmu[i][4]));
		for (int n = 0; n < 31; n++) {
			add(s, SYS_REG(3, 3, 14, 8 + n / 8, n % 8));    /* PMEVCNTRn_EL0 */
			add(s, SYS_REG(3, 3, 14, 12 + n / 8, n % 8));   /* PMEVTYPERn_EL0 */
		}
	}
	if (features & F(KVM_ARM_VCPU_HAS_EL2)) {
		static const uint16_t el2[][5] = {
			{3, 4, 0, 0, 0}, {3, 4, 0, 0, 5}, {3, 4, 1, 0, 0}, {3, 4, 1, 0, 1}, {3, 4, 1, 1, 0},
			{3, 4, 1, 1, 1}, {3, 4, 1, 1, 2}, {3, 4, 1, 1, 3}, {3, 4, 1, 1, 7}, {3, 4, 2, 0, 0},
			{3, 4, 2, 0, 2}, {3, 4, 2, 1, 0}, {3, 4, 2, 1, 2}, {3, 4, 4, 0, 0}, {3, 4, 4, 0, 1},
			{3, 4, 5, 2, 0}, {3, 4, 6, 0, 0}, {3, 4, 6, 0, 4}, {3, 4, 10, 2, 0}, {3, 4, 12, 0, 0},
			{3, 4, 13, 0, 2}, {3, 4, 14, 0, 3}, {3, 4, 14, 1, 0}, {3, 6, 4, 1, 0},
		};
		for (unsigned i = 0; i < sizeof(el2) / sizeof(el2[0]); i++)
			add(s, SYS_REG(el2[i][0], el2[i][1], el2[i][2], el2[i][3], el2[i][4]));
	}
}

static int one(int fd, unsigned long cmd, uint64_t id, void *buf)
{
	struct kvm_one_reg r = {.id = id, .addr = (uintptr_t)buf};
	return ioctl(fd, cmd, &r);
}

/* The list is 6.1's and ONE_REG takes exactly what it lists. */
static void list_config(struct tvm *vm, int id, uint32_t features)
{
	struct tvcpu v;
	printf("config features %#x\n", features);
	if (!CHECK_OK(tvcpu_create(vm, &v, id, F(KVM_ARM_VCPU_PSCI_0_2) | features)))
		return;
	struct kvm_reg_list hdr = {.n = 1};
	CHECK_ERRNO(ioctl(v.fd, KVM_GET_REG_LIST, &hdr), E2BIG);
	struct ids want;
	expected(&want, features);
	CHECK_EQ(want.n, hdr.n);
	struct kvm_reg_list *l = calloc(1, sizeof(*l) + (hdr.n + 8) * 8);
	l->n = hdr.n + 8;
	CHECK_OK(ioctl(v.fd, KVM_GET_REG_LIST, l));
	CHECK_EQ(hdr.n, l->n);
	unsigned missing = 0, extra = 0, bad = 0;
	for (unsigned i = 0; i < want.n; i++)
		if (!has((const uint64_t *)l->reg, (unsigned)l->n, want.v[i])) {
			printf("  missing %#llx\n", (unsigned long long)want.v[i]);
			missing++;
		}
	for (uint64_t i = 0; i < l->n; i++) {
		uint64_t rid = l->reg[i];
		if (!has(want.v, want.n, rid)) {
			printf("  not in 6.1's list %#llx\n", (unsigned long long)rid);
			extra++;
		}
		/* every one reads, takes its value back, and keeps it */
		__uint128_t a = 0, b = 0;
		bool ok = one(v.fd, KVM_GET_ONE_REG, rid, &a) == 0 && one(v.fd, KVM_SET_ONE_REG, rid, &a) == 0 &&
			  one(v.fd, KVM_GET_ONE_REG, rid, &b) == 0;
		if (!ok || (a != b && rid != KVM_REG_ARM_TIMER_CNT)) {
			printf("  round trip %#llx: %s\n", (unsigned long long)rid, ok ? "value changed" : strerror(errno));
			bad++;
		}
	}
	CHECK_EQ(0, missing);
	CHECK_EQ(0, extra);
	CHECK_EQ(0, bad);
	/* ONE_REG takes exactly the listed system registers: every encoding */
	unsigned mismatch = 0;
	for (uint64_t enc = 0x8000; enc <= 0xffff; enc++) {
		uint64_t rid = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | enc, val;
		bool listed = has((const uint64_t *)l->reg, (unsigned)l->n, rid);
		int r = one(v.fd, KVM_GET_ONE_REG, rid, &val);
		if (listed != (r == 0) || (r && errno != ENOENT)) {
			if (mismatch++ < 8)
				printf("  sysreg %#llx: listed %d, GET %d/%d\n", (unsigned long long)rid, listed, r, errno);
		}
	}
	CHECK_EQ(0, mismatch);
	free(l);

	/* not listed: ENOENT */
	uint64_t x;
	CHECK_ERRNO(one(v.fd, KVM_GET_ONE_REG, KVM_REG_ARM_PTIMER_CTL, &x), ENOENT);
	CHECK_ERRNO(one(v.fd, KVM_GET_ONE_REG, KVM_REG_ARM_PTIMER_CVAL, &x), ENOENT);
	CHECK_ERRNO(one(v.fd, KVM_GET_ONE_REG, SYS_REG(2, 0, 1, 3, 4), &x), ENOENT);    /* OSDLR_EL1 */
	CHECK_ERRNO(one(v.fd, KVM_GET_ONE_REG, SYS_REG(3, 3, 9, 12, 6), &x), ENOENT);   /* PMCEID0_EL0 */
	CHECK_ERRNO(one(v.fd, KVM_GET_ONE_REG, SYS_REG(3, 0, 4, 0, 1), &x), ENOENT);    /* ELR_EL1: a core reg */
	CHECK_ERRNO(one(v.fd, KVM_GET_ONE_REG, DEMUX(3), &x), ENOENT);
	CHECK_ERRNO(one(v.fd, KVM_GET_ONE_REG, KVM_REG_ARM64 | KVM_REG_SIZE_U64 | (1ull << 40) | KVM_REG_ARM_CORE, &x),
		    EINVAL);
	if (!(features & F(KVM_ARM_VCPU_PMU_V3)))
		CHECK_ERRNO(one(v.fd, KVM_GET_ONE_REG, SYS_REG(3, 3, 9, 12, 0), &x), ENOENT);   /* PMCR_EL0 */
	if (!(features & F(KVM_ARM_VCPU_HAS_EL2))) {
		CHECK_ERRNO(one(v.fd, KVM_GET_ONE_REG, SYS_REG(3, 4, 1, 1, 0), &x), ENOENT);    /* HCR_EL2 */
		CHECK_ERRNO(one(v.fd, KVM_GET_ONE_REG, SYS_REG(3, 6, 4, 1, 0), &x), ENOENT);    /* SP_EL2 */
	}
	close(v.fd);
}

static void lists(void)
{
	struct tvm vm;
	if (!CHECK_OK(tvm_create(&vm)))
		return;
	list_config(&vm, 0, 0);
	list_config(&vm, 1, F(KVM_ARM_VCPU_PMU_V3));
	list_config(&vm, 2, F(KVM_ARM_VCPU_HAS_EL2));
	list_config(&vm, 3, F(KVM_ARM_VCPU_PMU_V3) | F(KVM_ARM_VCPU_HAS_EL2));
}

/* Values go in and come back: plain storage, the PMU's set/clear pairs,
 * EL2 state, the ID registers' rules, the caches. */
static void values(void)
{
	struct tvm vm;
	struct tvcpu v;
	if (!CHECK_OK(tvm_create(&vm)) ||
	    !CHECK_OK(tvcpu_create(&vm, &v, 0, F(KVM_ARM_VCPU_PMU_V3) | F(KVM_ARM_VCPU_HAS_EL2))))
		return;
	CHECK_OK(set_reg(&v, SYS_REG(3, 0, 13, 0, 4), 0x1234567890ull));   /* TPIDR_EL1 */
	CHECK_EQ(0x1234567890ull, get_reg(&v, SYS_REG(3, 0, 13, 0, 4)));
	CHECK_OK(set_reg(&v, SYS_REG(3, 4, 1, 1, 0), 1ull << 31));         /* HCR_EL2.RW */
	CHECK_EQ(1ull << 31, get_reg(&v, SYS_REG(3, 4, 1, 1, 0)));
	CHECK_OK(set_reg(&v, SYS_REG(3, 4, 12, 0, 0), 0x40001000));        /* VBAR_EL2 */
	CHECK_EQ(0x40001000, get_reg(&v, SYS_REG(3, 4, 12, 0, 0)));
	CHECK_OK(set_reg(&v, SYS_REG(3, 6, 4, 1, 0), 0x40080000));         /* SP_EL2 */
	CHECK_EQ(0x40080000, get_reg(&v, SYS_REG(3, 6, 4, 1, 0)));
	CHECK_EQ(0x700, get_reg(&v, SYS_REG(3, 4, 5, 3, 0)));              /* FPEXC32_EL2 reset */
	/* PMU: a set/clear pair is one word; counters keep what is written */
	CHECK_OK(set_reg(&v, SYS_REG(3, 3, 9, 12, 1), 0x80000003u));       /* PMCNTENSET */
	CHECK_EQ(0x80000003u, get_reg(&v, SYS_REG(3, 3, 9, 12, 2)));       /* PMCNTENCLR */
	CHECK_OK(set_reg(&v, SYS_REG(3, 3, 14, 8, 1), 0x12345));           /* PMEVCNTR1 */
	CHECK_EQ(0x12345, get_reg(&v, SYS_REG(3, 3, 14, 8, 1)));
	CHECK_OK(set_reg(&v, SYS_REG(3, 3, 14, 12, 2), 0x11));             /* PMEVTYPER2: CPU_CYCLES */
	CHECK_EQ(0x11, get_reg(&v, SYS_REG(3, 3, 14, 12, 2)));
	CHECK_EQ(4, (get_reg(&v, SYS_REG(3, 3, 9, 12, 0)) >> 11) & 0x1f);  /* PMCR_EL0.N */
	/* OSLSR_EL1: only OSLK changes */
	CHECK_OK(set_reg(&v, SYS_REG(2, 0, 1, 1, 4), 0xa));
	CHECK_EQ(0xa, get_reg(&v, SYS_REG(2, 0, 1, 1, 4)));
	CHECK_ERRNO(set_reg(&v, SYS_REG(2, 0, 1, 1, 4), 0x1), EINVAL);
	/* ID registers: their own value only; the AArch32 ones RAZ/WI */
	uint64_t pfr0 = get_reg(&v, SYS_REG(3, 0, 0, 4, 0));
	CHECK_EQ(0x111, pfr0 & 0xfff);                                   /* EL0, EL1, EL2 AArch64 */
	CHECK_OK(set_reg(&v, SYS_REG(3, 0, 0, 4, 0), pfr0));
	CHECK_ERRNO(set_reg(&v, SYS_REG(3, 0, 0, 4, 0), pfr0 ^ 0x1000), EINVAL);
	CHECK_EQ(0x11, pfr0 >> 56);                                      /* CSV2, CSV3 */
	CHECK_ERRNO(set_reg(&v, SYS_REG(3, 0, 0, 4, 0), pfr0 | 2ull << 56), EINVAL);
	CHECK_OK(set_reg(&v, SYS_REG(3, 0, 0, 4, 0), pfr0 & ~(1ull << 56)));   /* a CSV2=0 host's value */
	CHECK_EQ(pfr0 & ~(1ull << 56), get_reg(&v, SYS_REG(3, 0, 0, 4, 0)));
	CHECK_OK(set_reg(&v, SYS_REG(3, 0, 0, 4, 0), pfr0));
	CHECK_EQ(0x100, get_reg(&v, SYS_REG(3, 0, 0, 5, 0)) & 0xf00);    /* ID_AA64DFR0.PMUVer */
	CHECK_EQ(0x8444c004u, get_reg(&v, SYS_REG(3, 3, 0, 0, 1)));        /* CTR_EL0 */
	CHECK_ERRNO(set_reg(&v, SYS_REG(3, 3, 0, 0, 1), 0), EINVAL);
	CHECK_OK(set_reg(&v, SYS_REG(3, 0, 0, 1, 0), 0x1badc0de));          /* ID_PFR0_EL1 */
	CHECK_EQ(0, get_reg(&v, SYS_REG(3, 0, 0, 1, 0)));
	CHECK_ERRNO(set_reg(&v, SYS_REG(3, 0, 0, 1, 3), 1), EINVAL);        /* ID_AFR0_EL1 */
	CHECK_ERRNO(set_reg(&v, SYS_REG(3, 0, 0, 3, 3), 1), EINVAL);        /* unallocated */
	CHECK_OK(set_reg(&v, SYS_REG(3, 0, 0, 3, 3), 0));
	/* CCSIDR through DEMUX: the value, and nothing else, goes back */
	uint32_t cc = 0;
	CHECK_OK(one(v.fd, KVM_GET_ONE_REG, DEMUX(0), &cc));
	CHECK(cc != 0);
	CHECK_OK(one(v.fd, KVM_SET_ONE_REG, DEMUX(0), &cc));
	cc ^= 1;
	CHECK_ERRNO(one(v.fd, KVM_SET_ONE_REG, DEMUX(0), &cc), EINVAL);

	struct tvcpu b;   /* without the features: their registers are not there */
	if (!CHECK_OK(tvcpu_create(&vm, &b, 1, 0)))
		return;
	CHECK_EQ(0x011, get_reg(&b, SYS_REG(3, 0, 0, 4, 0)) & 0xfff);
	CHECK_EQ(0, get_reg(&b, SYS_REG(3, 0, 0, 5, 0)) & 0xf00);
	/* one virtual counter per VM: setting it on a vCPU moves them all */
	CHECK_OK(set_reg(&b, KVM_REG_ARM_TIMER_CNT, 1ull << 40));
	uint64_t other = get_reg(&v, KVM_REG_ARM_TIMER_CNT);
	CHECK(other >= 1ull << 40 && other - (1ull << 40) < 62500000ull * 10);
	close(b.fd);
	close(v.fd);
}

/* ---- firmware registers ---- */

#define NOT_SUPPORTED ~0ull
#define TRNG_VERSION 0x84000050u
#define PSCI_SYSTEM_OFF 0x84000008u

/* The guest: x19 = HVC(fn), then PSCI SYSTEM_OFF. */
static void guest_call(struct tvm *vm, uint32_t fn)
{
	uint32_t code[] = {
		0x52800000u | ((fn & 0xffff) << 5),   /* movz w0, #lo */
		0x72a00000u | ((fn >> 16) << 5),      /* movk w0, #hi, lsl #16 */
		0xd4000002u,                          /* hvc #0 */
		0xaa0003f3u,                          /* mov x19, x0 */
		0x52800000u | ((PSCI_SYSTEM_OFF & 0xffff) << 5),
		0x72a00000u | ((PSCI_SYSTEM_OFF >> 16) << 5),
		0xd4000002u,
	};
	memcpy(vm->ram, code, sizeof(code));
}

static uint64_t run_call(struct tvcpu *v)
{
	CHECK_OK(set_reg(v, CORE_REG(regs.pc), RAM_GPA));
	CHECK_OK(ioctl(v->fd, KVM_RUN, 0));
	CHECK_EQ(KVM_EXIT_SYSTEM_EVENT, v->run->exit_reason);
	return get_reg(v, CORE_REG(regs.regs[19]));
}

static void firmware(void)
{
	struct tvm vm;
	struct tvcpu v;
	if (!CHECK_OK(tvm_create(&vm)) || !CHECK_OK(tvcpu_create(&vm, &v, 0, F(KVM_ARM_VCPU_PSCI_0_2))))
		return;
	/* workaround levels: "not required"; a lower level may be restored */
	CHECK_EQ(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_NOT_REQUIRED, get_reg(&v, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1));
	CHECK_EQ(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_REQUIRED, get_reg(&v, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2));
	CHECK_OK(set_reg(&v, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_AVAIL));
	CHECK_ERRNO(set_reg(&v, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1, 3), EINVAL);
	CHECK_ERRNO(set_reg(&v, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3, 0x10), EINVAL);
	CHECK_OK(set_reg(&v, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_UNKNOWN));
	CHECK_ERRNO(set_reg(&v, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2,
			    KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_REQUIRED | KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_ENABLED),
		    EINVAL);
	CHECK_ERRNO(set_reg(&v, KVM_REG_ARM_PSCI_VERSION, 0), EINVAL);   /* 0.1 with PSCI_0_2 */
	CHECK_OK(set_reg(&v, KVM_REG_ARM_PSCI_VERSION, 0x10000));
	CHECK_EQ(0x10000, get_reg(&v, KVM_REG_ARM_PSCI_VERSION));
	/* the service bitmaps: all on; unknown bits EINVAL */
	CHECK_EQ(1, get_reg(&v, KVM_REG_ARM_STD_BMAP));
	CHECK_EQ(1, get_reg(&v, KVM_REG_ARM_STD_HYP_BMAP));
	CHECK_EQ(3, get_reg(&v, KVM_REG_ARM_VENDOR_HYP_BMAP));
	CHECK_ERRNO(set_reg(&v, KVM_REG_ARM_STD_BMAP, 2), EINVAL);
	CHECK_ERRNO(set_reg(&v, KVM_REG_ARM_VENDOR_HYP_BMAP, 4), EINVAL);
	CHECK_OK(set_reg(&v, KVM_REG_ARM_STD_BMAP, 0));
	CHECK_EQ(0, get_reg(&v, KVM_REG_ARM_STD_BMAP));
	/* TRNG turned off: NOT_SUPPORTED; then the bitmaps are frozen */
	guest_call(&vm, TRNG_VERSION);
	CHECK_EQ(NOT_SUPPORTED, run_call(&v));
	CHECK_ERRNO(set_reg(&v, KVM_REG_ARM_STD_BMAP, 1), EBUSY);
	CHECK_OK(set_reg(&v, KVM_REG_ARM_STD_BMAP, 0));
	CHECK_ERRNO(set_reg(&v, KVM_REG_ARM_VENDOR_HYP_BMAP, 1), EBUSY);
	CHECK_ERRNO(set_reg(&v, KVM_REG_ARM_VENDOR_HYP_BMAP, 8), EINVAL);   /* EINVAL first */
	close(v.fd);

	struct tvm vm2;   /* a new VM: TRNG 1.0 answers */
	struct tvcpu w;
	if (!CHECK_OK(tvm_create(&vm2)) || !CHECK_OK(tvcpu_create(&vm2, &w, 0, F(KVM_ARM_VCPU_PSCI_0_2))))
		return;
	guest_call(&vm2, TRNG_VERSION);
	CHECK_EQ(0x10000, run_call(&w));
	close(w.fd);
}

/* ---- vCPU attributes ---- */

static int attr(int fd, unsigned long cmd, uint32_t group, uint64_t a, void *p)
{
	struct kvm_device_attr d = {.group = group, .attr = a, .addr = (uintptr_t)p};
	return ioctl(fd, cmd, &d);
}

static void attributes(void)   /* the timer's */
{
	struct tvm vm;
	struct tvcpu v;
	if (!CHECK_OK(tvm_create(&vm)) || !CHECK_OK(tvcpu_create(&vm, &v, 0, F(KVM_ARM_VCPU_PSCI_0_2))))
		return;
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_VCPU_ATTRIBUTES));
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_SYSTEM_SUSPEND));
	/* timer: the default PPIs; setting them needs the in-kernel vGIC */
	int irq = 0;
	CHECK_OK(attr(v.fd, KVM_HAS_DEVICE_ATTR, KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER, NULL));
	CHECK_OK(attr(v.fd, KVM_HAS_DEVICE_ATTR, KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_PTIMER, NULL));
	CHECK_ERRNO(attr(v.fd, KVM_HAS_DEVICE_ATTR, KVM_ARM_VCPU_TIMER_CTRL, 2, NULL), ENXIO);
	CHECK_OK(attr(v.fd, KVM_GET_DEVICE_ATTR, KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER, &irq));
	CHECK_EQ(27, irq);
	CHECK_OK(attr(v.fd, KVM_GET_DEVICE_ATTR, KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_PTIMER, &irq));
	CHECK_EQ(30, irq);
	CHECK_ERRNO(attr(v.fd, KVM_GET_DEVICE_ATTR, KVM_ARM_VCPU_TIMER_CTRL, 2, &irq), ENXIO);
	irq = 20;
	CHECK_ERRNO(attr(v.fd, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER, &irq), EINVAL);
	CHECK_ERRNO(attr(v.fd, KVM_SET_DEVICE_ATTR, 77, 0, &irq), ENXIO);
	struct kvm_create_device cd = {.type = KVM_DEV_TYPE_ARM_VGIC_V3};
	if (ioctl(vm.fd, KVM_CREATE_DEVICE, &cd) == 0) {
		CHECK_OK(attr(v.fd, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER, &irq));
		irq = 0;
		CHECK_OK(attr(v.fd, KVM_GET_DEVICE_ATTR, KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_VTIMER, &irq));
		CHECK_EQ(20, irq);
		irq = 32;   /* an SPI */
		CHECK_ERRNO(attr(v.fd, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_TIMER_CTRL, KVM_ARM_VCPU_TIMER_IRQ_PTIMER, &irq),
			    EINVAL);
		irq = 21;
		CHECK_ERRNO(attr(v.fd, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_TIMER_CTRL, 5, &irq), ENXIO);
		close(cd.fd);
	} else {
		SKIP("no KVM_DEV_TYPE_ARM_VGIC_V3: timer PPIs not settable");
	}
	close(v.fd);
}

/* PV time: a 64-byte aligned IPA in a memslot, once */
static void pvtime(void)
{
	struct tvm vm;
	struct tvcpu v;
	if (!CHECK_OK(tvm_create(&vm)) || !CHECK_OK(tvcpu_create(&vm, &v, 0, F(KVM_ARM_VCPU_PSCI_0_2))))
		return;
	CHECK_EQ(1, ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_STEAL_TIME));
	uint64_t ipa = RAM_GPA + 0x100040;
	CHECK_OK(attr(v.fd, KVM_HAS_DEVICE_ATTR, KVM_ARM_VCPU_PVTIME_CTRL, KVM_ARM_VCPU_PVTIME_IPA, NULL));
	CHECK_ERRNO(attr(v.fd, KVM_HAS_DEVICE_ATTR, KVM_ARM_VCPU_PVTIME_CTRL, 1, NULL), ENXIO);
	uint64_t bad = ipa + 8;
	CHECK_ERRNO(attr(v.fd, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_PVTIME_CTRL, KVM_ARM_VCPU_PVTIME_IPA, &bad), EINVAL);
	bad = 0x1000;   /* no memslot */
	CHECK_ERRNO(attr(v.fd, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_PVTIME_CTRL, KVM_ARM_VCPU_PVTIME_IPA, &bad), EINVAL);
	uint64_t got = 0;
	CHECK_OK(attr(v.fd, KVM_GET_DEVICE_ATTR, KVM_ARM_VCPU_PVTIME_CTRL, KVM_ARM_VCPU_PVTIME_IPA, &got));
	CHECK_EQ(~0ull, got);
	CHECK_OK(attr(v.fd, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_PVTIME_CTRL, KVM_ARM_VCPU_PVTIME_IPA, &ipa));
	CHECK_ERRNO(attr(v.fd, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_PVTIME_CTRL, KVM_ARM_VCPU_PVTIME_IPA, &ipa), EEXIST);
	CHECK_OK(attr(v.fd, KVM_GET_DEVICE_ATTR, KVM_ARM_VCPU_PVTIME_CTRL, KVM_ARM_VCPU_PVTIME_IPA, &got));
	CHECK_EQ(ipa, got);
	/* PV_TIME_ST answers the IPA and zeroes the structure */
	memset(vm.ram + 0x100040, 0xff, 64);
	guest_call(&vm, 0xc5000021u);
	CHECK_EQ(ipa, run_call(&v));
	uint64_t st[8];
	memcpy(st, vm.ram + 0x100040, sizeof(st));
	CHECK_EQ(0, st[0]);
	CHECK(st[1] < 1000000000ull);   /* stolen ns since PV_TIME_ST: small */
	close(v.fd);
}

int main(void)
{
	RUN_CASE(lists);
	RUN_CASE(values);
	RUN_CASE(firmware);
	RUN_CASE(attributes);
	RUN_CASE(pvtime);
	return t_done();
}
