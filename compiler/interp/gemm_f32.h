/* The interpreter's blocked f32 matrix multiply, shared by MatMul, Gemm,
 * Conv and ConvTranspose (the hot path of calibration). */
#ifndef QUENCH_INTERP_GEMM_F32_H
#define QUENCH_INTERP_GEMM_F32_H

#include <stdbool.h>
#include <stdint.h>

/* A strided matrix view: element (i, j) is p[i * rs + j * cs]. Transposes
 * are views with the strides swapped. */
typedef struct GemmMat {
  const float *p;
  int64_t rs, cs;
} GemmMat;

/* C[m x n] (row stride ldc, unit column stride) = A[m x k] * B[k x n], or
 * C += A * B when accumulate. Sums run over k in order within blocks of 256
 * and block partial sums add in order. Returns false only when scratch
 * memory cannot be had. */
bool gemm_f32(int64_t m, int64_t n, int64_t k, GemmMat a, GemmMat b, float *c, int64_t ldc, bool accumulate);

/* The same product in double (f64 and the narrow float types), naive. */
void gemm_f64(int64_t m, int64_t n, int64_t k, const double *a, int64_t ars, int64_t acs, const double *b,
              int64_t brs, int64_t bcs, double *c, int64_t ldc, bool accumulate);

#endif
