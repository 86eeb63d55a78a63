/* Table lookups (qrt_lut.h): plain byte-indexed loads, split over outer
 * rows for threads; each element is written by exactly one call. */
#include "qrt_lut.h"

#if defined(QRT_PATH_AVX512VNNI)
#include <immintrin.h>
#endif

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QRT_LUT_VBMI 1

/* Four 64-byte registers hold the table: vpermi2b looks up 7 bits in two of
 * them, the top bit picks the half. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void lut_vbmi(uint8_t *y, const uint8_t *x, int64_t n,
                                                                               const uint8_t *lut) {
  const __m512i t0 = _mm512_loadu_si512((const void *)lut), t1 = _mm512_loadu_si512((const void *)(lut + 64));
  const __m512i t2 = _mm512_loadu_si512((const void *)(lut + 128)), t3 = _mm512_loadu_si512((const void *)(lut + 192));
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512i v = _mm512_loadu_si512((const void *)(x + i));
    __m512i lo = _mm512_permutex2var_epi8(t0, v, t1), hi = _mm512_permutex2var_epi8(t2, v, t3);
    _mm512_storeu_si512((void *)(y + i), _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), lo, hi));
  }
  if (i < n) {
    __mmask64 m = (__mmask64)(~0ULL >> (64 - (n - i)));
    __m512i v = _mm512_maskz_loadu_epi8(m, x + i);
    __m512i lo = _mm512_permutex2var_epi8(t0, v, t1), hi = _mm512_permutex2var_epi8(t2, v, t3);
    _mm512_mask_storeu_epi8(y + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), lo, hi));
  }
}

static int has_vbmi(void) {
  static int known = -1; /* a benign race: every thread computes the same value */
  if (known < 0) known = __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw");
  return known;
}
#endif

void qrt_lut_u8(uint8_t *y, const uint8_t *x, int64_t n, const uint8_t *lut) {
#if defined(QRT_LUT_VBMI)
  if (n >= 64 && has_vbmi()) {
    lut_vbmi(y, x, n, lut);
    return;
  }
#endif
  for (int64_t i = 0; i < n; i++) y[i] = lut[x[i]];
}

typedef struct lut_job {
  const uint8_t *x;
  uint8_t *y;
  const uint8_t *table;
  int ebytes;
  int64_t ch, inner;
} lut_job;

static void lut_rows(void *ctx, int64_t begin, int64_t end) {
  const lut_job *j = ctx;
  int64_t row = j->ch * j->inner;
  for (int64_t o = begin; o < end; o++)
    for (int64_t c = 0; c < j->ch; c++) {
      const uint8_t *x = j->x + (o * row + c * j->inner);
      const uint8_t *t = j->table + c * 256 * j->ebytes;
      if (j->ebytes == 1) {
        qrt_lut_u8(j->y + (o * row + c * j->inner), x, j->inner, t);
      } else {
        float *y = (float *)(void *)(j->y + (o * row + c * j->inner) * 4);
        const float *tf = (const float *)(const void *)t;
        for (int64_t i = 0; i < j->inner; i++) y[i] = tf[x[i]];
      }
    }
}

/* Per-tensor: elements [begin, end) of the flat buffer. */
static void lut_flat(void *ctx, int64_t begin, int64_t end) {
  const lut_job *j = ctx;
  const uint8_t *restrict x = j->x;
  if (j->ebytes == 1) {
    qrt_lut_u8(j->y + begin, x + begin, end - begin, j->table);
  } else {
    float *y = (float *)(void *)j->y;
    const float *tf = (const float *)(const void *)j->table;
    for (int64_t i = begin; i < end; i++) y[i] = tf[x[i]];
  }
}

void qrt_lut8(const void *x, void *y, const void *table, int ebytes, int64_t outer, int64_t ch, int64_t inner,
              qrt_pool *pool) {
  lut_job j = {x, y, table, ebytes, ch, inner};
  /* A per-tensor table over a long buffer: split the buffer itself. */
  if (ch == 1) {
    qrt_parallel_for(pool, outer * inner, 4096, lut_flat, &j);
    return;
  }
  qrt_parallel_for(pool, outer, 1, lut_rows, &j);
}

/* ---- GlobalAveragePool of dequantized codes ------------------------------- */

typedef struct gap_job {
  const uint8_t *x;
  int sgn;
  float s;
  int32_t zp;
  int64_t hw;
  float *y;
} gap_job;

/* sum_i (double)((float)(x_i - zp) * s) over n codes, in 8 double lanes
 * (exact partial sums: the order does not matter, qrt_lut.h). */
#define GAP_SUM_C(NAME, T)                                                                 \
  static double NAME(const T *restrict x, int64_t n, float s, int32_t zp) {              \
    double acc[8] = {0};                                                                 \
    int64_t i = 0;                                                                       \
    for (; i + 8 <= n; i += 8)                                                           \
      for (int l = 0; l < 8; l++) acc[l] += (double)((float)((int32_t)x[i + l] - zp) * s); \
    for (; i < n; i++) acc[0] += (double)((float)((int32_t)x[i] - zp) * s);              \
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])); \
  }
#if defined(QRT_PATH_AVX512VNNI)
/* 16 codes per step: the same float products, widened to double and added
 * in 16 lanes (exact, so in any order). */
#define GAP_SUM(NAME, T, CVT)                                                                           \
  static double NAME(const T *restrict x, int64_t n, float s, int32_t zp) {                             \
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();                                         \
    const __m512i z = _mm512_set1_epi32(zp);                                                            \
    const __m512 sv = _mm512_set1_ps(s);                                                                \
    int64_t i = 0;                                                                                      \
    for (; i + 16 <= n; i += 16) {                                                                      \
      __m512i q = CVT(_mm_loadu_si128((const __m128i *)(const void *)(x + i)));                         \
      __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, z)), sv);                         \
      a0 = _mm512_add_pd(a0, _mm512_cvtps_pd(_mm512_castps512_ps256(f)));                               \
      a1 = _mm512_add_pd(a1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1)))); \
    }                                                                                                   \
    double acc = _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));                                           \
    for (; i < n; i++) acc += (double)((float)((int32_t)x[i] - zp) * s);                                \
    return acc;                                                                                         \
  }
GAP_SUM(gap_sum_u8, uint8_t, _mm512_cvtepu8_epi32)
GAP_SUM(gap_sum_s8, int8_t, _mm512_cvtepi8_epi32)
#else
GAP_SUM_C(gap_sum_u8, uint8_t)
GAP_SUM_C(gap_sum_s8, int8_t)
#endif

static void gap_planes(void *ctx, int64_t begin, int64_t end) {
  const gap_job *j = ctx;
  for (int64_t p = begin; p < end; p++) {
    const uint8_t *x = j->x + p * j->hw;
    double sum = j->sgn ? gap_sum_s8((const int8_t *)x, j->hw, j->s, j->zp) : gap_sum_u8(x, j->hw, j->s, j->zp);
    j->y[p] = (float)(sum / (double)j->hw);
  }
}

void qrt_dq_global_avg(const void *x, int sgn, float s, int32_t zp, int64_t planes, int64_t hw, float *y,
                       qrt_pool *pool) {
  gap_job j = {x, sgn, s, zp, hw, y};
  qrt_parallel_for(pool, planes, 1, gap_planes, &j);
}
