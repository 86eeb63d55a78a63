/* The interpreter's exact integer matrix multiply for 8-bit operands after
 * zero-point subtraction (MatMulInteger, ConvInteger, QLinearMatMul,
 * QLinearConv in k_qlinear.c). Test: test/unit/test_k_qlinear_fast.c. */
#ifndef QUENCH_INTERP_GEMM_I32_H
#define QUENCH_INTERP_GEMM_I32_H

#include <stdbool.h>
#include <stdint.h>

/* The largest |operand| the exact int32 path accepts: an 8-bit value minus
 * an 8-bit zero point of the same type. */
#define GEMM_I16_MAX_ABS 255

/* C[m x n] (int64, row stride ldc) = A[m x k] (row stride lda) * B[k x n]
 * (row stride ldb), every operand in [-255, 255]. The sums are exact: int32
 * partial sums over k blocks short enough not to overflow, added in int64.
 * Returns false only when scratch memory cannot be had. */
bool gemm_i16_exact(int64_t m, int64_t n, int64_t k, const int16_t *a, int64_t lda, const int16_t *b, int64_t ldb,
                    int64_t *c, int64_t ldc);

#endif
