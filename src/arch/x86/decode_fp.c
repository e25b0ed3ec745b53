/* Decoding x87/MMX/SSE/AVX instructions into host stubs (see fp.h).
 *
 * The stub is the guest instruction re-encoded for the host: legacy
 * prefixes that select the operation (66, F2, F3) and the REX prefix are
 * kept, segment and address-size prefixes dropped, the memory operand
 * becomes [rsi] and explicit GPRs become rax (ModRM.reg) and rdx
 * (ModRM.rm). VEX instructions are rewritten the same way (rewrite_vex).
 * Only instruction sets softkvm offers in CPUID are accepted (x87, MMX,
 * SSE..SSE4.2, AVX, AVX2, FMA, F16C), so nothing else ever runs on the
 * host; AVX2 gathers have no stub and run in C (exec_fp.c). Stubs with
 * the same bytes are shared; they live for the process (their number is
 * bounded by the distinct encodings).
 */
#include <cpuid.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86/fp.h"

#define STUB_CHUNK (256 * 1024)
#define STUB_HASH 4096
#define STUB_LIMIT (64u << 20)

struct stub_ent {
	struct stub_ent *next;
	uint8_t len;
	uint8_t bytes[16];
	struct x86_fpinfo info;
};

static pthread_mutex_t stub_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stub_ent *stub_hash[STUB_HASH];
static uint8_t *arena;
static size_t arena_left, arena_total;

/* CPUID.1:ECX of the host: the stubs need the host to have the set. */
static uint32_t host_ecx(void)
{
	static _Atomic uint32_t cached;
	uint32_t v = cached;
	if (!v) {
		unsigned a, b, c = 0, d;
		__get_cpuid(1, &a, &b, &c, &d);
		v = c | 0x80000000u;   /* bit 31 (hypervisor) only marks "known" */
		cached = v;
	}
	return v;
}

bool x86_host_avx(void)
{
	static _Atomic int cached;   /* 0 unknown, 1 no, 2 yes */
	int v = cached;
	if (!v) {
		const uint32_t need = 1u << 27 | 1u << 28;   /* OSXSAVE, AVX */
		v = 1;
		if ((host_ecx() & need) == need) {
			uint32_t lo, hi;
			__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
			if ((lo & 6) == 6)
				v = 2;
		}
		cached = v;
	}
	return v == 2;
}

bool x86_host_avx2(void)
{
	static _Atomic int cached;   /* 0 unknown, 1 no, 2 yes */
	int v = cached;
	if (!v) {
		unsigned a, b = 0, c, d;
		v = x86_host_avx() && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 5)) ? 2 : 1;
		cached = v;
	}
	return v == 2;
}

/* VEX-encoded: AVX, AVX2 (its gathers done in C), FMA and F16C, when the
 * host runs them. */
static bool offered_vex(const ZydisDecodedInstruction *zi)
{
	if (!x86_host_avx())
		return false;
	switch (zi->meta.isa_ext) {
	case ZYDIS_ISA_EXT_AVX: return true;
	case ZYDIS_ISA_EXT_AVX2: case ZYDIS_ISA_EXT_AVX2GATHER: return x86_host_avx2();
	case ZYDIS_ISA_EXT_FMA: return host_ecx() & (1u << 12);
	case ZYDIS_ISA_EXT_F16C: return host_ecx() & (1u << 29);
	default: return false;
	}
}

static bool offered(const ZydisDecodedInstruction *zi)
{
	if (zi->encoding == ZYDIS_INSTRUCTION_ENCODING_VEX)
		return offered_vex(zi);
	if (zi->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY)
		return false;
	uint32_t need = 0;
	switch (zi->meta.isa_ext) {
	case ZYDIS_ISA_EXT_X87: case ZYDIS_ISA_EXT_MMX: case ZYDIS_ISA_EXT_SSE:
	case ZYDIS_ISA_EXT_SSE2: case ZYDIS_ISA_EXT_XSAVE: case ZYDIS_ISA_EXT_XSAVEOPT:
	case ZYDIS_ISA_EXT_XSAVEC: case ZYDIS_ISA_EXT_XSAVES:
		break;
	case ZYDIS_ISA_EXT_SSE3: need = 1u << 0; break;
	case ZYDIS_ISA_EXT_SSSE3: need = 1u << 9; break;
	case ZYDIS_ISA_EXT_SSE4:
		need = zi->meta.isa_set == ZYDIS_ISA_SET_SSE42 ? 1u << 20 : 1u << 19;
		break;
	default:
		return false;
	}
	return zi->meta.isa_set != ZYDIS_ISA_SET_SSE4A && (host_ecx() & need) == need;
}

static bool is_gpr(ZydisRegister r)
{
	return r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_R15;
}

/* Handlers written in C (state save/restore, MXCSR, FWAIT). The XSAVE
 * family's sub: bit 0 REX.W, bits 2:1 standard (0), XSAVEC (1), XSAVES or
 * XRSTORS (2). */
static x86_fn special(ZydisMnemonic m, uint8_t *sub)
{
	*sub = 0;
	switch (m) {
	case ZYDIS_MNEMONIC_XSAVEC64: *sub = 3; return x86_h_xsave;
	case ZYDIS_MNEMONIC_XSAVEC: *sub = 2; return x86_h_xsave;
	case ZYDIS_MNEMONIC_XSAVES64: *sub = 5; return x86_h_xsave;
	case ZYDIS_MNEMONIC_XSAVES: *sub = 4; return x86_h_xsave;
	case ZYDIS_MNEMONIC_XRSTORS64: *sub = 5; return x86_h_xrstor;
	case ZYDIS_MNEMONIC_XRSTORS: *sub = 4; return x86_h_xrstor;
	case ZYDIS_MNEMONIC_FWAIT: return x86_h_fwait;
	case ZYDIS_MNEMONIC_LDMXCSR: return x86_h_ldmxcsr;
	case ZYDIS_MNEMONIC_STMXCSR: return x86_h_stmxcsr;
	case ZYDIS_MNEMONIC_FXSAVE64: *sub = 1; return x86_h_fxsave;
	case ZYDIS_MNEMONIC_FXSAVE: return x86_h_fxsave;
	case ZYDIS_MNEMONIC_FXRSTOR64: *sub = 1; return x86_h_fxrstor;
	case ZYDIS_MNEMONIC_FXRSTOR: return x86_h_fxrstor;
	case ZYDIS_MNEMONIC_XSAVE64: case ZYDIS_MNEMONIC_XSAVEOPT64: *sub = 1; return x86_h_xsave;
	case ZYDIS_MNEMONIC_XSAVE: case ZYDIS_MNEMONIC_XSAVEOPT: return x86_h_xsave;
	case ZYDIS_MNEMONIC_XRSTOR64: *sub = 1; return x86_h_xrstor;
	case ZYDIS_MNEMONIC_XRSTOR: return x86_h_xrstor;
	default: return NULL;
	}
}

static bool x87_nowait(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_FNINIT: case ZYDIS_MNEMONIC_FNCLEX: case ZYDIS_MNEMONIC_FNSTCW:
	case ZYDIS_MNEMONIC_FNSTSW: case ZYDIS_MNEMONIC_FNSTENV: case ZYDIS_MNEMONIC_FNSAVE:
	case ZYDIS_MNEMONIC_FDISI8087_NOP: case ZYDIS_MNEMONIC_FENI8087_NOP:
	case ZYDIS_MNEMONIC_FSETPM287_NOP:
		return true;
	default:
		return false;
	}
}

/* x87 control instructions leave FIP/FDP/FOP alone. */
static bool x87_control(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_FLDCW: case ZYDIS_MNEMONIC_FLDENV: case ZYDIS_MNEMONIC_FRSTOR:
		return true;
	default:
		return x87_nowait(m);
	}
}

static bool x87_env(ZydisMnemonic m)
{
	return m == ZYDIS_MNEMONIC_FNSTENV || m == ZYDIS_MNEMONIC_FLDENV ||
	       m == ZYDIS_MNEMONIC_FNSAVE || m == ZYDIS_MNEMONIC_FRSTOR;
}

static bool unaligned_ok(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_MOVUPS: case ZYDIS_MNEMONIC_MOVUPD: case ZYDIS_MNEMONIC_MOVDQU:
	case ZYDIS_MNEMONIC_LDDQU: case ZYDIS_MNEMONIC_PCMPESTRI: case ZYDIS_MNEMONIC_PCMPESTRM:
	case ZYDIS_MNEMONIC_PCMPISTRI: case ZYDIS_MNEMONIC_PCMPISTRM:
	case ZYDIS_MNEMONIC_MASKMOVDQU:
		return true;
	default:
		return false;
	}
}

/* VEX forms that need their operand aligned to its size (#GP); the other
 * VEX instructions take any alignment. */
static bool vex_aligned(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_VMOVAPS: case ZYDIS_MNEMONIC_VMOVAPD: case ZYDIS_MNEMONIC_VMOVDQA:
	case ZYDIS_MNEMONIC_VMOVNTPS: case ZYDIS_MNEMONIC_VMOVNTPD: case ZYDIS_MNEMONIC_VMOVNTDQ:
	case ZYDIS_MNEMONIC_VMOVNTDQA:
		return true;
	default:
		return false;
	}
}

/* Outside 64-bit mode VEX.W does not widen a GPR operand: these take a
 * 32-bit one whatever W says, so the host stub (64-bit) gets W = 0. */
static bool w_sizes_gpr(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_VMOVD: case ZYDIS_MNEMONIC_VPEXTRD: case ZYDIS_MNEMONIC_VPINSRD:
	case ZYDIS_MNEMONIC_VCVTSI2SS: case ZYDIS_MNEMONIC_VCVTSI2SD:
	case ZYDIS_MNEMONIC_VCVTSS2SI: case ZYDIS_MNEMONIC_VCVTSD2SI:
	case ZYDIS_MNEMONIC_VCVTTSS2SI: case ZYDIS_MNEMONIC_VCVTTSD2SI:
		return true;
	default:
		return false;
	}
}

static bool legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3: case 0x2e: case 0x36:
	case 0x3e: case 0x26: case 0x64: case 0x65:
		return true;
	default:
		return false;
	}
}

/* The host encoding of the instruction; returns its length. */
static unsigned rewrite(const ZydisDecodedInstruction *zi, const uint8_t *code, bool long64,
			bool has_mem, bool reg_gpr, bool rm_gpr, int force66, uint8_t *out)
{
	unsigned n = 0, p = 0;
	bool has_rex = zi->attributes & ZYDIS_ATTRIB_HAS_REX;
	unsigned rex_at = has_rex ? zi->raw.rex.offset : 0xff;
	/* Prefix area: legacy prefixes, possibly ignored REX bytes. */
	while (p < zi->length && (legacy_prefix(code[p]) || (long64 && (code[p] & 0xf0) == 0x40))) {
		uint8_t b = code[p];
		if (p == rex_at) {
			if (has_mem)
				b &= ~0x03;           /* X, B */
			if (rm_gpr)
				b &= ~0x01;
			if (reg_gpr)
				b &= ~0x04;           /* R */
			if (force66 == 1 && !(n && out[n - 1] == 0x66))
				out[n++] = 0x66;      /* before REX, which must be last */
			out[n++] = b;
		} else if (b == 0x66) {
			if (force66 < 0)
				out[n++] = b;
		} else if (b == 0xf2 || b == 0xf3) {
			out[n++] = b;
		}
		p++;
		if (p - 1 == rex_at)
			break;
	}
	if (force66 == 1 && !has_rex)
		out[n++] = 0x66;
	if (!(zi->attributes & ZYDIS_ATTRIB_HAS_MODRM)) {
		memcpy(out + n, code + p, zi->length - p);
		return n + zi->length - p;
	}
	unsigned m = zi->raw.modrm.offset;
	memcpy(out + n, code + p, m - p);
	n += m - p;
	uint8_t modrm = code[m];
	uint8_t reg = (modrm >> 3) & 7;
	if (reg_gpr)
		reg = 0;                              /* rax */
	if (has_mem)
		modrm = (uint8_t)(reg << 3 | 6);      /* [rsi] */
	else if (rm_gpr)
		modrm = (uint8_t)(0xc0 | reg << 3 | 2);   /* rdx */
	else
		modrm = (uint8_t)((modrm & 0xc7) | reg << 3);
	out[n++] = modrm;
	/* SIB and displacement go; immediates stay. */
	unsigned tail = zi->length;
	for (int k = 1; k >= 0; k--)
		if (zi->raw.imm[k].size)
			tail = zi->raw.imm[k].offset;
	memcpy(out + n, code + tail, zi->length - tail);
	return n + zi->length - tail;
}

/* The same for a VEX instruction: only segment and address-size prefixes
 * can precede VEX, and they go. The VEX fields R, X, B (stored inverted)
 * drop as REX's do; outside 64-bit mode B, vvvv[3] and the register in
 * an is4 immediate's bit 7 are ignored by the CPU, so they are cleared
 * for the host. */
static unsigned rewrite_vex(const ZydisDecodedInstruction *zi, const uint8_t *code, bool long64,
			    bool has_mem, bool reg_gpr, bool rm_gpr, bool clear_w, bool is4,
			    uint8_t *out)
{
	unsigned p = zi->raw.vex.offset, n = 0;
	out[n++] = code[p];
	if (code[p] == 0xc5) {
		uint8_t b1 = code[p + 1];
		if (reg_gpr)
			b1 |= 0x80;
		if (!long64)
			b1 |= 0x40;
		out[n++] = b1;
		p += 2;
	} else {
		uint8_t b1 = code[p + 1], b2 = code[p + 2];
		if (has_mem)
			b1 |= 0x60;
		if (rm_gpr || !long64)
			b1 |= 0x20;
		if (reg_gpr)
			b1 |= 0x80;
		if (!long64)
			b2 |= 0x40;
		if (clear_w)
			b2 &= 0x7f;
		out[n++] = b1;
		out[n++] = b2;
		p += 3;
	}
	if (!(zi->attributes & ZYDIS_ATTRIB_HAS_MODRM)) {   /* VZEROUPPER, VZEROALL */
		memcpy(out + n, code + p, zi->length - p);
		return n + zi->length - p;
	}
	unsigned m = zi->raw.modrm.offset;
	memcpy(out + n, code + p, m - p);
	n += m - p;
	uint8_t modrm = code[m];
	uint8_t reg = (modrm >> 3) & 7;
	if (reg_gpr)
		reg = 0;
	if (has_mem)
		modrm = (uint8_t)(reg << 3 | 6);
	else if (rm_gpr)
		modrm = (uint8_t)(0xc0 | reg << 3 | 2);
	else
		modrm = (uint8_t)((modrm & 0xc7) | reg << 3);
	out[n++] = modrm;
	unsigned tail = zi->length;
	for (int k = 1; k >= 0; k--)
		if (zi->raw.imm[k].size)
			tail = zi->raw.imm[k].offset;
	memcpy(out + n, code + tail, zi->length - tail);
	n += zi->length - tail;
	if (is4 && !long64)
		out[n - 1] &= 0x7f;
	return n;
}

static void *arena_alloc(unsigned size)
{
	if (arena_left < size) {
		if (arena_total >= STUB_LIMIT)
			return NULL;
		void *p = mmap(NULL, STUB_CHUNK, PROT_READ | PROT_WRITE | PROT_EXEC,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		arena = p;
		arena_left = STUB_CHUNK;
		arena_total += STUB_CHUNK;
	}
	void *r = arena;
	arena += size;
	arena_left -= size;
	return r;
}

/* The shared info for these stub bytes, made on first use. */
static const struct x86_fpinfo *intern(const uint8_t *bytes, unsigned len,
				       const struct x86_fpinfo *proto)
{
	unsigned h = 2166136261u;
	for (unsigned k = 0; k < len; k++)
		h = (h ^ bytes[k]) * 16777619u;
	h &= STUB_HASH - 1;
	const struct x86_fpinfo *r = NULL;
	pthread_mutex_lock(&stub_lock);
	for (struct stub_ent *e = stub_hash[h]; e; e = e->next)
		if (e->len == len && !memcmp(e->bytes, bytes, len)) {
			r = &e->info;
			goto out;
		}
	struct stub_ent *e = malloc(sizeof(*e));
	uint8_t *code = arena_alloc(len + 5);
	if (!e || !code) {
		free(e);
		goto out;
	}
	static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
	memcpy(code, endbr64, 4);
	memcpy(code + 4, bytes, len);
	code[4 + len] = 0xc3;
	e->len = len;
	memcpy(e->bytes, bytes, len);
	e->info = *proto;
	e->info.stub = (void (*)(void))(void *)code;
	e->next = stub_hash[h];
	stub_hash[h] = e;
	r = &e->info;
out:
	pthread_mutex_unlock(&stub_lock);
	return r;
}

/* XMMn/YMMn (n < 16) as n and its size; 16 for anything else. */
static unsigned vreg(ZydisRegister r, unsigned *bytes)
{
	if (r >= ZYDIS_REGISTER_XMM0 && r <= ZYDIS_REGISTER_XMM15) {
		*bytes = 16;
		return r - ZYDIS_REGISTER_XMM0;
	}
	if (r >= ZYDIS_REGISTER_YMM0 && r <= ZYDIS_REGISTER_YMM15) {
		*bytes = 32;
		return r - ZYDIS_REGISTER_YMM0;
	}
	return 16;
}

/* AVX2 gathers: dest (ModRM.reg), VSIB memory, mask (VEX.vvvv). They
 * run in C element by element, so a fault leaves the elements gathered
 * so far done, as the CPU does. */
static bool decode_gather(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *zo,
			  struct x86_insn *out)
{
	if (zi->operand_count < 3 || zo[1].type != ZYDIS_OPERAND_TYPE_MEMORY)
		return false;
	unsigned db = 0, mb = 0, ib = 0;
	unsigned dst = vreg(zo[0].reg.value, &db), mask = vreg(zo[2].reg.value, &mb);
	unsigned idx = vreg(zo[1].mem.index, &ib);
	if (dst > 15 || mask > 15 || idx > 15)
		return false;
	ZydisDecodedOperand m = zo[1];
	m.mem.type = ZYDIS_MEMOP_TYPE_MEM;   /* base + displacement only */
	m.mem.index = ZYDIS_REGISTER_NONE;
	m.mem.scale = 0;
	struct x86_op ops[3];
	memset(ops, 0, sizeof(ops));
	for (int k = 0; k < 3; k++)
		ops[k].reg = ops[k].index = X86_NOREG;
	if (!x86_conv_op(&m, &ops[0]))
		return false;
	memcpy(out->op, ops, sizeof(ops));
	out->nops = 1;
	out->sub = 0;
	if (dst == mask || dst == idx || mask == idx) {
		out->fn = x86_h_ud;   /* the SDM's #UD for a shared register */
		return true;
	}
	bool qidx = zi->mnemonic == ZYDIS_MNEMONIC_VGATHERQPS ||
		    zi->mnemonic == ZYDIS_MNEMONIC_VGATHERQPD ||
		    zi->mnemonic == ZYDIS_MNEMONIC_VPGATHERQD || zi->mnemonic == ZYDIS_MNEMONIC_VPGATHERQQ;
	struct x86_fpinfo info = { .hid_reg = X86_NOREG, .flags = FPF_VEX | FPF_YMM | FPF_GATHER };
	info.g.dst = (uint8_t)dst;
	info.g.mask = (uint8_t)mask;
	info.g.index = (uint8_t)idx;
	info.g.scale = zo[1].mem.scale ? zo[1].mem.scale : 1;
	info.g.esize = (uint8_t)(zo[1].size / 8);
	info.g.isize = qidx ? 8 : 4;
	if (info.g.esize != 4 && info.g.esize != 8)
		return false;
	unsigned n1 = db / info.g.esize, n2 = ib / info.g.isize;
	info.g.n = (uint8_t)(n1 < n2 ? n1 : n2);
	info.g.dbytes = (uint8_t)db;
	info.g.abits = (uint8_t)zi->address_width;
	/* Interned like a stub, under bytes no instruction starts with. */
	uint8_t key[12] = { 0x0f, 0xff, 0xff, info.g.dst, info.g.mask, info.g.index, info.g.scale,
			    info.g.esize, info.g.isize, info.g.n, info.g.dbytes, info.g.abits };
	const struct x86_fpinfo *fi = intern(key, sizeof(key), &info);
	if (!fi)
		return false;
	out->fn = x86_h_fp;
	out->fp = fi;
	return true;
}

bool x86_decode_fp(const struct x86_cpu *cpu, const uint8_t *code,
		   const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *zo,
		   struct x86_insn *out)
{
	if (!offered(zi))
		return false;
	if (zi->meta.isa_ext == ZYDIS_ISA_EXT_AVX2GATHER)
		return decode_gather(zi, zo, out);
	struct x86_fpinfo info = { .hid_reg = X86_NOREG };
	struct x86_op ops[3];
	memset(ops, 0, sizeof(ops));
	for (int k = 0; k < 3; k++)
		ops[k].reg = ops[k].index = X86_NOREG;
	bool has_mem = false, reg_gpr = false, rm_gpr = false;
	unsigned msize = 0;
	uint16_t fl = 0;
	bool vex = zi->encoding == ZYDIS_INSTRUCTION_ENCODING_VEX, is4 = false;
	if (vex)
		fl |= FPF_VEX;
	if (zi->mnemonic == ZYDIS_MNEMONIC_VZEROUPPER || zi->mnemonic == ZYDIS_MNEMONIC_VZEROALL)
		fl |= FPF_YMM;
	for (unsigned k = 0; k < zi->operand_count; k++) {
		const ZydisDecodedOperand *z = &zo[k];
		bool w = z->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE;
		bool r = z->actions & ZYDIS_OPERAND_ACTION_MASK_READ;
		if (z->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			if (has_mem || !x86_conv_op(z, &ops[0]))
				return false;
			has_mem = true;
			msize = z->size / 8;
			/* MASKMOV: the bytes not written stay. */
			if (r || z->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN ||
			    (z->actions & ZYDIS_OPERAND_ACTION_CONDWRITE) ||
			    zi->mnemonic == ZYDIS_MNEMONIC_VMASKMOVPS ||
			    zi->mnemonic == ZYDIS_MNEMONIC_VMASKMOVPD ||
			    zi->mnemonic == ZYDIS_MNEMONIC_VPMASKMOVD ||
			    zi->mnemonic == ZYDIS_MNEMONIC_VPMASKMOVQ)
				fl |= FPF_MR;
			if (w)
				fl |= FPF_MW;
			continue;
		}
		if (z->type != ZYDIS_OPERAND_TYPE_REGISTER)
			continue;
		ZydisRegister reg = z->reg.value;
		if (z->encoding == ZYDIS_OPERAND_ENCODING_IS4)
			is4 = true;
		if (reg >= ZYDIS_REGISTER_YMM0 && reg <= ZYDIS_REGISTER_YMM15)
			fl |= FPF_SSE | FPF_YMM;
		else if (reg >= ZYDIS_REGISTER_ST0 && reg <= ZYDIS_REGISTER_X87TAG)
			fl |= FPF_X87;
		else if (reg >= ZYDIS_REGISTER_MM0 && reg <= ZYDIS_REGISTER_MM7)
			fl |= FPF_MMX;
		else if ((reg >= ZYDIS_REGISTER_XMM0 && reg <= ZYDIS_REGISTER_XMM15) ||
			 reg == ZYDIS_REGISTER_MXCSR)
			fl |= FPF_SSE;
		else if ((reg >= ZYDIS_REGISTER_XMM16 && reg <= ZYDIS_REGISTER_ZMM31))
			return false;
		else if (is_gpr(reg)) {
			if (z->encoding == ZYDIS_OPERAND_ENCODING_MODRM_REG) {
				if (!x86_conv_op(z, &ops[1]))
					return false;
				reg_gpr = true;
				if (w)
					info.gpr_w |= 1;
			} else if (z->encoding == ZYDIS_OPERAND_ENCODING_MODRM_RM) {
				if (!x86_conv_op(z, &ops[2]))
					return false;
				rm_gpr = true;
				if (w)
					info.gpr_w |= 2;
			} else if (w) {
				struct x86_op t;
				if (!x86_conv_op(z, &t) || t.kind != OPK_REG || t.reg > X86_RDX ||
				    t.reg == X86_RBX)
					return false;
				info.hid_reg = t.reg;
				info.hid_size = t.size;
			}
		}
	}
	if (zi->meta.isa_ext == ZYDIS_ISA_EXT_X87 || zi->meta.isa_set == ZYDIS_ISA_SET_SSE3X87)
		fl |= FPF_X87;
	if (zi->meta.isa_ext == ZYDIS_ISA_EXT_MMX)
		fl |= FPF_MMX;     /* EMMS has no operand to tell */
	/* x87 and MMX instructions report pending x87 exceptions first. */
	if ((fl & FPF_MMX) || ((fl & FPF_X87) && !x87_nowait(zi->mnemonic)))
		fl |= FPF_WAIT;
	if ((fl & FPF_X87) && !x87_control(zi->mnemonic))
		fl |= FPF_LASTIP;
	if (vex ? has_mem && vex_aligned(zi->mnemonic)
		: has_mem && msize == 16 && (fl & FPF_SSE) && !unaligned_ok(zi->mnemonic))
		fl |= FPF_ALIGN;

	uint8_t sub;
	x86_fn fn = special(zi->mnemonic, &sub);
	memcpy(out->op, ops, sizeof(ops));
	out->nops = has_mem ? 1 : 0;
	if (fn) {
		out->fn = fn;
		out->sub = sub;
		return true;
	}
	if (msize > 128)
		return false;
	info.flags = fl;
	info.msize = msize;
	info.rflags_out = zi->cpu_flags ? (zi->cpu_flags->modified | zi->cpu_flags->set_0 |
					   zi->cpu_flags->set_1 | zi->cpu_flags->undefined) &
					   X86_STATUS_FLAGS : 0;
	/* Zydis omits the flags VTESTPS/VPTEST clear; the stub runs on the
	 * guest's flags, so taking them all back is exact either way. */
	if (vex && info.rflags_out)
		info.rflags_out = X86_STATUS_FLAGS;
	int force66 = -1;
	if (x87_env(zi->mnemonic))
		force66 = (msize == 14 || msize == 94) ? 1 : 0;
	uint8_t bytes[32];
	bool long64 = cpu->mode == X86_MODE_LONG64;
	unsigned len = vex ? rewrite_vex(zi, code, long64, has_mem, reg_gpr, rm_gpr,
					 !long64 && w_sizes_gpr(zi->mnemonic), is4, bytes)
			   : rewrite(zi, code, long64, has_mem, reg_gpr, rm_gpr, force66, bytes);
	if (len == 0 || len > 15)
		return false;
	const struct x86_fpinfo *fi = intern(bytes, len, &info);
	if (!fi)
		return false;
	out->fn = x86_h_fp;
	out->fp = fi;
	if (fl & FPF_X87) {
		unsigned op0 = zi->attributes & ZYDIS_ATTRIB_HAS_MODRM ? zi->raw.modrm.offset - 1
								     : zi->length - 1;
		uint8_t modrm = zi->attributes & ZYDIS_ATTRIB_HAS_MODRM ? code[zi->raw.modrm.offset] : 0;
		out->fop = (uint16_t)((code[op0] & 7) << 8 | modrm);
	}
	return true;
}
