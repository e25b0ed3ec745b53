/* x86 odds and ends the KVM selftests lean on:
 * - DR7.GD (general detect): a MOV to or from a debug register faults with
 *   #DB before it runs. Under KVM_SET_GUEST_DEBUG(KVM_GUESTDBG_USE_HW_BP)
 *   with GD in the VMM's DR7 that is a KVM_EXIT_DEBUG at the MOV with
 *   dr6 = 0xffff0ff0 | BD, the guest's DR6 untouched (debug_regs); with GD
 *   in the guest's own DR7 the guest takes #DB with DR6.BD set and GD
 *   cleared on entry to the handler.
 * - KVM_SET_NR_MMU_PAGES / KVM_GET_NR_MMU_PAGES (set_memory_region_test):
 *   at least KVM_MIN_ALLOC_MMU_PAGES (64), else EINVAL; unset, KVM reports
 *   2% of the pages in the memslots, at least 64, once a slot came or went.
 * - The RESET value of IA32_APIC_BASE: 0xfee00000 | EN, plus BSP on the vCPU
 *   named by KVM_SET_BOOT_CPU_ID (0 by default), with or without an
 *   in-kernel irqchip, and for a vCPU created after another one ran
 *   (xapic_ipi_test).
 * - MAXPHYADDR is the guest's CPUID 0x80000008 EAX[7:0], 36 without that
 *   leaf (KVM's cpuid_query_maxphyaddr): physical-address bits above it in
 *   an MTRR mask or a long-mode CR3 are refused, below it accepted, up to
 *   52 whatever softkvm advertises (QEMU's -cpu host copies the host's).
 * - UMIP: offered in CPUID 7.ECX[2]; with CR4.UMIP, SGDT at CPL 3 faults
 *   (here: no handlers, so a triple fault), at CPL 0 it runs; CR4.UMIP is
 *   refused without UMIP in the guest's CPUID.
 */
#include "vm.h"

#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define DR6_ACTIVE_LOW 0xffff0ff0u
#define DR6_BD 0x2000u
#define DR7_GD 0x2000u

GUEST_CODE(gd_code, 32,
	"nop\n"
	"gd_mov: mov %dr0, %eax\n"
	"out %al, $0x10\n"
	"hlt\n"
	"gd_db: mov %dr6, %eax\n"
	"out %eax, $0x11\n"
	"mov %dr7, %eax\n"
	"out %eax, $0x13\n"
	"mov (%esp), %eax\n"
	"out %eax, $0x12\n"
	"hlt\n");
GUEST_LABEL(gd_mov);
GUEST_LABEL(gd_db);

static void gd_vm(struct vm *vm, struct vcpu *v)
{
	vm_init(vm);
	vcpu_init(vm, v, 0);
	GUEST_LOAD(vm, gd_code);
	vcpu_setup(v, MODE_PROT32, G_CODE);
	idt_set(v, 1, GUEST_ADDR(gd_code, gd_db));
}

static struct kvm_debugregs get_dbg(struct vcpu *v)
{
	struct kvm_debugregs d;
	memset(&d, 0, sizeof(d));
	CHECK_OK(ioctl(v->fd, KVM_GET_DEBUGREGS, &d));
	return d;
}

/* GD in the VMM's DR7: KVM_EXIT_DEBUG before the MOV, nothing in the guest. */
static void gd_userspace(void)
{
	struct vm vm;
	struct vcpu v;
	gd_vm(&vm, &v);
	struct kvm_guest_debug dbg;
	memset(&dbg, 0, sizeof(dbg));
	dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
	dbg.arch.debugreg[7] = 0x400 | DR7_GD;
	CHECK_OK(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &dbg));
	uint64_t mov = GUEST_ADDR(gd_code, gd_mov);
	if (RUN_EXPECT_EXIT(&v, KVM_EXIT_DEBUG)) {
		CHECK_EQ(1, v.run->debug.arch.exception);
		CHECK_EQ(mov, v.run->debug.arch.pc);
		CHECK_EQ(DR6_ACTIVE_LOW | DR6_BD, v.run->debug.arch.dr6);
		CHECK_EQ(0x400 | DR7_GD, v.run->debug.arch.dr7);
	}
	CHECK_EQ(mov, get_regs(&v).rip);
	struct kvm_debugregs d = get_dbg(&v);
	CHECK_EQ(DR6_ACTIVE_LOW, d.dr6);   /* the guest's own registers */
	CHECK_EQ(0x400, d.dr7);
	/* Again: still at the MOV, still faulting. */
	if (RUN_EXPECT_EXIT(&v, KVM_EXIT_DEBUG))
		CHECK_EQ(mov, v.run->debug.arch.pc);
	/* Without guest debugging the MOV runs. */
	memset(&dbg, 0, sizeof(dbg));
	CHECK_OK(ioctl(v.fd, KVM_SET_GUEST_DEBUG, &dbg));
	RUN_EXPECT_OUT(&v, 0x10);
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* GD in the guest's DR7: #DB (a fault) with DR6.BD, GD cleared on entry. */
static void gd_guest(void)
{
	struct vm vm;
	struct vcpu v;
	gd_vm(&vm, &v);
	struct kvm_debugregs d;
	memset(&d, 0, sizeof(d));
	d.dr6 = DR6_ACTIVE_LOW | 0x1;   /* a stale B0: the fault clears B0..B3 */
	d.dr7 = 0x400 | DR7_GD;
	CHECK_OK(ioctl(v.fd, KVM_SET_DEBUGREGS, &d));
	CHECK_EQ(DR6_ACTIVE_LOW | DR6_BD, RUN_EXPECT_OUT(&v, 0x11));
	CHECK_EQ(0x400, RUN_EXPECT_OUT(&v, 0x13));
	CHECK_EQ(GUEST_ADDR(gd_code, gd_mov), RUN_EXPECT_OUT(&v, 0x12));
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	d = get_dbg(&v);
	CHECK_EQ(DR6_ACTIVE_LOW | DR6_BD, d.dr6);
	CHECK_EQ(0x400, d.dr7);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static long nr_mmu_pages(struct vm *vm)
{
	return ioctl(vm->fd, KVM_GET_NR_MMU_PAGES, 0);
}

static void mmu_pages(void)
{
	struct vm vm;
	vm_init_bare(&vm);
	CHECK_EQ(0, nr_mmu_pages(&vm));   /* no slot yet: nothing sized */
	CHECK_ERRNO(ioctl(vm.fd, KVM_SET_NR_MMU_PAGES, 63ul), EINVAL);
	CHECK_EQ(0, nr_mmu_pages(&vm));
	/* 1 GiB (262144 pages) + 2 MiB (512): 2% of 262656 is 5253. */
	size_t big = 1ull << 30;
	void *mem = mmap(NULL, big, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(mem != MAP_FAILED);
	void *small = map_anon(2 << 20);
	CHECK_OK(vm_set_slot(&vm, 0, 0, 2 << 20, small, 0));
	CHECK_EQ(64, nr_mmu_pages(&vm));   /* 10, at least 64 */
	CHECK_OK(vm_set_slot(&vm, 1, 1ull << 32, big, mem, 0));
	CHECK_EQ(5253, nr_mmu_pages(&vm));
	/* A move or a flags change is not a resize; a delete is. */
	CHECK_OK(vm_set_slot(&vm, 1, 2ull << 32, big, mem, KVM_MEM_LOG_DIRTY_PAGES));
	CHECK_EQ(5253, nr_mmu_pages(&vm));
	CHECK_OK(vm_set_slot(&vm, 1, 2ull << 32, 0, mem, 0));
	CHECK_EQ(64, nr_mmu_pages(&vm));
	/* A size the VMM asked for stays. */
	CHECK_OK(ioctl(vm.fd, KVM_SET_NR_MMU_PAGES, 64ul));
	CHECK_EQ(64, nr_mmu_pages(&vm));
	CHECK_OK(ioctl(vm.fd, KVM_SET_NR_MMU_PAGES, 100000ul));
	CHECK_OK(vm_set_slot(&vm, 1, 1ull << 32, big, mem, 0));
	CHECK_EQ(100000, nr_mmu_pages(&vm));
	vm_fini(&vm);
	munmap(mem, big);
	munmap(small, 2 << 20);
}

GUEST_CODE(apic_base_code, 32,
	"mov $0x1b, %ecx\n"
	"rdmsr\n"
	"out %eax, $0x10\n"
	"hlt\n");

static uint64_t apic_base(struct vcpu *v)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + sizeof(struct kvm_msr_entry));
	m->nmsrs = 1;
	m->entries[0].index = 0x1b;
	CHECK_EQ(1, ioctl(v->fd, KVM_GET_MSRS, m));
	uint64_t val = m->entries[0].data;
	free(m);
	return val;
}

/* vCPU 0 runs before vCPU 1 exists; each reads its own base. */
static void apic_base_case(bool irqchip, long boot_id)
{
	struct vm vm;
	struct vcpu v0, v1;
	vm_init(&vm);
	if (irqchip)
		CHECK_OK(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0));
	if (boot_id >= 0)
		CHECK_OK(ioctl(vm.fd, KVM_SET_BOOT_CPU_ID, boot_id));
	uint64_t bsp0 = boot_id == 1 ? 0 : 0x100, bsp1 = boot_id == 1 ? 0x100 : 0;
	GUEST_LOAD(&vm, apic_base_code);
	vcpu_init(&vm, &v0, 0);
	CHECK_EQ(0xfee00800 | bsp0, apic_base(&v0));
	vcpu_setup(&v0, MODE_PROT32, G_CODE);
	if (boot_id != 1)   /* an AP with an irqchip waits for INIT/SIPI */
		CHECK_EQ(0xfee00800 | bsp0, RUN_EXPECT_OUT(&v0, 0x10));
	vcpu_init(&vm, &v1, 1);
	CHECK_EQ(0xfee00800 | bsp1, apic_base(&v1));
	vcpu_setup(&v1, MODE_PROT32, G_CODE);
	if (!irqchip || boot_id == 1)
		CHECK_EQ(0xfee00800 | bsp1, RUN_EXPECT_OUT(&v1, 0x10));
	CHECK_EQ(0xfee00800 | bsp0, apic_base(&v0));
	if (boot_id >= 0)   /* too late once vCPUs exist */
		CHECK_ERRNO(ioctl(vm.fd, KVM_SET_BOOT_CPU_ID, 0ul), EBUSY);
	vcpu_fini(&v1);
	vcpu_fini(&v0);
	vm_fini(&vm);
}

static void apic_base_reset(void)
{
	apic_base_case(false, -1);
	apic_base_case(true, -1);
	apic_base_case(false, 1);
	apic_base_case(true, 1);
}

static int set_msr1(struct vcpu *v, uint32_t idx, uint64_t val)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + sizeof(struct kvm_msr_entry));
	m->nmsrs = 1;
	m->entries[0].index = idx;
	m->entries[0].data = val;
	int r = ioctl(v->fd, KVM_SET_MSRS, m);
	free(m);
	return r;
}

/* CPUID with only leaves 0x80000000 and 0x80000008 = bits. */
static void set_phys_bits(struct vcpu *v, unsigned bits)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 2 * sizeof(c->entries[0]));
	c->nent = bits ? 2 : 0;
	c->entries[0].function = 0x80000000u;
	c->entries[0].eax = 0x80000008u;
	c->entries[1].function = 0x80000008u;
	c->entries[1].eax = 0x3000 | bits;
	CHECK_OK(ioctl(v->fd, KVM_SET_CPUID2, c));
	free(c);
}

static bool long_cr3_ok(struct vcpu *v, uint64_t cr3)
{
	vcpu_setup(v, MODE_LONG, G_CODE);
	struct kvm_sregs s = get_sregs(v);
	s.cr3 = cr3;
	return ioctl(v->fd, KVM_SET_SREGS, &s) == 0;
}

static void maxphyaddr(void)
{
	const uint32_t mtrr_mask0 = 0x201;
	struct { unsigned cpuid, bits; } cases[] = {{0, 36}, {40, 40}, {48, 48}, {52, 52}};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct vm vm;
		struct vcpu v;
		vm_init(&vm);
		vcpu_init(&vm, &v, 0);
		set_phys_bits(&v, cases[k].cpuid);
		unsigned b = cases[k].bits;
		uint64_t below = 1ull << (b - 1), above = b < 52 ? 1ull << b : 0;
		CHECK_EQ(1, set_msr1(&v, mtrr_mask0, below | 0x800));
		if (above)
			CHECK_EQ(0, set_msr1(&v, mtrr_mask0, above | 0x800));
		CHECK(long_cr3_ok(&v, G_PT | below));
		if (above)
			CHECK(!long_cr3_ok(&v, G_PT | above));
		vcpu_fini(&v);
		vm_fini(&vm);
	}
}

GUEST_CODE(umip_code, 32, "sgdt 0x700\n out %al, $0x10\n hlt\n");

/* Returns the exit of running umip_code at cpl with CR4.UMIP as given. */
static uint32_t umip_run(bool umip, int cpl, bool cpuid_umip, bool *sregs_ok)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	struct kvm_cpuid2 *c = cpuid_supported(vm.kvm);
	CHECK_EQ(1u << 2, cpuid_entry(c, 7, 0)->ecx & (1u << 2));
	if (!cpuid_umip)
		cpuid_entry(c, 7, 0)->ecx &= ~(1u << 2);
	CHECK_OK(ioctl(v.fd, KVM_SET_CPUID2, c));
	free(c);
	GUEST_LOAD(&vm, umip_code);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	struct kvm_sregs s = get_sregs(&v);
	if (umip)
		s.cr4 |= 1u << 11;
	s.cs.dpl = s.ss.dpl = (uint8_t)cpl;
	s.cs.selector |= (uint16_t)cpl;
	s.ss.selector |= (uint16_t)cpl;
	*sregs_ok = ioctl(v.fd, KVM_SET_SREGS, &s) == 0;
	struct kvm_regs r = get_regs(&v);
	r.rflags = 0x3002;   /* IOPL 3: OUT at CPL 3 */
	set_regs(&v, &r);
	uint32_t exit = vcpu_run(&v) == 0 ? v.run->exit_reason : ~0u;
	vcpu_fini(&v);
	vm_fini(&vm);
	return exit;
}

static void umip(void)
{
	bool ok;
	CHECK_EQ(KVM_EXIT_IO, umip_run(false, 3, true, &ok));
	CHECK(ok);
	CHECK_EQ(KVM_EXIT_SHUTDOWN, umip_run(true, 3, true, &ok));
	CHECK(ok);
	CHECK_EQ(KVM_EXIT_IO, umip_run(true, 0, true, &ok));
	CHECK(ok);
	umip_run(true, 0, false, &ok);
	CHECK(!ok);
}

int main(void)
{
	RUN_CASE(gd_userspace);
	RUN_CASE(gd_guest);
	RUN_CASE(mmu_pages);
	RUN_CASE(apic_base_reset);
	RUN_CASE(maxphyaddr);
	RUN_CASE(umip);
	return t_done();
}
