/* A 16550 UART at COM1, enough for polled output and for drivers that
 * probe it (scratch register, loopback): transmitted bytes go to stdout at
 * once, the receiver never has data, and no interrupt is ever raised. */
#include <stdio.h>

#include "vmm.h"

#define UART_COM1 0x3f8

enum uart_reg {
	REG_RBR_THR_DLL = 0,
	REG_IER_DLM = 1,
	REG_IIR_FCR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define LCR_DLAB       0x80
#define MCR_LOOP       0x10
#define LSR_THRE       0x20
#define LSR_TEMT       0x40
#define IIR_NO_INT     0x01
#define IIR_FIFO_ON    0xc0
#define FCR_FIFO_EN    0x01
#define MSR_CTS        0x10
#define MSR_DSR        0x20
#define MSR_RI         0x40
#define MSR_DCD        0x80

struct uart {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
};

static struct uart com1 = { .dll = 0x0c };	/* 9600 baud */

/* In loopback the modem outputs (DTR, RTS, OUT1, OUT2) read back as the
 * inputs (DSR, CTS, RI, DCD); otherwise a present, ready line. */
static uint8_t uart_msr(const struct uart *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return (uint8_t)(((u->mcr & 0x01) << 5) | ((u->mcr & 0x02) << 3) |
			 ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
}

static void uart_transmit(const struct uart *u, uint8_t byte)
{
	if (u->mcr & MCR_LOOP)
		return;		/* looped back into a receiver we do not model */
	putchar(byte);
	if (byte == '\n')
		fflush(stdout);
}

static uint8_t uart_read(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR_DLL: return dlab ? u->dll : 0;
	case REG_IER_DLM:     return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		return IIR_NO_INT | ((u->fcr & FCR_FIFO_EN) ? IIR_FIFO_ON : 0);
	case REG_LCR:         return u->lcr;
	case REG_MCR:         return u->mcr;
	case REG_LSR:         return LSR_THRE | LSR_TEMT;
	case REG_MSR:         return uart_msr(u);
	default:              return u->scr;
	}
}

static void uart_write(struct uart *u, unsigned reg, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR_DLL:
		if (dlab)
			u->dll = val;
		else
			uart_transmit(u, val);
		break;
	case REG_IER_DLM:
		if (dlab)
			u->dlm = val;
		else
			u->ier = val & 0x0f;
		break;
	case REG_IIR_FCR: u->fcr = val; break;
	case REG_LCR:     u->lcr = val; break;
	case REG_MCR:     u->mcr = val & 0x1f; break;
	case REG_SCR:     u->scr = val; break;
	default:          break;	/* LSR and MSR are read-only */
	}
}

static void uart_io(struct vmm *vmm, void *opaque, uint16_t port,
		    bool is_write, uint8_t *data, unsigned size)
{
	struct uart *u = opaque;

	/* Byte registers: a wider access touches consecutive registers. */
	for (unsigned i = 0; i < size; i++) {
		unsigned reg = (unsigned)(port + i - UART_COM1) & 7;

		if (is_write)
			uart_write(u, reg, data[i]);
		else
			data[i] = uart_read(u, reg);
	}
}

void uart_flush(void)
{
	fflush(stdout);
}

int uart_init(struct vmm *vmm)
{
	return pio_register(vmm, "uart", UART_COM1, 8, uart_io, &com1);
}
