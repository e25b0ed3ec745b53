/* Host runners for the x87/MMX/SSE/AVX stubs (fp.h).
 *
 * struct x86_fp_ctx: rax 0, rcx 8, rdx 16, flags 24, mem 32, stub 40.
 * flags holds the status flags as LAHF/SETO leave them in AX (AH: SF ZF
 * AF PF CF, AL: OF as 0/1); on entry AX's image for "add $1, %al; sahf"
 * (AL = 0x7f sets OF). PUSHF/POPF are avoided: they are slow under some
 * hypervisors. x87 control word and MXCSR are callee-saved in the SysV
 * ABI, so the host's are put back.
 */
	.text

/* void x86_fp_host_run(struct x86_fp_ctx *c, void *img)
 * The whole FPU: img (FXSAVE64 layout, 16-byte aligned, sane MXCSR) is
 * loaded with FXRSTOR and saved back with FXSAVE. */
	.globl x86_fp_host_run
	.hidden x86_fp_host_run
	.type x86_fp_host_run, @function
x86_fp_host_run:
	.cfi_startproc
	push %rbx
	.cfi_adjust_cfa_offset 8
	push %rbp
	.cfi_adjust_cfa_offset 8
	push %r12
	.cfi_adjust_cfa_offset 8
	sub $528, %rsp
	.cfi_adjust_cfa_offset 528
	mov %rdi, %rbx
	mov %rsi, %r12
	fxsave64 (%rsp)
	fxrstor64 (%r12)
	mov 24(%rbx), %rax
	addb $1, %al
	sahf
	mov 0(%rbx), %rax
	mov 8(%rbx), %rcx
	mov 16(%rbx), %rdx
	mov 32(%rbx), %rsi
	mov %rsi, %rdi
	call *40(%rbx)
	mov %rax, 0(%rbx)
	lahf
	seto %al
	movzwl %ax, %eax
	mov %rax, 24(%rbx)
	mov %rcx, 8(%rbx)
	mov %rdx, 16(%rbx)
	fxsave64 (%r12)
	fxrstor64 (%rsp)
	add $528, %rsp
	.cfi_adjust_cfa_offset -528
	pop %r12
	.cfi_adjust_cfa_offset -8
	pop %rbp
	.cfi_adjust_cfa_offset -8
	pop %rbx
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size x86_fp_host_run, .-x86_fp_host_run

/* void x86_sse_host_run(struct x86_fp_ctx *c, void *xmm, uint32_t *mxcsr)
 * SSE only: XMM0-15 from/to xmm (256 bytes, 16-byte aligned), MXCSR
 * from/to *mxcsr; the x87 state is not touched. */
	.globl x86_sse_host_run
	.hidden x86_sse_host_run
	.type x86_sse_host_run, @function
x86_sse_host_run:
	.cfi_startproc
	push %rbx
	.cfi_adjust_cfa_offset 8
	push %r12
	.cfi_adjust_cfa_offset 8
	push %r13
	.cfi_adjust_cfa_offset 8
	sub $16, %rsp
	.cfi_adjust_cfa_offset 16
	mov %rdi, %rbx
	mov %rsi, %r12
	mov %rdx, %r13
	stmxcsr (%rsp)
	ldmxcsr (%r13)
	movdqa 0(%r12), %xmm0
	movdqa 16(%r12), %xmm1
	movdqa 32(%r12), %xmm2
	movdqa 48(%r12), %xmm3
	movdqa 64(%r12), %xmm4
	movdqa 80(%r12), %xmm5
	movdqa 96(%r12), %xmm6
	movdqa 112(%r12), %xmm7
	movdqa 128(%r12), %xmm8
	movdqa 144(%r12), %xmm9
	movdqa 160(%r12), %xmm10
	movdqa 176(%r12), %xmm11
	movdqa 192(%r12), %xmm12
	movdqa 208(%r12), %xmm13
	movdqa 224(%r12), %xmm14
	movdqa 240(%r12), %xmm15
	mov 0(%rbx), %rax
	mov 8(%rbx), %rcx
	mov 16(%rbx), %rdx
	mov 32(%rbx), %rsi
	mov %rsi, %rdi
	call *40(%rbx)
	mov %rax, 0(%rbx)
	lahf
	seto %al
	movzwl %ax, %eax
	mov %rax, 24(%rbx)
	mov %rcx, 8(%rbx)
	mov %rdx, 16(%rbx)
	movdqa %xmm0, 0(%r12)
	movdqa %xmm1, 16(%r12)
	movdqa %xmm2, 32(%r12)
	movdqa %xmm3, 48(%r12)
	movdqa %xmm4, 64(%r12)
	movdqa %xmm5, 80(%r12)
	movdqa %xmm6, 96(%r12)
	movdqa %xmm7, 112(%r12)
	movdqa %xmm8, 128(%r12)
	movdqa %xmm9, 144(%r12)
	movdqa %xmm10, 160(%r12)
	movdqa %xmm11, 176(%r12)
	movdqa %xmm12, 192(%r12)
	movdqa %xmm13, 208(%r12)
	movdqa %xmm14, 224(%r12)
	movdqa %xmm15, 240(%r12)
	stmxcsr (%r13)
	ldmxcsr (%rsp)
	add $16, %rsp
	.cfi_adjust_cfa_offset -16
	pop %r13
	.cfi_adjust_cfa_offset -8
	pop %r12
	.cfi_adjust_cfa_offset -8
	pop %rbx
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size x86_sse_host_run, .-x86_sse_host_run

/* void x86_avx_host_run(struct x86_fp_ctx *c, void *xmm, uint32_t *mxcsr,
 *                       void *ymmh)
 * AVX: YMM0-15 from/to xmm (bits 127:0) and ymmh (bits 255:128), both
 * 256 bytes, 16-byte aligned; MXCSR as above. All vector registers are
 * caller-saved; VZEROUPPER at the end keeps the host's SSE code free of
 * transition penalties. */
	.globl x86_avx_host_run
	.hidden x86_avx_host_run
	.type x86_avx_host_run, @function
x86_avx_host_run:
	.cfi_startproc
	push %rbx
	.cfi_adjust_cfa_offset 8
	push %r12
	.cfi_adjust_cfa_offset 8
	push %r13
	.cfi_adjust_cfa_offset 8
	push %r14
	.cfi_adjust_cfa_offset 8
	sub $8, %rsp
	.cfi_adjust_cfa_offset 8
	mov %rdi, %rbx
	mov %rsi, %r12
	mov %rdx, %r13
	mov %rcx, %r14
	stmxcsr (%rsp)
	ldmxcsr (%r13)
	.irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqa \k*16(%r12), %xmm\k
	vinsertf128 $1, \k*16(%r14), %ymm\k, %ymm\k
	.endr
	mov 0(%rbx), %rax
	mov 8(%rbx), %rcx
	mov 16(%rbx), %rdx
	mov 32(%rbx), %rsi
	mov %rsi, %rdi
	call *40(%rbx)
	mov %rax, 0(%rbx)
	lahf
	seto %al
	movzwl %ax, %eax
	mov %rax, 24(%rbx)
	mov %rcx, 8(%rbx)
	mov %rdx, 16(%rbx)
	.irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqa %xmm\k, \k*16(%r12)
	vextractf128 $1, %ymm\k, \k*16(%r14)
	.endr
	stmxcsr (%r13)
	ldmxcsr (%rsp)
	vzeroupper
	add $8, %rsp
	.cfi_adjust_cfa_offset -8
	pop %r14
	.cfi_adjust_cfa_offset -8
	pop %r13
	.cfi_adjust_cfa_offset -8
	pop %r12
	.cfi_adjust_cfa_offset -8
	pop %rbx
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size x86_avx_host_run, .-x86_avx_host_run

	.section .note.GNU-stack, "", @progbits
