/* The demo guest's machine contract, shared by its assembly and C code.
 *
 * The VMM loads the flat image at DEMO_LOAD_ADDR and starts the vCPU in real
 * mode with CS = DEMO_LOAD_ADDR >> 4 (base DEMO_LOAD_ADDR) and IP = 0.
 * Output goes to a 16550 UART at COM1; the exit status is one byte written to
 * the debug-exit port (QEMU's isa-debug-exit at iobase 0x501 reports it as
 * (status << 1) | 1; softkvm-vmm exits with the byte itself).
 */
#ifndef DEMO_H
#define DEMO_H

#define DEMO_LOAD_ADDR 0x10000

#define UART_BASE      0x3f8
#define UART_THR       0           /* transmit holding register (write) */
#define UART_LSR       5           /* line status register (read) */
#define UART_LSR_THRE  0x20        /* THR empty: a byte may be written */

#define EXIT_PORT      0x501

/* Selectors of the boot GDT (boot.S). */
#define SEL_CODE32     0x08
#define SEL_DATA       0x10
#define SEL_CODE64     0x18

/* Status when the image runs at a base other than the one it was linked for. */
#define STATUS_BAD_LOAD 0x7f

#endif
