/* String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with
 * REP/REPE/REPNE, and IN/OUT.
 *
 * A repeated instruction commits RCX/RSI/RDI after every element, so a
 * fault or an exit in the middle resumes where it stopped. It runs at most
 * 4096 elements (one when single-stepping) per dispatch, then ends the block with RIP still at
 * itself, letting the run loop look at requests and interrupts.
 */
#include <string.h>

#include "arch/x86/insn.h"

struct strctx {
	uint64_t am;     /* address-size mask */
	int64_t step;
	unsigned size, as;
	unsigned batch;  /* elements per dispatch; 1 when single-stepping */
};

static inline void str_init(const struct x86_cpu *cpu, const struct x86_insn *i, struct strctx *c)
{
	c->size = i->osize;
	c->as = i->asize;
	c->am = x86_szmask(i->asize);
	c->step = (cpu->rflags & X86_DF_FLAG) ? -(int64_t)c->size : (int64_t)c->size;
	bool step = (cpu->rflags & X86_TF) || (cpu->guest_debug & KVM_GUESTDBG_SINGLESTEP);
	c->batch = step ? 1 : 4096;
}

static inline void adv(struct x86_cpu *cpu, const struct strctx *c, int reg)
{
	x86_gpr_set(cpu, reg, c->as, cpu->gpr[reg] + (uint64_t)c->step);
}

static inline uint64_t rsi(const struct x86_cpu *cpu, const struct strctx *c)
{
	return cpu->gpr[X86_RSI] & c->am;
}

static inline uint64_t rdi(const struct x86_cpu *cpu, const struct strctx *c)
{
	return cpu->gpr[X86_RDI] & c->am;
}

/* Elements left for a REP prefix; 1 without one. */
static inline uint64_t count(const struct x86_cpu *cpu, const struct x86_insn *i,
			     const struct strctx *c)
{
	return i->rep ? cpu->gpr[X86_RCX] & c->am : 1;
}

static inline void dec_rcx(struct x86_cpu *cpu, const struct x86_insn *i, const struct strctx *c)
{
	if (i->rep)
		x86_gpr_set(cpu, X86_RCX, c->as, cpu->gpr[X86_RCX] - 1);
}

/* Returns X86_END with RIP back on the instruction when work remains. */
static inline int more(struct x86_cpu *cpu, uint64_t left)
{
	if (!left)
		return X86_NEXT;
	cpu->rip = cpu->insn_rip;
	return X86_END;
}

int x86_h_movs(struct x86_cpu *cpu, const struct x86_insn *i)
{
	struct strctx c;
	str_init(cpu, i, &c);
	uint64_t n = count(cpu, i, &c);
	for (unsigned k = 0; n && k < c.batch; k++, n--) {
		uint64_t v = x86_read(cpu, i->seg, rsi(cpu, &c), c.size);
		x86_write(cpu, X86_ES, rdi(cpu, &c), c.size, v);
		adv(cpu, &c, X86_RSI);
		adv(cpu, &c, X86_RDI);
		dec_rcx(cpu, i, &c);
		x86_io_retire(cpu);
	}
	return i->rep ? more(cpu, n) : X86_NEXT;
}

int x86_h_stos(struct x86_cpu *cpu, const struct x86_insn *i)
{
	struct strctx c;
	str_init(cpu, i, &c);
	uint64_t n = count(cpu, i, &c), v = cpu->gpr[X86_RAX];
	for (unsigned k = 0; n && k < c.batch; k++, n--) {
		x86_write(cpu, X86_ES, rdi(cpu, &c), c.size, v);
		adv(cpu, &c, X86_RDI);
		dec_rcx(cpu, i, &c);
		x86_io_retire(cpu);
	}
	return i->rep ? more(cpu, n) : X86_NEXT;
}

int x86_h_lods(struct x86_cpu *cpu, const struct x86_insn *i)
{
	struct strctx c;
	str_init(cpu, i, &c);
	uint64_t n = count(cpu, i, &c);
	for (unsigned k = 0; n && k < c.batch; k++, n--) {
		uint64_t v = x86_read(cpu, i->seg, rsi(cpu, &c), c.size);
		x86_gpr_set(cpu, X86_RAX, c.size, v);
		adv(cpu, &c, X86_RSI);
		dec_rcx(cpu, i, &c);
		x86_io_retire(cpu);
	}
	return i->rep ? more(cpu, n) : X86_NEXT;
}

/* REPE stops when ZF = 0, REPNE when ZF = 1. */
static inline bool rep_stop(const struct x86_cpu *cpu, const struct x86_insn *i)
{
	bool zf = cpu->rflags & X86_ZF;
	return i->rep == X86_REP_E ? !zf : i->rep == X86_REP_NE ? zf : false;
}

int x86_h_cmps(struct x86_cpu *cpu, const struct x86_insn *i)
{
	struct strctx c;
	str_init(cpu, i, &c);
	uint64_t n = count(cpu, i, &c);
	for (unsigned k = 0; n && k < c.batch; k++) {
		uint64_t a = x86_read(cpu, i->seg, rsi(cpu, &c), c.size);
		uint64_t b = x86_read(cpu, X86_ES, rdi(cpu, &c), c.size);
		uint64_t fl = cpu->rflags;
		x86_alu(ALU_CMP, c.size, a, b, &fl);
		cpu->rflags = fl;
		adv(cpu, &c, X86_RSI);
		adv(cpu, &c, X86_RDI);
		dec_rcx(cpu, i, &c);
		x86_io_retire(cpu);
		n--;
		if (rep_stop(cpu, i))
			return X86_NEXT;
	}
	return i->rep ? more(cpu, n) : X86_NEXT;
}

int x86_h_scas(struct x86_cpu *cpu, const struct x86_insn *i)
{
	struct strctx c;
	str_init(cpu, i, &c);
	uint64_t n = count(cpu, i, &c), a = cpu->gpr[X86_RAX];
	for (unsigned k = 0; n && k < c.batch; k++) {
		uint64_t b = x86_read(cpu, X86_ES, rdi(cpu, &c), c.size);
		uint64_t fl = cpu->rflags;
		x86_alu(ALU_CMP, c.size, a, b, &fl);
		cpu->rflags = fl;
		adv(cpu, &c, X86_RDI);
		dec_rcx(cpu, i, &c);
		x86_io_retire(cpu);
		n--;
		if (rep_stop(cpu, i))
			return X86_NEXT;
	}
	return i->rep ? more(cpu, n) : X86_NEXT;
}

/* KVM reads REP INS ahead: up to 1024 bytes, not past RDI's page (counted
 * in bytes, as KVM does), in one exit; the elements are stored after it.
 * The batch size is computed again when the instruction resumes, with
 * RCX as userspace left it. */
static unsigned ins_batch(const struct x86_cpu *cpu, const struct x86_insn *i,
			  const struct strctx *c, uint64_t left)
{
	if (!i->rep)
		return 1;
	uint64_t off = cpu->gpr[X86_RDI] & 0xfff;
	uint64_t n = (cpu->rflags & X86_DF_FLAG) ? off : 4096 - off;
	if (n > 1024 / c->size)
		n = 1024 / c->size;
	if (n > left)
		n = left;
	return n ? (unsigned)n : 1;
}

int x86_h_ins(struct x86_cpu *cpu, const struct x86_insn *i)
{
	struct strctx c;
	str_init(cpu, i, &c);
	uint64_t n = count(cpu, i, &c);
	uint16_t port = cpu->gpr[X86_RDX];
	unsigned k = 0;
	while (n && k < c.batch) {
		unsigned b = ins_batch(cpu, i, &c, n);
		/* The destination is checked before the port is read. */
		uint64_t lin = x86_linear(cpu, X86_ES, rdi(cpu, &c), c.size, X86_ACC_WRITE);
		x86_translate(cpu, lin, X86_ACC_WRITE, cpu->cpl);
		x86_pio_in_batch(cpu, port, c.size, b);
		for (unsigned e = 0; e < b; e++, k++, n--) {
			uint64_t v = 0;
			memcpy(&v, cpu->pio_batch + e * c.size, c.size);
			x86_write(cpu, X86_ES, rdi(cpu, &c), c.size, v);
			adv(cpu, &c, X86_RDI);
			dec_rcx(cpu, i, &c);
		}
		x86_io_retire(cpu);
	}
	return i->rep ? more(cpu, n) : X86_NEXT;
}

int x86_h_outs(struct x86_cpu *cpu, const struct x86_insn *i)
{
	struct strctx c;
	str_init(cpu, i, &c);
	uint64_t n = count(cpu, i, &c);
	uint16_t port = cpu->gpr[X86_RDX];
	for (unsigned k = 0; n && k < c.batch; k++, n--) {
		uint64_t v = x86_read(cpu, i->seg, rsi(cpu, &c), c.size);
		x86_pio_outs(cpu, port, c.size, (uint32_t)v);
		adv(cpu, &c, X86_RSI);
		dec_rcx(cpu, i, &c);
		x86_io_retire(cpu);
	}
	return i->rep ? more(cpu, n) : X86_NEXT;
}

/* IN acc, imm8/DX: op[0] the accumulator, op[1] the port. */
int x86_h_in(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint16_t port = x86_op_read(cpu, i, &i->op[1]);
	unsigned size = i->op[0].size;
	uint32_t v = x86_pio_in(cpu, port, size);
	x86_gpr_set(cpu, X86_RAX, size, v);
	return X86_NEXT;
}

/* OUT imm8/DX, acc */
int x86_h_out(struct x86_cpu *cpu, const struct x86_insn *i)
{
	uint16_t port = x86_op_read(cpu, i, &i->op[0]);
	unsigned size = i->op[1].size;
	x86_pio_out(cpu, port, size, (uint32_t)(cpu->gpr[X86_RAX] & x86_szmask(size)));
	return X86_NEXT;
}
