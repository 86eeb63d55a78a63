/* Integer convolution (through the GEMM micro-kernel, and direct depthwise)
 * and matrix multiplication with the fused requantizing epilogue.
 * Results equal the interpreter's ConvInteger/MatMulInteger followed by
 * quench.Requantize bit for bit (test/codegen/check_compiled.sh compares them). */
#include "qrt_conv.h"
#include "qrt_conv_internal.h"

#include <string.h>

#include "qrt_gemm.h"
#include "qrt_lut.h"

#if defined(QRT_PATH_AVX512VNNI)
#include <immintrin.h>
#define QRT_INLINE static inline __attribute__((always_inline))
#endif


/* Bytes of one packed activation panel on the stack: Kp x NB columns. */
#define QRT_PANEL_BYTES (96 * 1024)

void qrt_conv_apply_lut(uint8_t *y, int64_t rows, int64_t n, int64_t ld, const uint8_t *lut) {
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

#if defined(QRT_PATH_AVX512VNNI)
QRT_INLINE __mmask64 tail64(int64_t n) { return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1); }

/* dst[0, n) = the byte in v */
QRT_INLINE void fill512(uint8_t *dst, int64_t n, __m512i v) {
  for (int64_t i = 0; i < n; i += 64) _mm512_mask_storeu_epi8(dst + i, tail64(n - i), v);
}

/* One input row (bytes XORed with vx) into a padded row already filled:
 * at column PL, or split into two column phases (even and odd input columns
 * by vpmovwb of the words and of the words shifted right by 8). */
QRT_INLINE void put_row512(uint8_t *row, const uint8_t *in, int64_t W, int64_t PL, int64_t ph, int64_t PWs,
                           __m512i vx) {
  if (ph == 1) {
    for (int64_t i = 0; i < W; i += 64) {
      __mmask64 k = tail64(W - i);
      _mm512_mask_storeu_epi8(row + PL + i, k, _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, in + i), vx));
    }
    return;
  }
  /* ph == 2: input column iw goes to phase (PL + iw) % 2, index (PL + iw) / 2 */
  uint8_t *ev = row + PL % 2 * PWs + PL / 2, *od = row + (PL + 1) % 2 * PWs + (PL + 1) / 2;
  for (int64_t i = 0; i < W; i += 64) {
    int64_t rem = W - i;
    __m512i v = _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail64(rem), in + i), vx);
    int64_t ne = rem >= 64 ? 32 : (rem + 1) / 2, no = rem >= 64 ? 32 : rem / 2; /* even, odd columns */
    __mmask32 ke = (__mmask32)(((uint64_t)1 << ne) - 1), ko = (__mmask32)(((uint64_t)1 << no) - 1);
    _mm256_mask_storeu_epi8(ev + i / 2, ke, _mm512_cvtepi16_epi8(v));
    _mm256_mask_storeu_epi8(od + i / 2, ko, _mm512_cvtepi16_epi8(_mm512_srli_epi16(v, 8)));
  }
}
#endif

static void pad_planes(void *ctx, int64_t begin, int64_t end) {
  const pad_job *p = ctx;
  const qrt_conv *c = p->c;
  const int64_t ph = p->phases, PH = p->PH, PW = p->PW, PWs = PW / ph, H = c->H, W = c->W, PT = c->PT, PL = c->PL;
  const uint8_t pad = p->pad, ix = p->in_xor;
#if defined(QRT_PATH_AVX512VNNI)
  if (ph <= 2) { /* filled, then each input row stored over the padding */
    const __m512i vpad = _mm512_set1_epi8((char)pad), vx = _mm512_set1_epi8((char)ix);
    for (int64_t pl = begin; pl < end; pl++) {
      uint8_t *dst = p->dst + pl * PH * PW;
      fill512(dst, PH * PW, vpad);
      for (int64_t ih = 0; ih < H; ih++) put_row512(dst + (ih + PT) * PW, p->x + (pl * H + ih) * W, W, PL, ph, PWs, vx);
    }
    return;
  }
#endif
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

void qrt_conv_make_padded(const qrt_conv *c, const uint8_t *x, int64_t phases, uint8_t in_xor, uint8_t pad,
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
  int contig;       /* output pixel p reads its taps at offset p (stride 1, rows as wide as the output) */
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
    if (j->contig) { /* pixel p's taps at offset p: one run (1x1 convolutions) */
      run_q[0] = 0, run_off[0] = p0 + q0, nrun = 1;
    }
    for (int64_t q = 0; q < cnt && !j->contig; q++) {
      /* with column phases, output column ow reads phase-local column ow */
      int64_t off = oh * c->SH * j->PW + (j->ph > 1 ? ow : ow * c->SW);
      if (q == 0 || off != prev + 1) run_q[nrun] = q, run_off[nrun++] = off;
      prev = off;
      if (++ow == c->OW) ow = 0, oh++;
    }
    run_q[nrun] = cnt;
    uint8_t *blk = panel + (q0 >> 4) * j->Kp * 16;
#if defined(QRT_PATH_AVX512VNNI)
    /* In registers: each run one masked 16-byte load whose lane q reads
     * its pixel's tap (lanes outside the run keep the fill and fault on
     * nothing), then the four rows interleaved by unpacks. (Rows built in
     * memory by overlapping copies and read back stall store forwarding.)
     * base >= 0: a pixel's offset is at least its index, hence at least q. */
    __mmask16 run_mask[16];
    int64_t base[16];
    for (int64_t u = 0; u < nrun; u++) {
      base[u] = run_off[u] - run_q[u];
      run_mask[u] = (__mmask16)(((1u << run_q[u + 1]) - 1) & ~((1u << run_q[u]) - 1));
    }
    const __m128i vfill = _mm_set1_epi8((char)fill);
    for (int64_t k0 = 0; k0 < j->Kp; k0 += 4) {
      __m128i r[4];
      for (int t = 0; t < 4; t++) {
        int64_t k = k0 + t;
        r[t] = vfill;
        if (k >= j->K) continue;
        const uint8_t *src = x + (k < QRT_CONV_KOFF ? j->koff[k] : tap_offset(j, k));
        for (int64_t u = 0; u < nrun; u++) r[t] = _mm_mask_loadu_epi8(r[t], run_mask[u], src + base[u]);
      }
      __m128i a = _mm_unpacklo_epi8(r[0], r[1]), b = _mm_unpackhi_epi8(r[0], r[1]);
      __m128i e = _mm_unpacklo_epi8(r[2], r[3]), f = _mm_unpackhi_epi8(r[2], r[3]);
      uint8_t *o = blk + k0 * 16;
      _mm_storeu_si128((__m128i *)(void *)o, _mm_unpacklo_epi16(a, e));
      _mm_storeu_si128((__m128i *)(void *)(o + 16), _mm_unpackhi_epi16(a, e));
      _mm_storeu_si128((__m128i *)(void *)(o + 32), _mm_unpacklo_epi16(b, f));
      _mm_storeu_si128((__m128i *)(void *)(o + 48), _mm_unpackhi_epi16(b, f));
    }
#else
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
#endif
  }
}

static void conv_tiles(void *ctx, int64_t begin, int64_t end) {
  const conv_job *j = ctx;
  const qrt_conv *c = j->c;
  _Alignas(64) uint8_t panel[QRT_PANEL_BYTES];
  size_t eb = qrt_conv_out_bytes(c->rq);
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
    if (c->lut && rqp) { /* one call when the tile's rows are contiguous (each call sets the table up) */
      if (n == j->P)
        qrt_conv_apply_lut(y, 1, j->Mg * n, 0, c->lut);
      else
        qrt_conv_apply_lut(y, j->Mg, n, j->P, c->lut);
    }
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
  j.contig = c->SH == 1 && c->SW == 1 && j.PW == c->OW;
  if (c->x_slack && j.ph == 1 && c->PT == 0 && c->PL == 0 && j.PH == c->H && j.PW == c->W &&
      (c->x_xor ^ QRT_PANEL_XOR) == 0) {
    j.x = x;
  } else {
    qrt_conv_make_padded(c, x, j.ph, (uint8_t)(c->x_xor ^ QRT_PANEL_XOR), (uint8_t)(c->pad ^ QRT_PANEL_XOR), pool);
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
  if (j->lut && j->rq) qrt_conv_apply_lut(j->y + n0, j->M, n1 - n0, j->N, j->lut);
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
