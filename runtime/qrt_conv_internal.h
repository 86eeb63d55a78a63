/* Shared by the convolution files (qrt_conv.c, qrt_dwconv.c), not part of
 * the generated code's interface. */
#ifndef QRT_CONV_INTERNAL_H
#define QRT_CONV_INTERNAL_H
#include "qrt_conv.h"

/* Bytes per output element: requantized bytes, or int32 without rq. */
static inline size_t qrt_conv_out_bytes(const qrt_requant *rq) { return rq ? 1 : 4; }

/* y[r * ld + i] = lut[y[r * ld + i]] over rows x n: the fused chain applied
 * to a tile just stored (still in cache). */
void qrt_conv_apply_lut(uint8_t *y, int64_t rows, int64_t n, int64_t ld, const uint8_t *lut);

/* Writes the padded planes (qrt_conv_padded_h x qrt_conv_padded_w, input
 * bytes XORed with in_xor, padding = pad) into c->scratch; phases > 1
 * stores each row as that many column phases (qrt_conv.h). */
void qrt_conv_make_padded(const qrt_conv *c, const uint8_t *x, int64_t phases, uint8_t in_xor, uint8_t pad,
                          qrt_pool *pool);

/* The direct kernel's packed weights (qrt_conv_direct_pack): per group and
 * pass of QRT_DC_MC output channels, for kernel row r = ci * KH + kh and
 * column phase f < nf = qrt_dc_phases, the taps kw = f, f + SW, ... as
 * nq = qrt_dc_quads dwords (4 taps each) per output channel, word
 * ((r * nf + f) * nq + quad) * QRT_DC_MC + i (zero past the taps and past
 * the group's channels); then per kh the weight sums over (ci, kw), word
 * rows * nf * nq * QRT_DC_MC + kh * QRT_DC_MC + i. Shapes that fit the
 * kernel (qrt_conv_direct_fits) have nq = 2. */
#define QRT_DC_MC 16

static inline int64_t qrt_dc_phases(const qrt_conv *c) { return c->SW < c->KW ? c->SW : c->KW; }
static inline int64_t qrt_dc_quads(const qrt_conv *c) {
  int64_t q = ((c->KW + c->SW - 1) / c->SW + 3) / 4;
  return q > 2 ? q : 2;
}
static inline int64_t qrt_dc_passes(const qrt_conv *c) { return (c->M / c->group + QRT_DC_MC - 1) / QRT_DC_MC; }
static inline int64_t qrt_dc_pass_words(const qrt_conv *c) {
  return (c->C / c->group * c->KH * qrt_dc_phases(c) * qrt_dc_quads(c) + c->KH) * QRT_DC_MC;
}
/* Word of weight (r, kw) of channel i of a pass, and of its byte kw / SW % 4. */
static inline int64_t qrt_dc_word(const qrt_conv *c, int64_t r, int64_t kw, int64_t i) {
  return ((r * qrt_dc_phases(c) + kw % c->SW) * qrt_dc_quads(c) + kw / c->SW / 4) * QRT_DC_MC + i;
}
/* Weight (m, ci, kh, kw) from the packed form. */
static inline int8_t qrt_dc_weight(const qrt_conv *c, const int32_t *wp, int64_t m, int64_t ci, int64_t kh,
                                   int64_t kw) {
  int64_t Mg = c->M / c->group, pass = m / Mg * qrt_dc_passes(c) + m % Mg / QRT_DC_MC;
  const int32_t *word = wp + pass * qrt_dc_pass_words(c) + qrt_dc_word(c, ci * c->KH + kh, kw, m % Mg % QRT_DC_MC);
  return (int8_t)((const uint8_t *)word)[kw / c->SW % 4];
}

/* The depthwise weights' packed part (qrt_dwconv_pack): after the raw
 * bytes, at a 64-byte offset, per channel and kernel row three int32: taps
 * 0-3 and 4-7 as dwords (zero past KW) and the row's weight sum. */
#define QRT_DW_PACK_KH 16
static inline int qrt_dw_packed(const qrt_conv *c) { return c->KH <= QRT_DW_PACK_KH && c->KW <= 8; }
static inline int64_t qrt_dw_packed_offset(const qrt_conv *c) { return qrt_round_up(c->C * c->KH * c->KW, 64); }

#if defined(QRT_PATH_AVX512VNNI)
#include "qrt_x86_epilogue.h"

/* Sliding windows for the direct kernels: for 16 outputs reading
 * consecutive bytes from p (lane i reads p[i + t] for tap t), lane i of
 * *a gets (p[i], p[i+1], p[i+2], p[i+3]) and of *b (when wanted) p[i+4] ..
 * p[i+7], one vpdpbusd operand each. A 32-byte load, vpermd giving 128-bit
 * lane L the bytes from 4L, then vpshufb. Reads p[0..31]. */
typedef struct qrt_win {
  __m512i perm, sha, shb;
} qrt_win;

QRT_INLINE qrt_win qrt_win_make(void) {
  qrt_win w;
  w.perm = _mm512_set_epi32(6, 5, 4, 3, 5, 4, 3, 2, 4, 3, 2, 1, 3, 2, 1, 0);
  w.sha = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6));
  w.shb = _mm512_broadcast_i32x4(_mm_setr_epi8(4, 5, 6, 7, 5, 6, 7, 8, 6, 7, 8, 9, 7, 8, 9, 10));
  return w;
}

QRT_INLINE __m512i qrt_win_load(const qrt_win *w, const uint8_t *p) {
  return _mm512_permutexvar_epi32(w->perm, _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(const void *)p)));
}
#endif

#endif
