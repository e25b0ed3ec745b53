/* Output through a PL011: wait while the transmit FIFO is full, write DR. */
#include "demo.h"

#define UART_BASE 0x09000000ul
#define UART_DR 0x00
#define UART_FR 0x18
#define FR_TXFF (1u << 5)

static inline uint32_t mmio_read32(uintptr_t a)
{
	return *(volatile uint32_t *)a;
}

static inline void mmio_write32(uintptr_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

void uart_putc(char c)
{
	while (mmio_read32(UART_BASE + UART_FR) & FR_TXFF)
		;
	mmio_write32(UART_BASE + UART_DR, (uint8_t)c);
}

void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

void uart_put_hex(uint64_t v, unsigned digits)
{
	static const char hex[] = "0123456789abcdef";

	while (digits--)
		uart_putc(hex[(v >> (4 * digits)) & 0xf]);
}

void uart_put_dec(uint64_t v)
{
	char s[21];
	int i = 20;

	s[i] = '\0';
	do {
		s[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	uart_puts(s + i);
}
