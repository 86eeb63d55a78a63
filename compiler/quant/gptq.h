/* GPTQ rounding of a linear layer's weights (Frantar et al., "GPTQ:
 * Accurate Post-Training Quantization for Generative Pre-trained
 * Transformers", ICLR 2023; IST-DASLab/gptq `gptq.py`, as
 * ../shared/ALGORITHMS.md section 9 describes it): instead of rounding
 * each weight to nearest, quantize the input rows one at a time and
 * spread each row's rounding error over the rows not yet quantized so as
 * to minimize the layer output error tr((W-Q)^T H (W-Q)), H the Gram
 * matrix of the layer input (compiler/quant/calib_gram.h).
 * Layout: W is K x N row-major, row i the weights of input i (ONNX MatMul
 * B[K,N]; the reference's columns). Only the codes differ from
 * round-to-nearest: the scales and zero points are the ones RTN picks
 * (per output column, from the original weights), or re-fit at group
 * starts as the reference does, and codes come from q_quantize_int.
 * Test: test/unit/test_gptq.c. */
#ifndef QUENCH_QUANT_GPTQ_H
#define QUENCH_QUANT_GPTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "quant/qformat.h"
#include "quant/wclip.h"

typedef struct QGptqOptions {
  const QFormat *fmt; /* an integer format (Q_FMT_INT) */
  bool symmetric;
  bool per_tensor;    /* one scale for the whole tensor */
  int64_t group;      /* > 0: one scale per `group` rows of each column; 0: per column */
  int64_t block;      /* rows per lazy batch update; <= 0: 128 */
  double percdamp;    /* damping as a fraction of mean(diag H); < 0: 0.01 */
  bool act_order;     /* quantize rows by descending H_ii (groups then use static, pre-computed scales) */
  QWClip clip;        /* scales as the RTN path picks them: amax, or MSE-optimal clipping (quant/wclip.h) */
} QGptqOptions;

typedef struct QGptqInfo {
  int64_t dead;   /* inputs never seen non-zero (H_ii = 0): rows set to 0 */
  double damp;    /* the damping added to diag H (raised when the factorization failed) */
  double loss;    /* sum (w - q)^2 / U_ii^2 / 2, the reference's Losses */
} QGptqInfo;

/* The number of scales: 1 per tensor, N per column, ceil(K/group)*N for
 * groups (index (i / group) * N + n). */
int64_t q_gptq_nparams(const QGptqOptions *o, int64_t k, int64_t n);

/* Quantizes w (K x N, not modified) with the Gram matrix h (K x K,
 * symmetric, not modified). codes[K*N] get the integer codes (same layout
 * as w), scale[] and zp[] (q_gptq_nparams entries) the parameters. False
 * (nothing meaningful written) when w holds Inf or NaN, the format is not
 * an integer one, or H + damping cannot be factored even with the damping
 * raised 10x four times: the caller then rounds to nearest. */
bool q_gptq_quantize(const double *w, const double *h, int64_t k, int64_t n, const QGptqOptions *o, int64_t *codes,
                     float *scale, int64_t *zp, QGptqInfo *info);

/* Rounding to nearest with the same parameter choice (per column from the
 * original weights, per group from the original weights), for comparison
 * and tests. Same layouts as q_gptq_quantize. */
void q_rtn_quantize(const double *w, int64_t k, int64_t n, const QGptqOptions *o, int64_t *codes, float *scale,
                    int64_t *zp);

/* tr((W - Q)^T H (W - Q)) with Q the dequantized codes: the layer output
 * error (times n/2 for the token count n behind H). */
double q_gptq_layer_error(const double *w, const double *h, int64_t k, int64_t n, const QGptqOptions *o,
                          const int64_t *codes, const float *scale, const int64_t *zp);

#endif
