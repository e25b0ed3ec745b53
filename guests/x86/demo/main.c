/* The demo guest's 64-bit part: report the mode it reached, compute a few
 * things whose answers are known, and return the number of wrong answers as
 * the exit status (boot.S writes it to the exit port). */
#include "demo.h"
#include "io.h"
#include "uart.h"
#include "work.h"

#define CR0_PG    (1ull << 31)
#define CR4_PAE   (1ull << 5)
#define MSR_EFER  0xc0000080u
#define EFER_LMA  (1ull << 10)

int demo_main(void);

static int failures;

static void check(const char *what, int ok)
{
	uart_puts(ok ? "  ok    " : "  FAIL  ");
	uart_puts(what);
	uart_putc('\n');
	failures += !ok;
}

static void report_mode(void)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4(), efer = rdmsr(MSR_EFER);

	uart_puts("[64-bit] long mode: CS=");
	uart_put_hex(read_cs(), 4);
	uart_puts(" CR0=");
	uart_put_hex(cr0, 8);
	uart_puts(" CR3=");
	uart_put_hex(read_cr3(), 8);
	uart_puts(" CR4=");
	uart_put_hex(cr4, 8);
	uart_puts(" EFER=");
	uart_put_hex(efer, 8);
	uart_putc('\n');
	check("paging, PAE and EFER.LMA are on",
	      (cr0 & CR0_PG) && (cr4 & CR4_PAE) && (efer & EFER_LMA));
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
	report_mode();
	compute();
	uart_puts(failures ? "demo: FAILED, exit status " : "demo: all checks passed, exit status ");
	uart_put_dec((uint64_t)failures);
	uart_putc('\n');
	return failures;
}
