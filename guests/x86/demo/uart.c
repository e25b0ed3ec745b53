#include "uart.h"

#include "demo.h"
#include "io.h"

void uart_putc(char c)
{
	/* A real 16550 drops bytes written while the THR is full. */
	while (!(inb(UART_BASE + UART_LSR) & UART_LSR_THRE))
		;
	outb(UART_BASE + UART_THR, (uint8_t)c);
}

void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

void uart_put_hex(uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = digits - 1; i >= 0; i--)
		uart_putc(hex[(v >> (4 * i)) & 0xf]);
}

void uart_put_dec(uint64_t v)
{
	char buf[21];
	int n = 0;

	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		uart_putc(buf[--n]);
}
