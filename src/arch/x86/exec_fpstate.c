/* FPU state as a whole: LDMXCSR/STMXCSR, FXSAVE/FXRSTOR, XSAVE/XSAVEOPT/
 * XRSTOR (standard form; XCR0 may enable x87 and SSE only).
 *
 * cpu->fxsave is kept in the 64-bit FXSAVE layout; the forms without
 * REX.W store FIP/FDP as 32-bit offsets with a selector beside them.
 * XINUSE is taken as "everything in use", which XSAVE allows.
 */
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

static uint64_t xsave_check(struct x86_cpu *cpu)
{
	if (!(cpu->cr4 & X86_CR4_OSXSAVE))
		x86_raise(cpu, X86_UD, false, 0);
	if (cpu->cr0 & X86_CR0_TS)
		x86_raise(cpu, X86_NM, false, 0);
	uint64_t mask = (uint32_t)cpu->gpr[X86_RAX] | (cpu->gpr[X86_RDX] << 32);
	return mask & cpu->xcr0;
}

int x86_h_xsave(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t rfbm = xsave_check(cpu);
	uint64_t lin = state_addr(cpu, i, XSAVE_SIZE, 64, X86_ACC_WRITE);
	uint8_t area[XSAVE_SIZE], mine[416];
	x86_read_lin_buf(cpu, lin, area, sizeof(area));
	legacy_out(cpu, mine, i->sub);
	if (rfbm & 1) {
		memcpy(area, mine, 24);
		memcpy(area + FX_ST, mine + FX_ST, 128);
	}
	if (rfbm & 2) {
		memcpy(area + FX_MXCSR, mine + FX_MXCSR, 8);
		memcpy(area + FX_XMM, mine + FX_XMM, 256);
	}
	uint64_t bv = get64(area + XSAVE_HDR);
	put64(area + XSAVE_HDR, (bv & ~rfbm) | rfbm);
	x86_write_lin_buf(cpu, lin, area, sizeof(area));
	return X86_NEXT;
}

int x86_h_xrstor(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint64_t rfbm = xsave_check(cpu);
	uint64_t lin = state_addr(cpu, i, XSAVE_SIZE, 64, X86_ACC_READ);
	uint8_t area[XSAVE_SIZE];
	x86_read_lin_buf(cpu, lin, area, sizeof(area));
	uint64_t bv = get64(area + XSAVE_HDR);
	uint32_t mx = get32(area + FX_MXCSR);
	/* Standard form only: XCOMP_BV and the next 8 bytes are zero. */
	if ((bv & ~cpu->xcr0) || get64(area + XSAVE_HDR + 8) || get64(area + XSAVE_HDR + 16))
		x86_raise(cpu, X86_GP, true, 0);
	if ((rfbm & 2) && (mx & ~X86_MXCSR_MASK))
		x86_raise(cpu, X86_GP, true, 0);
	if (rfbm & 1) {
		if (bv & 1)
			x87_in(cpu, area, i->sub);
		else
			x87_init(cpu);
	}
	if (rfbm & 2) {
		memcpy(cpu->fxsave + FX_MXCSR, &mx, 4);
		if (bv & 2)
			memcpy(cpu->fxsave + FX_XMM, area + FX_XMM, 256);
		else
			memset(cpu->fxsave + FX_XMM, 0, 256);
	}
	return X86_NEXT;
}

bool x86_set_xcr(struct x86_cpu *cpu, uint32_t index, uint64_t v)
{
	if (index != 0 || !(v & 1) || ((v & 4) && !(v & 2)))
		return false;
	if (v & ~(x86_guest_supported_xcr0(cpu) | 1))
		return false;
	cpu->xcr0 = v;
	return true;
}
