/* Arm floating point per element (single and double precision), on raw
 * bits, as the Arm ARM's pseudocode defines it: FPUnpack with FPCR.FZ
 * (denormal inputs flushed, IDC), FPProcessNaNs with FPCR.DN, FPRound with
 * FPCR.RMode, tininess detected before rounding, outputs flushed under FZ
 * (UFC, no IXC). Flags accumulate in c->fpsr. Used by the scalar FP
 * (exec_fp.c) and Advanced SIMD (exec_simd.c) handlers.
 */
#ifndef SK_ARM64_FPU_H
#define SK_ARM64_FPU_H

#include "arch/arm64/a64.h"

/* FPSR cumulative flags and FPCR controls. */
#define FPSR_IOC 0x01u
#define FPSR_DZC 0x02u
#define FPSR_OFC 0x04u
#define FPSR_UFC 0x08u
#define FPSR_IXC 0x10u
#define FPSR_IDC 0x80u
#define FPSR_QC 0x08000000u   /* saturation (integer SIMD) */
#define FPCR_DN (1u << 25)
#define FPCR_FZ (1u << 24)

/* Two-operand operations (fpu_op2). */
enum fpu_op {
	FO_ADD, FO_SUB, FO_MUL, FO_DIV, FO_MAX, FO_MIN, FO_MAXNM, FO_MINNM,
	FO_NMUL, FO_MULX, FO_ABD, FO_RECPS, FO_RSQRTS,
};

/* Rounding modes for conversions: FPCR's encoding, then ties-away, FPCR's
 * own and round-to-odd. */
enum { FR_N, FR_P, FR_M, FR_Z, FR_A, FR_FPCR, FR_ODD };

/* Comparison results. */
enum { FC_EQ, FC_LT, FC_GT, FC_UN };

uint64_t fpu_op2(struct a64 *c, unsigned op, uint64_t a, uint64_t b, bool d);
uint64_t fpu_fma(struct a64 *c, uint64_t acc, uint64_t n, uint64_t m, bool d);   /* acc + n*m */
uint64_t fpu_sqrt(struct a64 *c, uint64_t x, bool d);
uint64_t fpu_recpe(struct a64 *c, uint64_t x, bool d);
uint64_t fpu_rsqrte(struct a64 *c, uint64_t x, bool d);
uint64_t fpu_recpx(struct a64 *c, uint64_t x, bool d);
/* Single <-> double; to_d gives the direction. mode FR_FPCR or FR_ODD. */
uint64_t fpu_cvt(struct a64 *c, uint64_t x, bool to_d, unsigned mode);
/* Half <-> single/double (FPCR.AHP honoured); widths 16, 32, 64. */
uint64_t fpu_cvt_half(struct a64 *c, uint64_t x, unsigned from_bits, unsigned to_bits);
uint64_t fpu_rint(struct a64 *c, uint64_t x, bool d, unsigned mode, bool exact);
uint64_t fpu_to_int(struct a64 *c, uint64_t x, bool d, unsigned fbits, unsigned mode, bool is_signed,
		    unsigned ibits);
uint64_t fpu_from_int(struct a64 *c, uint64_t v, bool is_signed, unsigned ibits, unsigned fbits, bool d);
unsigned fpu_cmp(struct a64 *c, uint64_t a, uint64_t b, bool d, bool signal_qnan);
uint64_t fpu_default_nan(bool d);

/* Advanced SIMD floating point (simd_fp.c), called by exec_simd.c's group
 * handlers; scalar selects the scalar form of the group. */
void a64_simd_fp_3same(struct a64 *c, uint32_t insn, bool scalar);
void a64_simd_fp_2misc(struct a64 *c, uint32_t insn, bool scalar);
bool a64_simd_fp_2misc_is_fp(uint32_t insn);
void a64_simd_fp_across(struct a64 *c, uint32_t insn);
void a64_simd_fp_pair(struct a64 *c, uint32_t insn);
void a64_simd_fp_fixed(struct a64 *c, uint32_t insn, bool scalar);

#endif
