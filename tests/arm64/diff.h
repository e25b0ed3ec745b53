/* Shared by the A64 differential test (diff.c) and its reference runner. */
#ifndef A64_DIFF_H
#define A64_DIFF_H

/* State block, x16 points at it during a blob:
 *   [0, 8*18)     x0..x17 (x16 itself is not compared)
 *   [144, 152)    NZCV
 *   [152, 160)    FPSR (in: the initial value; out: the cumulative flags)
 *   [160, 288)    v0..v7
 *   [512, +8192)  memory; x17 starts at its middle */
#define DIFF_OFF_NZCV 144
#define DIFF_OFF_FPSR 152
#define DIFF_OFF_V 160
#define DIFF_OFF_MEM 512
#define DIFF_MEM 8192
#define DIFF_STATE (DIFF_OFF_MEM + DIFF_MEM)
#define DIFF_MAX_WORDS 256

#endif
