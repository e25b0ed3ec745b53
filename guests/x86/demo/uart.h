/* Polled output to the 16550 UART at COM1. */
#ifndef DEMO_UART_H
#define DEMO_UART_H

#include <stdint.h>

void uart_putc(char c);
void uart_puts(const char *s);
void uart_put_hex(uint64_t v, int digits);
void uart_put_dec(uint64_t v);

#endif
