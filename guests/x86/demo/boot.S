/* The x86 guests' way from reset to C: real mode -> 32-bit protected mode
 * -> 64-bit long mode with the first GiB identity-mapped in 2 MiB pages ->
 * BOOT_MAIN (demo_main). One object holds all three code sizes so that no
 * multilib is needed. The benchmark guests build it with BOOT_QUIET (no
 * messages, so boot costs little) and BOOT_MAIN=guest_main.
 */
#include "demo.h"

#ifndef BOOT_MAIN
#define BOOT_MAIN demo_main
#endif

#define CR0_PE    0x00000001
#define CR0_PG    0x80000000
#define CR4_PAE   0x00000020
#define MSR_EFER  0xc0000080
#define EFER_LME  0x00000100
#define PTE_P     0x001
#define PTE_W     0x002
#define PTE_PS    0x080

	.section .text.boot, "ax"

/* ---- 16-bit real mode: CS base must be the link address ---- */
	.code16
	.globl _start
_start:
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	movzwl	%ax, %ebx
	shl	$4, %ebx		/* ebx = CS base */
	cmp	$_start, %ebx
	jne	bad_load
	mov	$boot_stack_top, %eax
	sub	%ebx, %eax
	mov	%ax, %sp		/* the boot stack, as an offset in SS */

#ifndef BOOT_QUIET
	mov	$(msg_banner - _start), %si
	call	puts16
	mov	$(msg_real - _start), %si
	call	puts16
#endif

	lgdtl	(gdt_desc - _start)
	mov	%cr0, %eax
	or	$CR0_PE, %eax
	mov	%eax, %cr0
	ljmpl	$SEL_CODE32, $pm32

bad_load:
	mov	$STATUS_BAD_LOAD, %al
	mov	$EXIT_PORT, %dx
	out	%al, %dx
1:	hlt
	jmp	1b

/* puts16: write the NUL-terminated string at DS:SI to the UART. */
puts16:
	lodsb
	test	%al, %al
	jz	2f
	mov	%al, %ah
	mov	$(UART_BASE + UART_LSR), %dx
1:	in	%dx, %al
	test	$UART_LSR_THRE, %al
	jz	1b
	mov	%ah, %al
	mov	$(UART_BASE + UART_THR), %dx
	out	%al, %dx
	jmp	puts16
2:	ret

msg_banner:
	.asciz	"softkvm x86 demo guest\n"
msg_real:
	.asciz	"[16-bit] real mode: loading GDT, entering protected mode\n"

	.p2align 3
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* SEL_CODE32: base 0, 4 GiB, 32-bit code */
	.quad	0x00cf92000000ffff	/* SEL_DATA: base 0, 4 GiB, data */
	.quad	0x00af9a000000ffff	/* SEL_CODE64: L=1 */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt

/* ---- 32-bit protected mode, flat segments, paging off ---- */
	.code32
pm32:
	mov	$SEL_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$boot_stack_top, %esp

#ifndef BOOT_QUIET
	mov	$msg_prot, %esi
	call	puts32
#endif

	/* The tables live in .bss; clear them rather than trust the loader. */
	mov	$pml4, %edi
	xor	%eax, %eax
	mov	$(3 * 4096 / 4), %ecx
	rep stosl

	movl	$(pdpt + PTE_P + PTE_W), pml4
	movl	$(pd + PTE_P + PTE_W), pdpt
	/* pd: 512 x 2 MiB identity pages = the first GiB */
	mov	$pd, %edi
	mov	$(PTE_P + PTE_W + PTE_PS), %eax
	mov	$512, %ecx
1:	mov	%eax, (%edi)
	add	$0x200000, %eax
	add	$8, %edi
	loop	1b

	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$CR0_PG, %eax
	mov	%eax, %cr0		/* EFER.LMA becomes 1 here */
	ljmp	$SEL_CODE64, $lm64

/* puts32: write the NUL-terminated string at ESI to the UART. */
puts32:
	lodsb
	test	%al, %al
	jz	2f
	mov	%al, %ah
	mov	$(UART_BASE + UART_LSR), %dx
1:	in	%dx, %al
	test	$UART_LSR_THRE, %al
	jz	1b
	mov	%ah, %al
	mov	$(UART_BASE + UART_THR), %dx
	out	%al, %dx
	jmp	puts32
2:	ret

msg_prot:
	.asciz	"[32-bit] protected mode: building page tables, enabling PAE, EFER.LME, paging\n"

/* ---- 64-bit long mode ---- */
	.code64
lm64:
	mov	$SEL_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	xor	%eax, %eax
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$boot_stack_top, %rsp
	call	BOOT_MAIN
	mov	$EXIT_PORT, %dx
	out	%al, %dx
1:	hlt
	jmp	1b

	.section .bss
	.p2align 12
	.globl pml4
pml4:	.skip	4096
pdpt:	.skip	4096
pd:	.skip	4096
	.p2align 4
boot_stack:
	.skip	16384
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
