/* x87, MMX, SSE and AVX instructions: run on the host through their
 * stubs (AVX2 gathers in C, below).
 *
 * Order of effects: availability (#UD/#NM), pending x87 exception (#MF),
 * memory operand address and alignment (#GP/#SS/#PF), memory read; the
 * stub runs on a copy of the FPU image; an unmasked SIMD exception then
 * raises #XM (#UD without CR4.OSXMMEXCPT) with only the MXCSR flags
 * changed; else the memory write (which may fault or exit), and only then
 * the FPU image, GPRs and flags are committed. So a fault or an MMIO exit
 * leaves the instruction restartable.
 */
#include <string.h>

#include "arch/x86/fp.h"

/* An unmasked x87 exception waits for the next waiting instruction: FSW.ES,
 * or (a state loaded from outside) a flag whose mask is clear. The host
 * must never meet one, or it would take #MF itself. */
static bool x87_pending(const struct x86_cpu *cpu)
{
	uint8_t fsw = cpu->fxsave[FX_FSW], fcw = cpu->fxsave[FX_FCW];
	return (fsw & 0x80) || (fsw & ~fcw & 0x3f);
}

/* VEX: CR0.EM and CR4.OSFXSR do not matter (SDM vol. 2, 2.8); XCR0 must
 * enable SSE and AVX state. VEX is not recognised in real and virtual-8086
 * mode. */
static void vex_check(struct x86_cpu *cpu)
{
	if (!(cpu->cr4 & X86_CR4_OSXSAVE) || (cpu->xcr0 & 6) != 6 ||
	    cpu->mode == X86_MODE_REAL || cpu->mode == X86_MODE_VM86)
		x86_raise(cpu, X86_UD, false, 0);
	if (cpu->cr0 & X86_CR0_TS)
		x86_raise(cpu, X86_NM, false, 0);
}

void x86_fp_check(struct x86_cpu *cpu, unsigned flags)
{
	if (flags & FPF_VEX) {
		vex_check(cpu);
		return;
	}
	if (flags & (FPF_SSE | FPF_MMX)) {
		if (cpu->cr0 & X86_CR0_EM)
			x86_raise(cpu, X86_UD, false, 0);
		if ((flags & FPF_SSE) && !(cpu->cr4 & X86_CR4_OSFXSR))
			x86_raise(cpu, X86_UD, false, 0);
	}
	if ((flags & (FPF_X87 | FPF_SSE | FPF_MMX)) && (cpu->cr0 & X86_CR0_TS))
		x86_raise(cpu, X86_NM, false, 0);
	if ((flags & FPF_X87) && (cpu->cr0 & X86_CR0_EM))
		x86_raise(cpu, X86_NM, false, 0);
	if ((flags & FPF_WAIT) && x87_pending(cpu))
		x86_raise(cpu, X86_MF, false, 0);
}

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

_Noreturn static void simd_fault(struct x86_cpu *cpu)
{
	x86_raise(cpu, (cpu->cr4 & X86_CR4_OSXMMEXCPT) ? X86_XM : X86_UD, false, 0);
}

/* Status flags to and from the runners' AX image (LAHF/SAHF, OF apart). */
static inline uint64_t flags_in(uint64_t f)
{
	return ((f & 0xd5) << 8) | ((f & X86_OF) ? 0x7f : 0);
}

static inline uint64_t flags_out(uint64_t ax)
{
	return ((ax >> 8) & 0xd5) | ((ax & 0xff) ? X86_OF : 0);
}

/* Run the stub on copies of the state; the copies are committed by the
 * caller. *mx: the guest's MXCSR in, the flags this instruction raised
 * out. x87/MMX instructions get the whole FPU, AVX ones whole YMM
 * registers when upper halves matter (ymmh non-NULL), the rest only
 * XMM/MXCSR. */
static uint32_t run_stub(const struct x86_fpinfo *d, struct x86_fp_ctx *c, uint8_t *img,
			 uint32_t mx, uint8_t *ymmh)
{
	/* All masked, flags clear: the flags after are this instruction's. */
	uint32_t m = (mx | 0x1f80) & ~0x3fu;
	if (ymmh) {
		x86_avx_host_run(c, img + FX_XMM, &m, ymmh);
	} else if (d->flags & (FPF_X87 | FPF_MMX)) {
		put32(img + FX_MXCSR, m);
		x86_fp_host_run(c, img);
		m = get32(img + FX_MXCSR);
	} else {
		x86_sse_host_run(c, img + FX_XMM, &m);
	}
	return m & 0x3f;
}

/* Byte off (0..31) of YMM register r: the low half lives in the FXSAVE
 * image, the high half in ymmh. */
static uint8_t *ymm_byte(struct x86_cpu *cpu, unsigned r, unsigned off)
{
	return off < 16 ? cpu->fxsave + FX_XMM + 16 * r + off : cpu->ymmh + 16 * r + off - 16;
}

/* AVX2 gathers, element by element in order: each element whose mask
 * element has its top bit set is loaded, then its mask element cleared,
 * straight into the registers, so a fault on a later element leaves the
 * earlier ones done (the instruction restarts from there). At the end
 * the mask is zero and the destination bytes beyond the gathered
 * elements (bits 255:128 for 128-bit forms) are zeroed. */
static int gather(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_fpinfo *d = i->fp;
	x86_fp_check(cpu, d->flags);
	unsigned es = d->g.esize, is = d->g.isize;
	uint64_t amask = d->g.abits >= 64 ? ~0ull : (1ull << d->g.abits) - 1;
	uint64_t base = x86_ea(cpu, i, &i->op[0]);
	for (unsigned j = 0; j < d->g.n; j++) {
		if (!(*ymm_byte(cpu, d->g.mask, j * es + es - 1) & 0x80))
			continue;
		int64_t idx;
		if (is == 4) {
			int32_t v;
			memcpy(&v, ymm_byte(cpu, d->g.index, j * 4), 4);
			idx = v;
		} else {
			memcpy(&idx, ymm_byte(cpu, d->g.index, j * 8), 8);
		}
		uint64_t ea = (base + (uint64_t)idx * d->g.scale) & amask;
		uint64_t lin = x86_linear(cpu, i->op[0].seg, ea, es, X86_ACC_READ);
		uint8_t v[8];
		x86_read_lin_buf(cpu, lin, v, es);
		if (j * es >= 16)
			cpu->ymm_inuse = true;
		memcpy(ymm_byte(cpu, d->g.dst, j * es), v, es);
		memset(ymm_byte(cpu, d->g.mask, j * es), 0, es);
	}
	for (unsigned k = 0; k < 32; k++)
		*ymm_byte(cpu, d->g.mask, k) = 0;
	for (unsigned k = d->g.n * es; k < 32; k++)
		*ymm_byte(cpu, d->g.dst, k) = 0;
	x86_ymm_recount(cpu);
	return X86_NEXT;
}

int x86_h_fp(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_fpinfo *d = i->fp;
	if (d->flags & FPF_GATHER)
		return gather(cpu, i);
	x86_fp_check(cpu, d->flags);
	_Alignas(64) uint8_t img[512];
	_Alignas(16) uint8_t buf[128];
	uint64_t lin = 0, ea = 0;
	if (d->msize) {
		ea = x86_ea(cpu, i, &i->op[0]);
		lin = x86_linear(cpu, i->op[0].seg, ea, d->msize,
				 (d->flags & FPF_MW) ? X86_ACC_WRITE : X86_ACC_READ);
		if ((d->flags & FPF_ALIGN) && (lin & (d->msize - 1u)))
			x86_raise(cpu, X86_GP, true, 0);
		if (d->flags & FPF_MR)
			x86_read_lin_buf(cpu, lin, buf, d->msize);
	}
	struct x86_fp_ctx c = {
		.rax = cpu->gpr[X86_RAX], .rcx = cpu->gpr[X86_RCX], .rdx = cpu->gpr[X86_RDX],
		.flags = flags_in(cpu->rflags), .mem = buf, .stub = d->stub,
	};
	if (i->op[1].kind != OPK_NONE)
		c.rax = x86_op_read(cpu, i, &i->op[1]);
	if (i->op[2].kind != OPK_NONE)
		c.rdx = x86_op_read(cpu, i, &i->op[2]);
	bool full = d->flags & (FPF_X87 | FPF_MMX);
	if (full)
		memcpy(img, cpu->fxsave, 512);
	else
		memcpy(img + FX_XMM, cpu->fxsave + FX_XMM, 256);
	/* YMM upper halves only when in use or touched: VEX.128 code on
	 * zero upper halves leaves them zero. */
	_Alignas(16) uint8_t ymmh[256];
	bool ymm = (d->flags & FPF_YMM) || ((d->flags & FPF_VEX) && cpu->ymm_inuse);
	if (ymm)
		memcpy(ymmh, cpu->ymmh, 256);
	uint32_t mx = get32(cpu->fxsave + FX_MXCSR) & X86_MXCSR_MASK;
	uint32_t raised = run_stub(d, &c, img, mx, ymm ? ymmh : NULL);
	if (raised & ~(mx >> 7)) {
		put32(cpu->fxsave + FX_MXCSR, mx | raised);
		simd_fault(cpu);
	}
	if (d->flags & FPF_MW)
		x86_write_lin_buf(cpu, lin, buf, d->msize);
	if (full) {
		put32(img + FX_MXCSR, mx | raised);
		if (d->flags & FPF_LASTIP) {
			memcpy(img + FX_FOP, &i->fop, 2);
			memcpy(img + FX_FIP, &cpu->insn_rip, 8);
			if (d->msize)
				memcpy(img + FX_FDP, &ea, 8);
		}
		memcpy(cpu->fxsave, img, 512);
	} else {
		/* Outside 64-bit mode VEX code cannot reach registers 8-15
		 * (VZEROALL/VZEROUPPER leave them), the host stub could. */
		unsigned nb = (d->flags & FPF_VEX) && cpu->mode != X86_MODE_LONG64 ? 128 : 256;
		memcpy(cpu->fxsave + FX_XMM, img + FX_XMM, nb);
		put32(cpu->fxsave + FX_MXCSR, mx | raised);
		if (ymm)
			x86_ymm_commit(cpu, ymmh, nb);
	}
	if (d->gpr_w & 1)
		x86_op_write(cpu, i, &i->op[1], c.rax);
	if (d->gpr_w & 2)
		x86_op_write(cpu, i, &i->op[2], c.rdx);
	if (d->hid_reg != X86_NOREG) {
		uint64_t v = d->hid_reg == X86_RAX ? c.rax : d->hid_reg == X86_RCX ? c.rcx : c.rdx;
		x86_gpr_set(cpu, d->hid_reg, d->hid_size, v);
	}
	if (d->rflags_out)
		cpu->rflags = (cpu->rflags & ~(uint64_t)d->rflags_out) |
			      (flags_out(c.flags) & d->rflags_out);
	return X86_NEXT;
}

int x86_h_fwait(struct x86_cpu *cpu, const struct x86_insn *i)
{
	(void)i;
	if ((cpu->cr0 & (X86_CR0_MP | X86_CR0_TS)) == (X86_CR0_MP | X86_CR0_TS))
		x86_raise(cpu, X86_NM, false, 0);
	if (x87_pending(cpu))
		x86_raise(cpu, X86_MF, false, 0);
	return X86_NEXT;
}
