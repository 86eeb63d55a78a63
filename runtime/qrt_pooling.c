/* libquench_rt 2-d pooling over NCHW planes (qrt_ops.h): MaxPool and
 * AveragePool for f32, u8 and s8 as compiler/interp/k_pool.c computes them
 * (values read exactly, the max's first in-range tap starts the search, sums
 * in double in tap order, count_include_pad counting taps inside the input
 * plus its pads but not the ceil_mode overhang), and quench.QAveragePool as
 * k_qint.c does. Planes run in parallel on the pool. Tests:
 * test/unit/test_qrt_ops.c. */
#include <math.h>
#include <string.h>

#include "qrt_ops.h"

#if defined(QRT_PATH_AVX512VNNI)
#include <immintrin.h>
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

typedef struct pool_job {
  const qrt_pool2d *g;
  const qrt_qavgpool_params *q;
  qrt_elem elem, out_elem;
  const void *x;
  void *y;
  int kind; /* 0 max, 1 average, 2 quench.QAveragePool */
} pool_job;

/* tensor_set_f64 for the integer outputs: NaN to 0, saturate to int64, then
 * wrap to the byte. */
static inline uint8_t to_byte(double v) {
  if (v != v)
    return 0;
  if (v >= 9223372036854775807.0)
    return (uint8_t)(uint64_t)INT64_MAX;
  if (v <= -9223372036854775808.0)
    return 0;
  return (uint8_t)(uint64_t)(int64_t)v;
}

static inline int64_t pool_sat32(int64_t v) { return v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v; }

/* The taps kk in [0, k) with 0 <= base + kk * d < lim: [*k0, *k1). */
static void tap_span(int64_t base, int64_t d, int64_t k, int64_t lim, int64_t *k0, int64_t *k1) {
  int64_t a = base >= 0 ? 0 : (-base + d - 1) / d, b = base >= lim ? 0 : (lim - base + d - 1) / d;
  b = b < k ? b : k;
  *k0 = a < k ? a : k;
  *k1 = b > *k0 ? b : *k0;
}

/* The taps kk in [0, k) with base + kk * d < hi (count_include_pad counts
 * the begin pads but not the ceil_mode overhang beyond the end pads). */
static int64_t tap_count(int64_t base, int64_t d, int64_t k, int64_t hi) {
  if (base >= hi)
    return 0;
  int64_t n = (hi - base + d - 1) / d;
  return n < k ? n : k;
}

/* The in-range taps in row-major (ky, kx) order, as k_pool.c visits them:
 * the max starts from the first one (so a leading NaN stays), comparisons
 * in the element type are exact, sums are doubles in that order. */
#define POOL_TAPS(T)                                                                                                   \
  do {                                                                                                                 \
    const T *xp = (const T *)j->x + pl * isp;                                                                          \
    T best_t = 0;                                                                                                      \
    for (int64_t ky = ky0; ky < ky1; ky++) {                                                                           \
      const T *row = xp + (by + ky * g->dh) * g->iw + bx;                                                              \
      for (int64_t kx = kx0; kx < kx1; kx++) {                                                                         \
        T v = row[kx * g->dw];                                                                                         \
        if (j->kind == 2)                                                                                              \
          iacc += (int64_t)v - j->q->x_zp;                                                                             \
        else if (j->kind == 1)                                                                                         \
          sum += (double)v;                                                                                            \
        else if (v > best_t || !have)                                                                                  \
          best_t = v, have = 1;                                                                                        \
      }                                                                                                                \
    }                                                                                                                  \
    if (have)                                                                                                          \
      best = (double)best_t;                                                                                           \
  } while (0)

static void pool_plane(const pool_job *j, int64_t pl) {
  const qrt_pool2d *g = j->g;
  int64_t isp = g->ih * g->iw, osp = g->oh * g->ow;
  int64_t hi_h = g->ih + g->pb, hi_w = g->iw + g->pr;
  for (int64_t oy = 0; oy < g->oh; oy++) {
    int64_t by = oy * g->sh - g->pt, ky0, ky1;
    tap_span(by, g->dh, g->kh, g->ih, &ky0, &ky1);
    int64_t pad_y = tap_count(by, g->dh, g->kh, hi_h);
    for (int64_t ox = 0; ox < g->ow; ox++) {
      int64_t bx = ox * g->sw - g->pl, kx0, kx1;
      tap_span(bx, g->dw, g->kw, g->iw, &kx0, &kx1);
      int64_t count = (ky1 - ky0) * (kx1 - kx0), padded = pad_y * tap_count(bx, g->dw, g->kw, hi_w), iacc = 0;
      double best = -INFINITY, sum = 0;
      int have = 0;
      if (j->elem == QRT_F32)
        POOL_TAPS(float);
      else if (j->elem == QRT_U8)
        POOL_TAPS(uint8_t);
      else
        POOL_TAPS(int8_t);
      int64_t o = pl * osp + oy * g->ow + ox;
      if (j->kind == 2) {
        const qrt_qavgpool_params *q = j->q;
        ((uint8_t *)j->y)[o] =
            (uint8_t)(uint32_t)qrt_requant1((int32_t)pool_sat32(iacc), q->m0, q->shift, q->y_zp, q->lo, q->hi);
        continue;
      }
      double v = j->kind == 0 ? best : sum / (double)(g->count_include_pad ? padded : count);
      if (j->elem == QRT_F32)
        ((float *)j->y)[o] = (float)v;
      else
        ((uint8_t *)j->y)[o] = to_byte(j->kind == 1 ? nearbyint(v) : v);
    }
  }
}

static void pool_task(void *ctx, int64_t b, int64_t e) {
  for (int64_t pl = b; pl < e; pl++)
    pool_plane(ctx, pl);
}

static void run(pool_job *j, qrt_pool *pool) {
  const qrt_pool2d *g = j->g;
  int64_t work = g->oh * g->ow * g->kh * g->kw;
  qrt_parallel_for(pool, g->planes, work >= 8192 ? 1 : 8192 / (work ? work : 1), pool_task, j);
}

/* MaxPool on u8/s8 codes: integers have no NaN, so the max over the
 * in-range taps (0 for a window with none, as the generic path's
 * (uint8_t)-inf) can skip the double round trip. Tap spans along x are
 * computed once per call. */
#define QRT_MAXPOOL_FAST_W 1024

typedef struct maxq_job {
  const qrt_pool2d *g;
  int sgn;
  const uint8_t *x;
  uint8_t *y;
  int64_t kx0[QRT_MAXPOOL_FAST_W], kx1[QRT_MAXPOOL_FAST_W];
} maxq_job;

/* One output row whose windows are all inside the input: the max over
 * the window's rows first (contiguous bytes, vectorized), then over its
 * columns (a vectorized shifted max at column stride 1, a gather else).
 * t holds the row span the windows read. Max is exact in any order. */
#define QRT_MAXPOOL_ROW_SPAN 4096
#define MAXQ_ROW(NAME, T)                                                                                              \
  QRT_NOINLINE static void NAME(T *restrict y, const T *restrict x0, T *restrict t, const qrt_pool2d *g) {         \
    int64_t span = (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1;                                                      \
    memcpy(t, x0, (size_t)span * sizeof(T));                                                                           \
    for (int64_t ky = 1; ky < g->kh; ky++) {                                                                           \
      const T *r = x0 + ky * g->dh * g->iw;                                                                            \
      for (int64_t i = 0; i < span; i++) t[i] = r[i] > t[i] ? r[i] : t[i];                                             \
    }                                                                                                                  \
    if (g->sw == 1) {                                                                                                  \
      memcpy(y, t, (size_t)g->ow * sizeof(T));                                                                         \
      for (int64_t kx = 1; kx < g->kw; kx++) {                                                                         \
        const T *r = t + kx * g->dw;                                                                                   \
        for (int64_t i = 0; i < g->ow; i++) y[i] = r[i] > y[i] ? r[i] : y[i];                                          \
      }                                                                                                                \
      return;                                                                                                          \
    }                                                                                                                  \
    for (int64_t ox = 0; ox < g->ow; ox++) {                                                                           \
      const T *r = t + ox * g->sw;                                                                                     \
      T m = r[0];                                                                                                      \
      for (int64_t kx = 1; kx < g->kw; kx++) m = r[kx * g->dw] > m ? r[kx * g->dw] : m;                                \
      y[ox] = m;                                                                                                       \
    }                                                                                                                  \
  }
MAXQ_ROW(maxq_row_u8, uint8_t)
MAXQ_ROW(maxq_row_s8, int8_t)

#if defined(QRT_PATH_AVX512VNNI)
/* The same row in chunks of output columns whose window starts span at
 * most 64 bytes (the loops above run scalar tails on rows of a few dozen
 * bytes): each tap one masked 64-byte load (masked bytes are not read), the
 * max at every window start, then the starts at stride sw: all of them, the
 * even bytes (vpmovwb), or through a buffer. */
static void maxq_row_512(uint8_t *y, const uint8_t *x0, const qrt_pool2d *g, int sgn) {
  const int64_t oc = g->sw == 1 ? 64 : 64 / g->sw; /* output columns per chunk */
  for (int64_t ox0 = 0; ox0 < g->ow; ox0 += oc) {
    int64_t n = g->ow - ox0 < oc ? g->ow - ox0 : oc, span = (n - 1) * g->sw + 1;
    const uint8_t *xc = x0 + ox0 * g->sw;
    __mmask64 k = span >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << span) - 1);
    __m512i m = _mm512_maskz_loadu_epi8(k, xc);
    for (int64_t ky = 0; ky < g->kh; ky++)
      for (int64_t kx = ky == 0 ? 1 : 0; kx < g->kw; kx++) {
        __m512i v = _mm512_maskz_loadu_epi8(k, xc + ky * g->dh * g->iw + kx * g->dw);
        m = sgn ? _mm512_max_epi8(m, v) : _mm512_max_epu8(m, v);
      }
    __mmask64 ko = n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
    if (g->sw == 1) {
      _mm512_mask_storeu_epi8(y + ox0, ko, m);
    } else if (g->sw == 2) {
      _mm256_mask_storeu_epi8(y + ox0, (__mmask32)ko, _mm512_cvtepi16_epi8(m));
    } else {
      uint8_t b[64];
      _mm512_storeu_si512((void *)b, m);
      for (int64_t i = 0; i < n; i++) y[ox0 + i] = b[i * g->sw];
    }
  }
}
#endif

static void maxq_planes(void *ctx, int64_t b, int64_t e) {
  const maxq_job *j = ctx;
  const qrt_pool2d *g = j->g;
  int inside = g->pt == 0 && g->pl == 0 && (g->oh - 1) * g->sh + (g->kh - 1) * g->dh < g->ih &&
               (g->ow - 1) * g->sw + (g->kw - 1) * g->dw < g->iw &&
               (g->ow - 1) * g->sw + (g->kw - 1) * g->dw < QRT_MAXPOOL_ROW_SPAN;
  if (inside) {
    uint8_t t[QRT_MAXPOOL_ROW_SPAN];
    for (int64_t pl = b; pl < e; pl++) {
      const uint8_t *xp = j->x + pl * g->ih * g->iw;
      uint8_t *yp = j->y + pl * g->oh * g->ow;
      for (int64_t oy = 0; oy < g->oh; oy++) {
        const uint8_t *x0 = xp + oy * g->sh * g->iw;
#if defined(QRT_PATH_AVX512VNNI)
        if (g->sw <= 64) {
          maxq_row_512(yp + oy * g->ow, x0, g, j->sgn);
          continue;
        }
#endif
        if (j->sgn) maxq_row_s8((int8_t *)(yp + oy * g->ow), (const int8_t *)x0, (int8_t *)t, g);
        else maxq_row_u8(yp + oy * g->ow, x0, t, g);
      }
    }
    return;
  }
  for (int64_t pl = b; pl < e; pl++) {
    const uint8_t *xp = j->x + pl * g->ih * g->iw;
    uint8_t *yp = j->y + pl * g->oh * g->ow;
    for (int64_t oy = 0; oy < g->oh; oy++) {
      int64_t by = oy * g->sh - g->pt, ky0, ky1;
      tap_span(by, g->dh, g->kh, g->ih, &ky0, &ky1);
      for (int64_t ox = 0; ox < g->ow; ox++) {
        int64_t bx = ox * g->sw - g->pl;
        int best = -1000;
        for (int64_t ky = ky0; ky < ky1; ky++) {
          const uint8_t *row = xp + (by + ky * g->dh) * g->iw + bx;
          for (int64_t kx = j->kx0[ox]; kx < j->kx1[ox]; kx++) {
            int v = j->sgn ? (int)(int8_t)row[kx * g->dw] : (int)row[kx * g->dw];
            best = v > best ? v : best;
          }
        }
        yp[oy * g->ow + ox] = best == -1000 ? 0 : (uint8_t)best;
      }
    }
  }
}

void qrt_maxpool2d(const qrt_pool2d *g, qrt_elem elem, const void *x, void *y, qrt_pool *pool) {
  if ((elem == QRT_U8 || elem == QRT_S8) && g->ow <= QRT_MAXPOOL_FAST_W) {
    maxq_job m;
    m.g = g;
    m.sgn = elem == QRT_S8;
    m.x = x;
    m.y = y;
    for (int64_t ox = 0; ox < g->ow; ox++) tap_span(ox * g->sw - g->pl, g->dw, g->kw, g->iw, &m.kx0[ox], &m.kx1[ox]);
    int64_t work = g->oh * g->ow * g->kh * g->kw;
    qrt_parallel_for(pool, g->planes, work >= 8192 ? 1 : 8192 / (work ? work : 1), maxq_planes, &m);
    return;
  }
  pool_job j = {g, NULL, elem, elem, x, y, 0};
  run(&j, pool);
}

void qrt_avgpool2d(const qrt_pool2d *g, qrt_elem elem, const void *x, void *y, qrt_pool *pool) {
  pool_job j = {g, NULL, elem, elem, x, y, 1};
  run(&j, pool);
}

void qrt_qavgpool2d(const qrt_pool2d *g, const qrt_qavgpool_params *p, qrt_elem in_elem, qrt_elem out_elem,
                    const void *x, void *y, qrt_pool *pool) {
  pool_job j = {g, p, in_elem, out_elem, x, y, 2};
  run(&j, pool);
}
