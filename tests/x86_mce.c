/* Machine checks on x86: KVM_CAP_MCE, KVM_X86_GET_MCE_CAP_SUPPORTED,
 * KVM_X86_SETUP_MCE and KVM_X86_SET_MCE with KVM 6.1's rules, #MC to the
 * guest's handler (or shutdown when CR4.MCE is clear or MCIP is already
 * set), corrected errors and overflow, UCNA errors signalled by a CMCI
 * through the LAPIC's LVT CMCI, and guest memory poison: a guest access to
 * a poisoned page (data, fetch, page-table walk) gives the vCPU thread
 * SIGBUS BUS_MCEERR_AR for the host page, KVM_RUN fails with EINTR, the
 * instruction does not retire, and KVM_X86_SET_MCE then makes the guest
 * take #MC at that instruction (what QEMU does on a hwpoisoned page).
 */
#include "vm.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#define MCG_CTL_P (1ull << 8)
#define MCG_EXT_P (1ull << 9)
#define MCG_CMCI_P (1ull << 10)
#define MCG_SER_P (1ull << 24)
#define MCG_LMCE_P (1ull << 27)
#define MCG_STATUS_RIPV 1ull
#define MCG_STATUS_EIPV 2ull
#define MCG_STATUS_MCIP 4ull
#define MCI_VAL (1ull << 63)
#define MCI_OVER (1ull << 62)
#define MCI_UC (1ull << 61)
#define MCI_EN (1ull << 60)
#define MCI_MISCV (1ull << 59)
#define MCI_ADDRV (1ull << 58)
#define MCI_S (1ull << 56)
#define MCI_AR (1ull << 55)
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MCG_CTL 0x17b
#define MSR_MC_CTL(b) (0x400 + 4 * (b))
#define MSR_MC_STATUS(b) (0x401 + 4 * (b))
#define MSR_MC_CTL2(b) (0x280 + (b))
#define CR4_MCE (1ull << 6)
#define SRAR_STATUS (MCI_VAL | MCI_UC | MCI_EN | MCI_MISCV | MCI_ADDRV | MCI_S | MCI_AR | 0x134)

/* Reports MCG_STATUS (0x20), MC9_STATUS (0x21 low, 0x22 high), MC9_ADDR
 * (0x23) and the EIP the #MC pushed (0x24). */
#define MC_HANDLER(name)                                   \
	#name ": mov $0x17a, %ecx\n rdmsr\n out %eax, $0x20\n"  \
	"mov $0x425, %ecx\n rdmsr\n out %eax, $0x21\n"       \
	"mov %edx, %eax\n out %eax, $0x22\n"                  \
	"mov $0x426, %ecx\n rdmsr\n out %eax, $0x23\n"       \
	"mov (%esp), %eax\n out %eax, $0x24\n hlt\n"

GUEST_CODE(mc_guest, 32,
	"out %al, $0x10\n"
	"mc_next: nop\n"
	"out %al, $0x11\n"
	"hlt\n"
	MC_HANDLER(mc_handler));
GUEST_LABEL(mc_next);
GUEST_LABEL(mc_handler);

#define PZ_DATA 0x30000
#define PZ_CODE 0x31000

GUEST_CODE(pz_guest, 32,
	"out %al, $0x10\n"
	"pz_read: mov 0x30000, %eax\n"
	"out %eax, $0x11\n"
	"out %al, $0x10\n"
	"pz_read2: mov 0x30000, %eax\n"
	"out %eax, $0x11\n"
	"hlt\n"
	MC_HANDLER(pz_handler));
GUEST_LABEL(pz_read);
GUEST_LABEL(pz_read2);
GUEST_LABEL(pz_handler);

GUEST_CODE(pz_fetch, 32,
	"mov $0x31000, %eax\n"
	"call *%eax\n"
	"out %eax, $0x11\n"
	"hlt\n");

/* Writes MC7_CTL2 = EAX; #GP reports on 0x1f. */
GUEST_CODE(ctl2_guest, 32,
	"mov $0x287, %ecx\n"
	"xor %edx, %edx\n"
	"wrmsr\n"
	"out %al, $0x10\n"
	"hlt\n"
	"ctl2_gp: out %al, $0x1f\n"
	"hlt\n");
GUEST_LABEL(ctl2_gp);

/* UCNA: LVT CMCI = vector 0xa9, CMCI on for bank 7; the handler counts
 * at 0x600 and records MC7_ADDR at 0x604. */
GUEST_CODE(ucna_guest, 32,
	"movl $0x1ff, 0xfee000f0\n"
	"movl $0xa9, 0xfee002f0\n"
	"mov $0x287, %ecx\n"
	"rdmsr\n"
	"or $0x40000000, %eax\n"
	"wrmsr\n"
	"sti\n"
	"out %al, $0x10\n"
	"1: cmpl $0, 0x600\n"
	"je 1b\n"
	"mov 0x604, %eax\n"
	"out %eax, $0x11\n"
	"mov $0x287, %ecx\n"
	"rdmsr\n"
	"and $0xbfffffff, %eax\n"
	"wrmsr\n"
	"out %al, $0x12\n"
	"mov $0x41e, %ecx\n"
	"rdmsr\n"
	"out %eax, $0x13\n"
	"mov 0x600, %eax\n"
	"out %eax, $0x14\n"
	"2: jmp 2b\n"
	"ucna_handler: push %eax\n push %ecx\n push %edx\n"
	"incl 0x600\n"
	"mov $0x41e, %ecx\n"
	"rdmsr\n"
	"mov %eax, 0x604\n"
	"movl $0, 0xfee000b0\n"
	"pop %edx\n pop %ecx\n pop %eax\n"
	"iret\n");
GUEST_LABEL(ucna_handler);


static uint64_t msr(int fd, uint32_t idx)
{
	uint64_t v = 0xbad;
	CHECK(msr_get(fd, idx, &v));
	return v;
}

static int setup_mce(struct vcpu *v, uint64_t cap)
{
	return ioctl(v->fd, KVM_X86_SETUP_MCE, &cap);
}

static int set_mce(struct vcpu *v, unsigned bank, uint64_t status, uint64_t mcg_status,
		   uint64_t addr, uint64_t misc)
{
	struct kvm_x86_mce m;
	memset(&m, 0, sizeof(m));
	m.bank = (uint8_t)bank;
	m.status = status;
	m.mcg_status = mcg_status;
	m.addr = addr;
	m.misc = misc;
	return ioctl(v->fd, KVM_X86_SET_MCE, &m);
}

static void set_cr4_mce(struct vcpu *v, bool on)
{
	struct kvm_sregs s = get_sregs(v);
	s.cr4 = on ? s.cr4 | CR4_MCE : s.cr4 & ~CR4_MCE;
	CHECK_OK(ioctl(v->fd, KVM_SET_SREGS, &s));
}

/* A VM with one vCPU in 32-bit protected mode (paged) running code, MCE
 * set up with 10 banks. */
static void mce_vm(struct vm *vm, struct vcpu *v, const unsigned char *code,
		   const unsigned char *end, enum guest_mode mode, bool irqchip)
{
	vm_init(vm);
	if (irqchip)
		CHECK_OK(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	vcpu_init(vm, v, 0);
	guest_load(vm, G_CODE, code, end);
	vcpu_setup(v, mode, G_CODE);
	set_cr4_mce(v, true);
	CHECK_OK(setup_mce(v, 10 | MCG_CTL_P | MCG_SER_P | MCG_CMCI_P));
}

static void caps_and_setup(void)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	CHECK_EQ(32, check_ext(vm.kvm, KVM_CAP_MCE));
	uint64_t sup = 0;
	CHECK_OK(ioctl(vm.kvm, KVM_X86_GET_MCE_CAP_SUPPORTED, &sup));
	CHECK_EQ(MCG_CTL_P | MCG_SER_P | MCG_CMCI_P | MCG_LMCE_P, sup);
	vcpu_init(&vm, &v, 0);
	CHECK_EQ(32, msr(v.fd, MSR_MCG_CAP));   /* KVM's MCG_CAP before SETUP_MCE */
	CHECK_ERRNO(setup_mce(&v, 0), EINVAL);
	CHECK_ERRNO(setup_mce(&v, 33), EINVAL);
	CHECK_ERRNO(setup_mce(&v, 10 | MCG_EXT_P), EINVAL);
	CHECK_OK(setup_mce(&v, 10 | 0x30000 | MCG_CTL_P | MCG_SER_P));   /* ext count bits pass */
	CHECK_EQ(10 | 0x30000 | MCG_CTL_P | MCG_SER_P, msr(v.fd, MSR_MCG_CAP));
	CHECK_EQ(~0ull, msr(v.fd, MSR_MCG_CTL));
	CHECK_EQ(~0ull, msr(v.fd, MSR_MC_CTL(0)));
	CHECK_EQ(~0ull, msr(v.fd, MSR_MC_CTL(9)));
	uint64_t val;
	CHECK(!msr_get(v.fd, MSR_MC_CTL(10), &val));   /* past the banks */
	CHECK(!msr_set(v.fd, MSR_MCG_CTL, 5));         /* 0 or all 1s */
	CHECK(msr_set(v.fd, MSR_MCG_CTL, 0));
	CHECK(!msr_set(v.fd, MSR_MC_CTL(1), 0x1234));
	CHECK(msr_set(v.fd, MSR_MC_CTL(1), ~0ull & ~(1ull << 10)));
	CHECK(msr_set(v.fd, MSR_MC_STATUS(1), 0x42));  /* the host may */
	/* No CMCI_P: CTL2 takes only 0, from the host. */
	CHECK(!msr_set(v.fd, MSR_MC_CTL2(1), 1ull << 30));
	CHECK(msr_set(v.fd, MSR_MC_CTL2(1), 0));

	CHECK_ERRNO(set_mce(&v, 10, MCI_VAL | MCI_UC, 0, 0, 0), EINVAL);   /* bank past the last */
	CHECK_ERRNO(set_mce(&v, 2, MCI_UC | MCI_EN, 0, 0, 0), EINVAL);     /* VAL clear */
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* Corrected errors are logged without #MC; a second one overflows. An
 * uncorrected error in a bank whose CTL is not all 1s is dropped. */
static void corrected(void)
{
	struct vm vm;
	struct vcpu v;
	mce_vm(&vm, &v, mc_guest, mc_guest_end, MODE_PROT32, false);
	idt_set(&v, 18, GUEST_ADDR(mc_guest, mc_handler));
	RUN_EXPECT_OUT(&v, 0x10);
	uint64_t ce = MCI_VAL | MCI_EN | 0x10;
	CHECK_OK(set_mce(&v, 2, ce, 0, 0x1000, 0));
	CHECK_EQ(ce, msr(v.fd, MSR_MC_STATUS(2)));
	CHECK_OK(set_mce(&v, 2, ce, 0, 0x2000, 0));
	CHECK_EQ(ce | MCI_OVER, msr(v.fd, MSR_MC_STATUS(2)));
	CHECK_EQ(0x2000, msr(v.fd, MSR_MC_STATUS(2) + 1));
	CHECK(msr_set(v.fd, MSR_MC_CTL(3), 0));
	CHECK_OK(set_mce(&v, 3, SRAR_STATUS, MCG_STATUS_MCIP | MCG_STATUS_EIPV, 0x3000, 0));
	CHECK_EQ(0, msr(v.fd, MSR_MC_STATUS(3)));
	RUN_EXPECT_OUT(&v, 0x11);   /* no #MC */
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* An uncorrected error: #MC at the next instruction; a second one while
 * MCIP is set shuts the vCPU down. */
static void machine_check(void)
{
	struct vm vm;
	struct vcpu v;
	mce_vm(&vm, &v, mc_guest, mc_guest_end, MODE_PROT32, false);
	idt_set(&v, 18, GUEST_ADDR(mc_guest, mc_handler));
	RUN_EXPECT_OUT(&v, 0x10);
	uint64_t mcg = MCG_STATUS_MCIP | MCG_STATUS_EIPV | MCG_STATUS_RIPV;
	CHECK_OK(set_mce(&v, 9, SRAR_STATUS, mcg, 0x12345000, 0x86));
	struct kvm_vcpu_events ev = get_events(&v);
	CHECK(ev.exception.injected || ev.exception.pending);
	CHECK_EQ(18, ev.exception.nr);
	CHECK_EQ(mcg, RUN_EXPECT_OUT(&v, 0x20));
	CHECK_EQ((uint32_t)SRAR_STATUS, RUN_EXPECT_OUT(&v, 0x21));
	CHECK_EQ(SRAR_STATUS >> 32, RUN_EXPECT_OUT(&v, 0x22));
	CHECK_EQ(0x12345000, RUN_EXPECT_OUT(&v, 0x23));
	CHECK_EQ(GUEST_ADDR(mc_guest, mc_next), RUN_EXPECT_OUT(&v, 0x24));
	RUN_EXPECT_EXIT(&v, KVM_EXIT_HLT);
	CHECK_OK(set_mce(&v, 9, SRAR_STATUS, mcg, 0x12346000, 0x86));
	RUN_EXPECT_EXIT(&v, KVM_EXIT_SHUTDOWN);
	vcpu_fini(&v);
	vm_fini(&vm);

	/* CR4.MCE clear: shutdown too. */
	mce_vm(&vm, &v, mc_guest, mc_guest_end, MODE_PROT32, false);
	set_cr4_mce(&v, false);
	RUN_EXPECT_OUT(&v, 0x10);
	CHECK_OK(set_mce(&v, 9, SRAR_STATUS, mcg, 0x1000, 0));
	RUN_EXPECT_EXIT(&v, KVM_EXIT_SHUTDOWN);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static int ctl2_write(uint64_t cap, uint32_t val)
{
	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, ctl2_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	idt_set(&v, 13, GUEST_ADDR(ctl2_guest, ctl2_gp));
	CHECK_OK(setup_mce(&v, cap));
	struct kvm_regs r = get_regs(&v);
	r.rax = val;
	set_regs(&v, &r);
	int port = -1;
	if (vcpu_run(&v) == 0 && v.run->exit_reason == KVM_EXIT_IO)
		port = v.run->io.port;
	vcpu_fini(&v);
	vm_fini(&vm);
	return port;
}

/* UCNA: logged in the bank, signalled by a CMCI only while the bank's
 * CTL2.CMCI_EN is set. */
static void ucna_cmci(void)
{
	CHECK_EQ(0x1f, ctl2_write(10, 1u << 30));                /* no CMCI_P: #GP */
	CHECK_EQ(0x1f, ctl2_write(10 | MCG_CMCI_P, 1u << 29));   /* reserved bit: #GP */
	CHECK_EQ(0x10, ctl2_write(10 | MCG_CMCI_P, 1u << 30));

	struct vm vm;
	struct vcpu v;
	vm_init(&vm);
	CHECK_OK(ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0));
	vcpu_init(&vm, &v, 0);
	GUEST_LOAD(&vm, ucna_guest);
	vcpu_setup(&v, MODE_PROT32, G_CODE);
	set_cr4_mce(&v, true);
	idt_set(&v, 0xa9, GUEST_ADDR(ucna_guest, ucna_handler));
	struct kvm_lapic_state ls;
	CHECK_OK(ioctl(v.fd, KVM_GET_LAPIC, &ls));
	uint32_t lvr;
	memcpy(&lvr, ls.regs + 0x30, 4);
	CHECK_EQ(0x50014, lvr);   /* 6 LVT entries */
	CHECK_OK(setup_mce(&v, 10 | MCG_CTL_P | MCG_SER_P | MCG_CMCI_P));
	CHECK_OK(ioctl(v.fd, KVM_GET_LAPIC, &ls));
	memcpy(&lvr, ls.regs + 0x30, 4);
	CHECK_EQ(0x60014, lvr);   /* the LVT CMCI is the 7th */
	uint32_t cmci;
	memcpy(&cmci, ls.regs + 0x2f0, 4);
	CHECK_EQ(1u << 16, cmci);   /* masked */

	uint64_t ucna = MCI_VAL | MCI_UC | MCI_EN | MCI_MISCV | MCI_ADDRV | 0x10090;
	RUN_EXPECT_OUT(&v, 0x10);
	CHECK_OK(set_mce(&v, 7, ucna, 0, 0xdeadbeef, 0x8c));
	CHECK_EQ(0xdeadbeef, RUN_EXPECT_OUT(&v, 0x11));
	RUN_EXPECT_OUT(&v, 0x12);
	CHECK_OK(set_mce(&v, 7, ucna, 0, 0xcafeb0ba, 0x8c));
	CHECK_EQ(0xcafeb0ba, RUN_EXPECT_OUT(&v, 0x13));
	CHECK_EQ(1, RUN_EXPECT_OUT(&v, 0x14));   /* no second CMCI */
	CHECK_EQ(ucna, msr(v.fd, MSR_MC_STATUS(7)));
	vcpu_fini(&v);
	vm_fini(&vm);
}

/* ---- poison ---- */

static int (*poison_fn)(int, uint64_t, uint64_t, unsigned);
static int (*unpoison_fn)(int, uint64_t, uint64_t);
static volatile sig_atomic_t bus_count;
static siginfo_t bus_info;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	bus_info = *si;
	bus_count++;
}

/* KVM_RUN must fail with EINTR after one SIGBUS BUS_MCEERR_AR for the
 * host page of gpa, RIP still at rip. */
static void expect_sigbus_at(struct vcpu *v, uint64_t gpa, uint64_t rip, int line)
{
	bus_count = 0;
	errno = 0;
	int r = vcpu_run(v);
	t_check_errno(r, errno, EINTR, __FILE__, line, "KVM_RUN on poison");
	t_check_eq(KVM_EXIT_INTR, v->run->exit_reason, __FILE__, line, "KVM_EXIT_INTR",
		   "exit_reason");
	t_check_eq(1, bus_count, __FILE__, line, "1", "SIGBUS count");
	t_check_eq(BUS_MCEERR_AR, bus_info.si_code, __FILE__, line, "BUS_MCEERR_AR", "si_code");
	t_check_eq((uint64_t)(uintptr_t)(v->vm->mem + (gpa & ~0xfffull)),
		   (uint64_t)(uintptr_t)bus_info.si_addr, __FILE__, line, "host page", "si_addr");
	t_check_eq(12, bus_info.si_addr_lsb, __FILE__, line, "12", "si_addr_lsb");
	t_check_eq(rip, get_regs(v).rip, __FILE__, line, "rip", "regs.rip");
}
#define EXPECT_SIGBUS(v, gpa, rip) expect_sigbus_at((v), (gpa), (rip), __LINE__)

static void poison_data(void)
{
	struct vm vm;
	struct vcpu v;
	mce_vm(&vm, &v, pz_guest, pz_guest_end, MODE_PAGED32, false);
	idt_set(&v, 18, GUEST_ADDR(pz_guest, pz_handler));
	memcpy(vm.mem + PZ_DATA, "\x34\x12\xfe\xca", 4);
	RUN_EXPECT_OUT(&v, 0x10);
	CHECK_OK(poison_fn(vm.fd, PZ_DATA + 8, 4, 0));
	EXPECT_SIGBUS(&v, PZ_DATA, GUEST_ADDR(pz_guest, pz_read));
	/* Not retired: running again consumes it again. */
	EXPECT_SIGBUS(&v, PZ_DATA, GUEST_ADDR(pz_guest, pz_read));
	CHECK_OK(unpoison_fn(vm.fd, PZ_DATA, 4096));
	CHECK_EQ(0xcafe1234, RUN_EXPECT_OUT(&v, 0x11));
	RUN_EXPECT_OUT(&v, 0x10);
	/* The page is in the vCPU's TLB now: poisoning must reach it. */
	CHECK_OK(poison_fn(vm.fd, PZ_DATA, 1, 0));
	EXPECT_SIGBUS(&v, PZ_DATA, GUEST_ADDR(pz_guest, pz_read2));
	/* What QEMU injects for BUS_MCEERR_AR: an SRAR error in bank 9. */
	uint64_t mcg = MCG_STATUS_MCIP | MCG_STATUS_EIPV | MCG_STATUS_RIPV;
	CHECK_OK(set_mce(&v, 9, SRAR_STATUS, mcg, PZ_DATA, 0x86));
	CHECK_EQ(mcg, RUN_EXPECT_OUT(&v, 0x20));
	CHECK_EQ((uint32_t)SRAR_STATUS, RUN_EXPECT_OUT(&v, 0x21));
	CHECK_EQ(SRAR_STATUS >> 32, RUN_EXPECT_OUT(&v, 0x22));
	CHECK_EQ(PZ_DATA, RUN_EXPECT_OUT(&v, 0x23));
	CHECK_EQ(GUEST_ADDR(pz_guest, pz_read2), RUN_EXPECT_OUT(&v, 0x24));
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void poison_fetch_and_walk(void)
{
	struct vm vm;
	struct vcpu v;
	mce_vm(&vm, &v, pz_fetch, pz_fetch_end, MODE_PAGED32, false);
	memcpy(vm.mem + PZ_CODE, "\xb8\x77\x00\x00\x00\xc3", 6);   /* mov $0x77, %eax; ret */
	CHECK_OK(poison_fn(vm.fd, PZ_CODE, 4096, 0));
	EXPECT_SIGBUS(&v, PZ_CODE, PZ_CODE);
	CHECK_OK(unpoison_fn(vm.fd, PZ_CODE, 4096));
	CHECK_EQ(0x77, RUN_EXPECT_OUT(&v, 0x11));
	vcpu_fini(&v);
	vm_fini(&vm);

	/* The page directory: the first fetch's walk consumes it. */
	mce_vm(&vm, &v, pz_fetch, pz_fetch_end, MODE_PAGED32, false);
	CHECK_OK(poison_fn(vm.fd, G_PT, 4096, 0));
	EXPECT_SIGBUS(&v, G_PT, G_CODE);
	vcpu_fini(&v);
	vm_fini(&vm);
}

static void poison(void)
{
	poison_fn = (int (*)(int, uint64_t, uint64_t, unsigned))dlsym(RTLD_DEFAULT, "softkvm_poison");
	unpoison_fn = (int (*)(int, uint64_t, uint64_t))dlsym(RTLD_DEFAULT, "softkvm_unpoison");
	if (!poison_fn || !unpoison_fn) {
		SKIP("not running on softkvm: no softkvm_poison");
		return;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	RUN_CASE(poison_data);
	RUN_CASE(poison_fetch_and_walk);
}

int main(void)
{
	RUN_CASE(caps_and_setup);
	RUN_CASE(corrected);
	RUN_CASE(machine_check);
	RUN_CASE(ucna_cmci);
	RUN_CASE(poison);
	return t_done();
}
