/* Differential test of x87/MMX/SSE..SSE4.2: random instruction sequences
 * run natively in this process (an executable page, FPU state loaded with
 * FXRSTOR) and inside the VM in long mode, from the same state. XMM, MMX/
 * x87 registers, FCW/FSW/FTW, MXCSR, RAX/RCX/RDX, the status flags and a
 * 128-byte memory area must all agree. (FIP/FDP/FOP are addresses and are
 * not compared.) All exceptions are masked, so nothing faults natively.
 *
 * Odd sequences use no REX and run in 32-bit protected mode.
 * SSE_DIFF_ITERS=n runs n sequences (default 400, under a second);
 * SSE_DIFF_SEED=s picks the seed (default fixed, so failures reproduce).
 * Then directed checks: #UD without CR4.OSFXSR, #NM with CR0.TS, #GP for a
 * misaligned MOVAPS, #XM for an unmasked SIMD exception, #MF for a pending
 * x87 exception, XSAVE/XRSTOR/XGETBV, KVM_GET/SET_XSAVE and XCRS.
 */
#include "vm.h"

#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define G_DATA 0x30000
#define DATA_SIZE 256
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE (1u << 18)

/* ---- the native side ---- */

/* The host runs AVX code: CPUID AVX and OSXSAVE, XCR0 with SSE and AVX. */
static bool host_avx(void)
{
	unsigned a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if ((c & (3u << 27)) != (3u << 27))
		return false;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

struct nstate {
	_Alignas(64) uint8_t fx[512];
	uint64_t rax, rcx, rdx, rflags, rbx;
};

void run_native(void *code, struct nstate *s);
__asm__(".text\n.globl run_native\n.type run_native,@function\nrun_native:\n"
	"push %rbx\npush %rbp\npush %r12\npush %r13\n"
	"mov %rsi, %r12\nmov %rdi, %r13\n"
	"sub $520, %rsp\n"
	"fxsave64 (%rsp)\n"
	"fxrstor64 (%r12)\n"
	"pushq 536(%r12)\npopfq\n"
	"mov 512(%r12), %rax\nmov 520(%r12), %rcx\nmov 528(%r12), %rdx\nmov 544(%r12), %rbx\n"
	"call *%r13\n"
	"pushfq\npopq 536(%r12)\n"
	"mov %rax, 512(%r12)\nmov %rcx, 520(%r12)\nmov %rdx, 528(%r12)\n"
	"fxsave64 (%r12)\n"
	"fxrstor64 (%rsp)\n"
	"add $520, %rsp\n"
	"pop %r13\npop %r12\npop %rbp\npop %rbx\nret\n"
	".size run_native, .-run_native\n");

/* ---- random instruction generation ---- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}
static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

enum kind {
	K_XX,      /* xmm, xmm/m128 */
	K_XXR,     /* xmm, xmm only */
	K_XM,      /* xmm, m only (or m, xmm for stores) */
	K_XG,      /* xmm, r32/64 or m */
	K_GX,      /* r32/64 (reg field), xmm (rm) */
	K_XGRM,    /* xmm (reg field), r32 (rm) written: MOVD r/m32, xmm / PEXTR* */
	K_MM,      /* mm, mm/m64 */
	K_MG,      /* mm, r32 (rm) */
	K_GG,      /* r32 (reg), r/m32 : CRC32 */
	K_STI,     /* x87 opcode byte, second byte base + i */
	K_FM,      /* x87 opcode byte, /digit, memory */
	K_FIX,     /* fixed bytes */
	K_XI,      /* 66 0F 71/72/73 /digit xmm, imm8 */
};

struct tmpl {
	const char *name;
	uint8_t pfx;         /* 0, 0x66, 0xf2, 0xf3 */
	uint8_t op[4];       /* opcode bytes after prefixes (incl. 0F) */
	uint8_t oplen;
	uint8_t kind;
	uint8_t imm;         /* 0 none, 1 random, 2 0..15 (round), 3 shift count */
	uint8_t rexw;        /* 0 never, 1 maybe */
	uint8_t digit;       /* /digit for K_FM, K_XI; second byte base for K_STI */
};

#define T(n, p, k, imm, w, ...) { n, p, { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }), k, imm, w, 0 }
#define TD(n, p, k, imm, d, ...) { n, p, { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }), k, imm, 0, d }

static const struct tmpl tmpls[] = {
	/* SSE/SSE2 floating point */
	T("addps", 0, K_XX, 0, 0, 0x0f, 0x58), T("addpd", 0x66, K_XX, 0, 0, 0x0f, 0x58),
	T("addss", 0xf3, K_XX, 0, 0, 0x0f, 0x58), T("addsd", 0xf2, K_XX, 0, 0, 0x0f, 0x58),
	T("mulps", 0, K_XX, 0, 0, 0x0f, 0x59), T("mulsd", 0xf2, K_XX, 0, 0, 0x0f, 0x59),
	T("mulss", 0xf3, K_XX, 0, 0, 0x0f, 0x59), T("mulpd", 0x66, K_XX, 0, 0, 0x0f, 0x59),
	T("subps", 0, K_XX, 0, 0, 0x0f, 0x5c), T("subsd", 0xf2, K_XX, 0, 0, 0x0f, 0x5c),
	T("divps", 0, K_XX, 0, 0, 0x0f, 0x5e), T("divsd", 0xf2, K_XX, 0, 0, 0x0f, 0x5e),
	T("divss", 0xf3, K_XX, 0, 0, 0x0f, 0x5e), T("divpd", 0x66, K_XX, 0, 0, 0x0f, 0x5e),
	T("minps", 0, K_XX, 0, 0, 0x0f, 0x5d), T("maxsd", 0xf2, K_XX, 0, 0, 0x0f, 0x5f),
	T("sqrtps", 0, K_XX, 0, 0, 0x0f, 0x51), T("sqrtsd", 0xf2, K_XX, 0, 0, 0x0f, 0x51),
	T("sqrtss", 0xf3, K_XX, 0, 0, 0x0f, 0x51), T("rcpps", 0, K_XX, 0, 0, 0x0f, 0x53),
	T("rsqrtss", 0xf3, K_XX, 0, 0, 0x0f, 0x52),
	T("andps", 0, K_XX, 0, 0, 0x0f, 0x54), T("andnpd", 0x66, K_XX, 0, 0, 0x0f, 0x55),
	T("orps", 0, K_XX, 0, 0, 0x0f, 0x56), T("xorps", 0, K_XX, 0, 0, 0x0f, 0x57),
	T("xorpd", 0x66, K_XX, 0, 0, 0x0f, 0x57),
	T("ucomiss", 0, K_XX, 0, 0, 0x0f, 0x2e), T("ucomisd", 0x66, K_XX, 0, 0, 0x0f, 0x2e),
	T("comiss", 0, K_XX, 0, 0, 0x0f, 0x2f), T("comisd", 0x66, K_XX, 0, 0, 0x0f, 0x2f),
	T("cmpps", 0, K_XX, 1, 0, 0x0f, 0xc2), T("cmpsd", 0xf2, K_XX, 1, 0, 0x0f, 0xc2),
	T("cmpss", 0xf3, K_XX, 1, 0, 0x0f, 0xc2), T("cmppd", 0x66, K_XX, 1, 0, 0x0f, 0xc2),
	T("shufps", 0, K_XX, 1, 0, 0x0f, 0xc6), T("shufpd", 0x66, K_XX, 1, 0, 0x0f, 0xc6),
	T("unpcklps", 0, K_XX, 0, 0, 0x0f, 0x14), T("unpckhpd", 0x66, K_XX, 0, 0, 0x0f, 0x15),
	T("cvtss2sd", 0xf3, K_XX, 0, 0, 0x0f, 0x5a), T("cvtsd2ss", 0xf2, K_XX, 0, 0, 0x0f, 0x5a),
	T("cvtps2pd", 0, K_XXR, 0, 0, 0x0f, 0x5a), T("cvtpd2ps", 0x66, K_XX, 0, 0, 0x0f, 0x5a),
	T("cvtdq2ps", 0, K_XX, 0, 0, 0x0f, 0x5b), T("cvtps2dq", 0x66, K_XX, 0, 0, 0x0f, 0x5b),
	T("cvttps2dq", 0xf3, K_XX, 0, 0, 0x0f, 0x5b), T("cvtdq2pd", 0xf3, K_XXR, 0, 0, 0x0f, 0xe6),
	T("cvtpd2dq", 0xf2, K_XX, 0, 0, 0x0f, 0xe6), T("cvttpd2dq", 0x66, K_XX, 0, 0, 0x0f, 0xe6),
	T("cvtsi2sd", 0xf2, K_XG, 0, 1, 0x0f, 0x2a), T("cvtsi2ss", 0xf3, K_XG, 0, 1, 0x0f, 0x2a),
	T("cvttsd2si", 0xf2, K_GX, 0, 1, 0x0f, 0x2c), T("cvtsd2si", 0xf2, K_GX, 0, 1, 0x0f, 0x2d),
	T("cvttss2si", 0xf3, K_GX, 0, 1, 0x0f, 0x2c), T("cvtss2si", 0xf3, K_GX, 0, 1, 0x0f, 0x2d),
	/* moves */
	T("movaps", 0, K_XX, 0, 0, 0x0f, 0x28), T("movaps st", 0, K_XM, 0, 0, 0x0f, 0x29),
	T("movups", 0, K_XX, 0, 0, 0x0f, 0x10), T("movups st", 0, K_XM, 0, 0, 0x0f, 0x11),
	T("movdqa", 0x66, K_XX, 0, 0, 0x0f, 0x6f), T("movdqa st", 0x66, K_XM, 0, 0, 0x0f, 0x7f),
	T("movdqu", 0xf3, K_XX, 0, 0, 0x0f, 0x6f), T("movdqu st", 0xf3, K_XM, 0, 0, 0x0f, 0x7f),
	T("movss", 0xf3, K_XX, 0, 0, 0x0f, 0x10), T("movss st", 0xf3, K_XM, 0, 0, 0x0f, 0x11),
	T("movsd", 0xf2, K_XX, 0, 0, 0x0f, 0x10), T("movsd st", 0xf2, K_XM, 0, 0, 0x0f, 0x11),
	T("movlps", 0, K_XM, 0, 0, 0x0f, 0x12), T("movlps st", 0, K_XM, 0, 0, 0x0f, 0x13),
	T("movhps", 0, K_XM, 0, 0, 0x0f, 0x16), T("movhpd st", 0x66, K_XM, 0, 0, 0x0f, 0x17),
	T("movhlps", 0, K_XXR, 0, 0, 0x0f, 0x12), T("movlhps", 0, K_XXR, 0, 0, 0x0f, 0x16),
	T("movq st", 0x66, K_XM, 0, 0, 0x0f, 0xd6), T("movq", 0xf3, K_XX, 0, 0, 0x0f, 0x7e),
	T("movd/q x,r", 0x66, K_XG, 0, 1, 0x0f, 0x6e), T("movd/q r,x", 0x66, K_XGRM, 0, 1, 0x0f, 0x7e),
	T("movmskps", 0, K_GX, 0, 0, 0x0f, 0x50), T("movmskpd", 0x66, K_GX, 0, 0, 0x0f, 0x50),
	T("movntdq", 0x66, K_XM, 0, 0, 0x0f, 0xe7),
	/* SSE2 integer */
	T("paddb", 0x66, K_XX, 0, 0, 0x0f, 0xfc), T("paddw", 0x66, K_XX, 0, 0, 0x0f, 0xfd),
	T("paddd", 0x66, K_XX, 0, 0, 0x0f, 0xfe), T("paddq", 0x66, K_XX, 0, 0, 0x0f, 0xd4),
	T("psubb", 0x66, K_XX, 0, 0, 0x0f, 0xf8), T("psubq", 0x66, K_XX, 0, 0, 0x0f, 0xfb),
	T("paddusb", 0x66, K_XX, 0, 0, 0x0f, 0xdc), T("psubsw", 0x66, K_XX, 0, 0, 0x0f, 0xe9),
	T("pxor", 0x66, K_XX, 0, 0, 0x0f, 0xef), T("pand", 0x66, K_XX, 0, 0, 0x0f, 0xdb),
	T("pandn", 0x66, K_XX, 0, 0, 0x0f, 0xdf), T("por", 0x66, K_XX, 0, 0, 0x0f, 0xeb),
	T("pcmpeqb", 0x66, K_XX, 0, 0, 0x0f, 0x74), T("pcmpeqd", 0x66, K_XX, 0, 0, 0x0f, 0x76),
	T("pcmpgtw", 0x66, K_XX, 0, 0, 0x0f, 0x65), T("pmovmskb", 0x66, K_GX, 0, 0, 0x0f, 0xd7),
	T("pshufd", 0x66, K_XX, 1, 0, 0x0f, 0x70), T("pshufhw", 0xf3, K_XX, 1, 0, 0x0f, 0x70),
	T("pshuflw", 0xf2, K_XX, 1, 0, 0x0f, 0x70),
	T("punpcklbw", 0x66, K_XX, 0, 0, 0x0f, 0x60), T("punpckhdq", 0x66, K_XX, 0, 0, 0x0f, 0x6a),
	T("punpcklqdq", 0x66, K_XX, 0, 0, 0x0f, 0x6c), T("punpckhqdq", 0x66, K_XX, 0, 0, 0x0f, 0x6d),
	T("psrlw", 0x66, K_XX, 0, 0, 0x0f, 0xd1), T("psrad", 0x66, K_XX, 0, 0, 0x0f, 0xe2),
	T("psllq", 0x66, K_XX, 0, 0, 0x0f, 0xf3),
	TD("psrlw i", 0x66, K_XI, 3, 2, 0x0f, 0x71), TD("psrad i", 0x66, K_XI, 3, 4, 0x0f, 0x72),
	TD("psllq i", 0x66, K_XI, 3, 6, 0x0f, 0x73), TD("psrldq", 0x66, K_XI, 3, 3, 0x0f, 0x73),
	TD("pslldq", 0x66, K_XI, 3, 7, 0x0f, 0x73),
	T("pmullw", 0x66, K_XX, 0, 0, 0x0f, 0xd5), T("pmulhw", 0x66, K_XX, 0, 0, 0x0f, 0xe5),
	T("pmuludq", 0x66, K_XX, 0, 0, 0x0f, 0xf4), T("pmaddwd", 0x66, K_XX, 0, 0, 0x0f, 0xf5),
	T("pminub", 0x66, K_XX, 0, 0, 0x0f, 0xda), T("pmaxsw", 0x66, K_XX, 0, 0, 0x0f, 0xee),
	T("pavgb", 0x66, K_XX, 0, 0, 0x0f, 0xe0), T("psadbw", 0x66, K_XX, 0, 0, 0x0f, 0xf6),
	T("packsswb", 0x66, K_XX, 0, 0, 0x0f, 0x63), T("packuswb", 0x66, K_XX, 0, 0, 0x0f, 0x67),
	T("packssdw", 0x66, K_XX, 0, 0, 0x0f, 0x6b),
	T("pinsrw", 0x66, K_XG, 1, 0, 0x0f, 0xc4), T("pextrw", 0x66, K_GX, 1, 0, 0x0f, 0xc5),
	/* SSE3 / SSSE3 */
	T("haddps", 0xf2, K_XX, 0, 0, 0x0f, 0x7c), T("haddpd", 0x66, K_XX, 0, 0, 0x0f, 0x7c),
	T("addsubps", 0xf2, K_XX, 0, 0, 0x0f, 0xd0), T("movsldup", 0xf3, K_XX, 0, 0, 0x0f, 0x12),
	T("movddup", 0xf2, K_XXR, 0, 0, 0x0f, 0x12), T("lddqu", 0xf2, K_XM, 0, 0, 0x0f, 0xf0),
	T("pshufb", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x00), T("pmaddubsw", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x04),
	T("pmulhrsw", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x0b), T("pabsd", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x1e),
	T("psignw", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x09), T("phaddd", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x02),
	T("palignr", 0x66, K_XX, 1, 0, 0x0f, 0x3a, 0x0f),
	/* SSE4.1 */
	T("pblendvb", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x10), T("blendvps", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x14),
	T("pblendw", 0x66, K_XX, 1, 0, 0x0f, 0x3a, 0x0e), T("blendps", 0x66, K_XX, 2, 0, 0x0f, 0x3a, 0x0c),
	T("ptest", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x17), T("pmuldq", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x28),
	T("pcmpeqq", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x29), T("packusdw", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x2b),
	T("pminsb", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x38), T("pmaxud", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x3f),
	T("pmulld", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x40), T("phminposuw", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x41),
	T("pmovsxbw", 0x66, K_XXR, 0, 0, 0x0f, 0x38, 0x20), T("pmovzxdq", 0x66, K_XXR, 0, 0, 0x0f, 0x38, 0x35),
	T("roundps", 0x66, K_XX, 2, 0, 0x0f, 0x3a, 0x08), T("roundsd", 0x66, K_XX, 2, 0, 0x0f, 0x3a, 0x0b),
	T("roundss", 0x66, K_XX, 2, 0, 0x0f, 0x3a, 0x0a),
	T("dpps", 0x66, K_XX, 1, 0, 0x0f, 0x3a, 0x40), T("dppd", 0x66, K_XX, 1, 0, 0x0f, 0x3a, 0x41),
	T("insertps", 0x66, K_XXR, 1, 0, 0x0f, 0x3a, 0x21), T("pextrd", 0x66, K_XGRM, 2, 1, 0x0f, 0x3a, 0x16),
	T("pinsrd", 0x66, K_XG, 2, 1, 0x0f, 0x3a, 0x22), T("pextrb", 0x66, K_XGRM, 2, 0, 0x0f, 0x3a, 0x14),
	T("mpsadbw", 0x66, K_XX, 1, 0, 0x0f, 0x3a, 0x42),
	/* SSE4.2 */
	T("pcmpgtq", 0x66, K_XX, 0, 0, 0x0f, 0x38, 0x37),
	T("pcmpistri", 0x66, K_XX, 1, 0, 0x0f, 0x3a, 0x63), T("pcmpestri", 0x66, K_XX, 1, 0, 0x0f, 0x3a, 0x61),
	T("pcmpistrm", 0x66, K_XX, 1, 0, 0x0f, 0x3a, 0x62), T("pcmpestrm", 0x66, K_XX, 1, 0, 0x0f, 0x3a, 0x60),
	T("crc32", 0xf2, K_GG, 0, 1, 0x0f, 0x38, 0xf1),
	/* MMX */
	T("paddb mm", 0, K_MM, 0, 0, 0x0f, 0xfc), T("pxor mm", 0, K_MM, 0, 0, 0x0f, 0xef),
	T("pmullw mm", 0, K_MM, 0, 0, 0x0f, 0xd5), T("movq mm", 0, K_MM, 0, 0, 0x0f, 0x6f),
	T("punpcklbw mm", 0, K_MM, 0, 0, 0x0f, 0x60), T("psadbw mm", 0, K_MM, 0, 0, 0x0f, 0xf6),
	T("movd mm,r", 0, K_MG, 0, 0, 0x0f, 0x6e), T("emms", 0, K_FIX, 0, 0, 0x0f, 0x77),
	/* x87 */
	TD("fld m32", 0, K_FM, 0, 0, 0xd9), TD("fld m64", 0, K_FM, 0, 0, 0xdd),
	TD("fld m80", 0, K_FM, 0, 5, 0xdb), TD("fild m16", 0, K_FM, 0, 0, 0xdf),
	TD("fild m32", 0, K_FM, 0, 0, 0xdb), TD("fild m64", 0, K_FM, 0, 5, 0xdf),
	TD("fst m64", 0, K_FM, 0, 2, 0xdd), TD("fstp m64", 0, K_FM, 0, 3, 0xdd),
	TD("fstp m32", 0, K_FM, 0, 3, 0xd9), TD("fstp m80", 0, K_FM, 0, 7, 0xdb),
	TD("fistp m64", 0, K_FM, 0, 7, 0xdf), TD("fistp m32", 0, K_FM, 0, 3, 0xdb),
	TD("fisttp m64", 0, K_FM, 0, 1, 0xdd), TD("fisttp m32", 0, K_FM, 0, 1, 0xdb),
	TD("fadd m64", 0, K_FM, 0, 0, 0xdc), TD("fmul m32", 0, K_FM, 0, 1, 0xd8),
	TD("fsub m64", 0, K_FM, 0, 4, 0xdc), TD("fsubr m64", 0, K_FM, 0, 5, 0xdc),
	TD("fdiv m64", 0, K_FM, 0, 6, 0xdc), TD("fdivr m32", 0, K_FM, 0, 7, 0xd8),
	TD("fcom m64", 0, K_FM, 0, 2, 0xdc), TD("fnstcw", 0, K_FM, 0, 7, 0xd9),
	TD("fnstsw m", 0, K_FM, 0, 7, 0xdd),
	TD("fadd st,sti", 0, K_STI, 0, 0xc0, 0xd8), TD("fadd sti,st", 0, K_STI, 0, 0xc0, 0xdc),
	TD("faddp", 0, K_STI, 0, 0xc0, 0xde), TD("fmulp", 0, K_STI, 0, 0xc8, 0xde),
	TD("fsub", 0, K_STI, 0, 0xe0, 0xd8), TD("fsubrp", 0, K_STI, 0, 0xe0, 0xde),
	TD("fdiv", 0, K_STI, 0, 0xf0, 0xd8), TD("fdivrp", 0, K_STI, 0, 0xf0, 0xde),
	TD("fld sti", 0, K_STI, 0, 0xc0, 0xd9), TD("fxch", 0, K_STI, 0, 0xc8, 0xd9),
	TD("fstp sti", 0, K_STI, 0, 0xd8, 0xdd), TD("ffree", 0, K_STI, 0, 0xc0, 0xdd),
	TD("fucomi", 0, K_STI, 0, 0xe8, 0xdb), TD("fcomi", 0, K_STI, 0, 0xf0, 0xdb),
	TD("fucomip", 0, K_STI, 0, 0xe8, 0xdf), TD("fcom sti", 0, K_STI, 0, 0xd0, 0xd8),
	TD("fucom", 0, K_STI, 0, 0xe0, 0xdd), TD("fcmovb", 0, K_STI, 0, 0xc0, 0xda),
	TD("fcmovnbe", 0, K_STI, 0, 0xd0, 0xdb),
	T("fchs", 0, K_FIX, 0, 0, 0xd9, 0xe0), T("fabs", 0, K_FIX, 0, 0, 0xd9, 0xe1),
	T("fsqrt", 0, K_FIX, 0, 0, 0xd9, 0xfa), T("frndint", 0, K_FIX, 0, 0, 0xd9, 0xfc),
	T("fld1", 0, K_FIX, 0, 0, 0xd9, 0xe8), T("fldz", 0, K_FIX, 0, 0, 0xd9, 0xee),
	T("fldpi", 0, K_FIX, 0, 0, 0xd9, 0xeb), T("fldl2e", 0, K_FIX, 0, 0, 0xd9, 0xea),
	T("fldln2", 0, K_FIX, 0, 0, 0xd9, 0xed), T("fnstsw ax", 0, K_FIX, 0, 0, 0xdf, 0xe0),
	T("fprem", 0, K_FIX, 0, 0, 0xd9, 0xf8), T("fscale", 0, K_FIX, 0, 0, 0xd9, 0xfd),
	T("fxtract", 0, K_FIX, 0, 0, 0xd9, 0xf4), T("ftst", 0, K_FIX, 0, 0, 0xd9, 0xe4),
	T("fxam", 0, K_FIX, 0, 0, 0xd9, 0xe5), T("fnclex", 0, K_FIX, 0, 0, 0xdb, 0xe2),
	T("fwait", 0, K_FIX, 0, 0, 0x9b), T("fincstp", 0, K_FIX, 0, 0, 0xd9, 0xf7),
	T("fninit", 0, K_FIX, 0, 0, 0xdb, 0xe3), T("fyl2x", 0, K_FIX, 0, 0, 0xd9, 0xf1),
	TD("stmxcsr", 0, K_FM, 0, 3, 0x0f, 0xae),
};
#define NT (sizeof(tmpls) / sizeof(tmpls[0]))

/* Memory operand [rbx + 16k]: modrm mod=01 rm=011 + disp8. */
static unsigned put_mem(uint8_t *o, unsigned reg)
{
	o[0] = (uint8_t)(0x43 | (reg & 7) << 3);
	o[1] = (uint8_t)(16 * rn(7));
	return 2;
}

/* Encodings for 32-bit code: no REX (XMM0-7, 32-bit GPRs). */
static bool no_rex;

/* Encode one random instance of t at o; returns its length. */
static unsigned gen(const struct tmpl *t, uint8_t *o)
{
	unsigned n = 0, reg = rn(no_rex ? 8 : 16), rm = rn(no_rex ? 8 : 16);
	bool mem = false, w = t->rexw && rn(2) && !no_rex;
	unsigned rexr = 0, rexb = 0;
	switch (t->kind) {
	case K_XX: mem = rn(3) == 0; break;
	case K_XXR: break;
	case K_XM: mem = true; break;
	case K_XG: mem = rn(4) == 0; rm = rn(3); break;
	case K_GX: reg = rn(3); break;
	case K_XGRM: rm = rn(3); break;
	case K_MM: reg &= 7; rm &= 7; mem = rn(3) == 0; break;
	case K_MG: reg &= 7; rm = rn(3); break;
	case K_GG: reg = rn(3); rm = rn(3); mem = rn(3) == 0; break;
	case K_FM: mem = true; reg = t->digit; break;
	case K_XI: reg = t->digit; break;
	default: break;
	}
	if (t->pfx)
		o[n++] = t->pfx;
	if (t->kind == K_STI) {
		o[n++] = t->op[0];
		o[n++] = (uint8_t)(t->digit + rn(8));
		return n;
	}
	if (t->kind == K_FIX) {
		memcpy(o + n, t->op, t->oplen);
		return n + t->oplen;
	}
	if (t->kind != K_FM && t->kind != K_XI && t->kind != K_MM && t->kind != K_MG)
		rexr = reg >> 3;
	if (!mem && t->kind != K_MM)
		rexb = rm >> 3;
	if (t->kind == K_XI)
		rexb = rm >> 3;
	uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | rexr << 2 | rexb);
	if (rex != 0x40)
		o[n++] = rex;
	memcpy(o + n, t->op, t->oplen);
	n += t->oplen;
	if (mem)
		n += put_mem(o + n, reg);
	else
		o[n++] = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7));
	switch (t->imm) {
	case 1: o[n++] = (uint8_t)rnd(); break;
	case 2: o[n++] = (uint8_t)rn(16); break;
	case 3: o[n++] = (uint8_t)rn(70); break;
	default: break;
	}
	return n;
}

/* ---- random state ---- */

static void rand_bytes(uint8_t *p, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		p[k] = (uint8_t)rnd();
}

/* A float or double that is interesting more often than random bits are. */
static void rand_fp(uint8_t *p, unsigned size)
{
	static const double d[] = { 0.0, -0.0, 1.0, -1.5, 0.1, 3.0e300, -2.5e-310, 1.0 / 0.0,
				    4503599627370497.0, 2147483648.0, -2147483649.0, 0.5, 7.0 };
	unsigned c = rn(4);
	if (c == 0) {
		rand_bytes(p, size);
	} else if (size == 8) {
		double v = d[rn(sizeof(d) / sizeof(d[0]))] * (c == 1 ? 1.0 : (double)(int)rn(1000) / 7);
		memcpy(p, &v, 8);
	} else {
		float v = (float)(d[rn(sizeof(d) / sizeof(d[0]))] * (c == 1 ? 1.0 : (double)(int)rn(1000) / 7));
		memcpy(p, &v, 4);
	}
}

static void rand_vec(uint8_t *p, unsigned n)
{
	unsigned lane = rn(2) ? 4 : 8;
	for (unsigned k = 0; k < n; k += lane)
		rand_fp(p + k, lane);
}

static void rand_state(struct nstate *s, uint8_t *data)
{
	memset(s->fx, 0, 512);
	uint16_t fcw = (uint16_t)(0x3f | (rn(4) << 10) | (rn(4) << 8) | 0x40);
	memcpy(s->fx, &fcw, 2);
	/* Some x87 registers in use: TOP and the abridged tag. */
	unsigned depth = rn(9), top = rn(8);
	uint16_t fsw = (uint16_t)(((top - depth) & 7) << 11);
	memcpy(s->fx + 2, &fsw, 2);
	uint8_t ftw = 0;
	for (unsigned k = 0; k < depth; k++)
		ftw |= (uint8_t)(1u << ((top - 1 - k) & 7));
	s->fx[4] = ftw;
	for (unsigned k = 0; k < 8; k++) {
		uint8_t *st = s->fx + 32 + 16 * k;
		long double v;
		if (rn(4) == 0) {
			rand_bytes(st, 10);
			st[7] |= 0x80;     /* normal (explicit integer bit) */
		} else {
			double dv;
			rand_fp((uint8_t *)&dv, 8);
			v = dv;
			memcpy(st, &v, 10);
		}
	}
	uint32_t mxcsr = 0x1f80 | (rn(4) << 13) | (rn(4) == 0 ? 0x8040 : 0);
	memcpy(s->fx + 24, &mxcsr, 4);
	rand_vec(s->fx + 160, 256);
	s->rax = rnd() >> rn(64);
	s->rcx = rnd() >> rn(64);
	s->rdx = rnd() >> rn(64);
	s->rflags = 0x202 | (rnd() & 0x8d5);
	rand_vec(data, DATA_SIZE);
}

/* ---- comparison ---- */

static const char *seq_names[32];

static bool same(const struct nstate *a, const struct nstate *b, const uint8_t *da,
		 const uint8_t *db, unsigned n)
{
	bool ok = true;
	char what[32], msg[64];
#define CMPB(off, len, name)                                                          \
	if (memcmp(a->fx + (off), b->fx + (off), (len))) {                           \
		snprintf(msg, sizeof(msg), "%.31s differs", name);                  \
		t_check(false, __FILE__, __LINE__, msg);                              \
		ok = false;                                                           \
	}
	CMPB(0, 6, "FCW/FSW/FTW");
	CMPB(24, 4, "MXCSR");
	for (int k = 0; k < 8; k++) {
		snprintf(what, sizeof(what), "ST/MM%d", k);
		CMPB(32 + 16 * k, 10, what);
	}
	for (int k = 0; k < 16; k++) {
		char nm[16];
		snprintf(nm, sizeof(nm), "XMM%d", k);
		CMPB(160 + 16 * k, 16, nm);
	}
	ok &= CHECK_EQ(a->rax, b->rax);
	ok &= CHECK_EQ(a->rcx, b->rcx);
	ok &= CHECK_EQ(a->rdx, b->rdx);
	ok &= CHECK_EQ(a->rflags & 0x8d5, b->rflags & 0x8d5);
	if (memcmp(da, db, DATA_SIZE)) {
		t_check(false, __FILE__, __LINE__, "memory differs");
		ok = false;
	}
	if (!ok) {
		fprintf(stderr, "  sequence:");
		for (unsigned k = 0; k < n; k++)
			fprintf(stderr, " %s;", seq_names[k]);
		fprintf(stderr, "\n");
	}
	return ok;
}

/* ---- the VM side ---- */

static void set_cr(struct vcpu *v, uint64_t cr0_set, uint64_t cr0_clr, uint64_t cr4)
{
	struct kvm_sregs s = get_sregs(v);
	s.cr0 = (s.cr0 | cr0_set) & ~cr0_clr;
	s.cr4 = cr4 | (s.cr4 & ~(uint64_t)(CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE));
	CHECK_OK(ioctl(v->fd, KVM_SET_SREGS, &s));
}

static void run_guest(struct vcpu *v, const uint8_t *code, unsigned len, struct nstate *s,
		      uint8_t *data)
{
	struct vm *vm = v->vm;
	memcpy(vm->mem + G_CODE, code, len);
	vm->mem[G_CODE + len] = 0xf4;
	memcpy(vm->mem + G_DATA, data, DATA_SIZE);
	struct kvm_xsave xs;
	memset(&xs, 0, sizeof(xs));
	memcpy(xs.region, s->fx, 512);
	uint64_t bv = 3;
	memcpy((uint8_t *)xs.region + 512, &bv, 8);
	CHECK_OK(ioctl(v->fd, KVM_SET_XSAVE, &xs));
	struct kvm_regs r = get_regs(v);
	r.rip = G_CODE;
	r.rax = s->rax;
	r.rcx = s->rcx;
	r.rdx = s->rdx;
	r.rbx = G_DATA;
	r.rsp = G_STACK;
	r.rflags = s->rflags;
	set_regs(v, &r);
	if (!RUN_EXPECT_EXIT(v, KVM_EXIT_HLT))
		return;
	r = get_regs(v);
	s->rax = r.rax;
	s->rcx = r.rcx;
	s->rdx = r.rdx;
	s->rflags = r.rflags;
	CHECK_OK(ioctl(v->fd, KVM_GET_XSAVE, &xs));
	memcpy(s->fx, xs.region, 512);
	memcpy(data, vm->mem + G_DATA, DATA_SIZE);
}

static void random_sequences(void)
{
	const char *e = getenv("SSE_DIFF_ITERS");
	unsigned iters = e ? (unsigned)strtoul(e, NULL, 0) : 400;
	e = getenv("SSE_DIFF_SEED");
	rng_state = e ? strtoull(e, NULL, 0) : 0x5eed5eed12345ull;
	if (!rng_state)
		rng_state = 1;
	printf("seed %#llx, %u sequences\n", (unsigned long long)rng_state, iters);
	uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(page != MAP_FAILED))
		return;
	/* Even sequences run in long mode, odd ones in 32-bit protected mode. */
	struct vm vm, vm32;
	struct vcpu v64, v32;
	vm_init(&vm);
	vcpu_init(&vm, &v64, 0);
	vcpu_setup(&v64, MODE_LONG, G_CODE);
	set_cr(&v64, 0, 0, CR4_OSFXSR | CR4_OSXMMEXCPT);
	vm_init(&vm32);
	vcpu_init(&vm32, &v32, 0);
	vcpu_setup(&v32, MODE_PROT32, G_CODE);
	set_cr(&v32, 0, 0, CR4_OSFXSR | CR4_OSXMMEXCPT);
	unsigned bad = 0;
	for (unsigned it = 0; it < iters && bad < 5; it++) {
		no_rex = it & 1;
		struct vcpu *vp = no_rex ? &v32 : &v64;
		uint8_t code[32 * 16];
		unsigned len = 0, n = 1 + rn(24);
		for (unsigned k = 0; k < n; k++) {
			const struct tmpl *t = &tmpls[rn(NT)];
			seq_names[k] = t->name;
			len += gen(t, code + len);
		}
		static struct nstate ns, gs;
		static _Alignas(16) uint8_t nd[DATA_SIZE], gd[DATA_SIZE];
		rand_state(&ns, nd);
		gs = ns;
		memcpy(gd, nd, DATA_SIZE);
		memcpy(page, code, len);
		page[len] = 0xc3;
		ns.rbx = (uint64_t)(uintptr_t)nd;
		if (getenv("SSE_DIFF_TRACE")) {
			fprintf(stderr, "%u:", it);
			for (unsigned k = 0; k < n; k++)
				fprintf(stderr, " %s;", seq_names[k]);
			fprintf(stderr, "\n");
		}
		run_native(page, &ns);
		run_guest(vp, code, len, &gs, gd);
		if (!same(&ns, &gs, nd, gd, n)) {
			fprintf(stderr, "  iteration %u, code:", it);
			for (unsigned k = 0; k < len; k++)
				fprintf(stderr, " %02x", code[k]);
			fprintf(stderr, "\n");
			bad++;
		}
	}
	munmap(page, 4096);
	vcpu_fini(&v64);
	vm_fini(&vm);
	vcpu_fini(&v32);
	vm_fini(&vm32);
}

/* ---- directed checks ---- */

/* Each snippet ends with OUT 0x51 (done); exception handlers report their
 * vector with OUT 0x50. RBX points at G_DATA (16-byte aligned). */
GUEST_CODE(d_addps, 64, "addps %xmm1, %xmm0\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_fld1, 64, "fld1\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_movaps, 64, "movaps 8(%rbx), %xmm0\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_movups, 64, "movups 8(%rbx), %xmm0\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_divss, 64,
	"movl $0x1d80, (%rbx)\n ldmxcsr (%rbx)\n"    /* ZM clear */
	"xorps %xmm1, %xmm1\n divss %xmm1, %xmm2\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_fdiv, 64,
	"movw $0x37b, (%rbx)\n fldcw (%rbx)\n"       /* ZM clear */
	"fld1\n fldz\n .byte 0xde, 0xf9\n"          /* FDIVP: 1 / 0 */
	"movl $1, %eax\n out %eax, $0x52\n"          /* still no fault */
	"fwait\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_xsave, 64,
	"xor %ecx, %ecx\n mov $3, %eax\n xor %edx, %edx\n xsetbv\n"
	"xgetbv\n out %eax, $0x53\n"
	"mov $3, %eax\n xsave (%rbx)\n"
	"mov $3, %eax\n xrstor 0x400(%rbx)\n"
	"out %eax, $0x51\n hlt\n");

#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)

struct snippet_vm {
	struct vm vm;
	struct vcpu v;
};

static void snippet_init(struct snippet_vm *s)
{
	vm_init(&s->vm);
	vcpu_init(&s->vm, &s->v, 0);
	vcpu_setup(&s->v, MODE_LONG, G_CODE);
	static const int vecs[] = { 6, 7, 13, 16, 19 };
	for (unsigned k = 0; k < sizeof(vecs) / sizeof(vecs[0]); k++) {
		uint8_t *h = s->vm.mem + 0x3000 + 16 * vecs[k];
		h[0] = 0xb8;                      /* mov $vec, %eax */
		h[1] = (uint8_t)vecs[k];
		h[2] = h[3] = h[4] = 0;
		h[5] = 0xe7;                      /* out %eax, $0x50 */
		h[6] = 0x50;
		h[7] = 0xf4;                      /* hlt */
		idt_set(&s->v, vecs[k], 0x3000 + 16 * vecs[k]);
	}
}

/* Run code with the given CR0 bits set/cleared and CR4 FP bits; returns
 * the vector of the exception taken, or -1 when the snippet finished. */
static int snippet_run(struct snippet_vm *s, const uint8_t *code, const uint8_t *end,
		       uint64_t cr0_set, uint64_t cr0_clr, uint64_t cr4)
{
	memcpy(s->vm.mem + G_CODE, code, (size_t)(end - code));
	set_cr(&s->v, cr0_set, cr0_clr, cr4);
	struct kvm_regs r = get_regs(&s->v);
	r.rip = G_CODE;
	r.rbx = G_DATA;
	r.rsp = G_STACK;
	r.rflags = 2;
	set_regs(&s->v, &r);
	for (;;) {
		if (!CHECK_OK(vcpu_run(&s->v)) || !CHECK_EQ(KVM_EXIT_IO, s->v.run->exit_reason))
			return -2;
		uint16_t port = s->v.run->io.port;
		if (port == 0x50)
			return *(uint8_t *)io_data(&s->v);
		if (port == 0x51)
			return -1;
	}
}

#define SNIP(s, name, set, clr, cr4) snippet_run((s), name, name##_end, (set), (clr), (cr4))

static void exceptions(void)
{
	struct snippet_vm s;
	snippet_init(&s);
	const uint64_t fx = CR4_OSFXSR | CR4_OSXMMEXCPT;
	CHECK_EQ(-1, SNIP(&s, d_addps, 0, CR0_EM | CR0_TS, fx));
	CHECK_EQ(6, SNIP(&s, d_addps, 0, CR0_EM | CR0_TS, 0));          /* no OSFXSR */
	CHECK_EQ(7, SNIP(&s, d_addps, CR0_TS, CR0_EM, fx));
	CHECK_EQ(6, SNIP(&s, d_addps, CR0_EM, CR0_TS, fx));
	CHECK_EQ(-1, SNIP(&s, d_fld1, 0, CR0_EM | CR0_TS, 0));
	CHECK_EQ(7, SNIP(&s, d_fld1, CR0_TS, CR0_EM, fx));
	CHECK_EQ(7, SNIP(&s, d_fld1, CR0_EM, CR0_TS, fx));
	CHECK_EQ(13, SNIP(&s, d_movaps, 0, CR0_EM | CR0_TS, fx));
	CHECK_EQ(-1, SNIP(&s, d_movups, 0, CR0_EM | CR0_TS, fx));

	/* Unmasked divide by zero: #XM (#UD without OSXMMEXCPT), the flag set,
	 * the destination unchanged. */
	struct kvm_fpu f;
	memset(&f, 0, sizeof(f));
	f.fcw = 0x37f;
	f.mxcsr = 0x1f80;
	float two = 2.0f;
	memcpy(f.xmm[2], &two, 4);
	CHECK_OK(ioctl(s.v.fd, KVM_SET_FPU, &f));
	CHECK_EQ(19, SNIP(&s, d_divss, 0, CR0_EM | CR0_TS, fx));
	CHECK_OK(ioctl(s.v.fd, KVM_GET_FPU, &f));
	CHECK_EQ(0x1d84, f.mxcsr);
	CHECK(!memcmp(f.xmm[2], &two, 4));
	CHECK_EQ(6, SNIP(&s, d_divss, 0, CR0_EM | CR0_TS, CR4_OSFXSR));

	/* x87: the unmasked exception waits for the next waiting instruction. */
	memset(&f, 0, sizeof(f));
	f.fcw = 0x37f;
	f.mxcsr = 0x1f80;
	CHECK_OK(ioctl(s.v.fd, KVM_SET_FPU, &f));
	struct kvm_regs r;
	memcpy(s.vm.mem + G_CODE, d_fdiv, (size_t)(d_fdiv_end - d_fdiv));
	set_cr(&s.v, 0, CR0_EM | CR0_TS, fx);
	r = get_regs(&s.v);
	r.rip = G_CODE;
	r.rbx = G_DATA;
	r.rflags = 2;
	set_regs(&s.v, &r);
	CHECK_EQ(1, RUN_EXPECT_OUT(&s.v, 0x52));
	CHECK_OK(ioctl(s.v.fd, KVM_GET_FPU, &f));
	CHECK((f.fsw & 0x84) == 0x84);   /* ES, ZE */
	CHECK_EQ(16, RUN_EXPECT_OUT(&s.v, 0x50));
	vcpu_fini(&s.v);
	vm_fini(&s.vm);
}

static void xsave_and_ioctls(void)
{
	struct snippet_vm s;
	snippet_init(&s);
	int kvm = s.vm.kvm;
	CHECK_EQ(1, ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE));
	CHECK_EQ(1, ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XCRS));
	CHECK_EQ(sizeof(struct kvm_xsave), ioctl(s.vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2));

	/* Supported CPUID: FPU MMX FXSR SSE SSE2 / SSE3 SSSE3 SSE4.1/4.2 XSAVE;
	 * leaf 0xD: x87|SSE, 576 bytes, and AVX (832) when the host runs it. */
	bool avx = host_avx();
	struct kvm_cpuid2 *cp = calloc(1, sizeof(*cp) + 64 * sizeof(struct kvm_cpuid_entry2));
	if (!CHECK(cp != NULL))
		return;
	cp->nent = 64;
	CHECK_OK(ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cp));
	bool seen_d = false;
	for (unsigned k = 0; k < cp->nent; k++) {
		struct kvm_cpuid_entry2 *e = &cp->entries[k];
		if (e->function == 1) {
			CHECK_EQ(0x7800001, e->edx & 0x7800001);
			CHECK_EQ(0x4180201, e->ecx & 0x4180201);
			CHECK_EQ(avx, !!(e->ecx & (1u << 28)));
		}
		if (e->function == 0xd && e->index == 0) {
			seen_d = true;
			CHECK_EQ(avx ? 7 : 3, e->eax);
			CHECK_EQ(avx ? 832 : 576, e->ecx);
		}
	}
	CHECK(seen_d);

	/* XCRS: XCR0 needs the guest's CPUID leaf 0xD for SSE. */
	struct kvm_xcrs x;
	CHECK_OK(ioctl(s.v.fd, KVM_GET_XCRS, &x));
	CHECK_EQ(1, x.nr_xcrs);
	CHECK_EQ(0, x.xcrs[0].xcr);
	CHECK_EQ(1, x.xcrs[0].value);
	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].value = 3;
	CHECK_ERRNO(ioctl(s.v.fd, KVM_SET_XCRS, &x), EINVAL);
	CHECK_OK(ioctl(s.v.fd, KVM_SET_CPUID2, cp));
	free(cp);
	CHECK_OK(ioctl(s.v.fd, KVM_SET_XCRS, &x));
	x.xcrs[0].value = 7;
	if (avx)
		CHECK_OK(ioctl(s.v.fd, KVM_SET_XCRS, &x));
	else
		CHECK_ERRNO(ioctl(s.v.fd, KVM_SET_XCRS, &x), EINVAL);
	x.xcrs[0].value = 0xf;
	CHECK_ERRNO(ioctl(s.v.fd, KVM_SET_XCRS, &x), EINVAL);
	x.xcrs[0].value = 2;
	CHECK_ERRNO(ioctl(s.v.fd, KVM_SET_XCRS, &x), EINVAL);
	x.xcrs[0].value = 3;
	x.flags = 1;
	CHECK_ERRNO(ioctl(s.v.fd, KVM_SET_XCRS, &x), EINVAL);

	/* KVM_SET_XSAVE checks its header. */
	static struct kvm_xsave xs;
	CHECK_OK(ioctl(s.v.fd, KVM_GET_XSAVE, &xs));
	uint8_t *b = (uint8_t *)xs.region;
	CHECK_EQ(3, b[512]);
	b[512] = 8;
	CHECK_ERRNO(ioctl(s.v.fd, KVM_SET_XSAVE, &xs), EINVAL);
	b[512] = 3;
	b[520] = 1;
	CHECK_ERRNO(ioctl(s.v.fd, KVM_SET_XSAVE, &xs), EINVAL);
	b[520] = 0;
	memset(b + 160, 0x5a, 16);   /* XMM0 */
	CHECK_OK(ioctl(s.v.fd, KVM_SET_XSAVE, &xs));
	struct kvm_fpu f;
	CHECK_OK(ioctl(s.v.fd, KVM_GET_FPU, &f));
	CHECK_EQ(0x5a5a5a5a, *(uint32_t *)f.xmm[0]);

	/* Guest: XSETBV, XGETBV, XSAVE of XMM0; XRSTOR of a prepared image. */
	uint8_t *img = s.vm.mem + G_DATA + 0x400;
	memset(s.vm.mem + G_DATA, 0, 0x800);
	memset(img + 160 + 16, 0xa5, 16);   /* XMM1 */
	img[24] = 0x80; img[25] = 0x1f;     /* MXCSR */
	img[0] = 0x7f; img[1] = 0x03;       /* FCW */
	img[512] = 2;                       /* XSTATE_BV: SSE only, x87 to init */
	memcpy(s.vm.mem + G_CODE, d_xsave, (size_t)(d_xsave_end - d_xsave));
	set_cr(&s.v, 0, CR0_EM | CR0_TS, CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE);
	struct kvm_regs r = get_regs(&s.v);
	r.rip = G_CODE;
	r.rbx = G_DATA;
	r.rflags = 2;
	set_regs(&s.v, &r);
	CHECK_EQ(3, RUN_EXPECT_OUT(&s.v, 0x53));
	CHECK_EQ(3, *(uint8_t *)io_data(&s.v));
	RUN_EXPECT_OUT(&s.v, 0x51);
	CHECK_EQ(0x5a5a5a5a, *(uint32_t *)(s.vm.mem + G_DATA + 160));
	CHECK_EQ(3, s.vm.mem[G_DATA + 512]);
	CHECK_OK(ioctl(s.v.fd, KVM_GET_FPU, &f));
	CHECK_EQ(0xa5a5a5a5, *(uint32_t *)f.xmm[1]);
	CHECK_EQ(0, *(uint32_t *)f.xmm[0]);
	CHECK_OK(ioctl(s.v.fd, KVM_GET_XCRS, &x));
	CHECK_EQ(3, x.xcrs[0].value);
	vcpu_fini(&s.v);
	vm_fini(&s.vm);
}

int main(void)
{
	RUN_CASE(random_sequences);
	RUN_CASE(exceptions);
	RUN_CASE(xsave_and_ioctls);
	return t_done();
}
