/* libquench_rt reductions, Softmax/LogSoftmax and LayerNormalization
 * (qrt_ops.h), mirroring compiler/interp/k_reduce.c, k_pool.c (the global
 * pools), k_misc.c and k_norm.c bit for bit: float inputs summed in double in
 * index order and rounded once, NaN handled as there. Columns (inner > 1) are
 * processed in blocks of QRT_RBLOCK with their accumulators on the stack,
 * which keeps each output's order of accumulation and allocates nothing.
 * Tests: test/unit/test_qrt_ops.c. */
#include <math.h>

#include "qrt_ops.h"

#if defined(QRT_PATH_AVX512VNNI)
#include <immintrin.h>
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define QRT_RBLOCK 256

/* ---- reductions ------------------------------------------------------------- */

/* One output block: columns [j0, j0 + nb) of outer row o. */
static void reduce_cols(int op, const float *x, float *y, int64_t red, int64_t inner, int64_t nb) {
  double acc[QRT_RBLOCK];
  double init = op == QRT_RMAX || op == QRT_GLOBAL_MAX ? -INFINITY : op == QRT_RMIN ? INFINITY : 0;
  for (int64_t j = 0; j < nb; j++)
    acc[j] = init;
  for (int64_t r = 0; r < red; r++) {
    const float *xr = x + r * inner;
    switch (op) {
    case QRT_RSUM:
    case QRT_RMEAN:
    case QRT_GLOBAL_AVG:
      for (int64_t j = 0; j < nb; j++)
        acc[j] += xr[j];
      break;
    case QRT_RSUMSQ:
      for (int64_t j = 0; j < nb; j++) {
        double v = xr[j];
        acc[j] += v * v;
      }
      break;
    case QRT_RMAX: /* fold_d: the last NaN wins */
      for (int64_t j = 0; j < nb; j++) {
        double v = xr[j];
        acc[j] = v > acc[j] || v != v ? v : acc[j];
      }
      break;
    case QRT_RMIN:
      for (int64_t j = 0; j < nb; j++) {
        double v = xr[j];
        acc[j] = v < acc[j] || v != v ? v : acc[j];
      }
      break;
    case QRT_GLOBAL_MAX: /* k_global_pool: the first NaN sticks */
      for (int64_t j = 0; j < nb; j++) {
        double v = xr[j];
        if (v > acc[j] || v != v)
          acc[j] = acc[j] != acc[j] ? acc[j] : v;
      }
      break;
    default: break;
    }
  }
  int mean = op == QRT_RMEAN || op == QRT_GLOBAL_AVG;
  for (int64_t j = 0; j < nb; j++)
    y[j] = (float)(mean ? acc[j] / (double)red : acc[j]);
}

#if defined(QRT_PATH_AVX512VNNI)
/* Max of a row by vmaxps, where that equals the sequential fold: without a
 * NaN (ReduceMax keeps the last, GlobalMaxPool the first) and with a
 * nonzero result (equal zeros of either sign: the fold keeps the first, the
 * vector max any). *ok = 0 otherwise, and the caller folds. */
static float row_max512(const float *x, int64_t red, int *ok) {
  __m512 m = _mm512_set1_ps(-INFINITY);
  __mmask16 nan = 0;
  int64_t i = 0;
  for (; i + 16 <= red; i += 16) {
    __m512 v = _mm512_loadu_ps(x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    m = _mm512_max_ps(m, v);
  }
  if (i < red) {
    __mmask16 k = (__mmask16)((1u << (red - i)) - 1);
    __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    m = _mm512_max_ps(m, v);
  }
  float r = _mm512_reduce_max_ps(m);
  *ok = !nan && r != 0.0f;
  return r;
}
#endif

/* One output of a contiguous reduction (inner = 1). */
static float reduce_row(int op, const float *x, int64_t red) {
#if defined(QRT_PATH_AVX512VNNI)
  if ((op == QRT_RMAX || op == QRT_GLOBAL_MAX) && red >= 16) {
    int ok;
    float r = row_max512(x, red, &ok);
    if (ok) return r;
  }
#endif
  switch (op) {
  case QRT_RSUM:
  case QRT_RMEAN:
  case QRT_GLOBAL_AVG: {
    double s = 0;
    for (int64_t i = 0; i < red; i++)
      s += x[i];
    return (float)(op == QRT_RSUM ? s : s / (double)red);
  }
  case QRT_RSUMSQ: {
    double s = 0;
    for (int64_t i = 0; i < red; i++) {
      double v = x[i];
      s += v * v;
    }
    return (float)s;
  }
  default: {
    float r;
    reduce_cols(op, x, &r, red, 1, 1);
    return r;
  }
  }
}

typedef struct reduce_job {
  int op;
  const float *x;
  float *y;
  int64_t red, inner, nblk; /* nblk: column blocks per outer row */
} reduce_job;

/* Tasks are outputs (inner = 1) or (outer row, column block) pairs. */
static void reduce_task(void *ctx, int64_t b, int64_t e) {
  const reduce_job *j = ctx;
  for (int64_t t = b; t < e; t++) {
    if (j->inner == 1) {
      j->y[t] = reduce_row(j->op, j->x + t * j->red, j->red);
      continue;
    }
    int64_t o = t / j->nblk, j0 = t % j->nblk * QRT_RBLOCK, nb = j->inner - j0;
    reduce_cols(j->op, j->x + o * j->red * j->inner + j0, j->y + o * j->inner + j0, j->red, j->inner,
                nb < QRT_RBLOCK ? nb : QRT_RBLOCK);
  }
}

void qrt_reduce_f32_mt(qrt_pool *pool, int op, const float *x, float *y, int64_t outer, int64_t red, int64_t inner) {
  if (outer <= 0 || inner <= 0)
    return;
  reduce_job j = {op, x, y, red, inner, (inner + QRT_RBLOCK - 1) / QRT_RBLOCK};
  int64_t tasks = inner == 1 ? outer : outer * j.nblk, per = red * (inner == 1 ? 1 : QRT_RBLOCK);
  int64_t grain = per >= 16384 ? 1 : 16384 / (per ? per : 1);
  qrt_parallel_for(pool, tasks, grain, reduce_task, &j);
}

void qrt_reduce_f32(int op, const float *x, float *y, int64_t outer, int64_t red, int64_t inner) {
  qrt_reduce_f32_mt(NULL, op, x, y, outer, red, inner);
}

/* ---- Softmax, LogSoftmax --------------------------------------------------------- */

/* k_misc.c softmax_f32_row. */
static void softmax_row(int lg, const float *x, float *y, int64_t n) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; i++)
    m = x[i] > m || x[i] != x[i] ? x[i] : m;
  double s = 0;
  for (int64_t i = 0; i < n; i++) {
    y[i] = expf(x[i] - m);
    s += y[i];
  }
  if (lg) {
    float ls = (float)log(s);
    for (int64_t i = 0; i < n; i++)
      y[i] = x[i] - m - ls;
  } else {
    for (int64_t i = 0; i < n; i++)
      y[i] = (float)(y[i] / s);
  }
}

/* k_misc.c softmax_f32_cols on columns [0, nb) of a [len][inner] block. */
static void softmax_cols(int lg, const float *x, float *y, int64_t len, int64_t inner, int64_t nb) {
  float m[QRT_RBLOCK];
  double s[QRT_RBLOCK];
  for (int64_t j = 0; j < nb; j++)
    m[j] = -INFINITY, s[j] = 0;
  for (int64_t i = 0; i < len; i++)
    for (int64_t j = 0; j < nb; j++) {
      float v = x[i * inner + j];
      m[j] = v > m[j] || v != v ? v : m[j];
    }
  for (int64_t i = 0; i < len; i++)
    for (int64_t j = 0; j < nb; j++) {
      y[i * inner + j] = expf(x[i * inner + j] - m[j]);
      s[j] += y[i * inner + j];
    }
  if (lg)
    for (int64_t j = 0; j < nb; j++)
      s[j] = log(s[j]);
  for (int64_t i = 0; i < len; i++)
    for (int64_t j = 0; j < nb; j++) {
      int64_t q = i * inner + j;
      y[q] = lg ? x[q] - m[j] - (float)s[j] : (float)(y[q] / s[j]);
    }
}

typedef struct softmax_job {
  int lg;
  const float *x;
  float *y;
  int64_t n, inner, nblk;
} softmax_job;

static void softmax_task(void *ctx, int64_t b, int64_t e) {
  const softmax_job *j = ctx;
  for (int64_t t = b; t < e; t++) {
    if (j->inner == 1) {
      softmax_row(j->lg, j->x + t * j->n, j->y + t * j->n, j->n);
      continue;
    }
    int64_t o = t / j->nblk, j0 = t % j->nblk * QRT_RBLOCK, nb = j->inner - j0, off = o * j->n * j->inner + j0;
    softmax_cols(j->lg, j->x + off, j->y + off, j->n, j->inner, nb < QRT_RBLOCK ? nb : QRT_RBLOCK);
  }
}

void qrt_softmax_f32_mt(qrt_pool *pool, int log, const float *x, float *y, int64_t outer, int64_t n, int64_t inner) {
  if (outer <= 0 || n <= 0 || inner <= 0)
    return;
  softmax_job j = {log, x, y, n, inner, (inner + QRT_RBLOCK - 1) / QRT_RBLOCK};
  int64_t tasks = inner == 1 ? outer : outer * j.nblk, per = n * (inner == 1 ? 1 : QRT_RBLOCK);
  qrt_parallel_for(pool, tasks, per >= 4096 ? 1 : 4096 / per, softmax_task, &j);
}

void qrt_softmax_f32(int log, const float *x, float *y, int64_t outer, int64_t n, int64_t inner) {
  qrt_softmax_f32_mt(NULL, log, x, y, outer, n, inner);
}

/* ---- LayerNormalization ------------------------------------------------------------ */

typedef struct ln_job {
  const float *x, *g, *b;
  double eps;
  float *y;
  int64_t n;
} ln_job;

/* k_norm.c chunk_stats and k_layer_norm, one row at a time. */
static void ln_task(void *ctx, int64_t b, int64_t e) {
  const ln_job *j = ctx;
  int64_t n = j->n;
  for (int64_t r = b; r < e; r++) {
    const float *p = j->x + r * n;
    float *y = j->y + r * n;
    double s = 0, q = 0;
    for (int64_t i = 0; i < n; i++)
      s += p[i];
    double m = s / (double)n;
    for (int64_t i = 0; i < n; i++) {
      double d = (double)p[i] - m;
      q += d * d;
    }
    double inv = 1.0 / sqrt(q / (double)n + j->eps);
    if (j->b)
      for (int64_t i = 0; i < n; i++)
        y[i] = (float)(((double)p[i] - m) * inv * (double)j->g[i] + (double)j->b[i]);
    else
      for (int64_t i = 0; i < n; i++)
        y[i] = (float)(((double)p[i] - m) * inv * (double)j->g[i] + 0.0);
  }
}

void qrt_layernorm_f32_mt(qrt_pool *pool, const float *x, const float *gamma, const float *beta, float epsilon,
                          float *y, int64_t rows, int64_t n) {
  ln_job j = {x, gamma, beta, (double)epsilon, y, n};
  qrt_parallel_for(pool, rows, n >= 4096 ? 1 : 4096 / (n > 0 ? n : 1), ln_task, &j);
}

void qrt_layernorm_f32(const float *x, const float *gamma, const float *beta, float epsilon, float *y, int64_t rows,
                       int64_t n) {
  qrt_layernorm_f32_mt(NULL, x, gamma, beta, epsilon, y, rows, n);
}
