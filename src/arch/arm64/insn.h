/* The A64 instruction handlers the decode table names (decode.c). Each
 * takes the raw word and extracts its fields; the table chose it by
 * mask/value, so a handler only rejects the encodings inside its pattern
 * that are unallocated (a64_undef). */
#ifndef SK_ARM64_INSN_H
#define SK_ARM64_INSN_H

#include "arch/arm64/a64.h"

#define H(n) void n(struct a64 *c, uint32_t insn)
/* exec_dp.c */
H(i_adr); H(i_addsub_imm); H(i_logic_imm); H(i_movw); H(i_bfm); H(i_extr);
H(i_logic_reg); H(i_addsub_reg); H(i_addsub_ext); H(i_adc); H(i_ccmp); H(i_csel);
H(i_dp2); H(i_dp1); H(i_dp3);
/* exec_branch.c */
H(i_b); H(i_cb); H(i_tb); H(i_bcond); H(i_br); H(i_eret); H(i_exc); H(i_hint);
H(i_barrier); H(i_msr_imm); H(i_sys); H(i_mrs); H(i_msr); H(i_undef);
/* exec_mem.c */
H(i_ldst_excl); H(i_ld_lit); H(i_ldst_pair); H(i_ldst_imm9); H(i_ldst_uimm);
H(i_ldst_regoff); H(i_atomic);
/* exec_fp.c */
H(i_fp_conv_int); H(i_fp_conv_fixed); H(i_fp_1src); H(i_fp_cmp); H(i_fp_imm); H(i_fp_ccmp);
H(i_fp_2src); H(i_fp_csel); H(i_fp_3src);
/* exec_simd.c */
H(i_simd_modimm); H(i_simd_copy); H(i_simd_3same); H(i_simd_2misc); H(i_simd_across);
H(i_simd_shift_imm); H(i_simd_perm); H(i_simd_ext); H(i_simd_ldst_multi);
H(i_simd_ldst_single); H(i_simd_tbl); H(i_simd_3diff); H(i_simd_scalar_pair);
H(i_simd_scalar_3same); H(i_simd_scalar_2misc); H(i_simd_scalar_shift);
/* simd_fp.c */
H(i_simd_elem); H(i_simd_scalar_elem);
#undef H

bool a64_cond(uint32_t nzcv, unsigned cond);
uint64_t a64_decode_bitmask(unsigned n, unsigned imms, unsigned immr, bool sf, bool *ok);

/* SIMD&FP (exec_fp.c; the per-element arithmetic is fpu.h's). */
void a64_vclear_high(struct a64 *c, unsigned r, unsigned bytes);  /* zero above `bytes` */

#endif
