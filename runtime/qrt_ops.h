/* libquench_rt non-GEMM kernels: elementwise, casts, strided copies,
 * reductions, Softmax, LayerNormalization, Quantize/DequantizeLinear, the
 * quench integer ops (Requantize, QAdd, QMul, QAveragePool) and 2-d pooling.
 *
 * Each kernel computes exactly what the reference interpreter's kernel for
 * the same op computes (compiler/interp/k_*.c): the same formula, the same
 * float/double types, the same order of accumulation, the same libm calls.
 * That is what makes a compiled model's outputs identical, bit for bit, to
 * `quench-run`'s. The rules (docs/backends/runtime-ops.md):
 *   - compile with -ffp-contract=off (no FMA contraction) and without
 *     -ffast-math; vectorized loops only where no float sum is reassociated;
 *   - f32 math is float math with the float libm (expf, tanhf, erff ...);
 *     sums the interpreter takes in double are taken in double, in order.
 * Nothing here allocates; the pool-taking variants (_mt) split work over
 * whole outputs, so the thread count never changes a result.
 * Tests: test/unit/test_qrt_ops.c runs each kernel against the interpreter. */
#ifndef QRT_OPS_H
#define QRT_OPS_H
#include <stddef.h>
#include <stdint.h>

#include "qrt.h"
#include "qrt_pool.h"

typedef enum { QRT_F32, QRT_U8, QRT_S8, QRT_I32, QRT_I64, QRT_BOOL /* 1 byte 0/1 */ } qrt_elem;
size_t qrt_elem_size(qrt_elem e);

/* ---- unary f32 (k_activation.c, k_unary.c), whole buffer; y may equal x ---- */
enum {
  QRT_RELU,
  QRT_SIGMOID,
  QRT_HARDSIGMOID /* alpha, beta */,
  QRT_HARDSWISH,
  QRT_TANH,
  QRT_GELU,
  QRT_GELU_TANH,
  QRT_EXP,
  QRT_LOG,
  QRT_SQRT,
  QRT_RECIPROCAL,
  QRT_NEG,
  QRT_ABS,
  QRT_ERF,
  QRT_LEAKYRELU /* alpha */,
  QRT_CLIP /* alpha = min, beta = max */,
  QRT_SOFTPLUS,
  QRT_ELU /* alpha */
};
void qrt_unary_f32(int op, float alpha, float beta, const float *x, float *y, int64_t n);
void qrt_unary_f32_mt(qrt_pool *pool, int op, float alpha, float beta, const float *x, float *y, int64_t n);

/* ---- binary with broadcasting (k_binary.c) ----
 * Index space dims[0..rank) (rank <= 8, row-major); a and b read at element
 * strides sa/sb (0 along broadcast dims), y contiguous. elem = operand type.
 * Arithmetic ops write elem; comparisons, And and Or write QRT_BOOL bytes.
 * f32 computes in float (Max/Min propagate NaN, Pow is powf); integers in
 * int64 wrapping to elem. Integer division by zero gives 0 (the interpreter
 * stops with an error instead: the emitter must not compile one it cannot
 * rule out); INT_MIN / -1 wraps. Bool operands are read as their low bit. */
enum {
  QRT_ADD,
  QRT_SUB,
  QRT_MUL,
  QRT_DIV,
  QRT_MAX,
  QRT_MIN,
  QRT_POW,
  QRT_EQUAL,
  QRT_LESS,
  QRT_GREATER,
  QRT_LESS_EQUAL,
  QRT_GREATER_EQUAL,
  QRT_AND,
  QRT_OR,
  QRT_WHERE_UNUSED
};
void qrt_binary(int op, qrt_elem elem, int rank, const int64_t *dims, const void *a, const int64_t *sa, const void *b,
                const int64_t *sb, void *y);
/* The same over a pool: big index spaces split into whole rows (or one long
 * row into element ranges); small ones run serially. */
void qrt_binary_mt(qrt_pool *pool, int op, qrt_elem elem, int rank, const int64_t *dims, const void *a,
                   const int64_t *sa, const void *b, const int64_t *sb, void *y);

/* Transpose, Slice, Expand: dst contiguous = src read at src_strides (in
 * elements) over dims (src already offset). rank <= 8. */
void qrt_copy_strided(size_t elem_size, int rank, const int64_t *dims, const void *src, const int64_t *src_strides,
                      void *dst);

/* Cast of n elements (k_cast.c): floats to integers truncate toward zero
 * after saturating to int64 (NaN gives 0) and then wrap to the target;
 * integers to f32 round once; anything to bool is != 0; bool reads its
 * low bit; same type copies the bytes. */
void qrt_cast(qrt_elem from, qrt_elem to, const void *x, void *y, int64_t n);

/* ---- reductions (k_reduce.c, k_pool.c) of x as [outer][red][inner] over the
 * middle index into y [outer][inner]. Sums accumulate in double in index
 * order and round once (Mean divides the double sum by red); Max/Min
 * propagate NaN (ReduceMax/Min: the last NaN; GlobalMaxPool: the first).
 * red = 0 gives 0 (sums), NaN (means), -inf (max), +inf (min). ---- */
enum { QRT_RSUM, QRT_RMEAN, QRT_RMAX, QRT_RMIN, QRT_RSUMSQ, QRT_GLOBAL_AVG, QRT_GLOBAL_MAX };
void qrt_reduce_f32(int op, const float *x, float *y, int64_t outer, int64_t red, int64_t inner);
void qrt_reduce_f32_mt(qrt_pool *pool, int op, const float *x, float *y, int64_t outer, int64_t red, int64_t inner);

/* Softmax (log = 0) / LogSoftmax (log = 1) along the middle axis of
 * [outer][n][inner] (k_misc.c): row max in float, expf(x - max) in float,
 * the sum in double; y = (float)(e / sum), or x - max - (float)log(sum). */
void qrt_softmax_f32(int log, const float *x, float *y, int64_t outer, int64_t n, int64_t inner);
void qrt_softmax_f32_mt(qrt_pool *pool, int log, const float *x, float *y, int64_t outer, int64_t n, int64_t inner);

/* LayerNormalization over the last n elements of each of rows rows, gamma
 * and beta of length n (beta may be NULL), in double as k_norm.c does. */
void qrt_layernorm_f32(const float *x, const float *gamma, const float *beta, float epsilon, float *y, int64_t rows,
                       int64_t n);
void qrt_layernorm_f32_mt(qrt_pool *pool, const float *x, const float *gamma, const float *beta, float epsilon,
                          float *y, int64_t rows, int64_t n);

/* ---- QuantizeLinear / DequantizeLinear (k_quant.c, q_quantize_int) ----
 * x viewed as [outer][ch][inner], scale/zp of length ch (ch = 1: per tensor).
 * Quantize f32 -> u8/s8: saturate(rne(x / s) + zp), x / s in float, NaN
 * gives zp. Dequantize u8/s8 -> f32: (float)(q - zp) * s in float; i32:
 * (float)((double)(q - zp) * s). */
void qrt_quantize_f32(const float *x, void *y, qrt_elem out_elem, const float *scale, const int32_t *zp, int64_t outer,
                      int64_t ch, int64_t inner);
void qrt_dequantize(const void *x, qrt_elem in_elem, float *y, const float *scale, const int32_t *zp, int64_t outer,
                    int64_t ch, int64_t inner);
/* The same over a pool (big views only; split by elements, outer rows or
 * channels, each part run by the serial kernel). */
void qrt_quantize_f32_mt(qrt_pool *pool, const float *x, void *y, qrt_elem out_elem, const float *scale,
                         const int32_t *zp, int64_t outer, int64_t ch, int64_t inner);
void qrt_dequantize_mt(qrt_pool *pool, const void *x, qrt_elem in_elem, float *y, const float *scale, const int32_t *zp,
                       int64_t outer, int64_t ch, int64_t inner);

/* Channel gating of codes, DequantizeLinear -> Mul -> QuantizeLinear in one
 * pass (what squeeze-and-excitation blocks do): for rows r < rows of n
 * elements, y = Q(DQ(x) * g[r]) with the interpreter's float operations:
 * f = (float)(x - zx) * sx (DequantizeLinear), f * g[r] (Mul), then
 * QuantizeLinear with (sy, zy) as qrt_quantize_f32. x and y are 8-bit codes
 * (xe, ye: QRT_U8 or QRT_S8); rows split over the pool. */
void qrt_dq_mul_q_mt(qrt_pool *pool, const void *x, qrt_elem xe, float sx, int32_t zx, const float *g, void *y,
                     qrt_elem ye, float sy, int32_t zy, int64_t rows, int64_t n);

/* ---- the quench integer ops (k_qint.c) ----
 * quench.Requantize over [outer][ch][inner] (in: i32, u8 or s8; out: u8 or
 * s8): acc = sat32(x - x_zp + bias[c]); y = clamp(y_zp + rshift(acc * m0[c],
 * shift[c]), lo, hi). m0, shift (and bias unless NULL) have ch entries (the
 * emitter repeats a per-tensor value). */
typedef struct qrt_requant_params {
  const int32_t *m0, *shift, *bias;
  int32_t x_zp, y_zp, lo, hi;
} qrt_requant_params;
void qrt_requantize(const qrt_requant_params *p, const void *x, qrt_elem in_elem, void *y, qrt_elem out_elem,
                    int64_t outer, int64_t ch, int64_t inner);
void qrt_requantize_mt(qrt_pool *pool, const qrt_requant_params *p, const void *x, qrt_elem in_elem, void *y,
                       qrt_elem out_elem, int64_t outer, int64_t ch, int64_t inner);

/* quench.QAdd: y = clamp(rshift((a - a_zp) * a_m0 + (b - b_zp) * b_m0, shift)
 * + y_zp, lo, hi) in int64. quench.QMul: acc = sat32((a - a_zp) * (b - b_zp));
 * y = clamp(y_zp + rshift(acc * a_m0, shift), lo, hi) (b_m0 unused).
 * Operands u8/s8 broadcast over dims/strides as in qrt_binary; y u8/s8. */
typedef struct qrt_qbin_params {
  int32_t a_zp, b_zp, a_m0, b_m0, shift, y_zp, lo, hi;
} qrt_qbin_params;
void qrt_qadd(const qrt_qbin_params *p, qrt_elem a_elem, qrt_elem b_elem, qrt_elem y_elem, int rank,
              const int64_t *dims, const void *a, const int64_t *sa, const void *b, const int64_t *sb, void *y);
void qrt_qmul(const qrt_qbin_params *p, qrt_elem a_elem, qrt_elem b_elem, qrt_elem y_elem, int rank,
              const int64_t *dims, const void *a, const int64_t *sa, const void *b, const int64_t *sb, void *y);

/* ---- 2-d pooling over NCHW planes (k_pool.c, k_qint.c) ----
 * planes = N * C; output oh x ow given by the caller (ceil_mode is its
 * choice of size); input row i = o * stride + k * dilation - pad_top. */
typedef struct qrt_pool2d {
  int64_t planes, ih, iw, oh, ow;
  int64_t kh, kw, sh, sw, dh, dw;
  int64_t pt, pl, pb, pr; /* pads top, left, bottom, right */
  int count_include_pad;  /* AveragePool: divide by the taps within the padded input */
} qrt_pool2d;
/* MaxPool / AveragePool, elem f32, u8 or s8 (in and out). Values are read
 * exactly, sums in double; u8/s8 averages round half to even. */
void qrt_maxpool2d(const qrt_pool2d *g, qrt_elem elem, const void *x, void *y, qrt_pool *pool);
void qrt_avgpool2d(const qrt_pool2d *g, qrt_elem elem, const void *x, void *y, qrt_pool *pool);
/* quench.QAveragePool (no dilation): acc = sat32(sum over in-range taps of
 * (x - x_zp)); y = clamp(y_zp + rshift(acc * m0, shift), lo, hi). */
typedef struct qrt_qavgpool_params {
  int32_t x_zp, m0, shift, y_zp, lo, hi;
} qrt_qavgpool_params;
void qrt_qavgpool2d(const qrt_pool2d *g, const qrt_qavgpool_params *p, qrt_elem in_elem, qrt_elem out_elem,
                    const void *x, void *y, qrt_pool *pool);

#endif
