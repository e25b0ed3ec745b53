/* FPU state as a whole: LDMXCSR/STMXCSR, FXSAVE/FXRSTOR, the XSAVE family
 * (XSAVE, XSAVEOPT, XSAVEC, XSAVES, XRSTOR in both forms, XRSTORS) and
 * XSETBV's checks (SDM vol. 1 ch. 13).
 *
 * cpu->fxsave is kept in the 64-bit FXSAVE layout; the forms without
 * REX.W store FIP/FDP as 32-bit offsets with a selector beside them.
 */
#include <errno.h>
#include <string.h>

#include "arch/x86/fp.h"

enum { XSAVE_HDR = 512, XSAVE_SIZE = 576 };

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Linear address of the memory operand, checked for size and alignment. */
static uint64_t state_addr(struct x86_cpu *cpu, const struct x86_insn *i, unsigned size,
			   unsigned align, enum x86_access acc)
{
	uint64_t lin = x86_linear(cpu, i->op[0].seg, x86_ea(cpu, i, &i->op[0]), size, acc);
	if (lin & (align - 1))
		x86_raise(cpu, X86_GP, true, 0);
	return lin;
}

int x86_h_ldmxcsr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x86_fp_check(cpu, FPF_SSE);
	uint64_t lin = state_addr(cpu, i, 4, 1, X86_ACC_READ);
	uint32_t v;
	x86_read_lin_buf(cpu, lin, &v, 4);
	if (v & ~X86_MXCSR_MASK)
		x86_raise(cpu, X86_GP, true, 0);
	memcpy(cpu->fxsave + FX_MXCSR, &v, 4);
	return X86_NEXT;
}

int x86_h_stmxcsr(struct x86_cpu *cpu, const struct x86_insn *i)
{
	x86_fp_check(cpu, FPF_SSE);
	uint64_t lin = state_addr(cpu, i, 4, 1, X86_ACC_WRITE);
	x86_write_lin_buf(cpu, lin, cpu->fxsave + FX_MXCSR, 4);
	return X86_NEXT;
}

/* Legacy region bytes 0..159 (x87) and 160..415 (XMM) of the image into
 * out, in the 64-bit or the 32-bit (selector) form. */
static void legacy_out(const struct x86_cpu *cpu, uint8_t *out, bool rex_w)
{
	memcpy(out, cpu->fxsave, 416);
	uint32_t mask = X86_MXCSR_MASK;
	memcpy(out + FX_MXCSR_MASK, &mask, 4);
	if (!rex_w) {
		uint32_t fip = (uint32_t)get64(cpu->fxsave + FX_FIP);
		uint32_t fdp = (uint32_t)get64(cpu->fxsave + FX_FDP);
		uint32_t fcs = cpu->seg[X86_CS].sel, fds = cpu->seg[X86_DS].sel;
		memcpy(out + FX_FIP, &fip, 4);
		memcpy(out + FX_FIP + 4, &fcs, 4);
		memcpy(out + FX_FDP, &fdp, 4);
		memcpy(out + FX_FDP + 4, &fds, 4);
	}
}

static void x87_in(struct x86_cpu *cpu, const uint8_t *in, bool rex_w)
{
	memcpy(cpu->fxsave, in, 24);
	memcpy(cpu->fxsave + FX_ST, in + FX_ST, 128);
	if (!rex_w) {
		put64(cpu->fxsave + FX_FIP, get32(in + FX_FIP));
		put64(cpu->fxsave + FX_FDP, get32(in + FX_FDP));
	}
}

static void x87_init(struct x86_cpu *cpu)
{
	memset(cpu->fxsave, 0, 24);
	memset(cpu->fxsave + FX_ST, 0, 128);
	cpu->fxsave[FX_FCW] = 0x7f;
	cpu->fxsave[FX_FCW + 1] = 0x03;
}

int x86_h_fxsave(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (cpu->cr0 & (X86_CR0_TS | X86_CR0_EM))
		x86_raise(cpu, X86_NM, false, 0);
	uint64_t lin = state_addr(cpu, i, 512, 16, X86_ACC_WRITE);
	uint8_t out[416];
	legacy_out(cpu, out, i->sub);
	/* Bytes 416..511 are left as they were. */
	x86_write_lin_buf(cpu, lin, out, sizeof(out));
	return X86_NEXT;
}

int x86_h_fxrstor(struct x86_cpu *cpu, const struct x86_insn *i)
{
	if (cpu->cr0 & (X86_CR0_TS | X86_CR0_EM))
		x86_raise(cpu, X86_NM, false, 0);
	uint64_t lin = state_addr(cpu, i, 512, 16, X86_ACC_READ);
	uint8_t in[416];
	x86_read_lin_buf(cpu, lin, in, sizeof(in));
	uint32_t mx = get32(in + FX_MXCSR);
	if (mx & ~X86_MXCSR_MASK)
		x86_raise(cpu, X86_GP, true, 0);
	x87_in(cpu, in, i->sub);
	memcpy(cpu->fxsave + FX_MXCSR, &mx, 4);
	memcpy(cpu->fxsave + FX_XMM, in + FX_XMM, 256);
	return X86_NEXT;
}

/* sub of the XSAVE family: bit 0 REX.W, bits 2:1 the kind. */
enum { XK_STD = 0, XK_C = 1, XK_S = 2 };
enum { XS_AVX = 576, XS_MAX = 576 + 256, BV_COMPACT = 63 };

/* XINUSE: x87 and SSE are taken as always in use (the SDM allows it); AVX
 * as ymm_inuse, which is false only when YMM_H is all zero. */
uint64_t x86_xinuse(const struct x86_cpu *cpu)
{
	return 3 | (cpu->ymm_inuse ? 4 : 0);
}

/* Faults before the memory operand: #UD (no XSAVES in CPUID, OSXSAVE
 * clear), #NM (TS), #GP (XSAVES/XRSTORS at CPL > 0). Returns RFBM. */
static uint64_t xsave_check(struct x86_cpu *cpu, unsigned kind)
{
	if (kind == XK_S && !x86_guest_has_xsaves(cpu))
		x86_raise(cpu, X86_UD, false, 0);
	if (!(cpu->cr4 & X86_CR4_OSXSAVE))
		x86_raise(cpu, X86_UD, false, 0);
	if (cpu->cr0 & X86_CR0_TS)
		x86_raise(cpu, X86_NM, false, 0);
	if (kind == XK_S && cpu->cpl != 0)
		x86_raise(cpu, X86_GP, true, 0);
	uint64_t mask = (uint32_t)cpu->gpr[X86_RAX] | (cpu->gpr[X86_RDX] << 32);
	return mask & (cpu->xcr0 | (kind == XK_S ? cpu->xss : 0));
}

/* XMM8-15 and YMM8_H-15_H exist only in 64-bit mode: outside it the
 * save instructions leave their bytes alone and the restores their
 * registers. */
static unsigned vec_bytes(const struct x86_cpu *cpu)
{
	return cpu->mode == X86_MODE_LONG64 ? 256 : 128;
}

void x86_ymm_recount(struct x86_cpu *cpu)
{
	uint8_t any = 0;
	for (unsigned k = 0; k < sizeof(cpu->ymmh); k++)
		any |= cpu->ymmh[k];
	cpu->ymm_inuse = any != 0;
}

void x86_ymm_commit(struct x86_cpu *cpu, const uint8_t *ymmh, unsigned n)
{
	memcpy(cpu->ymmh, ymmh, n);
	x86_ymm_recount(cpu);
}

/* XSAVE/XSAVEOPT (standard form; XSAVEOPT without its optimisations),
 * XSAVEC and XSAVES (compacted form, init optimisation). */
int x86_h_xsave(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned kind = i->sub >> 1;
	uint64_t rfbm = xsave_check(cpu, kind);
	bool compact = kind != XK_STD;
	unsigned size = x86_xstate_size(rfbm, compact);
	uint64_t lin = state_addr(cpu, i, size, 64, X86_ACC_WRITE);
	uint8_t area[XS_MAX], mine[416];
	x86_read_lin_buf(cpu, lin, area, size);
	legacy_out(cpu, mine, i->sub & 1);
	/* XSAVEC/XSAVES skip components not in use; their XSTATE_BV is
	 * written whole. */
	uint64_t save = compact ? rfbm & x86_xinuse(cpu) : rfbm;
	unsigned vb = vec_bytes(cpu);
	if (save & 1) {
		memcpy(area, mine, 24);
		memcpy(area + FX_ST, mine + FX_ST, 128);
	}
	/* MXCSR goes with SSE, and in the standard form with AVX as well;
	 * XSAVEC/XSAVES store it even when SSE is not in use. */
	if (rfbm & (compact ? 2 : 6))
		memcpy(area + FX_MXCSR, mine + FX_MXCSR, 8);
	if (save & 2)
		memcpy(area + FX_XMM, mine + FX_XMM, vb);
	if (save & 4)
		memcpy(area + XS_AVX, cpu->ymmh, vb);
	if (compact) {
		put64(area + XSAVE_HDR, rfbm & x86_xinuse(cpu));
		put64(area + XSAVE_HDR + 8, rfbm | 1ull << BV_COMPACT);
	} else {
		uint64_t bv = get64(area + XSAVE_HDR);
		put64(area + XSAVE_HDR, (bv & ~rfbm) | (rfbm & x86_xinuse(cpu)));
	}
	x86_write_lin_buf(cpu, lin, area, size);
	return X86_NEXT;
}

/* The header checks of XRSTOR/XRSTORS (SDM 13.8, 13.12); false: #GP. */
static bool header_ok(const struct x86_cpu *cpu, const uint8_t *hdr, unsigned kind)
{
	uint64_t bv = get64(hdr), comp = get64(hdr + 8);
	bool compact = comp >> BV_COMPACT;
	if (kind == XK_S && !compact)
		return false;
	if (!compact)
		return !(bv & ~cpu->xcr0) && !comp && !get64(hdr + 16);
	uint64_t layout = comp & ~(1ull << BV_COMPACT);
	if (layout & ~(cpu->xcr0 | (kind == XK_S ? cpu->xss : 0)))
		return false;
	if (bv & ~layout)
		return false;
	for (unsigned k = 16; k < 64; k++)
		if (hdr[k])
			return false;
	return true;
}

/* XRSTOR (standard or compacted form, as XCOMP_BV[63] says) and XRSTORS. */
int x86_h_xrstor(struct x86_cpu *cpu, const struct x86_insn *i)
{
	unsigned kind = i->sub >> 1;
	uint64_t rfbm = xsave_check(cpu, kind);
	uint64_t ea = x86_ea(cpu, i, &i->op[0]);
	uint64_t lin = state_addr(cpu, i, XSAVE_SIZE, 64, X86_ACC_READ);
	uint8_t area[XS_MAX];
	x86_read_lin_buf(cpu, lin, area, XSAVE_SIZE);
	if (!header_ok(cpu, area + XSAVE_HDR, kind))
		x86_raise(cpu, X86_GP, true, 0);
	uint64_t bv = get64(area + XSAVE_HDR);
	bool compact = get64(area + XSAVE_HDR + 8) >> BV_COMPACT;
	uint64_t load = rfbm & bv;
	if (load & 4) {
		/* AVX sits at 576 in both forms: it is the first extended
		 * component, and XCOMP_BV has it whenever XSTATE_BV does. */
		x86_linear(cpu, i->op[0].seg, ea, XS_MAX, X86_ACC_READ);
		x86_read_lin_buf(cpu, lin + XS_AVX, area + XS_AVX, 256);
	}
	/* MXCSR: the standard form loads it with SSE or AVX requested; the
	 * compacted form with SSE, from the area only when XSTATE_BV[1]. */
	uint32_t mx = get32(cpu->fxsave + FX_MXCSR);
	if (compact ? (rfbm & 2) : (rfbm & 6))
		mx = (!compact || (bv & 2)) ? get32(area + FX_MXCSR) : 0x1f80;
	if (mx & ~X86_MXCSR_MASK)
		x86_raise(cpu, X86_GP, true, 0);
	unsigned vb = vec_bytes(cpu);
	if (rfbm & 1) {
		if (bv & 1)
			x87_in(cpu, area, i->sub & 1);
		else
			x87_init(cpu);
	}
	memcpy(cpu->fxsave + FX_MXCSR, &mx, 4);
	if (rfbm & 2) {
		if (bv & 2)
			memcpy(cpu->fxsave + FX_XMM, area + FX_XMM, vb);
		else
			memset(cpu->fxsave + FX_XMM, 0, vb);
	}
	if (rfbm & 4) {
		if (bv & 4)
			memcpy(cpu->ymmh, area + XS_AVX, vb);
		else
			memset(cpu->ymmh, 0, vb);
		x86_ymm_recount(cpu);
	}
	return X86_NEXT;
}

/* KVM_GET_XSAVE(2): the standard format; XSTATE_BV has x87 and SSE, and
 * AVX while in use; the software bytes a host with softkvm's XCR0 writes. */
void x86_xsave_uabi_get(const struct x86_cpu *cpu, uint8_t *r)
{
	uint64_t xf = x86_supported_xcr0();
	uint32_t size = x86_xstate_size(xf, false);
	memset(r, 0, sizeof(struct kvm_xsave));
	memcpy(r, cpu->fxsave, 416);
	uint32_t mxmask = X86_MXCSR_MASK;
	memcpy(r + FX_MXCSR_MASK, &mxmask, 4);
	uint32_t sw[2] = { 0x46505853, size + 4 };   /* FP_XSTATE_MAGIC1, extended size */
	memcpy(r + 464, sw, 8);
	put64(r + 472, xf);
	memcpy(r + 480, &size, 4);
	put64(r + XSAVE_HDR, x86_xinuse(cpu) & xf);
	if (xf & 4)
		memcpy(r + XS_AVX, cpu->ymmh, 256);
}

/* KVM_SET_XSAVE: standard format with known features only; components
 * absent from XSTATE_BV return to their initial state. */
int x86_xsave_uabi_set(struct x86_cpu *cpu, const uint8_t *r)
{
	uint64_t bv = get64(r + XSAVE_HDR);
	uint32_t mx = get32(r + FX_MXCSR);
	if (bv & ~x86_supported_xcr0())
		return -EINVAL;
	for (unsigned k = 8; k < 64; k++)
		if (r[XSAVE_HDR + k])
			return -EINVAL;
	if ((bv & 6) && (mx & ~X86_MXCSR_MASK))
		return -EINVAL;
	if (bv & 1)
		x87_in(cpu, r, true);
	else
		x87_init(cpu);
	if (!(bv & 6))
		mx = 0x1f80;
	memcpy(cpu->fxsave + FX_MXCSR, &mx, 4);
	if (bv & 2)
		memcpy(cpu->fxsave + FX_XMM, r + FX_XMM, 256);
	else
		memset(cpu->fxsave + FX_XMM, 0, 256);
	if (bv & 4)
		memcpy(cpu->ymmh, r + XS_AVX, 256);
	else
		memset(cpu->ymmh, 0, 256);
	x86_ymm_recount(cpu);
	return 0;
}

bool x86_set_xcr(struct x86_cpu *cpu, uint32_t index, uint64_t v)
{
	if (index != 0 || !(v & 1) || ((v & 4) && !(v & 2)))
		return false;
	if (v & ~(x86_guest_supported_xcr0(cpu) | 1))
		return false;
	cpu->xcr0 = v;
	x86_cpuid_runtime(cpu, cpu->cpuid, cpu->ncpuid);
	return true;
}
