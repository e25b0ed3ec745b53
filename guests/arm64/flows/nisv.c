/* Flow "nisv": MMIO accesses that KVM cannot describe in the syndrome
 * (LDP/STP, writeback forms) to the VMM's scratch registers at 0x09020000;
 * the VMM emulates them (KVM_EXIT_ARM_NISV). Then an LDP to an address with
 * no device: the VMM injects an external abort, reported here. The MMU
 * stays off: the VMM reads the instruction at PC as an IPA. */
#include "demo.h"

#define SCRATCH 0x09020000ul
#define NO_DEVICE 0x09030000ul

/* start.S: the status to the exit register, then PSCI SYSTEM_OFF. */
_Noreturn void system_off(uint32_t status);

static const uint64_t A = 0x1122334455667788ull, B = 0x99aabbccddeeff00ull;
static volatile uint64_t abort_esr, abort_far;
static volatile int aborts;
static int failures;

void demo_exception(struct frame *f, uint64_t kind)
{
	abort_esr = read_sysreg(esr_el1);
	abort_far = read_sysreg(far_el1);
	if (kind != 4 || aborts) {	/* only one synchronous abort expected */
		uart_puts("nisv: unexpected exception, kind ");
		uart_put_dec(kind);
		uart_puts("\n");
		system_off(1);
	}
	aborts++;
	f->elr += 4;	/* step over the aborted LDP */
}

static uint64_t mmio_read64(uintptr_t a)
{
	return *(volatile uint64_t *)a;
}

static void check(const char *what, uint64_t got, uint64_t want)
{
	uart_puts(got == want ? "nisv: ok    " : "nisv: FAIL  ");
	uart_puts(what);
	if (got != want) {
		uart_puts(": got ");
		uart_put_hex(got, 16);
		uart_puts(", want ");
		uart_put_hex(want, 16);
		failures++;
	}
	uart_puts("\n");
}

static void pairs64(void)
{
	uint64_t base = SCRATCH, x, y;

	__asm__ volatile("stp %1, %2, [%0, #16]"
			 :: "r"(base), "r"(A), "r"(B) : "memory");
	check("stp x, x, [base, #16] (read back with ldr)",
	      mmio_read64(SCRATCH + 16) ^ mmio_read64(SCRATCH + 24), A ^ B);
	__asm__ volatile("ldp %0, %1, [%2, #16]!"
			 : "=&r"(x), "=&r"(y), "+r"(base) :: "memory");
	check("ldp x, x, [base, #16]! values", x ^ (y << 1), A ^ (B << 1));
	check("ldp x, x, [base, #16]! writeback", base, SCRATCH + 16);
}

static void pairs32(void)
{
	uint64_t base = SCRATCH + 32;
	uint32_t x, y;

	__asm__ volatile("stp %w1, %w2, [%0], #8"
			 : "+r"(base) : "r"(0xcafef00du), "r"(0x0badc0deu)
			 : "memory");
	check("stp w, w, [base], #8 writeback", base, SCRATCH + 40);
	check("stp w, w, [base], #8 (read back with ldr)",
	      mmio_read64(SCRATCH + 32), 0x0badc0decafef00dull);
	__asm__ volatile("ldp %w0, %w1, [%2, #-8]"
			 : "=&r"(x), "=&r"(y) : "r"(base) : "memory");
	check("ldp w, w, [base, #-8]", ((uint64_t)y << 32) | x,
	      0x0badc0decafef00dull);
}

static void post_index(void)
{
	uint64_t base = SCRATCH + 16, x;

	__asm__ volatile("ldr %0, [%1], #8"
			 : "=&r"(x), "+r"(base) :: "memory");
	check("ldr x, [base], #8 value", x, A);
	check("ldr x, [base], #8 writeback", base, SCRATCH + 24);
}

static void no_device(void)
{
	uint64_t base = NO_DEVICE, x = 0, y = 0;

	__asm__ volatile("ldp %0, %1, [%2]"
			 : "+r"(x), "+r"(y) : "r"(base) : "memory");
	uart_puts("nisv: ldp from ");
	uart_put_hex(NO_DEVICE, 8);
	uart_puts(": external abort ESR_EL1=");
	uart_put_hex(abort_esr, 8);
	uart_puts(" FAR_EL1=");
	uart_put_hex(abort_far, 16);
	uart_puts("\n");
	check("one synchronous external abort (EC 0x25, FSC 0x10)",
	      aborts == 1 && (abort_esr >> 26) == 0x25 &&
	      (abort_esr & 0x3f) == 0x10 && abort_far == NO_DEVICE, 1);
}

int demo_main(void)
{
	uart_puts("nisv: MMU off, scratch registers at 0x09020000\n");
	pairs64();
	pairs32();
	post_index();
	no_device();
	uart_puts(failures ? "nisv: FAILED\n" : "nisv: all checks passed\n");
	return failures != 0;
}
