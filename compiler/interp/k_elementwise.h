/* Shared by the elementwise kernel files (k_elementwise.c, k_binary.c,
 * k_unary.c, k_activation.c, k_cast.c) and the reductions: a strided walk
 * over an N-d index space in rows, so every kernel runs plain inner loops
 * that the compiler vectorizes. */
#ifndef QUENCH_INTERP_K_ELEMENTWISE_H
#define QUENCH_INTERP_K_ELEMENTWISE_H

#include "interp/kernel.h"

#define EW_MAX_OPS 4

/* One row of a walk: n elements; operand i starts at element off[i] and
 * steps st[i] elements. Returning false stops the walk. */
typedef bool (*EwRowFn)(void *ctx, const int64_t *off, const int64_t *st, int64_t n);

/* Walks the index space dims[0..rank) in row-major order, operand i (of
 * nops <= EW_MAX_OPS) at element strides st[i]. Unit dims are dropped and
 * adjacent dims merged where every operand allows, so rows are as long as
 * possible. Returns false when fn does. */
bool ew_walk(int32_t rank, const int64_t *dims, uint32_t nops, int64_t (*st)[TENSOR_MAX_RANK], EwRowFn fn,
             void *ctx);

/* Row-major strides of a contiguous tensor of shape dims[0..rank). */
void ew_contig_strides(int32_t rank, const int64_t *dims, int64_t *st);

/* Copies the elements at src_strides (in elements of eb bytes, from src)
 * over the index space dims[0..rank) to the contiguous dst, in row-major
 * order: contiguous runs as one memcpy. */
void ew_strided_copy(void *dst, const void *src, size_t eb, int32_t rank, const int64_t *dims,
                     const int64_t *src_strides);

/* Copies src broadcast to y's shape (same element type). */
void ew_broadcast_copy(Tensor *y, const Tensor *src);

/* Checks that operand i has element type e (the result's, for TR_SAME
 * ops); reports a clear error otherwise. */
bool ew_check_elem(KernelCtx *k, uint32_t i, IrElem e);

/* A unary op for every type class it supports: f computes f32 and the
 * narrow floats (f16, bf16, f8: decoded, computed in float, rounded once),
 * d computes f64, i integers (NULL: floats only). f32_loop, when set, is a
 * vectorizable whole-tensor loop used for f32 instead of f. */
typedef struct UnParams {
  float alpha, beta, gamma;
} UnParams;
typedef struct UnOp {
  float (*f)(float x, const UnParams *p);
  double (*d)(double x, const UnParams *p);
  int64_t (*i)(int64_t x, const UnParams *p);
  void (*f32_loop)(float *y, const float *x, int64_t n, const UnParams *p);
} UnOp;

/* NAME_f and NAME_d from one formula in x (of type T) and params p; the
 * including file includes <tgmath.h> so the math calls follow T. */
#define UN_FLOAT(NAME, EXPR)                                      \
  static float NAME##_f(float x, const UnParams *p) {             \
    typedef float T;                                              \
    (void)sizeof(T);                                              \
    (void)p;                                                      \
    return EXPR;                                                  \
  }                                                               \
  static double NAME##_d(double x, const UnParams *p) {           \
    typedef double T;                                             \
    (void)sizeof(T);                                              \
    (void)p;                                                      \
    return EXPR;                                                  \
  }

/* NAME_loop: the f32 whole-tensor loop of NAME_f, so the formula is
 * inlined instead of called through UnOp.f per element (same bits). */
#define UN_LOOP(NAME)                                                           \
  static void NAME##_loop(float *y, const float *x, int64_t n, const UnParams *p) { \
    for (int64_t i = 0; i < n; i++) y[i] = NAME##_f(x[i], p);                   \
  }

/* Runs u on operand 0 into result 0 (same type and shape). */
bool ew_unary(KernelCtx *k, const UnOp *u, const UnParams *p);

/* Per-file registration, called by kernels_register_elementwise. */
void kernels_register_binary(KernelFn *table);
void kernels_register_unary(KernelFn *table);
void kernels_register_activation(KernelFn *table);
void kernels_register_cast(KernelFn *table);

#endif
