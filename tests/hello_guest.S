/* Four "Hello, world!" guests in the style of kvm-hello-world, one per x86
 * mode. Each prints the message through port 0xE9, one OUT per byte, leaves
 * 42 in memory at 0x400 and in the accumulator, and halts. The VMM copies
 * the code between hello<N> and hello<N>_end to guest-physical LOAD. */
#define LOAD 0x1000

	.section .rodata.hello_guests, "a"

	.globl hello16, hello16_end
	.code16
hello16:
	mov $(msg16 - hello16 + LOAD), %si
1:	lodsb
	test %al, %al
	jz 2f
	out %al, $0xe9
	jmp 1b
2:	movw $42, 0x400
	mov $42, %ax
	hlt
msg16:	.asciz "Hello, world!\n"
hello16_end:

	.globl hello32, hello32_end
	.code32
hello32:
	mov $(msg32 - hello32 + LOAD), %esi
1:	lodsb
	test %al, %al
	jz 2f
	out %al, $0xe9
	jmp 1b
2:	movl $42, 0x400
	mov $42, %eax
	hlt
msg32:	.asciz "Hello, world!\n"
hello32_end:

	.globl hello64, hello64_end
	.code64
hello64:
	lea msg64(%rip), %rsi
1:	lodsb
	test %al, %al
	jz 2f
	out %al, $0xe9
	jmp 1b
2:	movq $42, 0x400
	mov $42, %rax
	hlt
msg64:	.asciz "Hello, world!\n"
hello64_end:

	.section .note.GNU-stack, "", @progbits
