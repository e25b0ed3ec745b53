/* The arm64 demo: report the exception level, turn the MMU on, take two
 * exceptions through VBAR_EL1, compute a few things whose answers are
 * known, and return the number of wrong answers as the exit status. */
#include "demo.h"
#include "work.h"

#define EC_SVC64 0x15u
#define EC_DABT_CUR 0x25u
#define ESR_EC(esr) ((uint32_t)((esr) >> 26) & 0x3fu)
#define DFSC_TRANS_L1 0x05u

static int failures;
static volatile uint64_t last_esr, last_far, exc_taken;

static void check(const char *what, int ok)
{
	uart_puts(ok ? "  ok    " : "  FAIL  ");
	uart_puts(what);
	uart_putc('\n');
	failures += !ok;
}

/* Synchronous exceptions from EL1 (kind 4, SP_ELx) are recorded; a data
 * abort skips the faulting load, an SVC returns past itself anyway. */
void demo_exception(struct frame *f, uint64_t kind)
{
	uint64_t esr = read_sysreg(esr_el1);

	last_esr = esr;
	last_far = read_sysreg(far_el1);
	exc_taken++;
	if (kind == 4 && ESR_EC(esr) == EC_DABT_CUR) {
		f->elr += 4;
		return;
	}
	if (kind == 4 && ESR_EC(esr) == EC_SVC64)
		return;
	uart_puts("unexpected exception, kind ");
	uart_put_dec(kind);
	uart_puts(" ESR_EL1=");
	uart_put_hex(esr, 8);
	uart_puts(" ELR_EL1=");
	uart_put_hex(f->elr, 16);
	uart_putc('\n');
	__asm__ volatile("mov x0, #255\n\tb system_off");
}

static void report_el(void)
{
	uint64_t el = (read_sysreg(CurrentEL) >> 2) & 3;

	uart_puts("[EL");
	uart_put_dec(el);
	uart_puts("] CurrentEL=");
	uart_put_dec(el);
	uart_puts(" MIDR_EL1=");
	uart_put_hex(read_sysreg(midr_el1), 8);
	uart_puts(" VBAR_EL1=");
	uart_put_hex(read_sysreg(vbar_el1), 8);
	uart_putc('\n');
	check("running in EL1", el == 1);
}

static void mmu(void)
{
	static volatile uint64_t cell;
	volatile uint64_t *alias = (volatile uint64_t *)(uintptr_t)
		((uintptr_t)&cell - 0x40000000u + DEMO_ALIAS_VA);
	int on = mmu_enable() == 0;

	uart_puts("mmu: ");
	uart_puts(on ? "on" : "off");
	uart_puts(", 4K granule, TCR_EL1=");
	uart_put_hex(read_sysreg(tcr_el1), 8);
	uart_puts(" TTBR0_EL1=");
	uart_put_hex(read_sysreg(ttbr0_el1), 8);
	uart_putc('\n');
	check("SCTLR_EL1.M is set", on);
	cell = 0x600dcafe;
	uint64_t seen = *alias;
	*alias = 0x5eed;
	check("VA 0x80000000 aliases the RAM at 0x40000000",
	      seen == 0x600dcafe && cell == 0x5eed);
}

static void exceptions(void)
{
	__asm__ volatile("svc #0x42" ::: "memory");
	uart_puts("svc #0x42: ESR_EL1=");
	uart_put_hex(last_esr, 8);
	uart_putc('\n');
	check("SVC taken through VBAR_EL1 with EC 0x15, imm 0x42",
	      exc_taken == 1 && ESR_EC(last_esr) == EC_SVC64 &&
	      (last_esr & 0xffff) == 0x42);

	uint64_t v;
	__asm__ volatile("ldr %0, [%1]" : "=r"(v)
			 : "r"(DEMO_HOLE_VA + 0x10) : "memory");
	(void)v;
	uart_puts("load from unmapped ");
	uart_put_hex(DEMO_HOLE_VA + 0x10, 8);
	uart_puts(": ESR_EL1=");
	uart_put_hex(last_esr, 8);
	uart_puts(" FAR_EL1=");
	uart_put_hex(last_far, 8);
	uart_putc('\n');
	check("data abort with EC 0x25, level 1 translation fault, FAR",
	      exc_taken == 2 && ESR_EC(last_esr) == EC_DABT_CUR &&
	      (last_esr & 0x3f) == DFSC_TRANS_L1 &&
	      last_far == DEMO_HOLE_VA + 0x10);
}

static void compute(void)
{
	static const char check_input[] = "123456789";
	uint32_t crc = crc32(check_input, sizeof(check_input) - 1);
	unsigned primes = count_primes_below(100000);
	uint64_t sum = 0;
	int sorted = sort_check(1000, 2024, &sum);

	uart_puts("crc32(\"123456789\") = ");
	uart_put_hex(crc, 8);
	uart_putc('\n');
	check("crc32 matches the standard check value cbf43926",
	      crc == 0xcbf43926u);

	uart_puts("primes below 100000 = ");
	uart_put_dec(primes);
	uart_putc('\n');
	check("prime count is 9592", primes == 9592);

	uart_puts("sorted 1000 values, sum = ");
	uart_put_dec(sum);
	uart_putc('\n');
	check("sort keeps the values and orders them", sorted);
}

int demo_main(void)
{
	uart_puts("softkvm arm64 demo guest\n");
	report_el();
	mmu();
	exceptions();
	compute();
	uart_puts(failures ? "demo: FAILED, exit status "
			   : "demo: all checks passed, exit status ");
	uart_put_dec((uint64_t)failures);
	uart_putc('\n');
	return failures;
}
