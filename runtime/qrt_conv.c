/* Integer convolution (through the GEMM micro-kernel, and direct depthwise)
 * and matrix multiplication with the fused requantizing epilogue.
 * Results equal the interpreter's ConvInteger/MatMulInteger followed by
 * quench.Requantize bit for bit (test/codegen/check_compiled.sh compares them). */
#include "qrt_conv.h"

#include <string.h>

#include "qrt_gemm.h"
#include "qrt_lut.h"

#if defined(QRT_PATH_AVX512VNNI)
#include <immintrin.h>
#endif

/* Bytes of one packed activation panel on the stack: Kp x NB columns. */
#define QRT_PANEL_BYTES (96 * 1024)
/* Longest output row the depthwise kernel accumulates at once. */
#define QRT_DW_ROW 2048

static size_t out_elem_bytes(const qrt_requant *rq) { return rq ? 1 : 4; }

/* y[r * ld + i] = lut[y[r * ld + i]] over rows x n: the fused chain applied
 * to a tile just stored (still in cache). */
static void apply_lut(uint8_t *y, int64_t rows, int64_t n, int64_t ld, const uint8_t *lut) {
  for (int64_t r = 0; r < rows; r++) qrt_lut_u8(y + r * ld, y + r * ld, n, lut);
}

/* dst[i] = src[i] ^ x (restrict: byte stores cannot alias the loop's
 * bounds, so the compiler vectorizes it). */
static void copy_xor(uint8_t *restrict dst, const uint8_t *restrict src, int64_t n, uint8_t x) {
  for (int64_t i = 0; i < n; i++) dst[i] = (uint8_t)(src[i] ^ x);
}

/* Panel columns for K: a multiple of 16, at least 16, bounded by the stack
 * panel; never more than the pixels there are. */
static int64_t panel_cols(int64_t Kp, int64_t P) {
  int64_t nb = QRT_PANEL_BYTES / Kp / 16 * 16;
  if (nb < 16) nb = 16;
  int64_t pp = qrt_round_up(P, 16);
  return nb < pp ? nb : pp;
}

/* ---- the padded input ------------------------------------------------------ */

typedef struct pad_job {
  const qrt_conv *c;
  const uint8_t *x;
  uint8_t *dst;
  int64_t PH, PW, phases; /* phases: SW for the depthwise layout, else 1 */
  uint8_t in_xor, pad;    /* applied to input bytes; the padding byte */
} pad_job;

static void pad_planes(void *ctx, int64_t begin, int64_t end) {
  const pad_job *p = ctx;
  const qrt_conv *c = p->c;
  const int64_t ph = p->phases, PH = p->PH, PW = p->PW, PWs = PW / ph, H = c->H, W = c->W, PT = c->PT, PL = c->PL;
  const uint8_t pad = p->pad, ix = p->in_xor;
  for (int64_t pl = begin; pl < end; pl++) {
    const uint8_t *src = p->x + pl * H * W;
    uint8_t *dst = p->dst + pl * PH * PW;
    /* padding rows above and below, then each input row with its borders */
    memset(dst, pad, (size_t)(PT * PW));
    memset(dst + (PT + H) * PW, pad, (size_t)((PH - PT - H) * PW));
    for (int64_t ih = 0; ih < H; ih++) {
      uint8_t *row = dst + (ih + PT) * PW;
      const uint8_t *in = src + ih * W;
      if (ph == 1) {
        memset(row, pad, (size_t)PL);
        copy_xor(row + PL, in, W, ix);
        memset(row + PL + W, pad, (size_t)(PW - PL - W));
      } else {
        memset(row, pad, (size_t)PW);
        /* column PL + iw goes to phase (PL + iw) % ph, index (PL + iw) / ph:
         * stepped, not divided, per element */
        int64_t f = PL % ph, q = PL / ph;
        for (int64_t iw = 0; iw < W; iw++) {
          row[f * PWs + q] = (uint8_t)(in[iw] ^ ix);
          if (++f == ph) f = 0, q++;
        }
      }
    }
  }
}

static void make_padded(const qrt_conv *c, const uint8_t *x, int64_t phases, uint8_t in_xor, uint8_t pad,
                        qrt_pool *pool) {
  pad_job p = {c, x, c->scratch, qrt_conv_padded_h(c), qrt_conv_padded_w(c), phases, in_xor, pad};
  qrt_parallel_for(pool, c->N * c->C, 1, pad_planes, &p);
}

/* ---- convolution through GEMM ---------------------------------------------- */

/* Taps whose offsets are tabulated once per call (larger K computes them
 * per use). */
#define QRT_CONV_KOFF 4096

typedef struct conv_job {
  const qrt_conv *c;
  const uint8_t *x; /* padded planes PH x PW (or the input itself) */
  uint8_t *y;
  int64_t PH, PW;   /* plane size of x */
  int64_t ph;       /* column phases of x's rows (qrt_conv.h): SW for strided convolutions, else 1 */
  int64_t K, Kp, Mg, Cg, P, nb, tiles_per_img;
  int32_t koff[QRT_CONV_KOFF]; /* tap k's byte offset from a pixel's first input */
} conv_job;

static int64_t tap_offset(const conv_job *j, int64_t k) {
  const qrt_conv *c = j->c;
  int64_t KHW = c->KH * c->KW, ci = k / KHW, kh = k % KHW / c->KW, col = k % c->KW * c->DW;
  return ci * j->PH * j->PW + kh * c->DH * j->PW + col % j->ph * (j->PW / j->ph) + col / j->ph;
}

/* im2col of pixels [p0, p0 + n) of one group's (padded, already XORed)
 * channels into the K4xN16 panel layout (qrt_gemm.h). Works 16 pixels (one
 * panel block) at a time: for each k the 16 taps are gathered into a row
 * (one 16-byte copy when their taps are consecutive input bytes: one output
 * row at stride 1, or a width-1 image), then four rows are interleaved into the block's 64-byte k-group. */
static void pack_panel(const conv_job *j, const uint8_t *x, int64_t p0, int64_t n, uint8_t *panel) {
  const qrt_conv *c = j->c;
  const uint8_t fill = QRT_PANEL_XOR;
  for (int64_t q0 = 0; q0 < n; q0 += 16) {
    int64_t cnt = n - q0 < 16 ? n - q0 : 16;
    /* the block's pixels as runs whose taps are consecutive input bytes
     * (a whole block at stride 1 within one output row; a piece per row
     * for narrow images; single pixels at larger strides) */
    int64_t run_q[17], run_off[16], nrun = 0;
    int64_t oh = (p0 + q0) / c->OW, ow = (p0 + q0) % c->OW, prev = 0;
    for (int64_t q = 0; q < cnt; q++) {
      /* with column phases, output column ow reads phase-local column ow */
      int64_t off = oh * c->SH * j->PW + (j->ph > 1 ? ow : ow * c->SW);
      if (q == 0 || off != prev + 1) run_q[nrun] = q, run_off[nrun++] = off;
      prev = off;
      if (++ow == c->OW) ow = 0, oh++;
    }
    run_q[nrun] = cnt;
    uint8_t *blk = panel + (q0 >> 4) * j->Kp * 16;
    uint8_t rows[4][32]; /* 16 used; runs are copied 16 bytes at a time */
    for (int64_t k0 = 0; k0 < j->Kp; k0 += 4) {
      for (int t = 0; t < 4; t++) {
        uint8_t *r = rows[t];
        int64_t k = k0 + t;
        if (k >= j->K) {
          memset(r, fill, 16);
          continue;
        }
        const uint8_t *src = x + (k < QRT_CONV_KOFF ? j->koff[k] : tap_offset(j, k));
        /* each run as a fixed 16-byte copy (inlined): later runs overwrite
         * the excess, bytes past the block are refilled below */
        for (int64_t u = 0; u < nrun; u++) memcpy(r + run_q[u], src + run_off[u], 16);
        for (int64_t q = cnt; q < 16; q++) r[q] = fill;
      }
      uint32_t g[16]; /* little-endian: byte t of pixel q is rows[t][q] */
      for (int q = 0; q < 16; q++)
        g[q] = (uint32_t)rows[0][q] | (uint32_t)rows[1][q] << 8 | (uint32_t)rows[2][q] << 16 |
               (uint32_t)rows[3][q] << 24;
      memcpy(blk + k0 * 16, g, 64);
    }
  }
}

static void conv_tiles(void *ctx, int64_t begin, int64_t end) {
  const conv_job *j = ctx;
  const qrt_conv *c = j->c;
  _Alignas(64) uint8_t panel[QRT_PANEL_BYTES];
  size_t eb = out_elem_bytes(c->rq);
  int64_t panels = (j->P + j->nb - 1) / j->nb;
  for (int64_t t = begin; t < end; t++) {
    int64_t img = t / j->tiles_per_img, r = t % j->tiles_per_img, g = r / panels, p0 = r % panels * j->nb;
    int64_t n = j->P - p0 < j->nb ? j->P - p0 : j->nb;
    pack_panel(j, j->x + (img * c->C + g * j->Cg) * j->PH * j->PW, p0, n, panel);
    qrt_requant rq;
    const qrt_requant *rqp = NULL;
    if (c->rq) {
      /* Channels of group g start at g * Mg in the per-channel arrays. */
      rq = *c->rq;
      if (rq.bias) rq.bias += g * j->Mg;
      if (rq.per_channel) {
        rq.m0 += g * j->Mg;
        rq.shift += g * j->Mg;
      }
      rqp = &rq;
    }
    const uint8_t *w = (const uint8_t *)c->w + g * c->w_group_bytes;
    uint8_t *y = j->y + ((img * c->M + g * j->Mg) * j->P + p0) * eb;
    qrt_gemm_s8u8(j->Mg, n, j->K, w, panel, rqp, y, j->P);
    if (c->lut && rqp) apply_lut(y, j->Mg, n, j->P, c->lut);
  }
}

void qrt_conv_q8(const qrt_conv *c, const void *x, void *y, qrt_pool *pool) {
  conv_job j = {.c = c, .y = y, .PH = qrt_conv_padded_h(c), .PW = qrt_conv_padded_w(c)};
  /* The packer copies runs of taps 16 bytes at a time, so it reads up to
   * 15 bytes past the last one: from the padded copy (which has slack), or
   * in place when the input needs no padding or byte flip and is followed
   * by readable bytes. */
  /* A strided convolution reads a phase-split copy (as the depthwise kernel
   * does), so the taps of consecutive outputs are consecutive bytes again. */
  j.ph = c->SW > 1 ? c->SW : 1;
  if (c->x_slack && j.ph == 1 && c->PT == 0 && c->PL == 0 && j.PH == c->H && j.PW == c->W &&
      (c->x_xor ^ QRT_PANEL_XOR) == 0) {
    j.x = x;
  } else {
    make_padded(c, x, j.ph, (uint8_t)(c->x_xor ^ QRT_PANEL_XOR), (uint8_t)(c->pad ^ QRT_PANEL_XOR), pool);
    j.x = c->scratch;
  }
  j.Cg = c->C / c->group;
  j.Mg = c->M / c->group;
  j.K = j.Cg * c->KH * c->KW;
  j.Kp = qrt_round_up(j.K, 4);
  /* tap offsets without a division per tap: the column part per kw once */
  int64_t colpart[64];
  for (int64_t kw = 0; kw < c->KW && kw < 64; kw++) {
    int64_t col = kw * c->DW;
    colpart[kw] = col % j.ph * (j.PW / j.ph) + col / j.ph;
  }
  if (c->KW <= 64)
    for (int64_t ci = 0, k = 0; ci < j.Cg && k < QRT_CONV_KOFF; ci++)
      for (int64_t kh = 0; kh < c->KH; kh++)
        for (int64_t kw = 0; kw < c->KW && k < QRT_CONV_KOFF; kw++, k++)
          j.koff[k] = (int32_t)(ci * j.PH * j.PW + kh * c->DH * j.PW + colpart[kw]);
  else
    for (int64_t k = 0; k < j.K && k < QRT_CONV_KOFF; k++) j.koff[k] = (int32_t)tap_offset(&j, k);
  j.P = c->OH * c->OW;
  j.nb = panel_cols(j.Kp, j.P);
  int64_t panels = (j.P + j.nb - 1) / j.nb;
  j.tiles_per_img = c->group * panels;
  qrt_parallel_for(pool, c->N * j.tiles_per_img, 1, conv_tiles, &j);
}

/* ---- depthwise ------------------------------------------------------------- */

#define QRT_DW_MAX_TAPS 64

typedef struct dw_job {
  const qrt_conv *c;
  const int8_t *w;
  const uint8_t *x; /* phase-split padded planes */
  int64_t PH, PW;
  uint8_t *y;
  int64_t toff[QRT_DW_MAX_TAPS]; /* byte offset of each tap from an output row's first input */
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
  size_t eb = out_elem_bytes(c->rq);
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
        if (c->lut) apply_lut(yo, 1, n, n, c->lut);
      }
    }
  }
}

static void dw_tasks(void *ctx, int64_t begin, int64_t end) {
  const dw_job *j = ctx;
  for (int64_t t = begin; t < end; t++) dw_channel(j, t / j->c->C, t % j->c->C);
}

void qrt_dwconv_q8(const qrt_conv *c, const int8_t *w, const void *x, void *y, qrt_pool *pool) {
  make_padded(c, x, c->SW, c->x_xor, c->pad, pool);
  dw_job j = {c, w, c->scratch, qrt_conv_padded_h(c), qrt_conv_padded_w(c), y, {0}};
  for (int64_t t = 0; t < c->KH * c->KW && t < QRT_DW_MAX_TAPS; t++) {
    int64_t kh = t / c->KW, col = t % c->KW * c->DW;
    j.toff[t] = kh * c->DH * j.PW + col % c->SW * (j.PW / c->SW) + col / c->SW;
  }
  qrt_parallel_for(pool, c->N * c->C, 1, dw_tasks, &j);
}

/* ---- matmul ------------------------------------------------------------------ */

typedef struct mm_job {
  int64_t M, N, K;
  const uint8_t *a;
  const void *b;
  const qrt_requant *rq;
  const uint8_t *lut;
  uint8_t *y;
} mm_job;

static void mm_cols(void *ctx, int64_t begin, int64_t end) {
  const mm_job *j = ctx;
  int64_t n0 = begin * 16, n1 = end * 16 < j->N ? end * 16 : j->N;
  qrt_gemm_u8s8(j->M, j->N, j->K, j->a, j->K, j->b, n0, n1, j->rq, j->y, j->N);
  if (j->lut && j->rq) apply_lut(j->y + n0, j->M, n1 - n0, j->N, j->lut);
}

void qrt_matmul_q8(int64_t M, int64_t N, int64_t K, const void *a, uint8_t a_xor, const void *bpacked,
                   const qrt_requant *rq, const uint8_t *lut, void *y, void *scratch, qrt_pool *pool) {
  const uint8_t *au = a;
  if (a_xor) {
    uint8_t *s = scratch;
    for (int64_t i = 0; i < M * K; i++) s[i] = (uint8_t)(au[i] ^ a_xor);
    au = s;
  }
  mm_job j = {M, N, K, au, bpacked, rq, lut, y};
  qrt_parallel_for(pool, (N + 15) / 16, 1, mm_cols, &j);
}
