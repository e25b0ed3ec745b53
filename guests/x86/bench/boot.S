/* Benchmark guests: reset -> 32-bit protected mode -> 64-bit long mode with
 * the first GiB identity-mapped in 2 MiB pages -> guest_main(). Adapted from
 * the demo guest's boot.S without its messages, so boot costs little.
 */
#include "machine.h"

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
	movzwl	%ax, %ebx
	shl	$4, %ebx		/* ebx = CS base */
	cmp	$_start, %ebx
	jne	bad_load
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

	/* The tables live in .bss; clear them rather than trust the loader. */
	mov	$pml4, %edi
	xor	%eax, %eax
	mov	$(3 * 4096 / 4), %ecx
	rep stosl

	movl	$(pdpt + PTE_P + PTE_W), pml4
	movl	$(pd + PTE_P + PTE_W), pdpt
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
	mov	%eax, %cr0
	ljmp	$SEL_CODE64, $lm64

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
	call	guest_main
	mov	$EXIT_PORT, %dx
	out	%al, %dx
1:	hlt
	jmp	1b

	.section .bss
	.p2align 12
pml4:	.skip	4096
pdpt:	.skip	4096
pd:	.skip	4096
	.p2align 4
	.skip	65536
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
