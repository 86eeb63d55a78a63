/* Depthwise convolution (group == C == M), direct, per channel, from the
 * padded input planes (qrt_conv_make_padded), with the requantizing
 * epilogue. Results equal the interpreter's ConvInteger + quench.Requantize
 * bit for bit (test/codegen/check_compiled.sh).
 *
 * Two kernels. The general one (every path, any stride and dilation)
 * accumulates every tap, padding taps included, 16 outputs at a time. The
 * AVX-512 VNNI one (stride and dilation 1 along the row, KW <= 8: every
 * depthwise layer of the dev models) puts four taps in one vpdpbusd, and
 * skips kernel rows that fall wholly on padding rows: their taps all read
 * the padding byte, so they add pad * (that row's weight sum), one scalar
 * per output row. Small images with 5x5 kernels (ppocr_cls: 2 or 3 rows,
 * padding 2) spend most taps there. Both give the same integers. */
#include <string.h>

#include "qrt_conv_internal.h"


/* Longest output row the general kernel accumulates at once. */
#define QRT_DW_ROW 2048

#define QRT_DW_MAX_TAPS 64
#define QRT_DW_ROWS_TOGETHER 4

typedef struct dw_job {
  const qrt_conv *c;
  const int8_t *w;
  const uint8_t *x; /* phase-split padded planes */
  int64_t PH, PW;
  uint8_t *y;
  int64_t toff[QRT_DW_MAX_TAPS]; /* byte offset of each tap from an output row's first input */
  /* planes of at most QRT_DW_ROWS_TOGETHER output rows (dw_rows_together):
   * the padded rows read, each with the kernel row of every output row
   * reading it (-1: none), and per output row the kernel rows on padding */
  int64_t np, prow[QRT_DW_PACK_KH * QRT_DW_ROWS_TOGETHER];
  int kof[QRT_DW_PACK_KH * QRT_DW_ROWS_TOGETHER][QRT_DW_ROWS_TOGETHER];
  int npad[QRT_DW_ROWS_TOGETHER], padk[QRT_DW_ROWS_TOGETHER][QRT_DW_PACK_KH];
} dw_job;

static void dw_store(uint8_t *restrict y, const int32_t *restrict acc, int64_t n, int32_t bias, int32_t m0, int32_t sh,
                     int32_t zp, int32_t lo, int32_t hi) {
  for (int64_t i = 0; i < n; i++) y[i] = (uint8_t)qrt_requant1(acc[i] + bias, m0, sh, zp, lo, hi);
}

/* 16 outputs of one depthwise row: out[i] = sum over taps t of
 * row[toff[t] + i] * w[t], exactly (int32). The AVX-512 path pairs taps:
 * each int32 lane holds (x_t, x_t+1) as two non-negative int16 words, and
 * vpdpwssd adds x_t*w_t + x_t+1*w_t+1 (|sum| < 2^17, no saturation). */
static void dw_block16(int32_t *out, const uint8_t *row, const int64_t *toff, const int8_t *w, const int32_t *wpair,
                       int64_t ntaps) {
#if defined(QRT_PATH_AVX512VNNI)
  (void)w;
  __m512i acc = _mm512_setzero_si512();
  int64_t t = 0;
  for (; t + 1 < ntaps; t += 2) {
    __m512i a = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(row + toff[t])));
    __m512i b = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(row + toff[t + 1])));
    acc = _mm512_dpwssd_epi32(acc, _mm512_or_si512(a, _mm512_slli_epi32(b, 16)), _mm512_set1_epi32(wpair[t / 2]));
  }
  if (t < ntaps) {
    __m512i a = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(row + toff[t])));
    acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(a, _mm512_set1_epi32(wpair[t / 2])));
  }
  _mm512_storeu_si512((void *)out, acc);
#else
  (void)wpair;
  int32_t a[16] = {0};
  for (int64_t t = 0; t < ntaps; t++) {
    const uint8_t *src = row + toff[t];
    int32_t wv = w[t];
    for (int i = 0; i < 16; i++) a[i] += (int32_t)src[i] * wv;
  }
  memcpy(out, a, sizeof a);
#endif
}

/* One channel: acc[ow] = sum over taps of x * w (padding taps read x_zp;
 * the bias holds -x_zp * sum(w), as for qrt_conv_q8), then the epilogue.
 * Outputs go 16 at a time with every tap accumulated into one 16-lane
 * block (a vector register), whose taps are consecutive bytes of one
 * column phase of the padded plane. The last block may read up to 15 bytes
 * past a row (the scratch has QRT_CONV_SCRATCH_SLACK spare bytes); those
 * lanes are not stored. */
static void dw_channel(const dw_job *j, int64_t img, int64_t ch) {
  const qrt_conv *c = j->c;
  const uint8_t *x = j->x + (img * c->C + ch) * j->PH * j->PW;
  const int8_t *w = j->w + ch * c->KH * c->KW;
  int64_t PWs = j->PW / c->SW, P = c->OH * c->OW;
  size_t eb = qrt_conv_out_bytes(c->rq);
  uint8_t *yb = j->y + (img * c->M + ch) * P * (int64_t)eb;
  int32_t bias = 0, m0 = 0, sh = 1;
  if (c->rq) {
    int64_t ci = c->rq->per_channel ? ch : 0;
    bias = c->rq->bias ? c->rq->bias[ch] : 0;
    m0 = c->rq->m0[ci];
    sh = c->rq->shift[ci];
  }
  int32_t acc[QRT_DW_ROW + 16];
  int64_t ntaps = c->KH * c->KW;
  const int64_t *toff = j->toff;
  /* weights as int16 pairs (w[2i], w[2i+1]) for the paired-tap kernel; an
   * odd last tap alone, sign-extended */
  int32_t wpair[QRT_DW_MAX_TAPS / 2 + 1];
  for (int64_t t = 0; t < ntaps && t < QRT_DW_MAX_TAPS; t += 2)
    wpair[t / 2] = t + 1 < ntaps ? (int32_t)((uint32_t)(uint16_t)(int16_t)w[t] | (uint32_t)(uint16_t)(int16_t)w[t + 1] << 16)
                                 : (int32_t)w[t];
  for (int64_t oh = 0; oh < c->OH; oh++) {
    const uint8_t *row = x + oh * c->SH * j->PW;
    for (int64_t o0 = 0; o0 < c->OW; o0 += QRT_DW_ROW) {
      int64_t n = c->OW - o0 < QRT_DW_ROW ? c->OW - o0 : QRT_DW_ROW;
      for (int64_t i0 = 0; i0 < n; i0 += 16) {
        if (ntaps <= QRT_DW_MAX_TAPS) {
          dw_block16(acc + i0, row + o0 + i0, toff, w, wpair, ntaps);
          continue;
        }
        int32_t a[16] = {0};
        {
          for (int64_t kh = 0; kh < c->KH; kh++)
            for (int64_t kw = 0; kw < c->KW; kw++) {
              int64_t col = kw * c->DW;
              const uint8_t *src = row + kh * c->DH * j->PW + col % c->SW * PWs + col / c->SW + o0 + i0;
              int32_t wv = w[kh * c->KW + kw];
              for (int i = 0; i < 16; i++) a[i] += (int32_t)src[i] * wv;
            }
        }
        memcpy(acc + i0, a, sizeof a);
      }
      uint8_t *yo = yb + (oh * c->OW + o0) * (int64_t)eb;
      if (!c->rq) memcpy(yo, acc, (size_t)n * 4);
      else {
        dw_store(yo, acc, n, bias, m0, sh, c->rq->zp, c->rq->lo, c->rq->hi);
        if (c->lut) qrt_conv_apply_lut(yo, 1, n, n, c->lut);
      }
    }
  }
}

#if defined(QRT_PATH_AVX512VNNI)
/* Kernel rows the fast kernel holds (weights as dwords in registers). */
#define QRT_DW_FAST_KH QRT_DW_PACK_KH

static int dw_fast_ok(const qrt_conv *c) { return c->SW == 1 && c->DW == 1 && qrt_dw_packed(c); }

/* All output rows of a small plane (at most QRT_DW_ROWS_TOGETHER: ppocr_cls's
 * 5x5 layers have 2 or 3) together, 16 columns at a time: each input row's
 * window is loaded and shuffled once and feeds every output row that reads
 * it (through that row's kernel row), into one accumulator per output row:
 * fewer loads and shuffles, and independent chains side by side. The row
 * tables are the job's (dw_rows_plan), the same for every channel. */
static void dw_rows_together(const dw_job *j, const uint8_t *x, const __m512i *wa, const __m512i *wb,
                             const int32_t *rsum, const row_ep *re, const ep512 *e, uint8_t *yb) {
  const qrt_conv *c = j->c;
  const int64_t OH = c->OH, KW = c->KW, np = j->np;
  int32_t corr[QRT_DW_ROWS_TOGETHER] = {0};
  for (int64_t oh = 0; oh < OH; oh++)
    for (int t = 0; t < j->npad[oh]; t++) corr[oh] += (int32_t)c->pad * rsum[j->padk[oh][t]];
  const int64_t *prow = j->prow;
  const int(*kof)[QRT_DW_ROWS_TOGETHER] = j->kof;
  const qrt_win win = qrt_win_make();
  const int two = KW > 4;
  for (int64_t o0 = 0; o0 < c->OW; o0 += 16) {
    __m512i a0 = _mm512_set1_epi32(corr[0]), a1 = _mm512_set1_epi32(corr[1]), a2 = _mm512_set1_epi32(corr[2]),
            a3 = _mm512_set1_epi32(corr[3]);
    for (int64_t i = 0; i < np; i++) {
      __m512i s = qrt_win_load(&win, x + prow[i] * j->PW + o0);
      __m512i va = _mm512_shuffle_epi8(s, win.sha), vb = two ? _mm512_shuffle_epi8(s, win.shb) : va;
#define DW_ROW_ACC(A, T)                                                                                               \
  if (kof[i][T] >= 0) {                                                                                                \
    A = dpbusd(A, va, wa[kof[i][T]]);                                                                                  \
    if (two) A = dpbusd(A, vb, wb[kof[i][T]]);                                                                         \
  }
      DW_ROW_ACC(a0, 0)
      DW_ROW_ACC(a1, 1)
      DW_ROW_ACC(a2, 2)
      DW_ROW_ACC(a3, 3)
#undef DW_ROW_ACC
    }
    store16_ep(e, re, a0, colmask(c->OW - o0), yb, 0 * c->OW + o0);
    if (OH > 1) store16_ep(e, re, a1, colmask(c->OW - o0), yb, 1 * c->OW + o0);
    if (OH > 2) store16_ep(e, re, a2, colmask(c->OW - o0), yb, 2 * c->OW + o0);
    if (OH > 3) store16_ep(e, re, a3, colmask(c->OW - o0), yb, 3 * c->OW + o0);
  }
}

/* The row tables of dw_rows_together for this call's geometry. */
static void dw_rows_plan(dw_job *j) {
  const qrt_conv *c = j->c;
  j->np = 0;
  for (int64_t oh = 0; oh < c->OH; oh++) {
    j->npad[oh] = 0;
    for (int64_t kh = 0; kh < c->KH; kh++) {
      int64_t r = oh * c->SH + kh * c->DH, ih = r - c->PT, i = 0;
      if (ih < 0 || ih >= c->H) {
        j->padk[oh][j->npad[oh]++] = (int)kh;
        continue;
      }
      while (i < j->np && j->prow[i] != r) i++;
      if (i == j->np) {
        j->prow[j->np++] = r;
        for (int t = 0; t < QRT_DW_ROWS_TOGETHER; t++) j->kof[i][t] = -1;
      }
      j->kof[i][oh] = (int)kh;
    }
  }
}

/* One channel on the VNNI path. For 16 outputs o..o+15 of a row and one
 * kernel row, lane i needs the bytes x[o+i .. o+i+7]: qrt_win gives taps
 * 0-3 and, for KW > 4, taps 4-7 (weights past KW zero), each one vpdpbusd
 * against the row's weights broadcast as a dword. The load reads up to 31
 * bytes past an output's window: inside the plane, the next one, or the
 * scratch slack (QRT_CONV_SCRATCH_SLACK), and multiplied by zero weights or
 * not stored. */
static void dw_channel_vnni(const dw_job *j, const ep512 *e, int64_t img, int64_t ch) {
  const qrt_conv *c = j->c;
  const int64_t KH = c->KH, KW = c->KW, PW = j->PW, OW = c->OW, P = c->OH * c->OW;
  const uint8_t *x = j->x + (img * c->C + ch) * j->PH * PW;
  const qrt_requant *rq = c->rq;
  uint8_t *yb = j->y + (img * c->M + ch) * P * (int64_t)qrt_conv_out_bytes(rq);
  /* the row dwords and sums packed at compile time (qrt_dwconv_pack) */
  const int32_t *pk = (const int32_t *)(const void *)((const uint8_t *)j->w + qrt_dw_packed_offset(c)) + ch * KH * 3;
  __m512i wa[QRT_DW_FAST_KH], wb[QRT_DW_FAST_KH];
  int32_t rsum[QRT_DW_FAST_KH];
  for (int64_t kh = 0; kh < KH; kh++) {
    wa[kh] = _mm512_set1_epi32(pk[kh * 3]);
    wb[kh] = _mm512_set1_epi32(pk[kh * 3 + 1]);
    rsum[kh] = pk[kh * 3 + 2];
  }
  const qrt_win win = qrt_win_make();
  /* this channel's epilogue constants (the rest, e, made once per task) */
  row_ep re;
  row_ep_make(e, ch, 1, &re);
  if (c->OH <= QRT_DW_ROWS_TOGETHER) {
    dw_rows_together(j, x, wa, wb, rsum, &re, e, yb);
  } else {
    for (int64_t oh = 0; oh < c->OH; oh++) {
      /* the kernel rows on input rows, and the padding rows' sum */
      int64_t roff[QRT_DW_FAST_KH], nv = 0;
      int64_t kv[QRT_DW_FAST_KH];
      int32_t corr = 0;
      for (int64_t kh = 0; kh < KH; kh++) {
        int64_t prow = oh * c->SH + kh * c->DH, ih = prow - c->PT;
        if (ih < 0 || ih >= c->H) {
          corr += (int32_t)c->pad * rsum[kh];
        } else {
          roff[nv] = prow * PW;
          kv[nv++] = kh;
        }
      }
      const __m512i acc0 = _mm512_set1_epi32(corr);
      for (int64_t o0 = 0; o0 < OW; o0 += 16) {
        __m512i acc = acc0;
        for (int64_t v = 0; v < nv; v++) {
          __m512i s = qrt_win_load(&win, x + roff[v] + o0);
          acc = dpbusd(acc, _mm512_shuffle_epi8(s, win.sha), wa[kv[v]]);
          if (KW > 4) acc = dpbusd(acc, _mm512_shuffle_epi8(s, win.shb), wb[kv[v]]);
        }
        store16_ep(e, &re, acc, colmask(OW - o0), yb, oh * OW + o0);
      }
    }
  }
}
#endif

static void dw_tasks(void *ctx, int64_t begin, int64_t end) {
  const dw_job *j = ctx;
#if defined(QRT_PATH_AVX512VNNI)
  if (dw_fast_ok(j->c)) {
    const qrt_conv *c = j->c;
    const ep512 e = ep512_make(c->rq);
    for (int64_t t = begin; t < end; t++) dw_channel_vnni(j, &e, t / c->C, t % c->C);
    /* the fused table once over the task's planes (contiguous: C == M), not
     * per row or plane: loads of bytes stored a moment before in 16-byte
     * pieces stall store forwarding, and each call sets the table up */
    int64_t P = c->OH * c->OW;
    if (c->rq && c->lut) qrt_conv_apply_lut(j->y + begin * P, 1, (end - begin) * P, 0, c->lut);
    return;
  }
#endif
  for (int64_t t = begin; t < end; t++) dw_channel(j, t / j->c->C, t % j->c->C);
}

void qrt_dwconv_q8(const qrt_conv *c, const int8_t *w, const void *x, void *y, qrt_pool *pool) {
  qrt_conv_make_padded(c, x, c->SW, c->x_xor, c->pad, pool);
  dw_job j;
  memset(&j, 0, sizeof j);
  j.c = c, j.w = w, j.x = c->scratch, j.PH = qrt_conv_padded_h(c), j.PW = qrt_conv_padded_w(c), j.y = y;
#if defined(QRT_PATH_AVX512VNNI)
  if (dw_fast_ok(c) && c->OH <= QRT_DW_ROWS_TOGETHER) dw_rows_plan(&j);
#endif
  for (int64_t t = 0; t < c->KH * c->KW && t < QRT_DW_MAX_TAPS; t++) {
    int64_t kh = t / c->KW, col = t % c->KW * c->DW;
    j.toff[t] = kh * c->DH * j.PW + col % c->SW * (j.PW / c->SW) + col / c->SW;
  }
  qrt_parallel_for(pool, c->N * c->C, 1, dw_tasks, &j);
}
