/* Table lookups for fused 8-bit elementwise chains (codegen/c/cgen_lut.c):
 * y[i] = table[c * 256 + (uint8_t)x[i]] with c the channel of element i in
 * the [outer][ch][inner] view; entries of ebytes bytes (1: u8/i8 codes, 4:
 * f32). The tables are computed at compile time by the interpreter. */
#ifndef QRT_LUT_H
#define QRT_LUT_H
#include "qrt.h"
#include "qrt_pool.h"

/* y[i] = lut[x[i]] for n bytes (y may equal x): 64 bytes per step with
 * AVX-512 VBMI byte permutes where the CPU has them (checked at run time,
 * x86-64 with GCC or clang), else one load per byte. */
void qrt_lut_u8(uint8_t *y, const uint8_t *x, int64_t n, const uint8_t *lut);

void qrt_lut8(const void *x, void *y, const void *table, int ebytes, int64_t outer, int64_t ch, int64_t inner,
              qrt_pool *pool);

/* GlobalAveragePool of DequantizeLinear(x) (x u8, or s8 when sgn) over
 * planes of hw codes: y[p] = (float)(sum_i (double)((float)(x_i - zp) * s) /
 * hw). Every term is a multiple of 2^(floor(log2 s) - 23) below 256 s in
 * magnitude, so for hw <= 2^20 every partial sum is exact in double and the
 * order of summation cannot change the result: the lanes sum in any order
 * and still equal the interpreter's sequential sum bit for bit. */
void qrt_dq_global_avg(const void *x, int sgn, float s, int32_t zp, int64_t planes, int64_t hw, float *y,
                       qrt_pool *pool);

#endif
