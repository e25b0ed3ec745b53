/* The guest side of a benchmark: run it, report one line on the UART and
 * return the status that boot.S writes to the exit port. */
#include <stddef.h>
#include <stdint.h>

#include "bench.h"
#include "machine.h"

int guest_main(void);

static inline void outb(uint16_t port, uint8_t val)
{
	__asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t val;

	__asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static void putc_uart(char c)
{
	while (!(inb(UART_BASE + UART_LSR) & UART_LSR_THRE))
		;
	outb(UART_BASE + UART_THR, (uint8_t)c);
}

static void puts_uart(const char *s)
{
	while (*s)
		putc_uart(*s++);
}

static void put_hex(uint64_t v)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 15; i >= 0; i--)
		putc_uart(hex[(v >> (4 * i)) & 0xf]);
}

int guest_main(void)
{
	uint64_t sum = 0;
	int failures = bench_run(&sum);

	puts_uart("bench ");
	puts_uart(bench_name);
	puts_uart(" checksum=");
	put_hex(sum);
	puts_uart(failures ? " FAILED\n" : " ok\n");
	return failures ? 1 : 0;
}
