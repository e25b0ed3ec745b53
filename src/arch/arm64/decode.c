/* The A64 decoder: encodings as data (mask, value, handler), in the spirit
 * of QEMU's decodetree, each line readable against the Arm ARM's encoding
 * tables. Earlier lines win, so narrower patterns come first.
 *
 * Decoding happens once per instruction word: the decode cache keeps the
 * handler per guest-physical page together with the word it came from.
 */
#include <stdio.h>
#include <stdlib.h>

#include "arch/arm64/insn.h"
#include "mem/guest_access.h"

struct pat {
	uint32_t mask, value;
	a64_fn fn;
};

static const struct pat table[] = {
	/* Branches, exception generation, system */
	{0x7c000000, 0x14000000, i_b},            /* B, BL */
	{0x7e000000, 0x34000000, i_cb},           /* CBZ, CBNZ */
	{0x7e000000, 0x36000000, i_tb},           /* TBZ, TBNZ */
	{0xff000010, 0x54000000, i_bcond},        /* B.cond */
	{0xff000000, 0xd4000000, i_exc},          /* SVC HVC SMC BRK HLT DCPSx */
	{0xfffff01f, 0xd503201f, i_hint},         /* NOP YIELD WFE WFI SEV SEVL ... */
	{0xfffff01f, 0xd503301f, i_barrier},      /* CLREX DSB DMB ISB SB */
	{0xfff8f01f, 0xd500401f, i_msr_imm},      /* MSR (immediate) */
	{0xffd80000, 0xd5080000, i_sys},          /* SYS, SYSL */
	{0xfff00000, 0xd5300000, i_mrs},          /* MRS */
	{0xfff00000, 0xd5100000, i_msr},          /* MSR (register) */
	{0xffffffff, 0xd69f03e0, i_eret},         /* ERET */
	{0xff9ffc1f, 0xd61f0000, i_br},           /* BR, BLR (opc 00x) */
	{0xfffffc1f, 0xd65f0000, i_br},           /* RET */

	/* Data processing, immediate */
	{0x1f000000, 0x10000000, i_adr},          /* ADR, ADRP */
	{0x1f800000, 0x11000000, i_addsub_imm},   /* ADD/SUB(S) imm */
	{0x1f800000, 0x12000000, i_logic_imm},    /* AND ORR EOR ANDS imm */
	{0x1f800000, 0x12800000, i_movw},         /* MOVN MOVZ MOVK */
	{0x1f800000, 0x13000000, i_bfm},          /* SBFM BFM UBFM */
	{0x1f800000, 0x13800000, i_extr},         /* EXTR */

	/* Data processing, register */
	{0x1f000000, 0x0a000000, i_logic_reg},    /* AND BIC ORR ORN EOR EON ANDS BICS */
	{0x1f200000, 0x0b000000, i_addsub_reg},   /* ADD/SUB(S) shifted */
	{0x1f200000, 0x0b200000, i_addsub_ext},   /* ADD/SUB(S) extended */
	{0x1fe0fc00, 0x1a000000, i_adc},          /* ADC SBC (S) */
	{0x3fe00410, 0x3a400000, i_ccmp},         /* CCMN CCMP reg/imm */
	{0x3fe00800, 0x1a800000, i_csel},         /* CSEL CSINC CSINV CSNEG */
	{0x5fe00000, 0x1ac00000, i_dp2},          /* UDIV SDIV LSLV LSRV ASRV RORV CRC32 */
	{0x5fe00000, 0x5ac00000, i_dp1},          /* RBIT REV16 REV32 REV CLZ CLS */
	{0x1f000000, 0x1b000000, i_dp3},          /* MADD MSUB SMADDL SMULH UMADDL UMULH */

	/* Loads and stores */
	{0x3f000000, 0x08000000, i_ldst_excl},    /* LDXR STXR LDAR STLR CAS CASP ... */
	{0x3b000000, 0x18000000, i_ld_lit},       /* LDR (literal), PRFM */
	{0x3a000000, 0x28000000, i_ldst_pair},    /* LDP STP LDNP STNP LDPSW */
	{0x3b200c00, 0x38200000, i_atomic},       /* LDADD LDCLR ... SWP */
	{0x3b200c00, 0x38200800, i_ldst_regoff},  /* LDR/STR (register) */
	{0x3b200000, 0x38000000, i_ldst_imm9},    /* LDUR, post/pre-index, LDTR */
	{0x3b000000, 0x39000000, i_ldst_uimm},    /* LDR/STR (unsigned offset) */
	{0xbfbf0000, 0x0c000000, i_simd_ldst_multi}, /* LD1-4/ST1-4 multiple */
	{0xbfa00000, 0x0c800000, i_simd_ldst_multi}, /* ... post-index */
	{0xbf9f0000, 0x0d000000, i_simd_ldst_single}, /* LD1-4/ST1-4 single, LDnR */
	{0xbf800000, 0x0d800000, i_simd_ldst_single}, /* ... post-index */

	/* Scalar floating point */
	{0x5f20fc00, 0x1e200000, i_fp_conv_int},  /* FMOV gen, FCVTxx, SCVTF, UCVTF */
	{0x5f200000, 0x1e000000, i_fp_conv_fixed},/* fixed-point conversions */
	{0x5f207c00, 0x1e204000, i_fp_1src},      /* FMOV FABS FNEG FSQRT FCVT FRINTx */
	{0x5f203c00, 0x1e202000, i_fp_cmp},       /* FCMP FCMPE */
	{0x5f201c00, 0x1e201000, i_fp_imm},       /* FMOV (immediate) */
	{0x5f200c00, 0x1e200400, i_fp_ccmp},      /* FCCMP FCCMPE */
	{0x5f200c00, 0x1e200800, i_fp_2src},      /* FMUL FDIV FADD FSUB FMAX FMIN ... */
	{0x5f200c00, 0x1e200c00, i_fp_csel},      /* FCSEL */
	{0x5f000000, 0x1f000000, i_fp_3src},      /* FMADD FMSUB FNMADD FNMSUB */

	/* Advanced SIMD */
	{0x9ff80400, 0x0f000400, i_simd_modimm},  /* MOVI MVNI ORR BIC FMOV (vector imm) */
	{0x9fe08400, 0x0e000400, i_simd_copy},    /* DUP INS UMOV SMOV */
	{0x9f800400, 0x0f000400, i_simd_shift_imm}, /* SHL USHR SSHR SHRN USHLL ... */
	{0x9f000400, 0x0f000000, i_simd_elem},    /* FMLA FMLS FMUL FMULX MUL MLA MLS (by element) */
	{0x9f200400, 0x0e200400, i_simd_3same},   /* ADD SUB AND ORR CMEQ ... FADD */
	{0x9f200c00, 0x0e200000, i_simd_3diff},   /* UADDL UMULL ... */
	{0x9f3e0c00, 0x0e200800, i_simd_2misc},   /* CNT NOT REV ABS NEG CMxx #0 ... */
	{0x9f3e0c00, 0x0e300800, i_simd_across},  /* ADDV UMAXV UADDLV ... */
	{0xbf208c00, 0x0e000800, i_simd_perm},    /* UZP TRN ZIP */
	{0xbfe08400, 0x2e000000, i_simd_ext},     /* EXT */
	{0xbfe08c00, 0x0e000000, i_simd_tbl},     /* TBL TBX */
	{0xdf3e0c00, 0x5e300800, i_simd_scalar_pair}, /* ADDP FADDP (scalar) */
	{0xdf200400, 0x5e200400, i_simd_scalar_3same},
	{0xdf3e0c00, 0x5e200800, i_simd_scalar_2misc},
	{0xdf800400, 0x5f000400, i_simd_scalar_shift},
	{0xdf000400, 0x5f000000, i_simd_scalar_elem}, /* FMLA FMLS FMUL FMULX (scalar, by element) */
};

a64_fn a64_decode(uint32_t insn)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if ((insn & table[i].mask) == table[i].value)
			return table[i].fn;
	return i_undef;
}

/* SOFTKVM_TRACE_UNDEF: one stderr line per guest undefined-instruction
 * exception, for finding the A64 forms a guest needs. Read once when the
 * library loads (before any VM exists); only the UNDEF path tests it. */
bool a64_trace_undef;

__attribute__((constructor)) static void trace_undef_init(void)
{
	a64_trace_undef = getenv("SOFTKVM_TRACE_UNDEF") != NULL;
}

void a64_trace_undef_print(struct a64 *c)
{
	const uint8_t *h = a64_tlb_hit(c, c->pc, c->el ? P_X1 : P_X0);
	if (h)
		fprintf(stderr, "softkvm: UNDEF at EL%u pc %#llx insn %08x\n", c->el, (unsigned long long)c->pc,
			(unsigned)sk_guest_load(h, 4));
	else
		fprintf(stderr, "softkvm: UNDEF at EL%u pc %#llx insn (not in the TLB)\n", c->el,
			(unsigned long long)c->pc);
}

void i_undef(struct a64 *c, uint32_t insn)
{
	(void)insn;
	a64_undef(c);
}

/* ---- decode cache ---- */

struct a64_dpage *a64_dcache_get(struct a64 *c, uint64_t pa)
{
	unsigned h = (unsigned)((pa >> 12) * 0x9e3779b1u) >> 26;   /* 64 buckets */
	struct a64_dpage *d = c->dcache[h % DCACHE_SIZE];
	if (d && d->pa == (pa | 1))
		return d;
	if (!d) {
		d = malloc(sizeof(*d));
		if (!d)
			a64_fail(c, -12);
		c->dcache[h % DCACHE_SIZE] = d;
	}
	d->pa = pa | 1;
	memset(d->fn, 0, sizeof(d->fn));
	return d;
}

void a64_dcache_free(struct a64 *c)
{
	for (unsigned i = 0; i < DCACHE_SIZE; i++) {
		free(c->dcache[i]);
		c->dcache[i] = NULL;
	}
}
