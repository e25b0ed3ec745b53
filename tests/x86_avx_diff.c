/* AVX, FMA and F16C: random VEX sequences run natively in this process
 * (state loaded with XRSTOR, mask x87|SSE|AVX) and inside the VM from the
 * same state; XMM, YMM upper halves, MXCSR, RAX/RCX/RDX, the status flags
 * and a 256-byte memory area must agree. Odd sequences run in 32-bit
 * protected mode with registers 0-7 only (registers 8-15 must stay as
 * they were, whatever VZEROALL does natively). All SIMD exceptions are
 * masked. AVX_DIFF_ITERS / AVX_DIFF_SEED as in x86-sse-diff.
 * Then directed checks: #UD without CR4.OSXSAVE or XCR0.AVX, for VEX.L=1
 * where there is no 256-bit form; #NM on CR0.TS; CR0.EM ignored; #GP for
 * a misaligned VMOVAPS; CPUID leaf 0xD following XCR0; XSAVE/XSAVEC/
 * XRSTOR of component 2 and YMM state through KVM_GET/SET_XSAVE.
 * Skipped when the host cannot run AVX code (softkvm then offers none).
 */
#include "vm.h"

#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define G_DATA 0x30000
#define DATA_SIZE 256
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE (1u << 18)
#define XS (CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE)

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

static uint32_t host_ecx1(void)
{
	unsigned a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	return c;
}

/* ---- the native side ---- */

struct nstate {
	_Alignas(64) uint8_t xs[1024];   /* XSAVE standard format */
	uint64_t rax, rcx, rdx, rflags, rbx;
};

void avx_run_native(void *code, struct nstate *s);
__asm__(".text\n.globl avx_run_native\n.type avx_run_native,@function\navx_run_native:\n"
	"push %rbx\npush %rbp\npush %r12\npush %r13\n"
	"mov %rsi, %r12\nmov %rdi, %r13\n"
	"sub $24, %rsp\n"
	"stmxcsr (%rsp)\nfnstcw 8(%rsp)\n"
	"mov $7, %eax\nxor %edx, %edx\nxrstor64 (%r12)\n"
	"pushq 1048(%r12)\npopfq\n"
	"mov 1024(%r12), %rax\nmov 1032(%r12), %rcx\nmov 1040(%r12), %rdx\nmov 1056(%r12), %rbx\n"
	"call *%r13\n"
	"pushfq\npopq 1048(%r12)\n"
	"mov %rax, 1024(%r12)\nmov %rcx, 1032(%r12)\nmov %rdx, 1040(%r12)\n"
	"mov $7, %eax\nxor %edx, %edx\nxsave64 (%r12)\n"
	"ldmxcsr (%rsp)\nfldcw 8(%rsp)\nvzeroupper\n"
	"add $24, %rsp\n"
	"pop %r13\npop %r12\npop %rbp\npop %rbx\nret\n"
	".size avx_run_native, .-avx_run_native\n");

/* ---- random VEX instructions ---- */

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
	V_RVM,    /* reg dst, vvvv src1, rm src2 (reg or mem) */
	V_RVMM,   /* the same, rm memory only */
	V_RM,     /* reg dst, rm src; vvvv unused */
	V_RMM,    /* the same, memory only */
	V_MR,     /* rm dst (reg or mem), reg src */
	V_MVR,    /* memory dst, vvvv mask, reg src (VMASKMOV store) */
	V_IS4,    /* reg dst, vvvv, rm, imm[7:4] register */
	V_GX,     /* GPR dst (reg, rax..rdx), rm xmm register */
	V_XG,     /* reg xmm dst, rm GPR (rax..rdx) or memory */
	V_GRM,    /* rm GPR dst (rax..rdx) or memory, reg xmm src */
	V_VXG,    /* reg xmm dst, vvvv xmm, rm GPR or memory */
	V_VMI,    /* vvvv dst, rm src register, /digit */
	V_NONE,   /* no operands (VZEROUPPER/VZEROALL) */
	V_GATHER, /* AVX2 gather: dest, [rbx + index*scale + disp], mask */
};

enum { L0, L1, LX, LIG };   /* VEX.L: 0 only, 1 only, either, ignored */

struct tmpl {
	const char *name;
	uint8_t pp, map, op, kind, imm, l, w;   /* w: 0, 1, 2 = either */
	uint8_t digit;                         /* V_VMI /digit */
	uint8_t align;                         /* memory must be aligned to its size */
	uint8_t isa;                           /* 0 AVX, 1 FMA, 2 F16C, 3 AVX2 */
};

#define A(n, pp, map, op, k, imm, l, w) { n, pp, map, op, k, imm, l, w, 0, 0, 0 }
#define AA(n, pp, map, op, k, imm, l, w) { n, pp, map, op, k, imm, l, w, 0, 1, 0 }
#define AD(n, pp, op, imm, d) { n, pp, 1, op, V_VMI, imm, L0, 0, d, 0, 0 }
#define FM(n, op, k, l, w) { n, 1, 2, op, k, 0, l, w, 0, 0, 1 }
#define FC(n, map, op, k, imm, l) { n, 1, map, op, k, imm, l, 0, 0, 0, 2 }
#define A2(n, map, op, k, imm, l, w) { n, 1, map, op, k, imm, l, w, 0, 0, 3 }
#define G2(n, op, w) { n, 1, 2, op, V_GATHER, 0, LX, w, 0, 0, 3 }

/* pp: 0 none, 1 66, 2 F3, 3 F2; map: 1 0F, 2 0F38, 3 0F3A; imm: 0 none,
 * 1 random, 2 0..15, 3 0..1, 4 shift count */
static const struct tmpl tmpls[] = {
	A("vaddps", 0, 1, 0x58, V_RVM, 0, LX, 2), A("vaddpd", 1, 1, 0x58, V_RVM, 0, LX, 2),
	A("vsubps", 0, 1, 0x5c, V_RVM, 0, LX, 2), A("vmulpd", 1, 1, 0x59, V_RVM, 0, LX, 2),
	A("vdivps", 0, 1, 0x5e, V_RVM, 0, LX, 2), A("vminps", 0, 1, 0x5d, V_RVM, 0, LX, 2),
	A("vmaxpd", 1, 1, 0x5f, V_RVM, 0, LX, 2), A("vandps", 0, 1, 0x54, V_RVM, 0, LX, 2),
	A("vandnpd", 1, 1, 0x55, V_RVM, 0, LX, 2), A("vorps", 0, 1, 0x56, V_RVM, 0, LX, 2),
	A("vxorps", 0, 1, 0x57, V_RVM, 0, LX, 2), A("vaddsubps", 3, 1, 0xd0, V_RVM, 0, LX, 2),
	A("vhaddpd", 1, 1, 0x7c, V_RVM, 0, LX, 2), A("vunpcklps", 0, 1, 0x14, V_RVM, 0, LX, 2),
	A("vunpckhpd", 1, 1, 0x15, V_RVM, 0, LX, 2), A("vshufps", 0, 1, 0xc6, V_RVM, 1, LX, 2),
	A("vcmpps", 0, 1, 0xc2, V_RVM, 1, LX, 2), A("vcmppd", 1, 1, 0xc2, V_RVM, 1, LX, 2),
	A("vblendps", 1, 3, 0x0c, V_RVM, 1, LX, 0), A("vdpps", 1, 3, 0x40, V_RVM, 1, LX, 0),
	A("vperm2f128", 1, 3, 0x06, V_RVM, 1, L1, 0), A("vinsertf128", 1, 3, 0x18, V_RVM, 3, L1, 0),
	A("vpermilps", 1, 2, 0x0c, V_RVM, 0, LX, 0), A("vpermilpd i", 1, 3, 0x05, V_RM, 1, LX, 0),
	A("vaddss", 2, 1, 0x58, V_RVM, 0, LIG, 2), A("vaddsd", 3, 1, 0x58, V_RVM, 0, LIG, 2),
	A("vsqrtss", 2, 1, 0x51, V_RVM, 0, LIG, 2), A("vmulsd", 3, 1, 0x59, V_RVM, 0, LIG, 2),
	A("vcmpsd", 3, 1, 0xc2, V_RVM, 1, LIG, 2), A("vroundss", 1, 3, 0x0a, V_RVM, 2, LIG, 2),
	A("vcvtss2sd", 2, 1, 0x5a, V_RVM, 0, LIG, 2), A("vcvtsd2ss", 3, 1, 0x5a, V_RVM, 0, LIG, 2),
	A("vmovss", 2, 1, 0x10, V_RVM, 0, LIG, 2), A("vmovhlps", 0, 1, 0x12, V_RVM, 0, L0, 2),
	A("vsqrtps", 0, 1, 0x51, V_RM, 0, LX, 2), A("vrcpps", 0, 1, 0x53, V_RM, 0, LX, 2),
	A("vrsqrtps", 0, 1, 0x52, V_RM, 0, LX, 2), AA("vmovaps", 0, 1, 0x28, V_RM, 0, LX, 2),
	A("vmovups", 0, 1, 0x10, V_RM, 0, LX, 2), A("vmovdqu", 2, 1, 0x6f, V_RM, 0, LX, 2),
	AA("vmovdqa", 1, 1, 0x6f, V_RM, 0, LX, 2), A("vcvtdq2ps", 0, 1, 0x5b, V_RM, 0, LX, 2),
	A("vcvtps2pd", 0, 1, 0x5a, V_RM, 0, LX, 2), A("vcvtpd2ps", 1, 1, 0x5a, V_RM, 0, LX, 2),
	A("vcvttps2dq", 2, 1, 0x5b, V_RM, 0, LX, 2), A("vcvtpd2dq", 3, 1, 0xe6, V_RM, 0, LX, 2),
	A("vmovshdup", 2, 1, 0x16, V_RM, 0, LX, 2), A("vmovddup", 3, 1, 0x12, V_RM, 0, LX, 2),
	A("vptest", 1, 2, 0x17, V_RM, 0, LX, 0), A("vtestps", 1, 2, 0x0e, V_RM, 0, LX, 0),
	A("vroundps", 1, 3, 0x08, V_RM, 2, LX, 0), A("vbroadcastss", 1, 2, 0x18, V_RMM, 0, LX, 0),
	A("vbroadcastf128", 1, 2, 0x1a, V_RMM, 0, L1, 0), A("vcomiss", 0, 1, 0x2f, V_RM, 0, LIG, 2),
	A("vucomisd", 1, 1, 0x2e, V_RM, 0, LIG, 2),
	AA("vmovaps st", 0, 1, 0x29, V_MR, 0, LX, 2), A("vmovups st", 0, 1, 0x11, V_MR, 0, LX, 2),
	A("vmovdqu st", 2, 1, 0x7f, V_MR, 0, LX, 2), A("vextractf128", 1, 3, 0x19, V_MR, 3, L1, 0),
	A("vmaskmovps", 1, 2, 0x2c, V_RVMM, 0, LX, 0), A("vmaskmovpd st", 1, 2, 0x2f, V_MVR, 0, LX, 0),
	A("vblendvps", 1, 3, 0x4a, V_IS4, 0, LX, 0), A("vpblendvb", 1, 3, 0x4c, V_IS4, 0, L0, 0),
	A("vpaddb", 1, 1, 0xfc, V_RVM, 0, L0, 2), A("vpaddq", 1, 1, 0xd4, V_RVM, 0, L0, 2),
	A("vpxor", 1, 1, 0xef, V_RVM, 0, L0, 2), A("vpshufb", 1, 2, 0x00, V_RVM, 0, L0, 2),
	A("vpcmpeqd", 1, 1, 0x76, V_RVM, 0, L0, 2), A("vpmulld", 1, 2, 0x40, V_RVM, 0, L0, 2),
	A("vpunpcklbw", 1, 1, 0x60, V_RVM, 0, L0, 2), A("vpsadbw", 1, 1, 0xf6, V_RVM, 0, L0, 2),
	A("vpalignr", 1, 3, 0x0f, V_RVM, 1, L0, 2), A("vpacksswb", 1, 1, 0x63, V_RVM, 0, L0, 2),
	A("vpshufd", 1, 1, 0x70, V_RM, 1, L0, 2), A("vpmovsxbw", 1, 2, 0x20, V_RM, 0, L0, 2),
	A("vpcmpistri", 1, 3, 0x63, V_RM, 1, L0, 2),
	A("vpmovmskb", 1, 1, 0xd7, V_GX, 0, L0, 2), A("vmovmskps", 0, 1, 0x50, V_GX, 0, LX, 2),
	A("vcvttsd2si", 3, 1, 0x2c, V_GX, 0, LIG, 2), A("vcvtss2si", 2, 1, 0x2d, V_GX, 0, LIG, 2),
	A("vmovd x,r", 1, 1, 0x6e, V_XG, 0, L0, 2), A("vmovd r,x", 1, 1, 0x7e, V_GRM, 0, L0, 2),
	A("vpextrd", 1, 3, 0x16, V_GRM, 2, L0, 2), A("vpinsrd", 1, 3, 0x22, V_VXG, 2, L0, 2),
	A("vcvtsi2sd", 3, 1, 0x2a, V_VXG, 0, LIG, 2),
	AD("vpsrld i", 1, 0x72, 4, 2), AD("vpslldq", 1, 0x73, 4, 7), AD("vpsraw i", 1, 0x71, 4, 4),
	A("vzeroupper", 0, 1, 0x77, V_NONE, 0, L0, 0), A("vzeroall", 0, 1, 0x77, V_NONE, 0, L1, 0),
	FM("vfmadd132ps", 0x98, V_RVM, LX, 0), FM("vfmadd231pd", 0xb8, V_RVM, LX, 1),
	FM("vfnmsub213ss", 0xaf, V_RVM, LIG, 0), FM("vfmaddsub132pd", 0x96, V_RVM, LX, 1),
	FC("vcvtph2ps", 2, 0x13, V_RM, 0, LX), FC("vcvtps2ph", 3, 0x1d, V_MR, 2, LX),
	A2("vpaddd y", 1, 0xfe, V_RVM, 0, L1, 2), A2("vpshufb y", 2, 0x00, V_RVM, 0, L1, 2),
	A2("vpsubq y", 1, 0xfb, V_RVM, 0, L1, 2), A2("vpmulld y", 2, 0x40, V_RVM, 0, L1, 2),
	A2("vpcmpgtb y", 1, 0x64, V_RVM, 0, L1, 2), A2("vpunpckhwd y", 1, 0x69, V_RVM, 0, L1, 2),
	A2("vpsadbw y", 1, 0xf6, V_RVM, 0, L1, 2), A2("vpmovmskb y", 1, 0xd7, V_GX, 0, L1, 2),
	A2("vpermd", 2, 0x36, V_RVM, 0, L1, 0), A2("vpermq", 3, 0x00, V_RM, 1, L1, 1),
	A2("vpbroadcastd", 2, 0x58, V_RM, 0, LX, 0), A2("vpsllvd", 2, 0x47, V_RVM, 0, LX, 0),
	A2("vpsrlvq", 2, 0x45, V_RVM, 0, LX, 1), A2("vinserti128", 3, 0x38, V_RVM, 3, L1, 0),
	A2("vextracti128", 3, 0x39, V_MR, 3, L1, 0), A2("vperm2i128", 3, 0x46, V_RVM, 1, L1, 0),
	A2("vpblendd", 3, 0x02, V_RVM, 1, LX, 0), A2("vpmaskmovd", 2, 0x8c, V_RVMM, 0, LX, 0),
	A2("vpmaskmovq st", 2, 0x8e, V_MVR, 0, LX, 1), A2("vpalignr y", 3, 0x0f, V_RVM, 1, L1, 2),
	A2("vpmovzxbd", 2, 0x31, V_RM, 0, LX, 2), { "vpsrad y i", 1, 1, 0x72, V_VMI, 4, L1, 2, 4, 0, 3 },
	G2("vpgatherdd", 0x90, 0), G2("vpgatherdq", 0x90, 1), G2("vpgatherqd", 0x91, 0),
	G2("vpgatherqq", 0x91, 1), G2("vgatherdps", 0x92, 0), G2("vgatherdpd", 0x92, 1),
	G2("vgatherqps", 0x93, 0), G2("vgatherqpd", 0x93, 1),
};
#define NT (sizeof(tmpls) / sizeof(tmpls[0]))

static bool in32;          /* 32-bit code: registers 0-7, W0 for GPR forms */
static bool has_fma, has_f16c, has_avx2;

/* A gather after a shift that keeps its indices within the data area
 * (0..15, times a scale up to 8, plus a displacement up to 96). */
static unsigned gen_gather(const struct tmpl *t, uint8_t *o)
{
	unsigned nreg = in32 ? 8 : 16, dst = rn(nreg), idx, mask, n = 0;
	do
		idx = rn(nreg);
	while (idx == dst);
	do
		mask = rn(nreg);
	while (mask == dst || mask == idx);
	bool qidx = t->op & 1, l = rn(2);
	o[n++] = 0xc4;                               /* vpsrld/vpsrlq $28/$60, idx (256-bit) */
	o[n++] = (uint8_t)(0xc0 | (idx >> 3 ? 0 : 0x20) | 1);
	o[n++] = (uint8_t)((~idx & 15) << 3 | 4 | 1);
	o[n++] = qidx ? 0x73 : 0x72;
	o[n++] = (uint8_t)(0xc0 | 2 << 3 | (idx & 7));
	o[n++] = qidx ? 60 : 28;
	o[n++] = 0xc4;
	o[n++] = (uint8_t)((dst >> 3 ? 0 : 0x80) | (idx >> 3 ? 0 : 0x40) | 0x20 | 2);
	o[n++] = (uint8_t)((t->w ? 0x80 : 0) | (~mask & 15) << 3 | (l ? 4 : 0) | 1);
	o[n++] = t->op;
	o[n++] = (uint8_t)(0x40 | (dst & 7) << 3 | 4);
	o[n++] = (uint8_t)(rn(4) << 6 | (idx & 7) << 3 | 3);
	o[n++] = (uint8_t)(16 * rn(7));
	return n;
}

static unsigned gen(const struct tmpl *t, uint8_t *o)
{
	unsigned nreg = in32 ? 8 : 16;
	if (t->kind == V_GATHER)
		return gen_gather(t, o);
	unsigned reg = rn(nreg), vvvv = rn(nreg), rm = rn(nreg), is4 = rn(nreg);
	bool mem = false, l;
	switch (t->l) {
	case L0: l = false; break;
	case L1: l = true; break;
	default: l = rn(2); break;
	}
	bool w = t->w == 2 ? rn(2) : t->w;
	switch (t->kind) {
	case V_RVM: case V_RM: case V_MR: case V_IS4: mem = rn(3) == 0; break;
	case V_RVMM: case V_RMM: case V_MVR: mem = true; break;
	case V_GX: reg = rn(3); break;
	case V_XG: case V_VXG: case V_GRM: mem = rn(3) == 0; rm = rn(3); break;
	case V_VMI: reg = t->digit; break;
	default: break;
	}
	if (t->kind == V_RM || t->kind == V_RMM || t->kind == V_MR || t->kind == V_GX ||
	    t->kind == V_XG || t->kind == V_GRM || t->kind == V_NONE)
		vvvv = 0;
	if (mem && t->op == 0x10 && t->pp >= 2)
		vvvv = 0;   /* VMOVSS/VMOVSD from memory: no second source */
	if (in32 && (t->kind == V_GX || t->kind == V_XG || t->kind == V_GRM || t->kind == V_VXG))
		w = false;
	unsigned r = reg >> 3, b = mem ? 0 : rm >> 3;
	unsigned pl = (unsigned)(l << 2 | t->pp);
	unsigned n = 0;
	if (t->map == 1 && !w && !b && rn(2)) {
		o[n++] = 0xc5;
		o[n++] = (uint8_t)((r ? 0 : 0x80) | (~vvvv & 15) << 3 | pl);
	} else {
		o[n++] = 0xc4;
		o[n++] = (uint8_t)((r ? 0 : 0x80) | 0x40 | (b ? 0 : 0x20) | t->map);
		o[n++] = (uint8_t)((w ? 0x80 : 0) | (~vvvv & 15) << 3 | pl);
	}
	o[n++] = t->op;
	if (t->kind == V_NONE)
		return n;
	if (mem) {
		unsigned size = l ? 32 : 16;
		unsigned disp = t->align ? size * rn(128 / size) : 16 * rn(7);
		o[n++] = (uint8_t)(0x43 | (reg & 7) << 3);
		o[n++] = (uint8_t)disp;
	} else {
		o[n++] = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7));
	}
	if (t->kind == V_IS4) {
		o[n++] = (uint8_t)(is4 << 4);
		return n;
	}
	switch (t->imm) {
	case 1: o[n++] = (uint8_t)rnd(); break;
	case 2: o[n++] = (uint8_t)rn(16); break;
	case 3: o[n++] = (uint8_t)rn(2); break;
	case 4: o[n++] = (uint8_t)rn(40); break;
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
	memset(s->xs, 0, sizeof(s->xs));
	s->xs[0] = 0x7f;
	s->xs[1] = 0x03;
	uint32_t mxcsr = 0x1f80 | (rn(4) << 13) | (rn(4) == 0 ? 0x8040 : 0);
	memcpy(s->xs + 24, &mxcsr, 4);
	rand_vec(s->xs + 160, 256);
	/* Upper halves: random, or all zero (AVX state not in use). */
	if (rn(3))
		rand_vec(s->xs + 576, 256);
	uint64_t bv = 7;
	memcpy(s->xs + 512, &bv, 8);
	s->rax = rnd() >> rn(64);
	s->rcx = rnd() >> rn(64);
	s->rdx = rnd() >> rn(64);
	s->rflags = 0x202 | (rnd() & 0x8d5);
	rand_vec(data, DATA_SIZE);
}

/* ---- the VM side ---- */

static void set_cr(struct vcpu *v, uint64_t cr0_set, uint64_t cr0_clr, uint64_t cr4)
{
	struct kvm_sregs s = get_sregs(v);
	s.cr0 = (s.cr0 | cr0_set) & ~cr0_clr;
	s.cr4 = cr4 | (s.cr4 & ~(uint64_t)XS);
	CHECK_OK(ioctl(v->fd, KVM_SET_SREGS, &s));
}

static void set_xcr0(struct vcpu *v, uint64_t val)
{
	struct kvm_xcrs x;
	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].value = val;
	CHECK_OK(ioctl(v->fd, KVM_SET_XCRS, &x));
}

static void avx_vcpu(struct vm *vm, struct vcpu *v, enum guest_mode mode)
{
	vm_init(vm);
	vcpu_init(vm, v, 0);
	vcpu_setup(v, mode, G_CODE);
	struct kvm_cpuid2 *cp = calloc(1, sizeof(*cp) + 64 * sizeof(struct kvm_cpuid_entry2));
	cp->nent = 64;
	CHECK_OK(ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, cp));
	CHECK_OK(ioctl(v->fd, KVM_SET_CPUID2, cp));
	free(cp);
	set_cr(v, 0, CR0_EM | CR0_TS, XS);
	set_xcr0(v, 7);
}

static void run_guest(struct vcpu *v, const uint8_t *code, unsigned len, struct nstate *s,
		      uint8_t *data)
{
	struct vm *vm = v->vm;
	memcpy(vm->mem + G_CODE, code, len);
	vm->mem[G_CODE + len] = 0xf4;
	memcpy(vm->mem + G_DATA, data, DATA_SIZE);
	static struct kvm_xsave xs;
	memset(&xs, 0, sizeof(xs));
	memcpy(xs.region, s->xs, sizeof(s->xs));
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
	memcpy(s->xs, xs.region, sizeof(s->xs));
	memcpy(data, vm->mem + G_DATA, DATA_SIZE);
}

static const char *seq_names[32];

/* Registers 0..nr-1 against the native run; nr..15 against init. */
static bool same(const struct nstate *a, const struct nstate *b, const struct nstate *init,
		 const uint8_t *da, const uint8_t *db, unsigned n, unsigned nr)
{
	bool ok = true;
	char msg[64];
	if (memcmp(a->xs + 24, b->xs + 24, 4)) {
		t_check(false, __FILE__, __LINE__, "MXCSR differs");
		ok = false;
	}
	for (unsigned k = 0; k < 16; k++) {
		const struct nstate *want = k < nr ? a : init;
		if (memcmp(want->xs + 160 + 16 * k, b->xs + 160 + 16 * k, 16)) {
			snprintf(msg, sizeof(msg), "XMM%u differs", k);
			t_check(false, __FILE__, __LINE__, msg);
			ok = false;
		}
		if (memcmp(want->xs + 576 + 16 * k, b->xs + 576 + 16 * k, 16)) {
			snprintf(msg, sizeof(msg), "YMM%u_H differs", k);
			t_check(false, __FILE__, __LINE__, msg);
			ok = false;
		}
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

static bool usable(const struct tmpl *t)
{
	return t->isa == 0 || (t->isa == 1 && has_fma) || (t->isa == 2 && has_f16c) ||
	       (t->isa == 3 && has_avx2);
}

static void random_sequences(void)
{
	const char *e = getenv("AVX_DIFF_ITERS");
	unsigned iters = e ? (unsigned)strtoul(e, NULL, 0) : 400;
	e = getenv("AVX_DIFF_SEED");
	rng_state = e ? strtoull(e, NULL, 0) : 0xa5a5feed1234ull;
	if (!rng_state)
		rng_state = 1;
	printf("seed %#llx, %u sequences\n", (unsigned long long)rng_state, iters);
	uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(page != MAP_FAILED))
		return;
	struct vm vm, vm32;
	struct vcpu v64, v32;
	avx_vcpu(&vm, &v64, MODE_LONG);
	avx_vcpu(&vm32, &v32, MODE_PROT32);
	unsigned bad = 0;
	for (unsigned it = 0; it < iters && bad < 5; it++) {
		in32 = it & 1;
		struct vcpu *vp = in32 ? &v32 : &v64;
		uint8_t code[32 * 16];
		unsigned len = 0, n = 1 + rn(24);
		for (unsigned k = 0; k < n; k++) {
			const struct tmpl *t;
			do
				t = &tmpls[rn(NT)];
			while (!usable(t));
			seq_names[k] = t->name;
			len += gen(t, code + len);
		}
		static struct nstate ns, gs, init;
		static _Alignas(64) uint8_t nd[DATA_SIZE], gd[DATA_SIZE];
		rand_state(&ns, nd);
		gs = init = ns;
		memcpy(gd, nd, DATA_SIZE);
		memcpy(page, code, len);
		page[len] = 0xc3;
		ns.rbx = (uint64_t)(uintptr_t)nd;
		if (getenv("AVX_DIFF_TRACE")) {
			fprintf(stderr, "%u:", it);
			for (unsigned k = 0; k < n; k++)
				fprintf(stderr, " %s;", seq_names[k]);
			fprintf(stderr, "\n");
		}
		avx_run_native(page, &ns);
		run_guest(vp, code, len, &gs, gd);
		if (!same(&ns, &gs, &init, nd, gd, n, in32 ? 8 : 16)) {
			fprintf(stderr, "  iteration %u (%s), code:", it, in32 ? "32-bit" : "64-bit");
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

GUEST_CODE(d_vaddps, 64, "vaddps %ymm1, %ymm2, %ymm3\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_vmovd_l1, 64, ".byte 0xc5, 0xfd, 0x6e, 0xc0\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_vmovaps, 64, "vmovaps 16(%rbx), %ymm0\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_store, 64, "vmovups %ymm3, (%rbx)\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_bcast, 64, "vbroadcastss (%rbx), %ymm5\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_vzu, 64, "vzeroupper\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_xsave, 64, "xsave (%rbx)\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_xsavec, 64, "xsavec (%rbx)\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_xrstor, 64, "xrstor (%rbx)\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_cpuid, 64, "cpuid\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_xsetbv, 64, "xsetbv\n out %eax, $0x51\n hlt\n");
/* vpgatherdd (%rbx,%xmm1,4), %xmm0 with mask xmm2; then dest = index. */
GUEST_CODE(d_gather, 64, ".byte 0xc4, 0xe2, 0x69, 0x90, 0x04, 0x8b\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_gather_ud, 64, ".byte 0xc4, 0xe2, 0x69, 0x90, 0x0c, 0x8b\n out %eax, $0x51\n hlt\n");
GUEST_CODE(d_movmsk, 64, "vmovmskps %ymm2, %ecx\n vpmovmskb %xmm2, %edx\n out %eax, $0x51\n hlt\n");

struct box {
	struct vm vm;
	struct vcpu v;
};

static void box_init(struct box *b)
{
	avx_vcpu(&b->vm, &b->v, MODE_LONG);
	static const int vecs[] = { 6, 7, 13 };
	for (unsigned k = 0; k < sizeof(vecs) / sizeof(vecs[0]); k++) {
		uint8_t *h = b->vm.mem + 0x3000 + 16 * vecs[k];
		static const uint8_t body[] = { 0xb8, 0, 0, 0, 0, 0xe7, 0x50, 0xf4 };
		memcpy(h, body, sizeof(body));
		h[1] = (uint8_t)vecs[k];
		idt_set(&b->v, vecs[k], 0x3000 + 16 * vecs[k]);
	}
}

/* Returns the vector taken or -1 at the snippet's end. */
static int run(struct box *b, const uint8_t *code, const uint8_t *end, uint64_t rax,
	       uint64_t rcx, uint64_t rdx)
{
	memcpy(b->vm.mem + G_CODE, code, (size_t)(end - code));
	struct kvm_regs r = get_regs(&b->v);
	r.rip = G_CODE;
	r.rax = rax;
	r.rcx = rcx;
	r.rdx = rdx;
	r.rbx = G_DATA;
	r.rsp = G_STACK;
	r.rflags = 2;
	set_regs(&b->v, &r);
	for (;;) {
		if (!CHECK_OK(vcpu_run(&b->v)) || !CHECK_EQ(KVM_EXIT_IO, b->v.run->exit_reason))
			return -2;
		if (b->v.run->io.port == 0x50)
			return *(uint8_t *)io_data(&b->v);
		if (b->v.run->io.port == 0x51)
			return -1;
	}
}

#define RUN(b, name, a, c, d) run((b), name, name##_end, (a), (c), (d))

static void faults(void)
{
	struct box b;
	box_init(&b);
	CHECK_EQ(-1, RUN(&b, d_vaddps, 0, 0, 0));
	set_cr(&b.v, CR0_EM, 0, XS);                   /* EM does not matter to VEX */
	CHECK_EQ(-1, RUN(&b, d_vaddps, 0, 0, 0));
	set_cr(&b.v, CR0_TS, CR0_EM, XS);
	CHECK_EQ(7, RUN(&b, d_vaddps, 0, 0, 0));
	set_cr(&b.v, 0, CR0_TS, CR4_OSFXSR | CR4_OSXMMEXCPT);
	CHECK_EQ(6, RUN(&b, d_vaddps, 0, 0, 0));
	set_cr(&b.v, 0, CR0_TS, XS | 0);
	set_xcr0(&b.v, 3);
	CHECK_EQ(6, RUN(&b, d_vaddps, 0, 0, 0));
	set_xcr0(&b.v, 7);
	CHECK_EQ(-1, RUN(&b, d_vaddps, 0, 0, 0));
	CHECK_EQ(13, RUN(&b, d_vmovaps, 0, 0, 0));     /* 32-byte alignment */
	/* XSETBV: AVX needs SSE; XCR0 follows into leaf 0xD's sizes. */
	CHECK_EQ(13, RUN(&b, d_xsetbv, 5, 0, 0));
	CHECK_EQ(-1, RUN(&b, d_xsetbv, 3, 0, 0));
	CHECK_EQ(-1, RUN(&b, d_cpuid, 0xd, 0, 0));
	CHECK_EQ(576, get_regs(&b.v).rbx);
	CHECK_EQ(-1, RUN(&b, d_xsetbv, 7, 0, 0));
	CHECK_EQ(-1, RUN(&b, d_cpuid, 0xd, 0, 0));
	CHECK_EQ(832, get_regs(&b.v).rbx);
	CHECK_EQ(7, get_regs(&b.v).rax);
	CHECK_EQ(832, get_regs(&b.v).rcx);
	CHECK_EQ(-1, RUN(&b, d_cpuid, 0xd, 1, 0));
	CHECK_EQ(832, get_regs(&b.v).rbx);
	CHECK_EQ(-1, RUN(&b, d_cpuid, 0xd, 2, 0));
	CHECK_EQ(256, get_regs(&b.v).rax);
	CHECK_EQ(576, get_regs(&b.v).rbx);
	CHECK_EQ(-1, RUN(&b, d_cpuid, 1, 0, 0));
	CHECK_EQ(1u << 28, get_regs(&b.v).rcx & (1u << 28));
	/* Last: softkvm's block cache keeps a #UD at an address whatever is
	 * written there later. */
	CHECK_EQ(6, RUN(&b, d_vmovd_l1, 0, 0, 0));     /* VMOVD has no 256-bit form */
	vcpu_fini(&b.v);
	vm_fini(&b.vm);
}

static bool all_bytes(const uint8_t *p, uint8_t v, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		if (p[k] != v)
			return false;
	return true;
}

static uint64_t bv_of(const struct kvm_xsave *x)
{
	uint64_t v;
	memcpy(&v, (const uint8_t *)x->region + 512, 8);
	return v;
}

static void state(void)
{
	struct box b;
	box_init(&b);
	static struct kvm_xsave xs;
	uint8_t *r = (uint8_t *)xs.region;
	uint8_t *mem = b.vm.mem + G_DATA;

	/* YMM state in through KVM_SET_XSAVE, out through a 256-bit store. */
	CHECK_OK(ioctl(b.v.fd, KVM_GET_XSAVE, &xs));
	CHECK_EQ(3, bv_of(&xs));
	memset(r + 160 + 3 * 16, 0x11, 16);
	memset(r + 576 + 3 * 16, 0x22, 16);
	uint64_t bv = 7;
	memcpy(r + 512, &bv, 8);
	CHECK_OK(ioctl(b.v.fd, KVM_SET_XSAVE, &xs));
	CHECK_EQ(-1, RUN(&b, d_store, 0, 0, 0));
	uint8_t want[32];
	memset(want, 0x11, 16);
	memset(want + 16, 0x22, 16);
	CHECK(!memcmp(mem, want, 32));
	/* And back: a broadcast fills a whole YMM register. */
	float f = 1.5f;
	memcpy(mem, &f, 4);
	CHECK_EQ(-1, RUN(&b, d_bcast, 0, 0, 0));
	CHECK_OK(ioctl(b.v.fd, KVM_GET_XSAVE, &xs));
	CHECK_EQ(7, bv_of(&xs));
	CHECK(!memcmp(r + 576 + 5 * 16 + 12, &f, 4));
	CHECK(!memcmp(r + 160 + 5 * 16, &f, 4));
	/* KVM_GET_XSAVE2 is the same image. */
	static struct kvm_xsave xs2;
	CHECK_OK(ioctl(b.v.fd, KVM_GET_XSAVE2, &xs2));
	CHECK(!memcmp(&xs, &xs2, sizeof(xs)));
	CHECK(ioctl(b.vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2) >= 832);

	/* Guest XSAVE: component 2 at 576, XSTATE_BV[2] = XINUSE[2]. */
	memset(mem, 0xcc, 1024);
	memset(mem + 512, 0, 64);
	CHECK_EQ(-1, RUN(&b, d_xsave, 7, 0, 0));
	CHECK(!memcmp(mem + 576 + 5 * 16 + 12, &f, 4));
	CHECK(!memcmp(mem + 576 + 3 * 16, want + 16, 16));
	CHECK_EQ(7, mem[512]);
	/* XRSTOR of a changed image. */
	memset(mem + 576 + 3 * 16, 0x33, 16);
	CHECK_EQ(-1, RUN(&b, d_xrstor, 7, 0, 0));
	CHECK_OK(ioctl(b.v.fd, KVM_GET_XSAVE, &xs));
	CHECK(all_bytes(r + 576 + 3 * 16, 0x33, 16));
	/* XSAVEC: compacted, AVX right after the header. */
	memset(mem, 0xcc, 1024);
	memset(mem + 512, 0, 64);
	CHECK_EQ(-1, RUN(&b, d_xsavec, 7, 0, 0));
	CHECK(all_bytes(mem + 576 + 3 * 16, 0x33, 16));
	CHECK_EQ(7, mem[512]);
	CHECK_EQ(0x80, mem[527]);
	CHECK_EQ(7, mem[520]);
	/* VZEROUPPER: AVX state back to its initial configuration. */
	CHECK_EQ(-1, RUN(&b, d_vzu, 0, 0, 0));
	CHECK_OK(ioctl(b.v.fd, KVM_GET_XSAVE, &xs));
	CHECK_EQ(3, bv_of(&xs));
	CHECK(all_bytes(r + 576, 0, 256));
	CHECK(!memcmp(r + 160 + 5 * 16, &f, 4));
	/* XSAVEC skips AVX when not in use (init optimisation): the area
	 * past the header is left alone. */
	memset(mem, 0xcc, 1024);
	memset(mem + 512, 0, 64);
	CHECK_EQ(-1, RUN(&b, d_xsavec, 7, 0, 0));
	CHECK_EQ(3, mem[512]);
	CHECK_EQ(7, mem[520]);
	CHECK(all_bytes(mem + 576, 0xcc, 256));
	/* XRSTOR with XSTATE_BV[2] = 0 initialises AVX state. */
	CHECK_OK(ioctl(b.v.fd, KVM_SET_XSAVE, &xs2));
	memset(mem, 0, 1024);
	mem[0] = 0x7f;
	mem[1] = 0x03;
	mem[25] = 0x1f;
	mem[24] = 0x80;
	mem[512] = 3;
	CHECK_EQ(-1, RUN(&b, d_xrstor, 7, 0, 0));
	CHECK_OK(ioctl(b.v.fd, KVM_GET_XSAVE, &xs));
	CHECK_EQ(3, bv_of(&xs));
	CHECK(all_bytes(r + 576, 0, 256));
	/* A GPR destination next to a YMM source. */
	memset(r + 160 + 2 * 16, 0, 16);
	memset(r + 576 + 2 * 16, 0, 16);
	r[160 + 2 * 16 + 3] = 0x80;
	r[576 + 2 * 16 + 15] = 0x80;
	bv = 7;
	memcpy(r + 512, &bv, 8);
	CHECK_OK(ioctl(b.v.fd, KVM_SET_XSAVE, &xs));
	CHECK_EQ(-1, RUN(&b, d_movmsk, 0, ~0ull, ~0ull));
	CHECK_EQ(0x81, get_regs(&b.v).rcx);
	CHECK_EQ(0x8, get_regs(&b.v).rdx);
	/* AVX2 gather: elements in mask order, mask cleared, upper halves of
	 * dest and mask zeroed (VEX.128); a register shared is #UD. */
	if (has_avx2) {
		memset(r + 160, 0x55, 16);                 /* xmm0: dest */
		memset(r + 576, 0x66, 16);                 /* ymm0 upper */
		uint32_t idx[4] = { 3, 0, 1, 2 }, msk[4] = { 0x80000000u, 0, 0xffffffffu, 0x80000000u };
		memcpy(r + 176, idx, 16);
		memcpy(r + 192, msk, 16);
		memset(r + 576 + 32, 0x77, 16);            /* ymm2 upper */
		CHECK_OK(ioctl(b.v.fd, KVM_SET_XSAVE, &xs));
		for (uint32_t k = 0; k < 4; k++) {
			uint32_t v = 0x11111111u * (k + 1);
			memcpy(mem + 4 * k, &v, 4);
		}
		CHECK_EQ(-1, RUN(&b, d_gather, 0, 0, 0));
		CHECK_OK(ioctl(b.v.fd, KVM_GET_XSAVE, &xs));
		uint32_t got[4], want_d[4] = { 0x44444444u, 0x55555555u, 0x22222222u, 0x33333333u };
		memcpy(got, r + 160, 16);
		CHECK(!memcmp(got, want_d, 16));
		CHECK(all_bytes(r + 192, 0, 16));
		CHECK(all_bytes(r + 576, 0, 16));
		CHECK(all_bytes(r + 576 + 32, 0, 16));
		CHECK_EQ(6, RUN(&b, d_gather_ud, 0, 0, 0));
	}
	/* KVM_SET_XSAVE refuses unknown components. */
	bv = 8 | 7;
	memcpy(r + 512, &bv, 8);
	CHECK_ERRNO(ioctl(b.v.fd, KVM_SET_XSAVE, &xs), EINVAL);
	vcpu_fini(&b.v);
	vm_fini(&b.vm);
}

int main(void)
{
	if (!host_avx()) {
		SKIP("the host cannot run AVX code");
		return t_done();
	}
	uint32_t c = host_ecx1();
	has_fma = c & (1u << 12);
	has_f16c = c & (1u << 29);
	unsigned a7, b7 = 0, c7, d7;
	__asm__ volatile("cpuid" : "=a"(a7), "=b"(b7), "=c"(c7), "=d"(d7) : "a"(7), "c"(0));
	has_avx2 = b7 & (1u << 5);
	RUN_CASE(random_sequences);
	RUN_CASE(faults);
	RUN_CASE(state);
	return t_done();
}
