/* Flow "sea": the VMM has poisoned the pages at 0x40200000 and 0x40201000.
 * A load from each reaches the VMM (as SIGBUS, then as KVM_EXIT_ARM_SEA);
 * the VMM injects an external abort, which this guest takes as a
 * synchronous external abort (SEA) and reports. MMU off: the FAR is the
 * physical address. */
#include "demo.h"

#define POISONED 0x40200010ul
#define POISONED2 0x40201020ul

/* start.S: the status to the exit register, then PSCI SYSTEM_OFF. */
_Noreturn void system_off(uint32_t status);

static volatile uint64_t esr, far, elr;
static volatile int aborts;

void demo_exception(struct frame *f, uint64_t kind)
{
	if (kind != 4 || aborts > 1) {
		uart_puts("sea: unexpected exception, kind ");
		uart_put_dec(kind);
		uart_puts("\n");
		system_off(1);
	}
	esr = read_sysreg(esr_el1);
	far = read_sysreg(far_el1);
	elr = f->elr;
	aborts++;
	f->elr += 4;	/* the load did not complete: skip it */
}

/* Load from addr, which the VMM poisoned; the abort handler skips the
 * load. Reports the abort and checks it was an SEA at the load. */
static int poisoned_load(uint64_t addr, int nth)
{
	uint64_t pc, v = 0;

	uart_puts("sea: loading from poisoned memory at ");
	uart_put_hex(addr, 8);
	uart_puts("\n");
	__asm__ volatile("adr %0, 1f\n"
			 "1: ldr %1, [%2]"
			 : "=&r"(pc), "+r"(v) : "r"(addr) : "memory");
	uart_puts("sea: took a synchronous external abort: ESR_EL1=");
	uart_put_hex(esr, 8);
	uart_puts(" (EC ");
	uart_put_hex(esr >> 26, 2);
	uart_puts(", FSC ");
	uart_put_hex(esr & 0x3f, 2);
	uart_puts(") FAR_EL1=");
	uart_put_hex(far, 16);
	uart_puts("\n");
	return aborts == nth && (esr >> 26) == 0x25 && (esr & 0x3f) == 0x10 &&
	       far == addr && elr == pc && v == 0;
}

/* The first error reaches the VMM as SIGBUS, the second (the VMM has
 * enabled KVM_CAP_ARM_SEA_TO_USER meanwhile) as KVM_EXIT_ARM_SEA: the
 * guest sees the same SEA both times. */
int demo_main(void)
{
	int ok = poisoned_load(POISONED, 1) && poisoned_load(POISONED2, 2);
	uart_puts(ok ? "sea: SEA at the load, all checks passed\n"
		     : "sea: FAILED\n");
	return !ok;
}
