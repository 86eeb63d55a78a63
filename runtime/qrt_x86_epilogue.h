/* The AVX-512 VNNI pieces shared by the GEMM (qrt_gemm_x86.c) and the
 * direct depthwise convolution (qrt_dwconv.c): vpdpbusd without GCC's
 * accumulator copies, and the requantizing epilogue, bit-identical to
 * qrt_requant1. Internal: included only where QRT_PATH_AVX512VNNI is set. */
#ifndef QRT_X86_EPILOGUE_H
#define QRT_X86_EPILOGUE_H
#include <immintrin.h>
#include <string.h>

#include "qrt.h"

#ifndef QRT_INLINE
#define QRT_INLINE static inline __attribute__((always_inline))
#endif

/* acc += u8 x s8 (vpdpbusd). Inline asm, not _mm512_dpbusd_epi32: GCC 12
 * copies the accumulator around every intrinsic call and spills the 24-zmm
 * tile to the stack each k step (half the speed). */
QRT_INLINE __m512i dpbusd(__m512i acc, __m512i u8, __m512i s8) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "vm"(s8));
  return acc;
}

/* Requantizes 16 int32 accumulators (bias already added) with per-lane m0
 * and shift, bit-identical to qrt_requant1: vpmuldq on even and odd lanes,
 * plus the rounding term 2^(n-1) in 64 bits, then
 *   - when every lane's shift n is at least 32 (the usual case: a multiplier
 *     m0 * 2^-n below 1/2 with m0 in [2^30, 2^31)) and |zp| < 2^30: the high
 *     dwords of the 64-bit sums (floor(v / 2^32), |.| < 2^30) gathered into
 *     one vector, shifted right by n - 32, + zp and clamped in 32 bits
 *     (floor(floor(v / 2^32) / 2^(n-32)) = floor(v / 2^n));
 *   - else the 64-bit shift, + zp and clamp in 64 bits, back to 32-bit lanes.
 * Arithmetic shifts are floors, as qrt_rounding_shift. The clamp keeps
 * qrt_requant1's order y < lo ? lo : y > hi ? hi : y (it matters only if
 * lo > hi). */
/* The per-lane shift: as even/odd 64-bit lanes with their rounding terms,
 * and as 32-bit lanes less 32 when all are at least 32 (hi). Per channel
 * computed per store, per tensor once per call. */
typedef struct shift512 {
  __m512i she, sho, rde, rdo, sh32;
  int hi;
} shift512;

QRT_INLINE shift512 shift512_make(__m512i sh) {
  const __m512i lo32 = _mm512_set1_epi64(0xffffffff), one = _mm512_set1_epi64(1), v32 = _mm512_set1_epi32(32);
  shift512 r;
  r.she = _mm512_and_si512(sh, lo32);
  r.sho = _mm512_srli_epi64(sh, 32);
  r.rde = _mm512_sllv_epi64(one, _mm512_sub_epi64(r.she, one));
  r.rdo = _mm512_sllv_epi64(one, _mm512_sub_epi64(r.sho, one));
  r.sh32 = _mm512_sub_epi32(sh, v32);
  r.hi = _mm512_cmplt_epi32_mask(sh, v32) == 0;
  return r;
}

/* Epilogue constants of one store: per channel vectors are loaded per tile. */
typedef struct ep512 {
  const qrt_requant *rq;
  __m512i zp, lo, hi;       /* 64-bit lanes */
  __m512i zp32, lo32, hi32; /* 32-bit lanes */
  int zp_small;             /* |zp| < 2^30: the 32-bit path cannot overflow */
  __m512i m0;               /* per tensor only */
  shift512 sh;              /* per tensor only */
} ep512;

QRT_INLINE __m512i requant16(__m512i acc, __m512i m0, const shift512 *s, const ep512 *e) {
  __m512i pe = _mm512_add_epi64(_mm512_mul_epi32(acc, m0), s->rde);
  __m512i po = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32), _mm512_srli_epi64(m0, 32)), s->rdo);
  if (s->hi && e->zp_small) {
    __m512i h = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(pe, 32), po);
    __m512i y = _mm512_add_epi32(_mm512_srav_epi32(h, s->sh32), e->zp32);
    return _mm512_mask_mov_epi32(_mm512_min_epi32(y, e->hi32), _mm512_cmplt_epi32_mask(y, e->lo32), e->lo32);
  }
  pe = _mm512_add_epi64(_mm512_srav_epi64(pe, s->she), e->zp);
  po = _mm512_add_epi64(_mm512_srav_epi64(po, s->sho), e->zp);
  pe = _mm512_mask_mov_epi64(_mm512_min_epi64(pe, e->hi), _mm512_cmplt_epi64_mask(pe, e->lo), e->lo);
  po = _mm512_mask_mov_epi64(_mm512_min_epi64(po, e->hi), _mm512_cmplt_epi64_mask(po, e->lo), e->lo);
  return _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
}

QRT_INLINE ep512 ep512_make(const qrt_requant *rq) {
  ep512 e;
  memset(&e, 0, sizeof e);
  e.rq = rq;
  if (rq) {
    e.zp = _mm512_set1_epi64(rq->zp);
    e.lo = _mm512_set1_epi64(rq->lo);
    e.hi = _mm512_set1_epi64(rq->hi);
    e.zp32 = _mm512_set1_epi32(rq->zp);
    e.lo32 = _mm512_set1_epi32(rq->lo);
    e.hi32 = _mm512_set1_epi32(rq->hi);
    e.zp_small = rq->zp > -(1 << 30) && rq->zp < (1 << 30);
    if (!rq->per_channel) {
      e.m0 = _mm512_set1_epi32(rq->m0[0]);
      e.sh = shift512_make(_mm512_set1_epi32(rq->shift[0]));
    }
  }
  return e;
}

/* The low bytes of 16 int32 lanes to p, lanes in k: the masked narrowing
 * store costs more uops than the register narrowing and a plain store, and
 * nearly every store is whole. */
QRT_INLINE void store16_u8(void *p, __mmask16 k, __m512i r) {
  if (k == 0xffff)
    _mm_storeu_si128((__m128i *)p, _mm512_cvtepi32_epi8(r));
  else
    _mm512_mask_cvtepi32_storeu_epi8(p, k, r);
}

/* The epilogue constants of one output channel (form B's rows, a direct
 * kernel's channels), made once per block of channels rather than per
 * 16-lane store: the shift vectors cost as much as the requantization. */
typedef struct row_ep {
  __m512i m0, bias;
  shift512 sh;
} row_ep;

/* Channels [m0, m0 + n) into re (zeros without rq: int32 outputs). */
static inline void row_ep_make(const ep512 *e, int64_t m0, int64_t n, row_ep *re) {
  const qrt_requant *rq = e->rq;
  if (!rq) {
    memset(re, 0, (size_t)n * sizeof *re);
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    int64_t m = m0 + i;
    re[i].bias = rq->bias ? _mm512_set1_epi32(rq->bias[m]) : _mm512_setzero_si512();
    if (rq->per_channel) {
      re[i].m0 = _mm512_set1_epi32(rq->m0[m]);
      re[i].sh = shift512_make(_mm512_set1_epi32(rq->shift[m]));
    } else {
      re[i].m0 = e->m0;
      re[i].sh = e->sh;
    }
  }
}

/* 16 lanes (mask k) of one channel to element at of y: int32 without rq,
 * else requantized bytes. */
QRT_INLINE void store16_ep(const ep512 *e, const row_ep *re, __m512i acc, __mmask16 k, void *y, int64_t at) {
  if (!e->rq)
    _mm512_mask_storeu_epi32((int32_t *)y + at, k, acc);
  else
    store16_u8((uint8_t *)y + at, k, requant16(_mm512_add_epi32(acc, re->bias), re->m0, &re->sh, e));
}

/* Stores 16 lanes (mask k) of row m at column col: channel = column. */
QRT_INLINE void store_cols(const ep512 *e, __m512i acc, __mmask16 k, int64_t m, int64_t col, void *C, int64_t ldc) {
  const qrt_requant *rq = e->rq;
  if (!rq) {
    _mm512_mask_storeu_epi32((int32_t *)C + m * ldc + col, k, acc);
    return;
  }
  if (rq->bias) acc = _mm512_add_epi32(acc, _mm512_maskz_loadu_epi32(k, rq->bias + col));
  __m512i r;
  if (rq->per_channel) {
    /* lanes past the tile: shift 32 (stored nowhere) */
    shift512 sh = shift512_make(_mm512_mask_loadu_epi32(_mm512_set1_epi32(32), k, rq->shift + col));
    r = requant16(acc, _mm512_maskz_loadu_epi32(k, rq->m0 + col), &sh, e);
  } else {
    r = requant16(acc, e->m0, &e->sh, e);
  }
  store16_u8((uint8_t *)C + m * ldc + col, k, r);
}

QRT_INLINE __mmask16 colmask(int64_t n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1); }

#endif
