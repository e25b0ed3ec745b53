/* x87, MMX and SSE: instructions run on the host.
 *
 * decode_fp.c rewrites each x87/MMX/SSE/AVX instruction into a host stub
 * ("insn; ret") whose memory operand is [rsi] (a host buffer) and whose
 * explicit GPR operands are rax (ModRM.reg) and rdx (ModRM.rm). exec_fp.c
 * loads the guest's FXSAVE image (and for AVX the YMM upper halves, when
 * they are in use or the instruction is 256-bit) into the host FPU around
 * the stub (exec_fp_run.S), so results, flags and exception flags are the
 * host's, bit for bit. The stub runs with every SIMD exception masked; an
 * unmasked one is detected afterwards from MXCSR and becomes #XM with no
 * state changed. Pending x87 exceptions are checked before any waiting
 * instruction runs, so the host never takes #MF.
 */
#ifndef SK_X86_FP_H
#define SK_X86_FP_H

#include <Zydis/Zydis.h>
#include <stdint.h>

#include "arch/x86/insn.h"

/* x86_fpinfo.flags */
enum {
	FPF_X87 = 1 << 0,     /* x87: #NM on EM or TS */
	FPF_WAIT = 1 << 1,    /* checks pending x87 exceptions first (#MF) */
	FPF_SSE = 1 << 2,     /* XMM: #UD on EM or !OSFXSR, #NM on TS */
	FPF_MMX = 1 << 3,     /* MMX register: #UD on EM, #NM on TS */
	FPF_MR = 1 << 4,      /* reads its memory operand */
	FPF_MW = 1 << 5,      /* writes its memory operand */
	FPF_ALIGN = 1 << 6,   /* 16-byte aligned memory operand (#GP) */
	FPF_LASTIP = 1 << 7,  /* updates FIP/FOP (and FDP with memory) */
	FPF_VEX = 1 << 8,     /* VEX: #UD without OSXSAVE or XCR0 SSE|AVX, #NM on TS */
	FPF_YMM = 1 << 9,     /* reads or writes YMM upper halves (VEX.256, VZERO*) */
	FPF_GATHER = 1 << 10, /* AVX2 gather, done in C (exec_fp.c); no stub */
};

/* What an x87/SSE instruction needs beyond struct x86_insn; shared by all
 * instructions with the same stub bytes. In the insn: op[0] the memory
 * operand, op[1] the ModRM.reg GPR, op[2] the ModRM.rm GPR (OPK_NONE when
 * absent). */
struct x86_fpinfo {
	void (*stub)(void);
	uint32_t rflags_out;  /* status flags the instruction writes */
	uint16_t msize;       /* memory operand bytes */
	uint16_t flags;       /* FPF_* */
	uint8_t gpr_w;        /* 1: op[1] written, 2: op[2] written */
	uint8_t hid_reg;      /* implicit GPR written (RAX/RCX/RDX), or X86_NOREG */
	uint8_t hid_size;
	/* FPF_GATHER: destination, mask and VSIB index registers, the scale,
	 * element and index bytes, elements gathered, destination bytes,
	 * address bits; op[0] is base + displacement. */
	struct { uint8_t dst, mask, index, scale, esize, isize, n, dbytes, abits; } g;
};

/* Register block the host runner loads before the stub and stores after. */
struct x86_fp_ctx {
	uint64_t rax, rcx, rdx;
	uint64_t flags;       /* status flags as AX for SAHF / from LAHF+SETO */
	void *mem;            /* rsi and rdi for the stub */
	void (*stub)(void);
};

/* exec_fp_run.S: swap the host FPU for img (FXSAVE64 layout, 16-byte
 * aligned, MXCSR sane), run c->stub, save back into img, restore. */
void x86_fp_host_run(struct x86_fp_ctx *c, void *img);
/* The same for SSE-only stubs, cheaper: XMM0-15 from/to xmm (256 bytes,
 * 16-byte aligned) and MXCSR from/to *mxcsr; the x87 state untouched. */
void x86_sse_host_run(struct x86_fp_ctx *c, void *xmm, uint32_t *mxcsr);
/* The same with whole YMM registers: bits 255:128 from/to ymmh (256
 * bytes, 16-byte aligned); ends with VZEROUPPER. Needs host AVX. */
void x86_avx_host_run(struct x86_fp_ctx *c, void *xmm, uint32_t *mxcsr, void *ymmh);

/* decode_fp.c: the host runs AVX code (CPUID AVX, and YMM state enabled
 * by its OS in XCR0); and AVX2 as well (CPUID.7:EBX bit 5). */
bool x86_host_avx(void);
bool x86_host_avx2(void);

/* decode_fp.c: fill out for an x87/MMX/SSE/AVX/FXSAVE/XSAVE instruction.
 * Returns false when zi is not one (or one we do not offer: AVX-512,
 * 3DNow!, SSE4a, AES...), leaving out untouched. */
bool x86_decode_fp(const struct x86_cpu *cpu, const uint8_t *code,
		   const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *zo,
		   struct x86_insn *out);
/* decode.c: one Zydis operand into ours. */
bool x86_conv_op(const ZydisDecodedOperand *z, struct x86_op *o);

/* exec_fp.c */
void x86_fp_check(struct x86_cpu *cpu, unsigned flags);
/* exec_fpstate.c: the first n bytes of the YMM upper halves, XINUSE[2]
 * recomputed. */
void x86_ymm_commit(struct x86_cpu *cpu, const uint8_t *ymmh, unsigned n);
void x86_ymm_recount(struct x86_cpu *cpu);

/* The FXSAVE image's fields. */
enum {
	FX_FCW = 0, FX_FSW = 2, FX_FTW = 4, FX_FOP = 6, FX_FIP = 8, FX_FDP = 16,
	FX_MXCSR = 24, FX_MXCSR_MASK = 28, FX_ST = 32, FX_XMM = 160,
};
#define X86_MXCSR_MASK 0xffffu

#endif
