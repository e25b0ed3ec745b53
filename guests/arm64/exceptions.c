/* Synchronous exceptions at EL1 and from EL0: the ESR, FAR and ELR that
 * hardware gives, and the vector each one arrives at. */
#include "lib.h"

#define ESR(ec, iss) (((uint64_t)(ec) << 26) | (1ull << 25) | (iss))

static uint64_t here_after(void)
{
	return 0;
}

/* Runs the instruction at a label and gives the label's address. */
#define AT(insn) ({ uint64_t a_; __asm__ volatile("adr %0, 1f\n1: " insn "\n" : "=&r"(a_) :: "memory", "x0"); a_; })

static volatile int el0_step;
static uint64_t el0_stack[512] __attribute__((aligned(16)));

/* EL0: SVC, an EL1-only register (UNDEFINED), CNTVCT_EL0 with
 * CNTKCTL_EL1.EL0VCTEN = 0 (trapped, EC 0x18), then SVC #2 to go back. */
void el0_code(void);
__asm__(".text\n.global el0_code\nel0_code:\n"
	"svc #1\n mrs x0, sctlr_el1\n mrs x1, cntvct_el0\n svc #2\n b .\n");

static uint64_t el0_esr[4], el0_kind[4];
static volatile uint64_t back_pc;

static int el0_hook(struct frame *f, uint64_t kind)
{
	uint64_t esr = read_sysreg(esr_el1);
	if (el0_step < 4) {
		el0_esr[el0_step] = esr;
		el0_kind[el0_step] = kind;
		el0_step++;
	}
	if ((esr >> 26) == 0x15 && (esr & 0xffff) == 2) {
		f->spsr = 0x3c5;   /* back to EL1h */
		f->elr = back_pc;
		return 1;
	}
	if ((esr >> 26) != 0x15)
		f->elr += 4;
	return 1;
}

static void drop_to_el0(void)
{
	__asm__ volatile(
		"adr x0, 2f\n"
		"str x0, [%0]\n"
		"msr sp_el0, %1\n"
		"msr elr_el1, %2\n"
		"msr spsr_el1, xzr\n"
		"eret\n"
		"2:\n"
		:: "r"(&back_pc), "r"(&el0_stack[512]), "r"(el0_code)
		: "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
		  "x14", "x15", "x16", "x17", "x18", "x30", "memory");
}

int main(void)
{
	uint64_t a;
	/* UDF #0: unknown reason, ELR at the instruction */
	a = AT(".inst 0x00000000");
	check(0x10, last_esr, ESR(0, 0));
	check(0x11, last_elr, a);
	check(0x12, last_kind, 4);   /* current EL, SP_ELx, synchronous */

	a = AT("brk #0x123");
	check(0x20, last_esr, ESR(0x3c, 0x123));
	check(0x21, last_elr, a);

	a = AT("svc #0x42");
	check(0x30, last_esr, ESR(0x15, 0x42));
	check(0x31, last_elr, a + 4);

	/* an address beyond the 40-bit PA with the MMU off: address size fault, level 0 */
	uint64_t far = 1ull << 41;
	__asm__ volatile("ldr x0, [%0]" ::"r"(far) : "x0", "memory");
	check(0x40, last_esr, ESR(0x25, 0x00));
	check(0x41, last_far, far);
	__asm__ volatile("str xzr, [%0]" ::"r"(far) : "memory");
	check(0x42, last_esr, ESR(0x25, 0x40));

	/* exclusives must be aligned */
	static uint64_t word[2];
	uint64_t mis = (uint64_t)word + 1;
	__asm__ volatile("ldxr x0, [%0]" ::"r"(mis) : "x0", "memory");
	check(0x50, last_esr, ESR(0x25, 0x21));
	check(0x51, last_far, mis);

	/* a branch to a misaligned address: PC alignment fault at the target */
	void (*fn)(void) = (void (*)(void))((uint64_t)here_after + 2);
	fn();
	check(0x60, last_esr, ESR(0x22, 0));
	check(0x61, last_far, (uint64_t)here_after + 2);
	check(0x62, last_elr, (uint64_t)here_after + 2);

	/* executing from an IPA outside the memslots: external abort (KVM injects it) */
	fn = (void (*)(void))0x0a000000ul;
	fn();
	check(0x70, last_esr, ESR(0x21, 0x10));
	check(0x71, last_far, 0x0a000000ul);

	/* HVC: an unknown function is NOT_SUPPORTED; SMC answers -1 */
	check(0x80, hvc(0xc6001234, 0, 0, 0), (uint64_t)-1);
	check(0x81, hvc(0x84000000, 0, 0, 0), 0x10001);   /* PSCI_VERSION: 1.1 */
	check(0x82, hvc(0x8400000a, 0x84000003, 0, 0), 0); /* PSCI_FEATURES(CPU_ON) */
	check(0x83, hvc(0x84000006, 0, 0, 0), 2);          /* MIGRATE_INFO_TYPE */
	uint64_t x0;
	__asm__ volatile("mov x0, #5\n smc #0\n mov %0, x0" : "=r"(x0) :: "x0", "x1", "x2", "x3", "memory");
	check(0x84, x0, (uint64_t)-1);

	/* EL0: SVC arrives at the lower-EL vector; EL1 registers are UNDEFINED */
	uint64_t n = exc_count;
	sync_hook = el0_hook;
	drop_to_el0();
	sync_hook = 0;
	check(0x90, el0_step, 4);
	check(0x91, el0_esr[0], ESR(0x15, 1));
	check(0x92, el0_kind[0], 8);   /* lower EL, AArch64, synchronous */
	check(0x93, el0_esr[1], ESR(0, 0));
	/* MRS x1, CNTVCT_EL0: Op0 3, Op2 2, Op1 3, CRn 14, Rt 1, CRm 0, read */
	check(0x94, el0_esr[2], ESR(0x18, (3u << 20) | (2u << 17) | (3u << 14) | (14u << 10) | (1u << 5) | 1));
	check(0x95, el0_esr[3], ESR(0x15, 2));
	check(0x96, exc_count, n);
	check(0x97, read_sysreg(CurrentEL), 4);

	/* DAIF masking: IRQ/FIQ bits read back */
	__asm__ volatile("msr daifclr, #2");
	check(0xa0, read_sysreg(daif), 0x340);
	__asm__ volatile("msr daifset, #2");
	check(0xa1, read_sysreg(daif), 0x3c0);
	puts_("exceptions done\n");
	return 0;
}
