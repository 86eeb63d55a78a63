/* Direct convolution for few input channels per group (qrt_conv.h,
 * qrt_conv_direct_q8): no im2col. A GEMM convolution packs Cg*KH*KW bytes
 * per output pixel and uses each only Mg times; with mnist8's 5x5 kernels
 * on 1 and 8 channels (8 and 16 outputs) or ppocr_cls's 3-channel stem the
 * packing costs more than the products. Here the taps are read from the
 * padded planes (qrt_conv_make_padded, column phases for strided
 * convolutions) as sliding windows, four taps of one kernel row per
 * vpdpbusd, for up to 16 output channels at once, and kernel rows lying on
 * padding rows are skipped (they add pad * their weight sum). Weights come
 * packed at compile time (qrt_dconv_pack.c). AVX-512 VNNI;
 * the other paths, and shapes outside qrt_conv_direct_fits, take a plain
 * per-output loop. Results equal the interpreter's ConvInteger +
 * quench.Requantize bit for bit. Test: test/unit/qrt/test_qrt_dconv.c. */
#include <string.h>

#include "qrt_conv_internal.h"

typedef struct dconv_job {
  const qrt_conv *c;
  const int32_t *w; /* packed by qrt_conv_direct_pack */
  const uint8_t *x; /* padded planes, SW column phases */
  uint8_t *y;
  int64_t PH, PW, Cg, Mg, chunks;
} dconv_job;

/* Output channel m of image img, every pixel, one tap at a time: the
 * fallback (any path, any shape). */
static void dconv_plain(const dconv_job *j, int64_t img, int64_t m) {
  const qrt_conv *c = j->c;
  const int64_t g = m / j->Mg, PWs = j->PW / c->SW, P = c->OH * c->OW;
  const qrt_requant *rq = c->rq;
  uint8_t *yb = j->y + (img * c->M + m) * P * (int64_t)qrt_conv_out_bytes(rq);
  for (int64_t oh = 0; oh < c->OH; oh++) {
    for (int64_t ow = 0; ow < c->OW; ow++) {
      int32_t acc = 0;
      for (int64_t ci = 0; ci < j->Cg; ci++) {
        const uint8_t *pl = j->x + (img * c->C + g * j->Cg + ci) * j->PH * j->PW;
        for (int64_t kh = 0; kh < c->KH; kh++)
          for (int64_t kw = 0; kw < c->KW; kw++) {
            int64_t col = ow * c->SW + kw * c->DW;
            acc += (int32_t)pl[(oh * c->SH + kh * c->DH) * j->PW + col % c->SW * PWs + col / c->SW] *
                   qrt_dc_weight(c, j->w, m, ci, kh, kw);
          }
      }
      int64_t at = oh * c->OW + ow;
      if (!rq) {
        memcpy(yb + at * 4, &acc, 4);
        continue;
      }
      int64_t pc = rq->per_channel ? m : 0;
      int32_t v = qrt_requant1(acc + (rq->bias ? rq->bias[m] : 0), rq->m0[pc], rq->shift[pc], rq->zp, rq->lo, rq->hi);
      yb[at] = c->lut ? c->lut[(uint8_t)v] : (uint8_t)v;
    }
  }
}

#if defined(QRT_PATH_AVX512VNNI)
/* acc += u8 x (the dword at w broadcast), the broadcast folded into the
 * instruction. */
QRT_INLINE __m512i dpbusd_b(__m512i acc, __m512i u8, const int32_t *w) {
  __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(u8), "m"(*w));
  return acc;
}

/* Named accumulators (GCC keeps an array of vectors in memory across the
 * loops), 16 or 8 of them: a pass of up to 8 channels (mnist8's first
 * layer, ppocr_cls's stem) does half the work. */
#define DC_ALL16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define DC_ALL8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define DC_LOAD(i) __m512i c##i = acc[i];
#define DC_A(i) c##i = dpbusd_b(c##i, a, wa + i);
#define DC_B(i) c##i = dpbusd_b(c##i, b, wa + QRT_DC_MC + i);
#define DC_SAVE(i) acc[i] = c##i;
#define DC_BLOCK(NAME, ALL)                                                                                            \
  static void NAME(const int32_t *wd, const uint8_t *planes, const int64_t *roff, const int64_t *rk, int64_t nv,      \
                   int64_t nf, int64_t PWs, unsigned hi, int64_t o0, __m512i *acc) {                                   \
    ALL(DC_LOAD)                                                                                                       \
    const qrt_win win = qrt_win_make();                                                                                \
    for (int64_t v = 0; v < nv; v++) {                                                                                 \
      const uint8_t *row = planes + roff[v] + o0;                                                                      \
      for (int64_t f = 0; f < nf; f++) {                                                                               \
        __m512i s = qrt_win_load(&win, row + f * PWs);                                                                 \
        const int32_t *wa = &wd[((rk[v] * nf + f) * 2) * QRT_DC_MC]; /* nq = 2 */                                     \
        __m512i a = _mm512_shuffle_epi8(s, win.sha);                                                                   \
        ALL(DC_A)                                                                                                      \
        if (hi >> f & 1) { /* this phase has taps 4-7 */                                                               \
          __m512i b = _mm512_shuffle_epi8(s, win.shb);                                                                 \
          ALL(DC_B)                                                                                                    \
        }                                                                                                              \
      }                                                                                                                \
    }                                                                                                                  \
    ALL(DC_SAVE)                                                                                                       \
  }
/* Output row oh, 16 pixels from o0: nv kernel rows (offsets roff, packed
 * rows rk), nf column phases, bit f of hi set when phase f has taps 4-7. */
DC_BLOCK(dc_block16, DC_ALL16)
DC_BLOCK(dc_block8, DC_ALL8)

/* Rows [oh0, oh1) of output channels [m0, m0 + mc) of image img. */
static void dconv_rows(const dconv_job *j, const int32_t *wd, int64_t img, int64_t m0, int64_t mc, int64_t oh0,
                       int64_t oh1) {
  const qrt_conv *c = j->c;
  const int64_t g = m0 / j->Mg, OW = c->OW, P = c->OH * OW, KH = c->KH;
  const qrt_requant *rq = c->rq;
  const size_t eb = qrt_conv_out_bytes(rq);
  const ep512 e = ep512_make(rq);
  row_ep re[QRT_DC_MC];
  row_ep_make(&e, m0, mc, re);
  const uint8_t *planes = j->x + (img * c->C + g * j->Cg) * j->PH * j->PW;
  const int32_t *rs = wd + j->Cg * KH * qrt_dc_phases(c) * 2 * QRT_DC_MC; /* nq = 2 */
  uint8_t *yb = j->y + (img * c->M + m0) * P * (int64_t)eb;
  const int64_t nf = qrt_dc_phases(c), PWs = j->PW / c->SW;
  unsigned hi = 0;
  for (int64_t f = 0; f < nf; f++) hi |= (unsigned)((c->KW - f + c->SW - 1) / c->SW > 4) << f;
  for (int64_t oh = oh0; oh < oh1; oh++) {
    /* kernel rows (ci, kh) on input rows; padding rows' sums per channel */
    int64_t roff[QRT_DCONV_MAX_ROWS], rk[QRT_DCONV_MAX_ROWS], nv = 0;
    int32_t corr[QRT_DC_MC] = {0};
    for (int64_t kh = 0; kh < KH; kh++) {
      int64_t prow = oh * c->SH + kh * c->DH, ih = prow - c->PT;
      if (ih < 0 || ih >= c->H) {
        for (int i = 0; i < QRT_DC_MC; i++) corr[i] += (int32_t)c->pad * rs[kh * QRT_DC_MC + i];
        continue;
      }
      for (int64_t ci = 0; ci < j->Cg; ci++) {
        roff[nv] = ci * j->PH * j->PW + prow * j->PW;
        rk[nv++] = ci * KH + kh;
      }
    }
    for (int64_t o0 = 0; o0 < OW; o0 += 16) {
      __m512i acc[QRT_DC_MC];
      for (int i = 0; i < QRT_DC_MC; i++) acc[i] = _mm512_set1_epi32(corr[i]);
      (mc <= 8 ? dc_block8 : dc_block16)(wd, planes, roff, rk, nv, nf, PWs, hi, o0, acc);
      __mmask16 k = colmask(OW - o0);
      for (int64_t i = 0; i < mc; i++) store16_ep(&e, &re[i], acc[i], k, yb, i * P + oh * OW + o0);
    }
  }
  /* the fused table once over the rows done (see qrt_dwconv.c) */
  if (rq && c->lut)
    for (int64_t i = 0; i < mc; i++) qrt_conv_apply_lut(yb + i * P + oh0 * OW, 1, (oh1 - oh0) * OW, OW, c->lut);
}
#endif

/* Task t = ((img * group + g) * chunks + chunk) * OH + oh: one output row
 * of one pass; a thread's contiguous range runs row after row. */
static void dconv_tasks(void *ctx, int64_t begin, int64_t end) {
  const dconv_job *j = ctx;
  const qrt_conv *c = j->c;
#if defined(QRT_PATH_AVX512VNNI)
  if (qrt_conv_direct_fits(c)) {
    for (int64_t t = begin; t < end;) {
      int64_t pass = t / c->OH, oh = t % c->OH, oh1 = c->OH;
      if (end - t < oh1 - oh) oh1 = oh + (end - t);
      int64_t img = pass / (c->group * j->chunks), gc = pass % (c->group * j->chunks);
      int64_t m0 = gc / j->chunks * j->Mg + gc % j->chunks * QRT_DC_MC;
      int64_t mc = j->Mg - gc % j->chunks * QRT_DC_MC < QRT_DC_MC ? j->Mg - gc % j->chunks * QRT_DC_MC : QRT_DC_MC;
      dconv_rows(j, j->w + gc * qrt_dc_pass_words(c), img, m0, mc, oh, oh1);
      t += oh1 - oh;
    }
    return;
  }
#endif
  /* the plain loop: one task per (image, output channel) */
  for (int64_t t = begin; t < end; t++) dconv_plain(j, t / c->M, t % c->M);
}

void qrt_conv_direct_q8(const qrt_conv *c, const void *w, const void *x, void *y, qrt_pool *pool) {
  qrt_conv_make_padded(c, x, c->SW, c->x_xor, c->pad, pool);
  dconv_job j = {c, (const int32_t *)w, c->scratch, y, qrt_conv_padded_h(c), qrt_conv_padded_w(c),
                 c->C / c->group, c->M / c->group, 1};
#if defined(QRT_PATH_AVX512VNNI)
  if (qrt_conv_direct_fits(c)) {
    j.chunks = (j.Mg + QRT_DC_MC - 1) / QRT_DC_MC;
    qrt_parallel_for(pool, c->N * c->group * j.chunks * c->OH, 1, dconv_tasks, &j);
    return;
  }
#endif
  qrt_parallel_for(pool, c->N * c->M, 1, dconv_tasks, &j);
}
