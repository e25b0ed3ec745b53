/* A PL011 UART, transmit side only: DR writes go to stdout; FR always says
 * "transmit FIFO empty, not busy, receive FIFO empty", so a polling driver
 * never waits. The identification registers read as a real PL011's, for
 * drivers that probe them; other registers read 0, writes are ignored. */
#include <stdio.h>
#include <string.h>

#include "vmm.h"

#define UART_DR 0x000
#define UART_FR 0x018
#define UART_PERIPH_ID0 0xfe0

#define FR_RXFE (1u << 4)
#define FR_TXFE (1u << 7)

/* PeriphID0..3, PCellID0..3 (0xfe0..0xffc): ARM's PL011 r1p5. */
static const uint8_t id_regs[8] = {
	0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
};

static uint32_t pl011_read(uint64_t offset)
{
	if (offset == UART_FR)
		return FR_TXFE | FR_RXFE;
	if (offset >= UART_PERIPH_ID0 && offset < VMM_PL011_SIZE &&
	    !(offset & 3))
		return id_regs[(offset - UART_PERIPH_ID0) / 4];
	return 0;
}

static void pl011_access(struct vmm *vmm, uint64_t offset, bool is_write,
			 uint8_t *data, unsigned len)
{
	if (is_write) {
		if (offset == UART_DR) {
			putchar(data[0]);
			if (data[0] == '\n')
				fflush(stdout);
		}
		return;
	}
	uint32_t v = pl011_read(offset);
	memset(data, 0, len);
	memcpy(data, &v, len < 4 ? len : 4);
}

int pl011_init(struct vmm *vmm)
{
	return mmio_register(vmm, "uart", VMM_PL011_BASE, VMM_PL011_SIZE,
			     pl011_access);
}
