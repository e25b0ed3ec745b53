/* The benchmark guests' machine contract, the same as the demo guest's
 * (guests/x86/demo/README.md): flat image loaded and linked at 0x10000,
 * entered in real mode at 1000:0000, 16550 UART at 0x3f8, exit status byte
 * on port 0x501 (the constants of guests/x86/demo/demo.h, which the shared
 * boot code, guests/x86/demo/boot.S, uses). Shared by the C code.
 */
#ifndef BENCH_MACHINE_H
#define BENCH_MACHINE_H

#define BENCH_LOAD_ADDR 0x10000

#define UART_BASE      0x3f8
#define UART_THR       0
#define UART_LSR       5
#define UART_LSR_THRE  0x20

#define EXIT_PORT      0x501

/* Exit loop targets: a port and an address nothing decodes, on both
 * softkvm-vmm (16 MiB of RAM) and QEMU's pc machine (-m 64), so each access
 * is a plain exit to the VMM and back. Port 0x510 would be QEMU's fw_cfg. */
#define EXIT_LOOP_PORT 0x80
#define EXIT_LOOP_MMIO 0x3f000000ul	/* inside the identity-mapped GiB */

#define SEL_CODE32     0x08
#define SEL_DATA       0x10
#define SEL_CODE64     0x18

#define STATUS_BAD_LOAD 0x7f

#endif
