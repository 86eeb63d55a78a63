/* libquench_rt quantization kernels (qrt_ops.h): QuantizeLinear and
 * DequantizeLinear as the interpreter's fast paths compute them
 * (compiler/interp/k_quant.c, equal to q_quantize_int in
 * compiler/quant/qmath.c), and the quench integer ops Requantize, QAdd and
 * QMul (compiler/interp/k_qint.c) with qrt.h's rounding shift, which is
 * q_rounding_shift. Tests: test/unit/test_qrt_ops.c. */
#include <math.h>
#include <string.h>

#include "qrt_ops.h"

#if defined(QRT_PATH_AVX512VNNI)
#include <immintrin.h>
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define QRT_MAXR 8

/* ---- QuantizeLinear ----------------------------------------------------------- */

/* rne(v) for |v| <= 2^22 (k_quant.c q_rne_small): adding 1.5 * 2^23 rounds to
 * an integer half to even under the default rounding mode. */
static inline float rne_small(float v) { return (v + 0x1.8p23f) - 0x1.8p23f; }

/* saturate(rne(x / s) + z) into [lo, hi], NaN gives z (k_quant.c q_code):
 * clamping to [lo - z, hi - z] before rounding equals clamping after. */
static inline int32_t q_code(float x, float s, int32_t z, int32_t lo, int32_t hi) {
  float v = x / s, flo = (float)(lo - z), fhi = (float)(hi - z);
  float c = v == v ? v : 0.0f;
  c = c < flo ? flo : c;
  c = c > fhi ? fhi : c;
  return (int32_t)rne_small(c) + z;
}

/* Chunks of 16 with a constant trip count, which GCC's -O2 vectorizer takes. */
#define Q_FOR(n, STMT)                                                                                                 \
  do {                                                                                                                 \
    int64_t q_i0 = 0;                                                                                                  \
    for (; q_i0 + 16 <= (n); q_i0 += 16)                                                                               \
      for (int q_j = 0; q_j < 16; q_j++) {                                                                             \
        int64_t i = q_i0 + q_j;                                                                                        \
        STMT;                                                                                                          \
      }                                                                                                                \
    for (int64_t i = q_i0; i < (n); i++)                                                                               \
      STMT;                                                                                                            \
  } while (0)

/* A run with one scale, by multiplication where that gives the codes the
 * division gives (the division costs as much as the rest together):
 * v' = x * RN(1/s) and v = RN(x / s) differ by at most 3 * 2^-24 * |x/s|
 * (three roundings of relative error < 2^-24), and only |x/s| <= 384 + 1
 * matters (every bound lo - z, hi - z lies in [-383, 383] for 8-bit codes;
 * beyond them both clamp alike), so by less than 2^-13. Rounding half to even
 * and the clamp give v's code from v' unless v' lies within that distance
 * of a half-integer: a block of 16 with a clamped v' within 2^-12 of one
 * (|abs(c - rne(c)) - 0.5| < 2^-12, computed exactly for |c| <= 384) is
 * redone by division. NaN gives NaN and +-inf gives +-inf both ways, and a
 * value tiny enough to underflow rounds to code z both ways. Only for
 * scales with a normal reciprocal, on the AVX-512 path (the compiler's
 * vectorization of the C form was slower than the division). */
#define QRT_QHALF_GAP 0x1p-12f

#if defined(QRT_PATH_AVX512VNNI)
typedef struct q512 {
  __m512 inv, flo, fhi, half, gap;
  __m512i vz;
  float s;
  int32_t z, lo, hi;
  int ok; /* the reciprocal is a normal float: the fast path applies */
} q512;

static inline q512 q512_make(float s, int32_t z, int32_t lo, int32_t hi) {
  q512 q;
  const float inv = 1.0f / s;
  q.ok = inv == inv && fabsf(inv) >= 0x1p-126f && fabsf(inv) <= 0x1.fffffep127f && fabsf(s) >= 0x1p-126f;
  q.inv = _mm512_set1_ps(inv), q.flo = _mm512_set1_ps((float)(lo - z)), q.fhi = _mm512_set1_ps((float)(hi - z));
  q.half = _mm512_set1_ps(0.5f), q.gap = _mm512_set1_ps(QRT_QHALF_GAP), q.vz = _mm512_set1_epi32(z);
  q.s = s, q.z = z, q.lo = lo, q.hi = hi;
  return q;
}

/* rne(clamp(v)) of 16 quotients, as q_code: NaN -> 0, then the clamp
 * (max/min return the second operand on NaN, so the order matters only for
 * NaN, removed first); *c gets the clamped values. */
static inline __m512 q512_round(const q512 *q, __m512 v, __m512 *c) {
  v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);
  *c = _mm512_min_ps(_mm512_max_ps(v, q->flo), q->fhi);
  return _mm512_roundscale_ps(*c, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/* The 16 codes of x into y (q->ok). */
static inline void q512_store(const q512 *q, __m512 x, uint8_t *y) {
  __m512 c, r = q512_round(q, _mm512_mul_ps(x, q->inv), &c);
  __m512 d = _mm512_abs_ps(_mm512_sub_ps(_mm512_abs_ps(_mm512_sub_ps(c, r)), q->half));
  if (_mm512_cmp_ps_mask(d, q->gap, _CMP_LT_OQ)) /* near a half-integer: the division, as q_code */
    r = q512_round(q, _mm512_div_ps(x, _mm512_set1_ps(q->s)), &c);
  _mm_storeu_si128((__m128i *)(void *)y, _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(r), q->vz)));
}
#endif

static void quant_run(const float *restrict x, uint8_t *restrict y, int64_t n, float s, int32_t z, int32_t lo,
                      int32_t hi) {
  int64_t i0 = 0;
#if defined(QRT_PATH_AVX512VNNI)
  const q512 q = q512_make(s, z, lo, hi);
  for (; q.ok && i0 + 16 <= n; i0 += 16) q512_store(&q, _mm512_loadu_ps(x + i0), y + i0);
#endif
  for (int64_t i = i0; i < n; i++) y[i] = (uint8_t)(uint32_t)q_code(x[i], s, z, lo, hi);
}

static void quant_run_v(const float *restrict x, uint8_t *restrict y, int64_t n, const float *restrict s,
                        const int32_t *restrict z, int32_t lo, int32_t hi) {
  Q_FOR(n, y[i] = (uint8_t)(uint32_t)q_code(x[i], s[i], z[i], lo, hi));
}

void qrt_quantize_f32(const float *x, void *y, qrt_elem out_elem, const float *scale, const int32_t *zp, int64_t outer,
                      int64_t ch, int64_t inner) {
  int32_t lo = out_elem == QRT_S8 ? -128 : 0, hi = out_elem == QRT_S8 ? 127 : 255;
  uint8_t *yp = y;
  if (ch == 1)
    inner *= outer, outer = 1; /* per tensor: one run */
  static const int32_t zero = 0;
  for (int64_t o = 0; o < outer; o++) {
    int64_t base = o * ch * inner;
    if (ch > 1 && inner == 1) {
      if (zp) {
        quant_run_v(x + base, yp + base, ch, scale, zp, lo, hi);
      } else {
        for (int64_t c = 0; c < ch; c++)
          quant_run(x + base + c, yp + base + c, 1, scale[c], 0, lo, hi);
      }
      continue;
    }
    for (int64_t c = 0; c < ch; c++)
      quant_run(x + base + c * inner, yp + base + c * inner, inner, scale[c], (zp ? zp : &zero)[zp ? c : 0], lo, hi);
  }
}

/* ---- DequantizeLinear ----------------------------------------------------------- */

/* (q - z) * s in float: |q - z| < 2^17 is exact in f32 and the product is
 * the exact double product rounded once, as k_quant.c computes it. */
static void dequant_u8(const uint8_t *restrict x, float *restrict y, int64_t n, float s, int32_t z) {
  Q_FOR(n, y[i] = (float)((int32_t)x[i] - z) * s);
}
static void dequant_s8(const int8_t *restrict x, float *restrict y, int64_t n, float s, int32_t z) {
  Q_FOR(n, y[i] = (float)((int32_t)x[i] - z) * s);
}
/* i32: the double product, rounded once to f32. */
static void dequant_i32(const int32_t *restrict x, float *restrict y, int64_t n, float s, int32_t z) {
  for (int64_t i = 0; i < n; i++)
    y[i] = (float)((double)((int64_t)x[i] - z) * (double)s);
}

void qrt_dequantize(const void *x, qrt_elem in_elem, float *y, const float *scale, const int32_t *zp, int64_t outer,
                    int64_t ch, int64_t inner) {
  if (ch == 1)
    inner *= outer, outer = 1; /* per tensor: one run */
  for (int64_t o = 0; o < outer; o++)
    for (int64_t c = 0; c < ch; c++) {
      int64_t off = (o * ch + c) * inner;
      int32_t z = zp ? zp[c] : 0;
      if (in_elem == QRT_U8)
        dequant_u8((const uint8_t *)x + off, y + off, inner, scale[c], z);
      else if (in_elem == QRT_S8)
        dequant_s8((const int8_t *)x + off, y + off, inner, scale[c], z);
      else
        dequant_i32((const int32_t *)x + off, y + off, inner, scale[c], z);
    }
}

/* ---- quench.Requantize ------------------------------------------------------------ */

static inline int64_t sat32(int64_t v) { return v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v; }

static inline int64_t load_q(qrt_elem e, const void *p, int64_t i) {
  switch (e) {
  case QRT_U8: return ((const uint8_t *)p)[i];
  case QRT_S8: return ((const int8_t *)p)[i];
  case QRT_I32: return ((const int32_t *)p)[i];
  default: return 0;
  }
}

void qrt_requantize(const qrt_requant_params *p, const void *x, qrt_elem in_elem, void *y, qrt_elem out_elem,
                    int64_t outer, int64_t ch, int64_t inner) {
  (void)out_elem; /* u8 and s8 both store the low byte of the clamped value */
  uint8_t *yp = y;
  if (ch == 1)
    inner *= outer, outer = 1;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t c = 0; c < ch; c++) {
      int64_t off = (o * ch + c) * inner, bias = p->bias ? p->bias[c] : 0;
      int32_t m0 = p->m0[c], sh = p->shift[c];
      if (in_elem == QRT_I32) {
        const int32_t *xp = (const int32_t *)x + off;
        for (int64_t i = 0; i < inner; i++) {
          int32_t acc = (int32_t)sat32((int64_t)xp[i] - p->x_zp + bias);
          yp[off + i] = (uint8_t)(uint32_t)qrt_requant1(acc, m0, sh, p->y_zp, p->lo, p->hi);
        }
      } else {
        for (int64_t i = 0; i < inner; i++) {
          int32_t acc = (int32_t)sat32(load_q(in_elem, x, off + i) - p->x_zp + bias);
          yp[off + i] = (uint8_t)(uint32_t)qrt_requant1(acc, m0, sh, p->y_zp, p->lo, p->hi);
        }
      }
    }
}

/* ---- DequantizeLinear -> Mul -> QuantizeLinear ------------------------------------------ */

typedef struct gate_job {
  const uint8_t *x;
  qrt_elem xe, ye;
  float sx, sy;
  int32_t zx, zy;
  const float *g;
  uint8_t *y;
  int64_t n;
} gate_job;

/* Rows [b, e): each element dequantized, gated and quantized, the
 * interpreter's float operations one by one: (float)(x - zx) * sx (exact
 * conversion, one rounding), * g (one rounding), then quantized as
 * quant_run does (AVX-512: 16 at a time through q512_store). */
static void gate_rows(void *ctx, int64_t b, int64_t e) {
  const gate_job *j = ctx;
  int32_t lo = j->ye == QRT_S8 ? -128 : 0, hi = j->ye == QRT_S8 ? 127 : 255;
  const int sx8 = j->xe == QRT_S8;
#if defined(QRT_PATH_AVX512VNNI)
  const q512 q = q512_make(j->sy, j->zy, lo, hi);
  const __m512i vzx = _mm512_set1_epi32(j->zx);
  const __m512 vsx = _mm512_set1_ps(j->sx);
#endif
  for (int64_t r = b; r < e; r++) {
    const uint8_t *x = j->x + r * j->n;
    uint8_t *y = j->y + r * j->n;
    const float g = j->g[r];
    int64_t i = 0;
#if defined(QRT_PATH_AVX512VNNI)
    const __m512 vg = _mm512_set1_ps(g);
    for (; q.ok && i + 16 <= j->n; i += 16) {
      __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(x + i));
      __m512i v = sx8 ? _mm512_cvtepi8_epi32(c) : _mm512_cvtepu8_epi32(c);
      __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(v, vzx)), vsx);
      q512_store(&q, _mm512_mul_ps(f, vg), y + i);
    }
#endif
    for (; i < j->n; i++) {
      int32_t v = sx8 ? (int32_t)(int8_t)x[i] : (int32_t)x[i];
      float f = (float)(v - j->zx) * j->sx;
      y[i] = (uint8_t)(uint32_t)q_code(f * g, j->sy, j->zy, lo, hi);
    }
  }
}

void qrt_dq_mul_q_mt(qrt_pool *pool, const void *x, qrt_elem xe, float sx, int32_t zx, const float *g, void *y,
                     qrt_elem ye, float sy, int32_t zy, int64_t rows, int64_t n) {
  gate_job j = {x, xe, ye, sx, sy, zx, zy, g, y, n};
  qrt_parallel_for(pool, rows, n >= 8192 ? 1 : 8192 / (n > 0 ? n : 1), gate_rows, &j);
}

/* ---- the pool-taking variants ------------------------------------------------------ */

/* Splits the [outer][ch][inner] view into sub-views that the serial kernel
 * runs unchanged (element ranges per tensor, whole outer rows, or channel
 * ranges when outer = 1): every element is computed by the same code. */
typedef struct qview_job {
  int kind; /* 0 quantize, 1 dequantize, 2 requantize */
  int mode; /* 0 element ranges (ch = 1), 1 outer rows, 2 channel ranges */
  const char *x;
  char *y;
  size_t xs, ys;
  qrt_elem xe, ye;
  const float *scale;
  const int32_t *zp;
  const qrt_requant_params *rp;
  int64_t ch, inner;
} qview_job;

static void qview_task(void *ctx, int64_t b, int64_t e) {
  const qview_job *j = ctx;
  int64_t off = j->mode == 0 ? b : j->mode == 1 ? b * j->ch * j->inner : b * j->inner;
  int64_t c0 = j->mode == 2 ? b : 0, outer = j->mode == 1 ? e - b : 1;
  int64_t ch = j->mode == 2 ? e - b : j->ch, inner = j->mode == 0 ? e - b : j->inner;
  const char *x = j->x + off * (int64_t)j->xs;
  char *y = j->y + off * (int64_t)j->ys;
  if (j->kind == 0) {
    qrt_quantize_f32((const float *)x, y, j->ye, j->scale + c0, j->zp ? j->zp + c0 : NULL, outer, ch, inner);
  } else if (j->kind == 1) {
    qrt_dequantize(x, j->xe, (float *)y, j->scale + c0, j->zp ? j->zp + c0 : NULL, outer, ch, inner);
  } else {
    qrt_requant_params p = *j->rp;
    p.m0 += c0, p.shift += c0;
    if (p.bias)
      p.bias += c0;
    qrt_requantize(&p, x, j->xe, y, j->ye, outer, ch, inner);
  }
}

static void qview_run(qrt_pool *pool, qview_job *j, int64_t outer) {
  int64_t n = outer * j->ch * j->inner, grain = 32768;
  if (n <= 0)
    return;
  if (!pool || n < 2 * grain) { /* serial: the whole view as one task */
    qview_task(j, 0, j->ch == 1 ? n : outer);
    return;
  }
  if (j->ch == 1) {
    j->mode = 0;
    qrt_parallel_for(pool, n, grain, qview_task, j);
  } else if (outer > 1) {
    j->mode = 1;
    int64_t row = j->ch * j->inner;
    qrt_parallel_for(pool, outer, row >= grain ? 1 : grain / row, qview_task, j);
  } else {
    j->mode = 2;
    qrt_parallel_for(pool, j->ch, j->inner >= grain ? 1 : grain / j->inner, qview_task, j);
  }
}

void qrt_quantize_f32_mt(qrt_pool *pool, const float *x, void *y, qrt_elem out_elem, const float *scale,
                         const int32_t *zp, int64_t outer, int64_t ch, int64_t inner) {
  qview_job j = {0, 0, (const char *)x, y, 4, 1, QRT_F32, out_elem, scale, zp, NULL, ch, inner};
  if (ch == 1)
    j.inner = outer * inner, outer = 1; /* per tensor: elements */
  j.mode = ch == 1 ? 0 : 1;
  qview_run(pool, &j, outer);
}

void qrt_dequantize_mt(qrt_pool *pool, const void *x, qrt_elem in_elem, float *y, const float *scale, const int32_t *zp,
                       int64_t outer, int64_t ch, int64_t inner) {
  qview_job j = {1, 0, x, (char *)y, qrt_elem_size(in_elem), 4, in_elem, QRT_F32, scale, zp, NULL, ch, inner};
  if (ch == 1)
    j.inner = outer * inner, outer = 1;
  j.mode = ch == 1 ? 0 : 1;
  qview_run(pool, &j, outer);
}

void qrt_requantize_mt(qrt_pool *pool, const qrt_requant_params *p, const void *x, qrt_elem in_elem, void *y,
                       qrt_elem out_elem, int64_t outer, int64_t ch, int64_t inner) {
  qview_job j = {2, 0, x, y, qrt_elem_size(in_elem), 1, in_elem, out_elem, NULL, NULL, p, ch, inner};
  if (ch == 1)
    j.inner = outer * inner, outer = 1;
  j.mode = ch == 1 ? 0 : 1;
  qview_run(pool, &j, outer);
}

/* ---- quench.QAdd, quench.QMul ------------------------------------------------------ */

static void qbin(int add, const qrt_qbin_params *p, qrt_elem ae, qrt_elem be, int rank, const int64_t *dims,
                 const void *a, const int64_t *sa, const void *b, const int64_t *sb, void *y) {
  uint8_t *yp = y;
  int64_t n = 1, idx[QRT_MAXR] = {0}, ia = 0, ib = 0;
  for (int d = 0; d < rank; d++)
    n *= dims[d];
  int64_t rsa = rank ? sa[rank - 1] : 0, rsb = rank ? sb[rank - 1] : 0, row = rank ? dims[rank - 1] : 1;
  for (int64_t at = 0; at < n; at += row) {
    for (int64_t i = 0; i < row; i++) {
      int64_t va = load_q(ae, a, ia + i * rsa) - p->a_zp, vb = load_q(be, b, ib + i * rsb) - p->b_zp, q;
      if (add) {
        /* |va|, |vb| < 2^17 and m0 < 2^31: |v| < 2^49 */
        q = qrt_rounding_shift(va * p->a_m0 + vb * p->b_m0, p->shift) + p->y_zp;
        q = q < p->lo ? p->lo : q > p->hi ? p->hi : q;
      } else {
        q = qrt_requant1((int32_t)sat32(va * vb), p->a_m0, p->shift, p->y_zp, p->lo, p->hi);
      }
      yp[at + i] = (uint8_t)(uint64_t)q;
    }
    for (int d = rank - 2; d >= 0; d--) {
      ia += sa[d], ib += sb[d];
      if (++idx[d] < dims[d])
        break;
      ia -= sa[d] * dims[d], ib -= sb[d] * dims[d];
      idx[d] = 0;
    }
  }
}

/* QAdd of two contiguous u8 tensors of one shape (residual connections): the
 * same arithmetic as qbin in one loop the compiler vectorizes. */
static void qadd_u8_flat(const qrt_qbin_params *p, const uint8_t *restrict a, const uint8_t *restrict b,
                         uint8_t *restrict y, int64_t n) {
  const int64_t az = p->a_zp, bz = p->b_zp, am = p->a_m0, bm = p->b_m0, yz = p->y_zp, lo = p->lo, hi = p->hi;
  const int32_t sh = p->shift;
  for (int64_t i = 0; i < n; i++) {
    int64_t q = qrt_rounding_shift(((int64_t)a[i] - az) * am + ((int64_t)b[i] - bz) * bm, sh) + yz;
    y[i] = (uint8_t)(q < lo ? lo : q > hi ? hi : q);
  }
}

void qrt_qadd(const qrt_qbin_params *p, qrt_elem a_elem, qrt_elem b_elem, qrt_elem y_elem, int rank,
              const int64_t *dims, const void *a, const int64_t *sa, const void *b, const int64_t *sb, void *y) {
  int64_t n = 1;
  int contig = a_elem == QRT_U8 && b_elem == QRT_U8 && y_elem == QRT_U8;
  for (int d = rank - 1; d >= 0 && contig; d--) {
    if (dims[d] == 1) continue; /* any stride walks a unit dim */
    contig = sa[d] == n && sb[d] == n;
    n *= dims[d];
  }
  if (contig) {
    qadd_u8_flat(p, a, b, y, n);
    return;
  }
  qbin(1, p, a_elem, b_elem, rank, dims, a, sa, b, sb, y);
}

void qrt_qmul(const qrt_qbin_params *p, qrt_elem a_elem, qrt_elem b_elem, qrt_elem y_elem, int rank,
              const int64_t *dims, const void *a, const int64_t *sa, const void *b, const int64_t *sb, void *y) {
  (void)y_elem;
  qbin(0, p, a_elem, b_elem, rank, dims, a, sa, b, sb, y);
}
