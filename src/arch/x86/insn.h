/* The interpreter's decoded instruction and the helpers its handlers share.
 *
 * decode.c turns Zydis' output into struct x86_insn once per instruction;
 * exec*.c hold the handlers. A handler runs with cpu->insn_rip at the
 * instruction and cpu->rip already at the next one, so a fault (which
 * restores insn_rip) and a branch (which overwrites rip) need nothing else.
 */
#ifndef SK_X86_INSN_H
#define SK_X86_INSN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/x86.h"
#include "mem/guest_access.h"

enum x86_opkind {
	OPK_NONE,
	OPK_REG,   /* gpr[reg], low `size` bytes */
	OPK_REGH,  /* AH/CH/DH/BH: bits 8..15 of gpr[reg] */
	OPK_MEM,   /* seg:[base + index << scale + disp], masked to address size */
	OPK_IMM,   /* val (sign- or zero-extended by the encoding) */
	OPK_SREG,  /* seg[reg] */
	OPK_CR,    /* CRreg */
	OPK_DR,    /* DRreg */
	OPK_FAR,   /* immediate sel:val */
};

#define X86_NOREG 0xff
#define X86_RIPREL 16    /* base register: the next instruction's RIP */

struct x86_op {
	uint8_t kind;
	uint8_t size;    /* bytes */
	uint8_t reg;     /* register, or memory base (X86_NOREG, X86_RIPREL) */
	uint8_t index;   /* memory index register or X86_NOREG */
	uint8_t scale;   /* shift count */
	uint8_t seg;     /* effective segment of a memory operand */
	uint16_t sel;    /* OPK_FAR selector */
	int64_t val;     /* immediate, displacement or far offset */
};

struct x86_insn;
struct x86_fpinfo;
/* Handlers return X86_NEXT, or X86_END to stop the block after this
 * instruction (RIP is already right), or X86_HALT for HLT. */
typedef int (*x86_fn)(struct x86_cpu *cpu, const struct x86_insn *i);
/* X86_BRANCH is X86_END from a near branch (Jcc taken, JMP, CALL, RET,
 * LOOP*, JCXZ), which changes neither CS nor the mode: the next block may
 * be found through the chain (which checks it is in the same page). */
enum { X86_NEXT = 0, X86_END = 1, X86_HALT = 2, X86_BRANCH = 3 };

enum { X86_REP_NONE, X86_REP_E, X86_REP_NE };

struct x86_insn {
	x86_fn fn;
	struct x86_op op[3];
	uint8_t len;
	uint8_t osize;   /* operand size in bytes: 1, 2, 4, 8 */
	uint8_t asize;   /* address size in bytes: 2, 4, 8 */
	uint8_t sub;     /* the handler's variant: ALU operation, condition... */
	uint8_t rep;     /* X86_REP_* */
	uint8_t lock;
	uint8_t seg;     /* DS or its override: implicit sources (MOVS, XLAT) */
	uint8_t nops;
	uint16_t mnem;   /* ZydisMnemonic, for error reports */
	uint8_t far;     /* a far branch */
	uint8_t jcc;     /* a Jcc (its handler may be a per-condition one) */
	uint16_t fop;    /* x87 last-opcode value (FOP) */
	/* Set by the block builder (exec.c), in 64-bit mode only: the
	 * handler ends in x86_thread (see there); run counts the threaded
	 * instructions right after this one, which it starts itself. */
	uint8_t thread, run;
	const struct x86_fpinfo *fp;   /* x87/MMX/SSE (fp.h) */
};

/* Threaded dispatch. The handlers x86_alu_threads / x86_data_threads
 * accept never transfer control and, when they return normally, leave
 * the block running (their memory accesses take the software TLB, and
 * on the slow path they check x86_blocks_stale). They end by starting the
 * next instruction directly when it is threaded too, which saves the
 * loop's work; the loop then skips i->run instructions. Every decoded
 * instruction is followed by another or by a zeroed one, so i + 1 is
 * readable; threaded instructions exist only in 64-bit mode, so RIP needs
 * no wrap. A fault unwinds as from the loop: insn_rip is the faulting
 * instruction's. */
__attribute__((always_inline))
static inline int x86_thread(struct x86_cpu *cpu, const struct x86_insn *i)
{
	const struct x86_insn *n = i + 1;
	if (!n->thread)
		return 0;   /* X86_NEXT */
	uint64_t rip = cpu->rip;
	cpu->insn_rip = rip;
	cpu->rip = rip + n->len;
	return n->fn(cpu, n);
}

/* x86_thread after a memory access. A software TLB hit has no side effect
 * (no write entry exists for code or dirty-logged pages); the slow path
 * may have written a code page (A/D bits, the store itself) or left an
 * exit waiting for the instruction's end, and then the block stops here. */
bool x86_blocks_stale(const struct x86_block_cache *bc);
__attribute__((always_inline))
static inline int x86_thread_mem(struct x86_cpu *cpu, const struct x86_insn *i, bool slow)
{
	if (__builtin_expect(slow, 0) && x86_blocks_stale(cpu->blocks))
		return 0;   /* X86_NEXT */
	return x86_thread(cpu, i);
}

/* ---- small helpers ---- */

static inline uint64_t x86_szmask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline int x86_szidx(unsigned size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

static inline int64_t x86_sext(uint64_t v, unsigned size)
{
	switch (size) {
	case 1: return (int8_t)v;
	case 2: return (int16_t)v;
	case 4: return (int32_t)v;
	default: return (int64_t)v;
	}
}

static inline bool x86_long64(const struct x86_cpu *cpu)
{
	return cpu->mode == X86_MODE_LONG64;
}

static inline bool x86_protected(const struct x86_cpu *cpu)
{
	return cpu->mode != X86_MODE_REAL && cpu->mode != X86_MODE_VM86;
}

/* Register write with the x86 width rules: 8/16-bit writes merge, 32-bit
 * writes zero-extend. */
static inline void x86_gpr_set(struct x86_cpu *cpu, unsigned reg, unsigned size, uint64_t v)
{
	uint64_t *r = &cpu->gpr[reg];
	switch (size) {
	case 1: *r = (*r & ~0xffull) | (v & 0xff); break;
	case 2: *r = (*r & ~0xffffull) | (v & 0xffff); break;
	case 4: *r = (uint32_t)v; break;
	default: *r = v; break;
	}
}

/* Effective address (offset in its segment) of a memory operand. */
static inline uint64_t x86_ea(const struct x86_cpu *cpu, const struct x86_insn *i,
			      const struct x86_op *o)
{
	uint64_t a = (uint64_t)o->val;
	if (o->reg != X86_NOREG)
		a += o->reg == X86_RIPREL ? cpu->rip : cpu->gpr[o->reg];
	if (o->index != X86_NOREG)
		a += cpu->gpr[o->index] << o->scale;
	return a & x86_szmask(i->asize);
}

static inline uint64_t x86_op_read(struct x86_cpu *cpu, const struct x86_insn *i,
				   const struct x86_op *o)
{
	switch (o->kind) {
	case OPK_REG:
		return cpu->gpr[o->reg] & x86_szmask(o->size);
	case OPK_REGH:
		return (cpu->gpr[o->reg] >> 8) & 0xff;
	case OPK_IMM:
		return (uint64_t)o->val & x86_szmask(o->size);
	case OPK_MEM:
		return x86_read_fast(cpu, o->seg, x86_ea(cpu, i, o), o->size);
	case OPK_SREG:
		return cpu->seg[o->reg].sel;
	default:
		return 0;
	}
}

/* Write v (of operand size o->size) to a register or memory operand. */
static inline void x86_op_write(struct x86_cpu *cpu, const struct x86_insn *i,
				const struct x86_op *o, uint64_t v)
{
	switch (o->kind) {
	case OPK_REG:
		x86_gpr_set(cpu, o->reg, o->size, v);
		break;
	case OPK_REGH:
		cpu->gpr[o->reg] = (cpu->gpr[o->reg] & ~0xff00ull) | ((v & 0xff) << 8);
		break;
	case OPK_MEM:
		x86_write_fast(cpu, o->seg, x86_ea(cpu, i, o), o->size, v);
		break;
	default:
		break;
	}
}

/* Condition codes in encoding order (O, NO, B, AE, E, NE, BE, A, S, NS, P,
 * NP, L, GE, LE, G). */
static inline bool x86_cond(uint64_t f, unsigned cc)
{
	bool r;
	switch (cc >> 1) {
	case 0: r = f & X86_OF; break;
	case 1: r = f & X86_CF; break;
	case 2: r = f & X86_ZF; break;
	case 3: r = f & (X86_CF | X86_ZF); break;
	case 4: r = f & X86_SF; break;
	case 5: r = f & X86_PF_FLAG; break;
	case 6: r = !(f & X86_SF) != !(f & X86_OF); break;
	default: r = (f & X86_ZF) || (!(f & X86_SF) != !(f & X86_OF)); break;
	}
	return r ^ (cc & 1);
}

#define X86_STATUS_FLAGS (X86_CF | X86_PF_FLAG | X86_AF | X86_ZF | X86_SF | X86_OF)

/* ---- shared by the exec files ---- */

/* ALU operations computed on the host CPU (exec_alu.c), flags exact. */
enum x86_alu_op {
	ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP,
	ALU_TEST, ALU_INC, ALU_DEC, ALU_NEG, ALU_NOT, ALU_NR
};
uint64_t x86_alu(unsigned op, unsigned size, uint64_t a, uint64_t b, uint64_t *rflags);
/* The specialized handler for ALU op (ADD..TEST) on a full register
 * destination of size bytes with a register (imm false) or immediate source. */
x86_fn x86_alu_fast(unsigned op, unsigned size, bool imm);
/* The specialized MOV handler for operand shapes (x86_h_mov otherwise). */
x86_fn x86_mov_fast(const struct x86_insn *i);
/* Whether f is a handler that ends in x86_thread (exec_alu.c, exec_data.c,
 * exec_ctl.c). */
bool x86_alu_threads(x86_fn f);
bool x86_data_threads(x86_fn f);
bool x86_ctl_threads(x86_fn f);
/* MOVZX/MOVSX/MOVSXD, LEA and SETcc by operand shape (i->fn is x86_h_movx,
 * x86_h_lea or x86_h_setcc), or NULL. */
x86_fn x86_data_fast(const struct x86_insn *i);
/* Jcc for condition cc (encoding order), same behaviour as x86_h_jcc. */
x86_fn x86_jcc_fast(unsigned cc);
/* Shift/rotate of a full register by an immediate, 1 or CL (sub as for
 * x86_h_shift). */
x86_fn x86_shift_fast(unsigned sub, unsigned size);
/* ALU op with a register destination and a memory source, or NULL. */
x86_fn x86_alu_fast_rm(unsigned op, unsigned size);
/* INC/DEC/NEG/NOT of a full register (ALU_INC...ALU_NOT), or NULL. */
x86_fn x86_alu1_fast(unsigned op, unsigned size);
/* IMUL r, r/m[, imm] (2- and 3-operand forms), or NULL. */
x86_fn x86_imul_fast(const struct x86_insn *i);
/* ALU op on a memory destination (not LOCKed) with a register or immediate source. */
x86_fn x86_alu_fast_m(unsigned op, unsigned size, bool imm);

/* Read-modify-write of a memory operand, atomic on the host when LOCKed
 * and the operand is plain RAM. fn computes the new value from the old
 * one; returns the old value. Flags are produced into *fl. */
typedef uint64_t (*x86_rmw_fn)(const struct x86_insn *i, uint64_t old, uint64_t src,
			       uint64_t *fl);
uint64_t x86_mem_rmw(struct x86_cpu *cpu, const struct x86_insn *i, const struct x86_op *o,
		     uint64_t src, x86_rmw_fn fn, uint64_t *fl);
/* Host pointer for an atomic access of size bytes at seg:off, or NULL
 * (not RAM, crosses a page). Does the write checks, dirty marking and
 * code invalidation. */
void *x86_lock_ptr(struct x86_cpu *cpu, int seg, uint64_t off, unsigned size);

/* Stack (exec_stack.c). */
unsigned x86_stack_size(const struct x86_cpu *cpu);
void x86_push(struct x86_cpu *cpu, uint64_t v, unsigned size);
uint64_t x86_pop(struct x86_cpu *cpu, unsigned size);
/* Read the stack at RSP + off without moving RSP. */
uint64_t x86_stack_peek(struct x86_cpu *cpu, uint64_t off, unsigned size);
void x86_set_sp(struct x86_cpu *cpu, uint64_t sp);

/* Segment loads for control transfers (exec_far.c). */
void x86_set_cs_real(struct x86_cpu *cpu, uint16_t sel);

void x86_set_rflags(struct x86_cpu *cpu, uint64_t v, uint64_t writable);
uint64_t x86_popf_mask(const struct x86_cpu *cpu, unsigned size);

/* Deliver a software event (INT n, INT3, INTO, INT1) and exit on shutdown. */
void x86_soft_int(struct x86_cpu *cpu, int vec, bool soft);

/* Handlers the decoder maps mnemonics to. */
#define X86_HANDLERS(X) \
	X(alu) X(alu_rr) X(alu_ri) X(alu1) X(not) X(shift) X(shxd) X(mul1) X(imul) X(div) X(bt) X(bsf) \
	X(bswap) X(xadd) X(cmpxchg) X(cmpxchg8b) X(popcnt) X(tzcnt) X(movbe) \
	X(mov) X(movx) X(lea) X(xchg) X(setcc) X(cmovcc) X(cwd) X(cbw) X(lahf) X(sahf) \
	X(flagop) X(xlat) X(nop) X(ud) X(unimpl) \
	X(push) X(pop) X(pusha) X(popa) X(pushf) X(popf) X(enter) X(leave) \
	X(mov_sreg) X(lxs) X(mov_cr) X(mov_dr) \
	X(jmp) X(jcc) X(call) X(ret) X(loop) X(jcxz) X(int) X(iret) \
	X(movs) X(cmps) X(stos) X(lods) X(scas) X(ins) X(outs) X(in) X(out) \
	X(hlt) X(cli) X(sti) X(cpuid) X(rdmsr) X(wrmsr) X(rdtsc) X(rdtscp) X(rdpid) X(clac) X(invpcid) \
	X(lgdt) X(sgdt) X(lldt) X(ltr) X(sldt) X(str) X(lmsw) X(smsw) X(clts) \
	X(invlpg) X(cache) X(syscall) X(sysret) X(sysenter) X(sysexit) \
	X(lar) X(lsl) X(verr) X(swapgs) X(rdfsbase) X(wrfsbase) X(xgetbv) X(xsetbv) \
	X(bcd) X(salc) X(vmcall) X(rsm) X(monitor) \
	X(fp) X(fwait) X(ldmxcsr) X(stmxcsr) X(fxsave) X(fxrstor) X(xsave) X(xrstor)

#define X86_DECLARE(n) int x86_h_##n(struct x86_cpu *cpu, const struct x86_insn *i);
X86_HANDLERS(X86_DECLARE)
#undef X86_DECLARE

/* Decode one instruction at code (avail bytes readable) into *out for
 * cpu's current mode. Returns false when the bytes are not a valid
 * instruction or more bytes are needed (*need_more). Sets *ends when the
 * instruction ends a block. */
bool x86_decode(const struct x86_cpu *cpu, const uint8_t *code, unsigned avail,
		struct x86_insn *out, bool *ends, bool *need_more);

#endif
