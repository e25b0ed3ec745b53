/* Differential test of the A64 interpreter: random instruction sequences
 * run as an arm64 guest on softkvm and, as an ordinary aarch64 program,
 * on the reference (qemu-aarch64 user mode on x86-64 hosts, the CPU itself
 * on arm64 hosts); x0-x17, NZCV, v0-v7 and the memory they touch must
 * match. Usage: test-arm64-diff COUNT SEED RUNNER-COMMAND...
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "a64t.h"
#include "diff.h"

#define STUB_GPA RAM_GPA
#define BLOB_GPA (RAM_GPA + 0x1000)
#define STATE_GPA (RAM_GPA + 0x10000)

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned rn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static unsigned R(void)
{
	return rn(16);
}

static unsigned V(void)
{
	return rn(8);
}

/* A valid logical immediate (N, immr, imms). */
static uint32_t logic_imm_fields(unsigned sf)
{
	for (;;) {
		unsigned n = sf ? rn(2) : 0, immr = rn(64), imms = rn(64);
		unsigned combined = (n << 6) | (~imms & 0x3f);
		int len = -1;
		for (int i = 6; i >= 0; i--)
			if (combined & (1u << i)) {
				len = i;
				break;
			}
		if (len < 1)
			continue;
		unsigned levels = (1u << len) - 1;
		if ((imms & levels) == levels)
			continue;
		if (!sf)
			immr &= 31;
		return (n << 22) | (immr << 16) | (imms << 10);
	}
}

static uint32_t gen(bool last)
{
	unsigned sf = rn(2);
	unsigned w = sf ? 64 : 32;
	for (;;) {
		/* A64_DIFF_FP=1: the floating-point forms only (cases 27-39) */
		static int fp_only = -1;
		if (fp_only < 0)
			fp_only = getenv("A64_DIFF_FP") != NULL;
		switch (fp_only ? 27 + rn(13) : rn(47)) {
		case 0:
			return 0x11000000 | sf << 31 | rn(2) << 30 | rn(2) << 29 | rn(2) << 22 | rn(4096) << 10 | R() << 5 | R();
		case 1:
			return 0x12000000 | sf << 31 | rn(4) << 29 | logic_imm_fields(sf) | R() << 5 | R();
		case 2: {
			unsigned opc = (unsigned[]){0, 2, 3}[rn(3)];
			return 0x12800000 | sf << 31 | opc << 29 | rn(sf ? 4 : 2) << 21 | rn(65536) << 5 | R();
		}
		case 3:
			return 0x13000000 | sf << 31 | rn(3) << 29 | sf << 22 | rn(w) << 16 | rn(w) << 10 | R() << 5 | R();
		case 4:
			return 0x13800000 | sf << 31 | sf << 22 | R() << 16 | rn(w) << 10 | R() << 5 | R();
		case 5:
			return 0x0a000000 | sf << 31 | rn(4) << 29 | rn(4) << 22 | rn(2) << 21 | R() << 16 | rn(w) << 10 |
			       R() << 5 | R();
		case 6:
			return 0x0b000000 | sf << 31 | rn(2) << 30 | rn(2) << 29 | rn(3) << 22 | R() << 16 | rn(w) << 10 |
			       R() << 5 | R();
		case 7:
			return 0x0b200000 | sf << 31 | rn(2) << 30 | rn(2) << 29 | R() << 16 | rn(8) << 13 | rn(5) << 10 |
			       R() << 5 | R();
		case 8:
			return 0x1a000000 | sf << 31 | rn(2) << 30 | rn(2) << 29 | R() << 16 | R() << 5 | R();
		case 9:
			return 0x3a400000 | sf << 31 | rn(2) << 30 | R() << 16 | rn(16) << 12 | rn(2) << 11 | R() << 5 | rn(16);
		case 10:
			return 0x1a800000 | sf << 31 | rn(2) << 30 | R() << 16 | rn(16) << 12 | rn(2) << 10 | R() << 5 | R();
		case 11: {
			static const unsigned ops[] = {2, 3, 8, 9, 10, 11};
			return 0x1ac00000 | sf << 31 | R() << 16 | ops[rn(6)] << 10 | R() << 5 | R();
		}
		case 12: {
			unsigned op = sf ? (unsigned[]){19, 23}[rn(2)] : (unsigned[]){16, 17, 18, 20, 21, 22}[rn(6)];
			return 0x1ac00000 | sf << 31 | R() << 16 | op << 10 | R() << 5 | R();
		}
		case 13: {
			unsigned op = (unsigned[]){0, 1, 2, 3, 4, 5}[rn(sf ? 6 : 5)];
			if (!sf && op == 3)
				op = 4;
			return 0x5ac00000 | sf << 31 | op << 10 | R() << 5 | R();
		}
		case 14: {
			static const unsigned op31s[] = {0, 1, 5, 2, 6};
			unsigned op31 = sf ? op31s[rn(5)] : 0, o0 = (op31 == 2 || op31 == 6) ? 0 : rn(2);
			return 0x1b000000 | sf << 31 | op31 << 21 | R() << 16 | o0 << 15 | R() << 10 | R() << 5 | R();
		}
		case 15: case 16: {   /* LDR/STR unsigned offset, base x17 */
			unsigned size = rn(4), opc = rn(size == 3 ? 2 : size == 2 ? 3 : 4);
			return 0x39000000 | size << 30 | opc << 22 | rn(128) << 10 | 17 << 5 | R();
		}
		case 17: {            /* unscaled / post / pre, base x17 */
			unsigned size = rn(4), opc = rn(size == 3 ? 2 : size == 2 ? 3 : 4), type = (unsigned[]){0, 1, 3}[rn(3)];
			unsigned imm9 = (unsigned)(rn(129) - 64) & 0x1ff;
			return 0x38000000 | size << 30 | opc << 22 | imm9 << 12 | type << 10 | 17 << 5 | R();
		}
		case 18: {            /* LDP/STP/LDPSW, base x17 */
			unsigned opc = rn(3), l = rn(2), idx = 1 + rn(3);
			if (opc == 1)
				l = 1;
			unsigned rt = R(), rt2 = R();
			if (l && rt == rt2)
				continue;
			unsigned imm7 = (unsigned)(rn(33) - 16) & 0x7f;
			return 0x28000000 | opc << 30 | idx << 23 | l << 22 | imm7 << 15 | rt2 << 10 | 17 << 5 | rt;
		}
		case 19:              /* B.cond / CBZ / TBZ over the next instruction */
			if (last)
				continue;
			switch (rn(3)) {
			case 0: return 0x54000000 | 2 << 5 | rn(15);
			case 1: return 0x34000000 | sf << 31 | rn(2) << 24 | 2 << 5 | R();
			default: return 0x36000000 | rn(2) << 31 | rn(2) << 24 | rn(32) << 19 | 2 << 5 | R();
			}
		case 20: {            /* ADD SUB MUL CMxx (vector) */
			static const unsigned ops[] = {0x10, 0x11, 0x06, 0x07, 0x13, 0x0c, 0x0d, 0x17};
			unsigned q = rn(2), u = rn(2), size = rn(q ? 4 : 3), op = ops[rn(8)];
			if ((op == 0x13 || op == 0x0c || op == 0x0d || op == 0x17) && size == 3)
				size = 2;
			if (op == 0x13)
				u = 0;
			if (op == 0x17)
				u = 0;
			return 0x0e200400 | q << 30 | u << 29 | size << 22 | V() << 16 | op << 11 | V() << 5 | V();
		}
		case 21:              /* logical (vector) */
			return 0x0e201c00 | rn(2) << 30 | rn(2) << 29 | rn(4) << 22 | V() << 16 | V() << 5 | V();
		case 22: {            /* CNT, NOT, REV64, ABS, NEG, CMEQ #0, XTN */
			unsigned q = rn(2);
			switch (rn(5)) {
			case 0: return 0x0e205800 | q << 30 | V() << 5 | V();
			case 1: return 0x2e205800 | q << 30 | V() << 5 | V();
			case 2: return 0x0e200800 | q << 30 | rn(3) << 22 | V() << 5 | V();
			case 3: return 0x0e20b800 | q << 30 | rn(2) << 29 | rn(q ? 4 : 3) << 22 | V() << 5 | V();
			default: return 0x0e212800 | q << 30 | rn(3) << 22 | V() << 5 | V();
			}
		}
		case 23: {            /* ADDV, UMOV, DUP (general), INS (general) */
			unsigned q = rn(2), size = rn(4), imm5 = (1u << size) | (rn(16 >> size) << (size + 1));
			switch (rn(4)) {
			case 0: return 0x0e31b800 | 1u << 30 | rn(3) << 22 | V() << 5 | V();
			case 1:
				if (size == 3)
					return 0x4e083c00 | rn(2) << 20 | V() << 5 | R();
				imm5 &= 0x1f;
				if (size < 3 && (imm5 >> (size + 1)) >= (8u >> size))
					imm5 = 1u << size;
				return 0x0e003c00 | imm5 << 16 | V() << 5 | R();
			case 2:
				if (size == 3)
					q = 1;
				return 0x0e000c00 | q << 30 | (imm5 & 0x1f) << 16 | R() << 5 | V();
			default: return 0x4e001c00 | (imm5 & 0x1f) << 16 | R() << 5 | V();
			}
		}
		case 24: {            /* ZIP/UZP/TRN, EXT */
			unsigned q = rn(2), size = rn(q ? 4 : 3);
			if (rn(2)) {
				unsigned opc = (unsigned[]){1, 2, 3, 5, 6, 7}[rn(6)];
				return 0x0e000800 | q << 30 | size << 22 | V() << 16 | opc << 12 | V() << 5 | V();
			}
			return 0x2e000000 | q << 30 | V() << 16 | rn(q ? 16 : 8) << 11 | V() << 5 | V();
		}
		case 25: {            /* SHL, [SU]SHR, [SU]SRA, [SU]SHLL */
			unsigned q = rn(2), esz = rn(q ? 4 : 3);
			switch (rn(3)) {
			case 0:
				return 0x0f005400 | q << 30 | ((8u << esz) + rn(8u << esz)) << 16 | V() << 5 | V();
			case 1:
				return 0x0f000400 | q << 30 | rn(2) << 29 | rn(2) << 12 | ((8u << esz) + rn(8u << esz)) << 16 |
				       V() << 5 | V();
			default:
				if (esz == 3)
					esz = 2;
				return 0x0f00a400 | q << 30 | rn(2) << 29 | ((8u << esz) + rn(8u << esz)) << 16 | V() << 5 | V();
			}
		}
		case 26: {            /* every shift by immediate: rounding, inserting, saturating, narrowing */
			unsigned q = rn(2), u = rn(2), esz = rn(4);
			switch (rn(4)) {
			case 0: {     /* [SU]SHR [SU]SRA [SU]RSHR [SU]RSRA SRI SHL SLI SQSHLU [SU]QSHL */
				unsigned opc = (unsigned[]){0, 2, 4, 6, 8, 0x0a, 0x0c, 0x0e}[rn(8)];
				if (opc == 8 || opc == 0x0c)
					u = 1;
				if (esz == 3)
					q = 1;
				unsigned hb = opc >= 0x0a ? (8u << esz) + rn(8u << esz) : (16u << esz) - 1 - rn(8u << esz);
				return 0x0f000400 | q << 30 | u << 29 | hb << 16 | opc << 11 | V() << 5 | V();
			}
			case 1: {     /* SHRN RSHRN SQSHRUN SQRSHRUN [SU]QSHRN [SU]QRSHRN (and the "2" forms) */
				esz = rn(3);
				unsigned opc = 0x10 + rn(4), hb = (16u << esz) - 1 - rn(8u << esz);
				return 0x0f000400 | q << 30 | u << 29 | hb << 16 | opc << 11 | V() << 5 | V();
			}
			case 2: {     /* scalar: D-only shifts, saturating left shifts of every size */
				unsigned opc = (unsigned[]){0, 2, 4, 6, 8, 0x0a, 0x0c, 0x0e}[rn(8)];
				if (opc == 8 || opc == 0x0c)
					u = 1;
				if (opc < 0x0c)
					esz = 3;
				unsigned hb = opc >= 0x0a ? (8u << esz) + rn(8u << esz) : (16u << esz) - 1 - rn(8u << esz);
				return 0x5f000400 | u << 29 | hb << 16 | opc << 11 | V() << 5 | V();
			}
			default: {    /* scalar saturating narrows */
				esz = rn(3);
				unsigned opc = 0x10 + rn(4), hb = (16u << esz) - 1 - rn(8u << esz);
				if (opc < 0x12)
					u = 1;
				return 0x5f000400 | u << 29 | hb << 16 | opc << 11 | V() << 5 | V();
			}
			}
		}
		case 40: {            /* pairwise UMAXP UMINP SMAXP SMINP ADDP; CMHS CMHI; saturating add/sub */
			unsigned q = rn(2), u = rn(2), size = rn(3);
			unsigned op = (unsigned[]){0x14, 0x15, 0x17, 0x06, 0x07, 0x01, 0x05, 0x11}[rn(8)];
			if (op == 0x17)
				u = 0;
			if (op != 0x14 && op != 0x15 && q && rn(4) == 0)
				size = 3;
			return 0x0e200400 | q << 30 | u << 29 | size << 22 | V() << 16 | op << 11 | V() << 5 | V();
		}
		case 41: {            /* XTN SQXTUN SQXTN UQXTN (and "2"), TBL TBX, UMAXV UMINV SMAXV SMINV */
			unsigned q = rn(2), size = rn(3);
			switch (rn(3)) {
			case 0: {
				unsigned k = rn(4);
				return 0x0e200800 | q << 30 | (k & 1) << 29 | size << 22 | (k & 2 ? 0x14 : 0x12) << 12 | V() << 5 |
				       V();
			}
			case 1: {     /* the table registers stay within v0-v7 */
				unsigned len = rn(4);
				return 0x0e000000 | q << 30 | V() << 16 | len << 13 | rn(2) << 12 | rn(8 - len) << 5 | V();
			}
			default:
				if (size == 2)
					q = 1;
				return 0x0e30a800 | q << 30 | rn(2) << 29 | size << 22 | rn(2) << 16 | V() << 5 | V();
			}
		}
		case 42: {            /* long, wide, narrow-high: [SU]ADDL/W [SU]SUBL/W [SU]MULL [SU]MLAL [SU]MLSL
				       * [SU]ABAL [SU]ABDL [R]ADDHN [R]SUBHN SQDMULL SQDMLAL SQDMLSL */
			unsigned op = (unsigned[]){0, 1, 2, 3, 8, 10, 12, 4, 5, 6, 7, 9, 11, 13}[rn(14)];
			unsigned u = rn(2), size = rn(3);
			if (op == 9 || op == 11 || op == 13)
				u = 0, size = 1 + rn(2);
			return 0x0e200000 | rn(2) << 30 | u << 29 | size << 22 | V() << 16 | op << 12 | V() << 5 | V();
		}
		case 43:              /* SQDMULH SQRDMULH (vector) */
			return 0x0e20b400 | rn(2) << 30 | rn(2) << 29 | (1 + rn(2)) << 22 | V() << 16 | V() << 5 | V();
		case 44: {            /* by element: [SU]MULL [SU]MLAL [SU]MLSL SQDMULL SQDMLAL SQDMLSL SQDMULH SQRDMULH */
			static const unsigned ik[][2] = {{0, 10}, {1, 10}, {0, 2}, {1, 2}, {0, 6}, {1, 6},
							 {0, 11}, {0, 3}, {0, 7}, {0, 12}, {0, 13}};
			unsigned i = rn(11), size = 1 + rn(2), m = size == 1 ? rn(2) : 0;
			return 0x0f000000 | rn(2) << 30 | ik[i][0] << 29 | size << 22 | rn(2) << 21 | m << 20 | V() << 16 |
			       ik[i][1] << 12 | rn(2) << 11 | V() << 5 | V();
		}
		case 45: {            /* shifts by register, saturating add/sub/doubling-multiply: vector and scalar */
			unsigned op = (unsigned[]){0x08, 0x09, 0x0a, 0x0b, 0x01, 0x05, 0x16}[rn(7)];
			unsigned q = rn(2), u = rn(2), size = rn(q ? 4 : 3);
			if (op == 0x16)
				size = 1 + rn(2);
			unsigned m = V();
			if (rn(3) == 0) {
				if (op == 0x08 || op == 0x0a)
					size = 3;
				return 0x5e200400 | u << 29 | size << 22 | m << 16 | op << 11 | V() << 5 | V();
			}
			return 0x0e200400 | q << 30 | u << 29 | size << 22 | m << 16 | op << 11 | V() << 5 | V();
		}
		case 46: {            /* SQABS SQNEG SUQADD USQADD, scalar SQXTN UQXTN SQXTUN */
			unsigned q = rn(2), u = rn(2), size = rn(q ? 4 : 3), op = rn(2) ? 0x07 : 0x03;
			switch (rn(3)) {
			case 0: return 0x0e200800 | q << 30 | u << 29 | size << 22 | op << 12 | V() << 5 | V();
			case 1: return 0x5e200800 | u << 29 | rn(4) << 22 | op << 12 | V() << 5 | V();
			default:
				return 0x5e200800 | u << 29 | rn(3) << 22 | (u && rn(2) ? 0x12 : 0x14) << 12 | V() << 5 | V();
			}
		}
		case 27: {            /* scalar FP: 2-source, 3-source */
			unsigned t = rn(2);
			if (rn(2))
				return 0x1e200800 | t << 22 | V() << 16 | rn(9) << 12 | V() << 5 | V();
			return 0x1f000000 | t << 22 | rn(2) << 21 | V() << 16 | rn(2) << 15 | V() << 10 | V() << 5 | V();
		}
		case 28: {            /* scalar FP: 1-source, FMOV (immediate) */
			unsigned t = rn(2);
			static const unsigned ops[] = {0, 1, 2, 3, 8, 9, 10, 11, 12, 14, 15, 4};
			unsigned op = ops[rn(12)];
			if (op == 4)
				op = t ? 4 : 5;
			if (rn(4) == 0)
				return 0x1e201000 | t << 22 | rn(256) << 13 | V();
			if (rn(5) == 0) {   /* FCVT between half, single and double */
				static const unsigned cv[][2] = {{3, 4}, {3, 5}, {0, 7}, {1, 7}};
				unsigned i = rn(4);
				return 0x1e204000 | cv[i][0] << 22 | cv[i][1] << 15 | V() << 5 | V();
			}
			return 0x1e204000 | t << 22 | op << 15 | V() << 5 | V();
		}
		case 29: {            /* FCMP(E), FCCMP, FCSEL */
			unsigned t = rn(2);
			switch (rn(3)) {
			case 0: {
				unsigned opc = rn(4) << 3;
				return 0x1e202000 | t << 22 | ((opc & 8) ? 0 : V()) << 16 | V() << 5 | opc;
			}
			case 1: return 0x1e200400 | t << 22 | V() << 16 | rn(16) << 12 | V() << 5 | rn(2) << 4 | rn(16);
			default: return 0x1e200c00 | t << 22 | V() << 16 | rn(16) << 12 | V() << 5 | V();
			}
		}
		case 30: {            /* FP <-> integer conversions, FMOV (general) */
			unsigned t = rn(2);
			switch (rn(4)) {
			case 0: return 0x1e200000 | sf << 31 | t << 22 | rn(4) << 19 | rn(2) << 16 | V() << 5 | R();
			case 1: return 0x1e240000 | sf << 31 | t << 22 | rn(2) << 16 | V() << 5 | R();
			case 2: return 0x1e220000 | sf << 31 | t << 22 | rn(2) << 16 | R() << 5 | V();
			default: return 0x1e260000 | sf << 31 | sf << 22 | rn(2) << 16 | (rn(2) ? V() << 5 | R() : R() << 5 | V());
			}
		}
		case 31: {            /* vector FP three-same */
			static const unsigned k[][3] = {
				{0, 0, 0x1a}, {0, 1, 0x1a}, {1, 0, 0x1a}, {1, 1, 0x1a}, {1, 0, 0x1b}, {1, 0, 0x1f},
				{0, 0, 0x1e}, {0, 1, 0x1e}, {0, 0, 0x18}, {0, 1, 0x18}, {0, 0, 0x19}, {0, 1, 0x19},
				{0, 0, 0x1c}, {1, 0, 0x1c}, {1, 1, 0x1c},
			};
			unsigned i = rn(15), q = rn(2), sz = q ? rn(2) : 0;
			return 0x0e200400 | q << 30 | k[i][0] << 29 | (k[i][1] << 1 | sz) << 22 | V() << 16 | k[i][2] << 11 |
			       V() << 5 | V();
		}
		case 32: {            /* vector and scalar FP three-same, every form */
			static const unsigned k[][3] = {
				{0, 0, 0x18}, {0, 1, 0x18}, {0, 0, 0x19}, {0, 1, 0x19}, {0, 0, 0x1a}, {0, 1, 0x1a},
				{0, 0, 0x1b}, {0, 0, 0x1c}, {0, 0, 0x1e}, {0, 1, 0x1e}, {0, 0, 0x1f}, {0, 1, 0x1f},
				{1, 0, 0x18}, {1, 1, 0x18}, {1, 0, 0x1a}, {1, 0, 0x1b}, {1, 0, 0x1c}, {1, 0, 0x1d},
				{1, 0, 0x1e}, {1, 1, 0x1e}, {1, 0, 0x1f}, {1, 1, 0x1a}, {1, 1, 0x1c}, {1, 1, 0x1d},
			};
			static const unsigned sk[] = {6, 7, 10, 11, 16, 17, 21, 22, 23};   /* with a scalar form */
			unsigned q = rn(2), sz = q ? rn(2) : 0;
			if (rn(3) == 0) {
				unsigned i = sk[rn(9)];
				return 0x5e200400 | k[i][0] << 29 | (k[i][1] << 1 | rn(2)) << 22 | V() << 16 | k[i][2] << 11 |
				       V() << 5 | V();
			}
			unsigned i = rn(24);
			return 0x0e200400 | q << 30 | k[i][0] << 29 | (k[i][1] << 1 | sz) << 22 | V() << 16 | k[i][2] << 11 |
			       V() << 5 | V();
		}
		case 33: {            /* vector and scalar FP two-register miscellaneous */
			static const unsigned k[][3] = {
				{0, 0, 0x1a}, {0, 1, 0x1a}, {0, 0, 0x1b}, {0, 1, 0x1b}, {0, 0, 0x1c}, {1, 0, 0x1a},
				{1, 1, 0x1a}, {1, 0, 0x1b}, {1, 1, 0x1b}, {1, 0, 0x1c}, {0, 0, 0x1d}, {1, 0, 0x1d},
				{0, 1, 0x1d}, {1, 1, 0x1d}, {0, 1, 0x0c}, {0, 1, 0x0d}, {0, 1, 0x0e}, {1, 1, 0x0c},
				{1, 1, 0x0d},
				/* vector only from here */
				{0, 1, 0x0f}, {1, 1, 0x0f}, {1, 1, 0x1f}, {0, 0, 0x18}, {0, 1, 0x18}, {0, 0, 0x19},
				{0, 1, 0x19}, {1, 0, 0x18}, {1, 0, 0x19}, {1, 1, 0x19},
			};
			unsigned q = rn(2), sz = q ? rn(2) : 0;
			switch (rn(6)) {
			case 0: {     /* scalar, FRECPX, FCVTXN */
				unsigned r = rn(21);
				if (r == 19)
					return 0x5ea1f800 | rn(2) << 22 | V() << 5 | V();   /* FRECPX */
				if (r == 20)
					return 0x7e616800 | V() << 5 | V();                 /* FCVTXN */
				return 0x5e200800 | k[r][0] << 29 | (k[r][1] << 1 | rn(2)) << 22 | k[r][2] << 12 | V() << 5 | V();
			}
			case 1:       /* FCVTN FCVTXN FCVTL (single <-> double), FCVTN FCVTL (half <-> single) */
				return (unsigned[]){0x0e616800, 0x2e616800, 0x0e617800, 0x0e216800, 0x0e217800}[rn(5)] | q << 30 |
				       V() << 5 | V();
			default: {
				unsigned i = rn(29);
				return 0x0e200800 | q << 30 | k[i][0] << 29 | (k[i][1] << 1 | sz) << 22 | k[i][2] << 12 |
				       V() << 5 | V();
			}
			}
		}
		case 34: {            /* by element: FMLA FMLS FMUL FMULX (vector, scalar), MUL MLA MLS */
			static const unsigned fk[][2] = {{0, 1}, {0, 5}, {0, 9}, {1, 9}};
			unsigned q = rn(2), h = rn(2), l = rn(2), m = rn(2);
			if (rn(4) == 0) {
				static const unsigned ik[][2] = {{0, 8}, {1, 0}, {1, 4}};
				unsigned i = rn(3), size = 1 + rn(2);
				return 0x0f000000 | q << 30 | ik[i][0] << 29 | size << 22 | l << 21 | (size == 1 ? m : 0) << 20 |
				       V() << 16 | ik[i][1] << 12 | h << 11 | V() << 5 | V();
			}
			unsigned i = rn(4), sz = rn(2), scalar = rn(3) == 0;
			if (sz)
				q = 1, l = 0;
			return (scalar ? 0x5f000000 : 0x0f000000 | q << 30) | fk[i][0] << 29 | (2 | sz) << 22 | l << 21 |
			       V() << 16 | fk[i][1] << 12 | h << 11 | V() << 5 | V();
		}
		case 35:              /* FMAXNMV FMINNMV FMAXV FMINV; scalar FADDP FMAXP ... */
			if (rn(2))
				return (unsigned[]){0x6e30c800, 0x6eb0c800, 0x6e30f800, 0x6eb0f800}[rn(4)] | V() << 5 | V();
			return (unsigned[]){0x7e30c800, 0x7eb0c800, 0x7e30d800, 0x7e30f800, 0x7eb0f800}[rn(5)] |
			       rn(2) << 22 | V() << 5 | V();
		case 36: {            /* fixed-point conversions: vector, scalar (SIMD), scalar (FP) */
			unsigned q = rn(2), d = rn(2), u = rn(2), opc = rn(2) ? 0x1c : 0x1f;
			switch (rn(3)) {
			case 0:
				if (d)
					q = 1;
				return 0x0f000400 | q << 30 | u << 29 | (d ? 64 + rn(64) : 32 + rn(32)) << 16 | opc << 11 |
				       V() << 5 | V();
			case 1:
				return 0x5f000400 | u << 29 | (d ? 64 + rn(64) : 32 + rn(32)) << 16 | opc << 11 | V() << 5 | V();
			default: {
				unsigned scale = sf ? rn(64) : 32 + rn(32), t = rn(2);
				if (rn(2))   /* FCVTZS FCVTZU */
					return 0x1e180000 | sf << 31 | t << 22 | u << 16 | scale << 10 | V() << 5 | R();
				return 0x1e020000 | sf << 31 | t << 22 | u << 16 | scale << 10 | R() << 5 | V();
			}
			}
		}
		case 37: case 38: case 39:   /* more scalar FP arithmetic */
			if (rn(2)) {
				unsigned t = rn(2);
				return 0x1e200800 | t << 22 | V() << 16 | rn(9) << 12 | V() << 5 | V();
			}
			return 0x1f000000 | rn(2) << 22 | rn(2) << 21 | V() << 16 | rn(2) << 15 | V() << 10 | V() << 5 | V();
		default: {            /* MOVI / MVNI / ORR / BIC (vector, immediate) */
			unsigned q = rn(2), op = rn(2), cmode = rn(15), abc = rn(8), defgh = rn(32);
			return 0x0f000400 | q << 30 | op << 29 | abc << 16 | cmode << 12 | defgh << 5 | V();
		}
		}
	}
}

/* ---- blobs ---- */

/* FPCR: RMode always random; FZ and DN each in a quarter of the blobs
 * (A64_DIFF_FPCR=0 keeps the default, for bisecting). */
static uint32_t fpcr_bits(void)
{
	uint32_t v = (uint32_t)rn(4) << 22;
	if (rn(4) == 0)
		v |= 1u << 24;
	if (rn(4) == 0)
		v |= 1u << 25;
	if (rn(4) == 0)
		v |= 1u << 26;   /* AHP */
	if (getenv("A64_DIFF_FPCR"))
		v = (uint32_t)strtoul(getenv("A64_DIFF_FPCR"), NULL, 0);
	return v;
}

/* Set for some blobs: most FP lanes then come from class 5 below. */
static bool tiny_mode;
static unsigned tiny_mode_d;   /* 0: doubles, 1: singles in every half */

/* An interesting single or double: specials, denormals, values around the
 * smallest normal and around its square root (products that underflow),
 * small integers, ones, arbitrary bits. */
static uint64_t fp_value(bool d)
{
	unsigned fb = d ? 52 : 23, eb = d ? 11 : 8, bias = d ? 1023 : 127;
	uint64_t sign = (uint64_t)rn(2) << (fb + eb), frac = rnd() & ((1ull << fb) - 1), e;
	switch (tiny_mode && rn(4) ? 5 : rn(12)) {
	case 0: return sign;                                          /* zero */
	case 1: return sign | ((1ull << eb) - 1) << fb;               /* infinity */
	case 2: return sign | ((1ull << eb) - 1) << fb | (frac | 1);  /* NaN, quiet or signalling */
	case 3: return sign | (frac >> rn((unsigned)fb));             /* denormal */
	case 4: e = 1 + rn(2); break;                                 /* just above the smallest normal */
	case 5:   /* around the square root of the smallest normal, mantissas near 1 or 2: products
		   * just below the smallest normal that round up to it (tininess before rounding) */
		e = bias / 2 - 3 + rn(8);
		if (tiny_mode) {   /* (1 + k ulp) 2^(b/2+1) times (2 - 2k ulp) 2^(b/2): 2^-bias+1 (1 - 2k^2 ulp^2) */
			unsigned k = 1 + rn(2);
			bool big = rn(2);
			e = bias / 2 + !big;
			frac = big ? ((1ull << fb) - 1) - (2 * k - 1) : k;
		} else if (rn(3)) {
			frac = rn(2) ? rn(4) : ((1ull << fb) - 1) - rn(4);
		}
		break;
	case 6: { double v = (double)(int)(rn(200) - 100) / (1 + rn(4)); float f = (float)v;
		uint64_t x = 0; if (d) memcpy(&x, &v, 8); else { uint32_t w; memcpy(&w, &f, 4); x = w; } return x; }
	case 7: e = bias - 1 + rn(3); frac &= rn(2) ? 0xf : ~0ull; break;   /* around one */
	case 8: e = ((1ull << eb) - 2) - rn(3); break;                /* huge */
	case 9: e = rn(2) ? bias + 24 + rn(40) : bias + 60 + rn(8); break;  /* around integer limits */
	default: return rnd() & (d ? ~0ull : 0xffffffffull);
	}
	return sign | e << fb | frac;
}

static unsigned emit_blob(uint32_t *w, const uint32_t *body, unsigned n, uint32_t fpcr)
{
	unsigned k = 0;
	w[k++] = 0xf9400000 | (DIFF_OFF_NZCV / 8) << 10 | 16 << 5 | 0;   /* ldr x0, [x16, #nzcv] */
	w[k++] = 0xd51b4200;                                            /* msr nzcv, x0 */
	w[k++] = 0xd2a00000 | (fpcr >> 16) << 5;                        /* movz x0, #fpcr, lsl #16 */
	w[k++] = 0xd51b4400;                                            /* msr fpcr, x0 */
	w[k++] = 0xf9400000 | (DIFF_OFF_FPSR / 8) << 10 | 16 << 5 | 0;   /* ldr x0, [x16, #fpsr] */
	w[k++] = 0xd51b4420;                                            /* msr fpsr, x0 */
	for (unsigned i = 0; i < 8; i++)
		w[k++] = 0x3dc00000 | ((DIFF_OFF_V + 16 * i) / 16) << 10 | 16 << 5 | i;   /* ldr qi */
	for (unsigned i = 0; i < 16; i++)
		w[k++] = 0xf9400000 | i << 10 | 16 << 5 | i;                /* ldr xi */
	w[k++] = 0x91000000 | DIFF_OFF_MEM << 10 | 16 << 5 | 17;          /* add x17, x16, #512 */
	w[k++] = 0x91400000 | 1 << 10 | 17 << 5 | 17;                    /* add x17, x17, #4096 */
	for (unsigned i = 0; i < n; i++)
		w[k++] = body[i];
	w[k++] = 0xcb000000 | 16 << 16 | 17 << 5 | 17;                   /* sub x17, x17, x16 */
	for (unsigned i = 0; i < 18; i++)
		if (i != 16)
			w[k++] = 0xf9000000 | i << 10 | 16 << 5 | i;            /* str xi */
	w[k++] = 0xd53b4200;                                            /* mrs x0, nzcv */
	w[k++] = 0xf9000000 | (DIFF_OFF_NZCV / 8) << 10 | 16 << 5 | 0;
	w[k++] = 0xd53b4420;                                            /* mrs x0, fpsr */
	w[k++] = 0xf9000000 | (DIFF_OFF_FPSR / 8) << 10 | 16 << 5 | 0;
	for (unsigned i = 0; i < 8; i++)
		w[k++] = 0x3d800000 | ((DIFF_OFF_V + 16 * i) / 16) << 10 | 16 << 5 | i;   /* str qi */
	w[k++] = 0xd65f03c0;                                            /* ret */
	return k;
}

static void init_state(uint8_t *s)
{
	for (unsigned i = 0; i < DIFF_STATE; i += 8) {
		uint64_t v = rnd();
		switch (rn(4)) {
		case 0: v &= 0xff; break;
		case 1: v = (uint64_t)(int64_t)(int8_t)v; break;
		default: break;
		}
		memcpy(s + i, &v, 8);
	}
	uint64_t nzcv = (uint64_t)rn(16) << 28;
	memcpy(s + DIFF_OFF_NZCV, &nzcv, 8);
	uint64_t fpsr = rn(4) ? 0 : rnd() & 0x9f;
	tiny_mode = rn(6) == 0;
	tiny_mode_d = rn(2);
	memcpy(s + DIFF_OFF_FPSR, &fpsr, 8);
	for (unsigned i = 0; i < 16; i++) {   /* v0-v7: FP-flavoured lanes in most halves */
		uint64_t x;
		switch (tiny_mode ? tiny_mode_d : rn(3)) {
		case 0: x = fp_value(true); break;
		case 1: x = fp_value(false) | fp_value(false) << 32; break;
		default: continue;
		}
		memcpy(s + DIFF_OFF_V + 8 * i, &x, 8);
	}
}

/* ---- softkvm side: a stub loops "call blob; MMIO exit" ---- */

static struct tvm vm;
static struct tvcpu v;

static void setup_guest(void)
{
	uint32_t stub[] = {
		0xd503201f,                /* nop: re-entry after an error exit skips it */
		0xd2a00600 | 0,            /* movz x0, #0x30, lsl #16 */
		0xd5181040,                /* msr cpacr_el1, x0 */
		0xd5033fdf,                /* isb */
		0xd2a00000 | (0x4001 << 5) | 16,   /* start: movz x16, #0x4001, lsl #16 */
		0xd2a00000 | (0x4000 << 5) | 1,    /* movz x1, #0x4000, lsl #16 */
		0x91400000 | 1 << 10 | 1 << 5 | 1, /* add x1, x1, #0x1000 */
		0xd63f0000 | 1 << 5,       /* blr x1 */
		0xd2a00000 | (0x0900 << 5) | 0,    /* movz x0, #0x900, lsl #16 */
		0xf900001f,                /* str xzr, [x0] */
		0x14000000 | ((uint32_t)-6 & 0x3ffffff),   /* b start */
	};
	memcpy(vm.ram, stub, sizeof(stub));
	/* vectors at +0x800: any exception reports at PORT + 8 */
	for (unsigned i = 0; i < 16; i++) {
		uint32_t vec[] = {
			0xd2a00000 | (0x0900 << 5) | 1,   /* movz x1, #0x900, lsl #16 */
			0xf900043f,                       /* str xzr, [x1, #8] */
			0x14000000,                       /* b . */
		};
		memcpy(vm.ram + 0x800 + 0x80 * i, vec, sizeof(vec));
	}
	set_reg(&v, SYS_REG(3, 0, 12, 0, 0), STUB_GPA + 0x800);
	set_reg(&v, CORE_REG(regs.pc), STUB_GPA);
}

static int run_softkvm(const uint32_t *blob, unsigned n, uint8_t *state)
{
	memcpy(vm.ram + (BLOB_GPA - RAM_GPA), blob, n * 4);
	memcpy(vm.ram + (STATE_GPA - RAM_GPA), state, DIFF_STATE);
	for (;;) {
		if (ioctl(v.fd, KVM_RUN, 0) < 0)
			return -1;
		if (v.run->exit_reason == KVM_EXIT_MMIO && v.run->mmio.phys_addr == PORT_GPA)
			break;
		if (v.run->exit_reason == KVM_EXIT_MMIO && v.run->mmio.phys_addr == PORT_GPA + 8) {
			printf("exception: ESR %#llx ELR %#llx\n", (unsigned long long)get_reg(&v, SYS_REG(3, 0, 5, 2, 0)),
			       (unsigned long long)get_reg(&v, CORE_REG(elr_el1)));
			return -1;
		}
		printf("unexpected exit %u at pc %#llx\n", v.run->exit_reason,
		       (unsigned long long)get_reg(&v, CORE_REG(regs.pc)));
		return -1;
	}
	memcpy(state, vm.ram + (STATE_GPA - RAM_GPA), DIFF_STATE);
	return 0;
}

static uint32_t *fpcrs;

static void dump(const uint32_t *body, unsigned n, unsigned idx)
{
	printf("  fpcr %#x\n", fpcrs[idx]);
	for (unsigned i = 0; i < n; i++)
		printf("  .inst 0x%08x\n", body[i]);
}

static bool compare(const uint8_t *a, const uint8_t *b, const uint32_t *body, unsigned n, unsigned idx)
{
	bool ok = true;
	for (unsigned i = 0; i < 18; i++) {
		uint64_t x, y;
		if (i == 16)
			continue;
		memcpy(&x, a + 8 * i, 8), memcpy(&y, b + 8 * i, 8);
		if (x != y) {
			printf("seq %u: x%u softkvm %#llx reference %#llx\n", idx, i, (unsigned long long)x,
			       (unsigned long long)y);
			ok = false;
		}
	}
	uint64_t fa, fb;
	memcpy(&fa, a + DIFF_OFF_NZCV, 8), memcpy(&fb, b + DIFF_OFF_NZCV, 8);
	if ((fa ^ fb) & 0xf0000000u) {
		printf("seq %u: nzcv softkvm %#llx reference %#llx\n", idx, (unsigned long long)fa, (unsigned long long)fb);
		ok = false;
	}
	memcpy(&fa, a + DIFF_OFF_FPSR, 8), memcpy(&fb, b + DIFF_OFF_FPSR, 8);
	if ((fa ^ fb) & 0x0800009f) {   /* cumulative flags and QC */
		printf("seq %u: fpsr softkvm %#llx reference %#llx\n", idx, (unsigned long long)fa, (unsigned long long)fb);
		ok = false;
	}
	for (unsigned i = 0; i < 8; i++)
		if (memcmp(a + DIFF_OFF_V + 16 * i, b + DIFF_OFF_V + 16 * i, 16)) {
			uint64_t x[2], y[2];
			memcpy(x, a + DIFF_OFF_V + 16 * i, 16), memcpy(y, b + DIFF_OFF_V + 16 * i, 16);
			printf("seq %u: v%u softkvm %016llx:%016llx reference %016llx:%016llx\n", idx, i,
			       (unsigned long long)x[1], (unsigned long long)x[0], (unsigned long long)y[1],
			       (unsigned long long)y[0]);
			ok = false;
		}
	if (memcmp(a + DIFF_OFF_MEM, b + DIFF_OFF_MEM, DIFF_MEM)) {
		printf("seq %u: memory differs\n", idx);
		ok = false;
	}
	if (!ok)
		dump(body, n, idx);
	return ok;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s COUNT SEED RUNNER...\n", argv[0]);
		return 2;
	}
	unsigned count = (unsigned)strtoul(argv[1], NULL, 0);
	rng ^= strtoull(argv[2], NULL, 0) * 0x2545f4914f6cdd1dull;
	if (tvm_create(&vm) < 0 || tvcpu_create(&vm, &v, 0, 1u << KVM_ARM_VCPU_PSCI_0_2) < 0) {
		perror("setup");
		return 1;
	}
	setup_guest();

	char in_path[] = "/tmp/a64diff-in-XXXXXX", out_path[] = "/tmp/a64diff-out-XXXXXX";
	int in_fd = mkstemp(in_path), out_fd = mkstemp(out_path);
	FILE *in = fdopen(in_fd, "wb");
	uint8_t (*mine)[DIFF_STATE] = malloc((size_t)count * DIFF_STATE);
	uint32_t (*bodies)[16] = malloc((size_t)count * sizeof(*bodies));
	unsigned *lens = malloc(count * sizeof(unsigned));
	fpcrs = malloc(count * sizeof(uint32_t));
	unsigned failed_runs = 0;
	for (unsigned s = 0; s < count; s++) {
		unsigned n = getenv("A64_DIFF_LEN") ? (unsigned)atoi(getenv("A64_DIFF_LEN")) : 1 + rn(12);
		for (unsigned i = 0; i < n; i++)
			bodies[s][i] = gen(i == n - 1);
		lens[s] = n;
		uint32_t blob[DIFF_MAX_WORDS];
		fpcrs[s] = fpcr_bits();
		unsigned k = emit_blob(blob, bodies[s], n, fpcrs[s]);
		uint8_t st[DIFF_STATE];
		init_state(st);
		uint32_t kk = k;
		fwrite(&kk, 4, 1, in);
		fwrite(blob, 4, k, in);
		fwrite(st, DIFF_STATE, 1, in);
		if (run_softkvm(blob, k, st) < 0) {
			printf("seq %u: softkvm run failed\n", s);
			dump(bodies[s], n, s);
			failed_runs++;
			setup_guest();
		}
		memcpy(mine[s], st, DIFF_STATE);
	}
	fclose(in);

	/* the reference: RUNNER... < in > out */
	pid_t pid = fork();
	if (pid == 0) {
		unsetenv("LD_PRELOAD");
		int i = open(in_path, O_RDONLY);
		dup2(i, 0);
		dup2(out_fd, 1);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	unlink(in_path);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("reference runner failed (status %#x): skipped\n", status);
		unlink(out_path);
		free(mine);
		free(bodies);
		free(lens);
		return 77;
	}
	FILE *out = fopen(out_path, "rb");
	unsigned mismatches = 0;
	for (unsigned s = 0; s < count; s++) {
		uint8_t ref[DIFF_STATE];
		if (fread(ref, DIFF_STATE, 1, out) != 1) {
			printf("reference output short at %u\n", s);
			mismatches++;
			break;
		}
		if (!compare(mine[s], ref, bodies[s], lens[s], s))
			mismatches++;
	}
	fclose(out);
	unlink(out_path);
	printf("%u sequences, %u differ, %u failed to run\n", count, mismatches, failed_runs);
	free(mine);
	free(bodies);
	free(lens);
	free(fpcrs);
	return mismatches || failed_runs ? 1 : 0;
}
