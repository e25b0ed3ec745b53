/* Decoding: Zydis once per instruction, into struct x86_insn.
 *
 * The mnemonic table maps each Zydis mnemonic to its handler and variant;
 * a few mnemonics whose handler depends on the operands (MOV to a segment
 * or control register, one-operand IMUL, string MOVSD vs the SSE one) are
 * resolved in fixup(). Everything absent from the table decodes to
 * x86_h_unimpl, which reports an emulation failure when it runs.
 */
#include <Zydis/Zydis.h>
#include <string.h>

#include "arch/x86/fp.h"

enum { M_END = 1 };   /* the instruction ends a block (a Jcc does not: it leaves
                         * the block only when taken, see exec.c) */

struct mnem {
	x86_fn fn;
	uint8_t sub;
	uint8_t flags;
};

#define H(m, h, s) [ZYDIS_MNEMONIC_##m] = { x86_h_##h, s, 0 }
#define E(m, h, s) [ZYDIS_MNEMONIC_##m] = { x86_h_##h, s, M_END }
/* The 16 conditions in encoding order. */
#define CC(p, h, f)                                                                       \
	[ZYDIS_MNEMONIC_##p##O] = { x86_h_##h, 0, f }, [ZYDIS_MNEMONIC_##p##NO] = { x86_h_##h, 1, f }, \
	[ZYDIS_MNEMONIC_##p##B] = { x86_h_##h, 2, f }, [ZYDIS_MNEMONIC_##p##NB] = { x86_h_##h, 3, f }, \
	[ZYDIS_MNEMONIC_##p##Z] = { x86_h_##h, 4, f }, [ZYDIS_MNEMONIC_##p##NZ] = { x86_h_##h, 5, f }, \
	[ZYDIS_MNEMONIC_##p##BE] = { x86_h_##h, 6, f }, [ZYDIS_MNEMONIC_##p##NBE] = { x86_h_##h, 7, f }, \
	[ZYDIS_MNEMONIC_##p##S] = { x86_h_##h, 8, f }, [ZYDIS_MNEMONIC_##p##NS] = { x86_h_##h, 9, f }, \
	[ZYDIS_MNEMONIC_##p##P] = { x86_h_##h, 10, f }, [ZYDIS_MNEMONIC_##p##NP] = { x86_h_##h, 11, f }, \
	[ZYDIS_MNEMONIC_##p##L] = { x86_h_##h, 12, f }, [ZYDIS_MNEMONIC_##p##NL] = { x86_h_##h, 13, f }, \
	[ZYDIS_MNEMONIC_##p##LE] = { x86_h_##h, 14, f }, [ZYDIS_MNEMONIC_##p##NLE] = { x86_h_##h, 15, f }

static const struct mnem table[ZYDIS_MNEMONIC_MAX_VALUE + 1] = {
	/* arithmetic and logic */
	H(ADD, alu, ALU_ADD), H(OR, alu, ALU_OR), H(ADC, alu, ALU_ADC), H(SBB, alu, ALU_SBB),
	H(AND, alu, ALU_AND), H(SUB, alu, ALU_SUB), H(XOR, alu, ALU_XOR), H(CMP, alu, ALU_CMP),
	H(TEST, alu, ALU_TEST), H(INC, alu, ALU_INC), H(DEC, alu, ALU_DEC), H(NEG, alu, ALU_NEG),
	H(NOT, alu, ALU_NOT),
	H(ROL, shift, 0), H(ROR, shift, 1), H(RCL, shift, 2), H(RCR, shift, 3),
	H(SHL, shift, 4), H(SHR, shift, 5), H(SAR, shift, 7),
	H(SHLD, shxd, 0), H(SHRD, shxd, 1),
	H(MUL, mul1, 0), H(IMUL, imul, 0), H(DIV, div, 0), H(IDIV, div, 1),
	H(BT, bt, 0), H(BTS, bt, 1), H(BTR, bt, 2), H(BTC, bt, 3),
	H(BSF, bsf, 0), H(BSR, bsf, 1), H(POPCNT, popcnt, 0), H(TZCNT, tzcnt, 0),
	H(LZCNT, tzcnt, 1),
	H(XADD, xadd, 0), H(CMPXCHG, cmpxchg, 0), H(CMPXCHG8B, cmpxchg8b, 0),
	H(CMPXCHG16B, cmpxchg8b, 0), H(BSWAP, bswap, 0), H(MOVBE, movbe, 0),
	H(DAA, bcd, 0), H(DAS, bcd, 1), H(AAA, bcd, 2), H(AAS, bcd, 3), H(AAM, bcd, 4),
	H(AAD, bcd, 5), H(SALC, salc, 0),
	/* data movement */
	H(MOV, mov, 0), H(MOVZX, movx, 0), H(MOVSX, movx, 1), H(MOVSXD, movx, 1),
	H(LEA, lea, 0), H(XCHG, xchg, 0),
	CC(SET, setcc, 0), CC(CMOV, cmovcc, 0),
	H(CBW, cbw, 0), H(CWDE, cbw, 0), H(CDQE, cbw, 0),
	H(CWD, cwd, 0), H(CDQ, cwd, 0), H(CQO, cwd, 0),
	H(LAHF, lahf, 0), H(SAHF, sahf, 0),
	H(CLC, flagop, 0), H(STC, flagop, 1), H(CMC, flagop, 2), H(CLD, flagop, 3),
	H(STD, flagop, 4), H(XLAT, xlat, 0),
	H(NOP, nop, 0), H(PAUSE, nop, 0), H(ENDBR32, nop, 0), H(ENDBR64, nop, 0),
	H(PREFETCHT0, nop, 0), H(PREFETCHT1, nop, 0), H(PREFETCHT2, nop, 0),
	H(PREFETCHNTA, nop, 0), H(PREFETCH, nop, 0), H(PREFETCHW, nop, 0),
	E(UD0, ud, 0), E(UD1, ud, 0), E(UD2, ud, 0),
	/* stack */
	H(PUSH, push, 0), H(POP, pop, 0), H(PUSHA, pusha, 0), H(PUSHAD, pusha, 0),
	H(POPA, popa, 0), H(POPAD, popa, 0),
	H(PUSHF, pushf, 0), H(PUSHFD, pushf, 0), H(PUSHFQ, pushf, 0),
	E(POPF, popf, 0), E(POPFD, popf, 0), E(POPFQ, popf, 0),
	H(ENTER, enter, 0), H(LEAVE, leave, 0),
	E(LES, lxs, X86_ES), E(LSS, lxs, X86_SS), E(LDS, lxs, X86_DS), E(LFS, lxs, X86_FS),
	E(LGS, lxs, X86_GS),
	/* control transfer */
	E(JMP, jmp, 0), CC(J, jcc, 0), E(CALL, call, 0), E(RET, ret, 0),
	E(LOOP, loop, 0), E(LOOPE, loop, 1), E(LOOPNE, loop, 2),
	E(JCXZ, jcxz, 0), E(JECXZ, jcxz, 0), E(JRCXZ, jcxz, 0),
	E(INT, int, 0), E(INT3, int, 1), E(INTO, int, 2), E(INT1, int, 3),
	E(IRET, iret, 0), E(IRETD, iret, 0), E(IRETQ, iret, 0),
	E(SYSCALL, syscall, 0), E(SYSRET, sysret, 0), E(SYSENTER, sysenter, 0),
	E(SYSEXIT, sysexit, 0),
	/* strings and IO */
	H(MOVSB, movs, 0), H(MOVSW, movs, 0), H(MOVSD, movs, 0), H(MOVSQ, movs, 0),
	H(CMPSB, cmps, 0), H(CMPSW, cmps, 0), H(CMPSD, cmps, 0), H(CMPSQ, cmps, 0),
	H(STOSB, stos, 0), H(STOSW, stos, 0), H(STOSD, stos, 0), H(STOSQ, stos, 0),
	H(LODSB, lods, 0), H(LODSW, lods, 0), H(LODSD, lods, 0), H(LODSQ, lods, 0),
	H(SCASB, scas, 0), H(SCASW, scas, 0), H(SCASD, scas, 0), H(SCASQ, scas, 0),
	H(INSB, ins, 0), H(INSW, ins, 0), H(INSD, ins, 0),
	H(OUTSB, outs, 0), H(OUTSW, outs, 0), H(OUTSD, outs, 0),
	H(IN, in, 0), H(OUT, out, 0),
	/* system */
	E(HLT, hlt, 0), E(CLI, cli, 0), E(STI, sti, 0), H(CPUID, cpuid, 0),
	H(RDMSR, rdmsr, 0), E(WRMSR, wrmsr, 0), H(RDTSC, rdtsc, 0), H(RDTSCP, rdtscp, 0),
	H(RDPID, rdpid, 0), H(CLAC, clac, 0), H(STAC, clac, 1), H(INVPCID, invpcid, 0),
	E(LGDT, lgdt, 0), E(LIDT, lgdt, 1), H(SGDT, sgdt, 0), H(SIDT, sgdt, 1),
	E(LLDT, lldt, 0), E(LTR, ltr, 0), H(SLDT, sldt, 0), H(STR, str, 0),
	E(LMSW, lmsw, 0), H(SMSW, smsw, 0), E(CLTS, clts, 0), H(INVLPG, invlpg, 0),
	H(WBINVD, cache, 0), H(INVD, cache, 0), H(CLFLUSH, cache, 1),
	H(CLFLUSHOPT, cache, 1), H(CLWB, cache, 1),
	H(MFENCE, cache, 2), H(LFENCE, cache, 2), H(SFENCE, cache, 2),
	H(LAR, lar, 0), H(LSL, lsl, 0), H(VERR, verr, 0), H(VERW, verr, 1),
	H(SWAPGS, swapgs, 0), H(RDFSBASE, rdfsbase, 0), H(RDGSBASE, rdfsbase, 1),
	H(WRFSBASE, wrfsbase, 0), H(WRGSBASE, wrfsbase, 1),
	H(XGETBV, xgetbv, 0), E(XSETBV, xsetbv, 0),
	H(VMCALL, vmcall, 0), H(VMMCALL, vmcall, 0), E(RSM, rsm, 0),
	H(MONITOR, monitor, 0), H(MWAIT, monitor, 1),
};

/* One decoder per machine mode, made on first use (ZydisDecoderInit only
 * fills a small struct, so racing initialisations agree). */
static const ZydisDecoder *decoder_for(const struct x86_cpu *cpu)
{
	static ZydisDecoder dec[7];
	static _Atomic bool ready[7];
	ZydisMachineMode mm;
	ZydisStackWidth sw;
	int k;
	switch (cpu->mode) {
	case X86_MODE_LONG64:
		k = 0; mm = ZYDIS_MACHINE_MODE_LONG_64; sw = ZYDIS_STACK_WIDTH_64; break;
	case X86_MODE_COMPAT32:
		k = 1; mm = ZYDIS_MACHINE_MODE_LONG_COMPAT_32; sw = ZYDIS_STACK_WIDTH_32; break;
	case X86_MODE_COMPAT16:
		k = 2; mm = ZYDIS_MACHINE_MODE_LONG_COMPAT_16; sw = ZYDIS_STACK_WIDTH_16; break;
	case X86_MODE_PROT32:
		k = 3; mm = ZYDIS_MACHINE_MODE_LEGACY_32; sw = ZYDIS_STACK_WIDTH_32; break;
	case X86_MODE_PROT16:
		k = 4; mm = ZYDIS_MACHINE_MODE_LEGACY_16; sw = ZYDIS_STACK_WIDTH_16; break;
	default:
		/* Real and VM86 mode; "big real" code with CS.D = 1 decodes as 32-bit. */
		if (cpu->seg[X86_CS].db) {
			k = 5; mm = ZYDIS_MACHINE_MODE_LEGACY_32; sw = ZYDIS_STACK_WIDTH_32;
		} else {
			k = 6; mm = ZYDIS_MACHINE_MODE_REAL_16; sw = ZYDIS_STACK_WIDTH_16;
		}
		break;
	}
	if (!atomic_load_explicit(&ready[k], memory_order_acquire)) {
		ZydisDecoderInit(&dec[k], mm, sw);
		atomic_store_explicit(&ready[k], true, memory_order_release);
	}
	return &dec[k];
}

static int gpr_index(ZydisRegister r, uint8_t *kind, uint8_t *size)
{
	if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_R15B) {
		*size = 1;
		*kind = OPK_REG;
		if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) {
			*kind = OPK_REGH;
			return r - ZYDIS_REGISTER_AH;
		}
		if (r <= ZYDIS_REGISTER_BL)
			return r - ZYDIS_REGISTER_AL;
		return r - ZYDIS_REGISTER_SPL + 4;
	}
	*kind = OPK_REG;
	if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_R15W) {
		*size = 2;
		return r - ZYDIS_REGISTER_AX;
	}
	if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_R15D) {
		*size = 4;
		return r - ZYDIS_REGISTER_EAX;
	}
	if (r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15) {
		*size = 8;
		return r - ZYDIS_REGISTER_RAX;
	}
	return -1;
}

/* Memory base/index register: a GPR index, X86_RIPREL or X86_NOREG. */
static bool addr_reg(ZydisRegister r, uint8_t *out)
{
	uint8_t kind, size;
	if (r == ZYDIS_REGISTER_NONE) {
		*out = X86_NOREG;
		return true;
	}
	if (r == ZYDIS_REGISTER_RIP || r == ZYDIS_REGISTER_EIP || r == ZYDIS_REGISTER_IP) {
		*out = X86_RIPREL;
		return true;
	}
	int g = gpr_index(r, &kind, &size);
	if (g < 0 || kind != OPK_REG)
		return false;
	*out = g;
	return true;
}

bool x86_conv_op(const ZydisDecodedOperand *z, struct x86_op *o)
{
	memset(o, 0, sizeof(*o));
	o->reg = o->index = X86_NOREG;
	switch (z->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER: {
		ZydisRegister r = z->reg.value;
		int g = gpr_index(r, &o->kind, &o->size);
		if (g >= 0) {
			o->reg = g;
			return true;
		}
		if (r >= ZYDIS_REGISTER_ES && r <= ZYDIS_REGISTER_GS) {
			o->kind = OPK_SREG;
			o->reg = r - ZYDIS_REGISTER_ES;
			o->size = 2;
			return true;
		}
		if (r >= ZYDIS_REGISTER_CR0 && r <= ZYDIS_REGISTER_CR15) {
			o->kind = OPK_CR;
			o->reg = r - ZYDIS_REGISTER_CR0;
			o->size = 8;
			return true;
		}
		if (r >= ZYDIS_REGISTER_DR0 && r <= ZYDIS_REGISTER_DR15) {
			o->kind = OPK_DR;
			o->reg = r - ZYDIS_REGISTER_DR0;
			o->size = 8;
			return true;
		}
		return false;
	}
	case ZYDIS_OPERAND_TYPE_MEMORY: {
		if (z->mem.type != ZYDIS_MEMOP_TYPE_MEM && z->mem.type != ZYDIS_MEMOP_TYPE_AGEN)
			return false;
		o->kind = OPK_MEM;
		o->size = z->size / 8 > 255 ? 255 : z->size / 8;
		if (!addr_reg(z->mem.base, &o->reg) || !addr_reg(z->mem.index, &o->index))
			return false;
		if (o->index == X86_RIPREL)
			return false;
		o->scale = z->mem.scale == 8 ? 3 : z->mem.scale == 4 ? 2 : z->mem.scale == 2 ? 1 : 0;
		o->val = z->mem.disp.value;
		if (z->mem.segment >= ZYDIS_REGISTER_ES && z->mem.segment <= ZYDIS_REGISTER_GS)
			o->seg = z->mem.segment - ZYDIS_REGISTER_ES;
		else
			o->seg = X86_DS;
		return true;
	}
	case ZYDIS_OPERAND_TYPE_IMMEDIATE:
		o->kind = OPK_IMM;
		o->size = 8;
		o->val = (int64_t)z->imm.value.u;
		return true;
	case ZYDIS_OPERAND_TYPE_POINTER:
		o->kind = OPK_FAR;
		o->sel = z->ptr.segment;
		o->val = z->ptr.offset;
		o->size = 8;
		return true;
	default:
		return false;
	}
}

/* The last REP prefix byte (F2/F3) among the legacy prefixes. */
static uint8_t rep_prefix(const uint8_t *code, unsigned len, bool long64)
{
	uint8_t rep = 0;
	for (unsigned k = 0; k < len; k++) {
		uint8_t b = code[k];
		if (b == 0xf2 || b == 0xf3)
			rep = b;
		else if (b == 0x66 || b == 0x67 || b == 0xf0 || b == 0x2e || b == 0x36 ||
			 b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65)
			continue;
		else if (long64 && (b & 0xf0) == 0x40)
			continue;
		else
			break;
	}
	return rep;
}

static int implicit_seg(const ZydisDecodedInstruction *zi, bool long64)
{
	ZyanU64 a = zi->attributes;
	if (a & ZYDIS_ATTRIB_HAS_SEGMENT_FS)
		return X86_FS;
	if (a & ZYDIS_ATTRIB_HAS_SEGMENT_GS)
		return X86_GS;
	if (long64)
		return X86_DS;
	if (a & ZYDIS_ATTRIB_HAS_SEGMENT_ES)
		return X86_ES;
	if (a & ZYDIS_ATTRIB_HAS_SEGMENT_CS)
		return X86_CS;
	if (a & ZYDIS_ATTRIB_HAS_SEGMENT_SS)
		return X86_SS;
	return X86_DS;
}

static bool is_string(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD:
	case ZYDIS_MNEMONIC_MOVSQ: case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW:
	case ZYDIS_MNEMONIC_CMPSD: case ZYDIS_MNEMONIC_CMPSQ: case ZYDIS_MNEMONIC_STOSB:
	case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD: case ZYDIS_MNEMONIC_STOSQ:
	case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD:
	case ZYDIS_MNEMONIC_LODSQ: case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW:
	case ZYDIS_MNEMONIC_SCASD: case ZYDIS_MNEMONIC_SCASQ: case ZYDIS_MNEMONIC_INSB:
	case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD: case ZYDIS_MNEMONIC_OUTSB:
	case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
		return true;
	default:
		return false;
	}
}

/* Handlers chosen by operand shape rather than mnemonic alone. */
static void fixup(const ZydisDecodedInstruction *zi, struct x86_insn *o, uint8_t *flags)
{
	switch (zi->mnemonic) {
	case ZYDIS_MNEMONIC_MOV:
		if (o->op[0].kind == OPK_SREG || o->op[1].kind == OPK_SREG) {
			o->fn = x86_h_mov_sreg;
			o->sub = o->op[0].kind != OPK_SREG;
			if (!o->sub)
				*flags |= M_END;
		} else if (o->op[0].kind == OPK_CR || o->op[1].kind == OPK_CR) {
			o->fn = x86_h_mov_cr;
			o->sub = o->op[0].kind != OPK_CR;
			if (!o->sub)
				*flags |= M_END;
		} else if (o->op[0].kind == OPK_DR || o->op[1].kind == OPK_DR) {
			o->fn = x86_h_mov_dr;
			o->sub = o->op[0].kind != OPK_DR;
			if (!o->sub)
				*flags |= M_END;
		} else {
			o->fn = x86_mov_fast(o);
		}
		break;
	case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_OR: case ZYDIS_MNEMONIC_ADC:
	case ZYDIS_MNEMONIC_SBB: case ZYDIS_MNEMONIC_AND: case ZYDIS_MNEMONIC_SUB:
	case ZYDIS_MNEMONIC_XOR: case ZYDIS_MNEMONIC_CMP: case ZYDIS_MNEMONIC_TEST:
		if (o->nops == 2 && o->op[0].kind == OPK_REG) {
			if (o->op[1].kind == OPK_REG)
				o->fn = x86_h_alu_rr;
			else if (o->op[1].kind == OPK_IMM)
				o->fn = x86_h_alu_ri;
			if (o->op[1].kind == OPK_REG || o->op[1].kind == OPK_IMM) {
				x86_fn f = x86_alu_fast(o->sub, o->op[0].size, o->op[1].kind == OPK_IMM);
				if (f)
					o->fn = f;
			} else if (o->op[1].kind == OPK_MEM && o->op[1].size == o->op[0].size) {
				x86_fn f = x86_alu_fast_rm(o->sub, o->op[0].size);
				if (f)
					o->fn = f;
			}
		} else if (o->nops == 2 && o->op[0].kind == OPK_MEM && !o->lock &&
			   (o->op[1].kind == OPK_IMM ||
			    (o->op[1].kind == OPK_REG && o->op[1].size == o->op[0].size))) {
			x86_fn f = x86_alu_fast_m(o->sub, o->op[0].size, o->op[1].kind == OPK_IMM);
			if (f)
				o->fn = f;
		}
		break;
	case ZYDIS_MNEMONIC_IMUL:
		if (o->nops == 1) {
			o->fn = x86_h_mul1;
			o->sub = 1;
		} else {
			x86_fn f = x86_imul_fast(o);
			if (f)
				o->fn = f;
		}
		break;
	case ZYDIS_MNEMONIC_MUL:
		o->sub = 0;
		break;
	case ZYDIS_MNEMONIC_POP:
		if (o->op[0].kind == OPK_SREG)
			*flags |= M_END;
		break;
	case ZYDIS_MNEMONIC_XCHG:
		if (o->op[0].kind == OPK_MEM || o->op[1].kind == OPK_MEM)
			o->lock = 1;
		break;
	case ZYDIS_MNEMONIC_MOVSD:
	case ZYDIS_MNEMONIC_CMPSD:
		if (zi->opcode_map != ZYDIS_OPCODE_MAP_DEFAULT)
			o->fn = x86_h_unimpl;   /* the SSE2 instructions of the same name */
		break;
	case ZYDIS_MNEMONIC_CMPXCHG8B:
		o->osize = 4;
		break;
	case ZYDIS_MNEMONIC_CMPXCHG16B:
		o->osize = 8;
		break;
	case ZYDIS_MNEMONIC_BSWAP:
		o->op[0].size = zi->operand_width / 8;
		break;
	default:
		break;
	}
}

bool x86_decode(const struct x86_cpu *cpu, const uint8_t *code, unsigned avail,
		struct x86_insn *out, bool *ends, bool *need_more)
{
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	*need_more = false;
	*ends = false;
	ZyanStatus st = ZydisDecoderDecodeFull(decoder_for(cpu), code, avail, &zi, zo);
	if (ZYAN_FAILED(st)) {
		*need_more = st == ZYDIS_STATUS_NO_MORE_DATA && avail < ZYDIS_MAX_INSTRUCTION_LENGTH;
		return false;
	}
	bool long64 = cpu->mode == X86_MODE_LONG64;
	memset(out, 0, sizeof(*out));
	out->len = zi.length;
	out->osize = zi.operand_width >= 8 ? zi.operand_width / 8 : 1;
	out->asize = zi.address_width / 8;
	out->lock = !!(zi.attributes & ZYDIS_ATTRIB_HAS_LOCK);
	out->seg = implicit_seg(&zi, long64);
	out->mnem = zi.mnemonic;
	out->far = zi.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR;
	for (int k = 0; k < 3; k++) {
		out->op[k].reg = out->op[k].index = X86_NOREG;
	}
	const struct mnem *m = &table[zi.mnemonic];
	/* x87/MMX/SSE (MOVSD and CMPSD share names with string instructions). */
	bool sse_name = (zi.mnemonic == ZYDIS_MNEMONIC_MOVSD || zi.mnemonic == ZYDIS_MNEMONIC_CMPSD) &&
			zi.opcode_map != ZYDIS_OPCODE_MAP_DEFAULT;
	if ((!m->fn || sse_name) && x86_decode_fp(cpu, code, &zi, zo, out))
		return true;
	bool ok = true;
	for (unsigned k = 0; k < zi.operand_count; k++) {
		if (zo[k].visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN)
			continue;
		if (out->nops == 3 || !x86_conv_op(&zo[k], &out->op[out->nops])) {
			ok = false;
			break;
		}
		out->nops++;
	}
	uint8_t flags = m->flags;
	if (!ok || !m->fn) {
		out->fn = x86_h_unimpl;
		*ends = true;
		return true;
	}
	out->fn = m->fn;
	out->sub = m->sub;
	if (is_string(zi.mnemonic)) {
		uint8_t rep = rep_prefix(code, zi.length, long64);
		bool cond = zi.mnemonic == ZYDIS_MNEMONIC_SCASB || zi.mnemonic == ZYDIS_MNEMONIC_SCASW ||
		       zi.mnemonic == ZYDIS_MNEMONIC_SCASD || zi.mnemonic == ZYDIS_MNEMONIC_SCASQ ||
		       zi.mnemonic == ZYDIS_MNEMONIC_CMPSB || zi.mnemonic == ZYDIS_MNEMONIC_CMPSW ||
		       zi.mnemonic == ZYDIS_MNEMONIC_CMPSD || zi.mnemonic == ZYDIS_MNEMONIC_CMPSQ;
		if (rep)
			out->rep = (cond && rep == 0xf2) ? X86_REP_NE : X86_REP_E;
	}
	fixup(&zi, out, &flags);
	if (out->fn == x86_h_alu && out->nops == 1 && out->op[0].kind == OPK_REG) {
		x86_fn f = x86_alu1_fast(out->sub, out->op[0].size);
		if (f)
			out->fn = f;
	}
	if (out->fn == x86_h_shift && out->op[0].kind == OPK_REG &&
	    (out->nops == 1 || out->op[1].kind == OPK_IMM || out->op[1].kind == OPK_REG))
		out->fn = x86_shift_fast(out->sub, out->op[0].size);
	if (out->fn == x86_h_movx || out->fn == x86_h_lea || out->fn == x86_h_setcc) {
		x86_fn f = x86_data_fast(out);
		if (f)
			out->fn = f;
	}
	if (out->fn == x86_h_jcc) {
		out->jcc = 1;
		out->fn = x86_jcc_fast(out->sub);
	}
	*ends = flags & M_END;
	return true;
}
