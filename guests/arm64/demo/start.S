/* The arm64 demo's entry: an arm64 Linux Image header (so that softkvm-vmm-
 * arm64 and QEMU's -kernel both load it at RAM + 0x80000 and enter it at
 * its first byte in EL1), stack and BSS set-up, the exception vectors, and
 * the PSCI SYSTEM_OFF that ends the run (status written to the exit
 * register first, see README.md). */
	.section .text.head, "ax"
	.global _head
_head:
	b	entry			/* code0 */
	.long	0			/* code1 */
	.quad	0x80000			/* text_offset */
	.quad	_image_end - _head	/* image_size */
	.quad	0x2			/* flags: little-endian, 4K pages */
	.quad	0, 0, 0			/* reserved */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* reserved (PE header offset) */

entry:
	ldr	x1, =__stack_top
	mov	sp, x1
	ldr	x1, =vectors
	msr	vbar_el1, x1
	isb
	ldr	x1, =__bss_start
	ldr	x2, =__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	bl	demo_main
	/* Fall through with the status in w0. */
	.global system_off
system_off:
	mov	x1, #0x09010000		/* the exit register (see README.md) */
	str	w0, [x1]
	ldr	x0, =0x84000008		/* PSCI SYSTEM_OFF */
	hvc	#0
3:	wfi
	b	3b

	/* Each vector saves the caller-saved registers and ELR/SPSR, calls
	 * demo_exception(frame, kind), restores (the handler may change the
	 * saved ELR) and returns with ERET. */
	.macro vec kind
	.balign 0x80
	sub	sp, sp, #(24 * 8)
	stp	x0, x1, [sp, #0]
	mov	x1, #\kind
	b	exc_common
	.endm

	.text
	.balign 0x800
	.global vectors
vectors:
	.irp k, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	vec	\k
	.endr

exc_common:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x30, [sp, #144]
	mrs	x2, elr_el1
	mrs	x3, spsr_el1
	stp	x2, x3, [sp, #160]
	mov	x0, sp
	bl	demo_exception
	ldp	x2, x3, [sp, #160]
	msr	elr_el1, x2
	msr	spsr_el1, x3
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x30, [sp, #144]
	ldp	x0, x1, [sp, #0]
	add	sp, sp, #(24 * 8)
	eret
