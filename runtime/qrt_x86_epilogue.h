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
 * and shift: vpmuldq on even and odd lanes, 64-bit rounding shift (v +
 * 2^(n-1)) >> n (arithmetic; equals qrt_rounding_shift's floor), + zp, clamp
 * in 64 bits, then back to 32-bit lanes. Bit-identical to qrt_requant1. */
/* The per-lane shift as even/odd 64-bit lanes and their rounding terms
 * 2^(n-1): per channel computed per store, per tensor once per call. */
typedef struct shift512 {
  __m512i she, sho, rde, rdo;
} shift512;

QRT_INLINE shift512 shift512_make(__m512i sh) {
  const __m512i lo32 = _mm512_set1_epi64(0xffffffff), one = _mm512_set1_epi64(1);
  shift512 r;
  r.she = _mm512_and_si512(sh, lo32);
  r.sho = _mm512_srli_epi64(sh, 32);
  r.rde = _mm512_sllv_epi64(one, _mm512_sub_epi64(r.she, one));
  r.rdo = _mm512_sllv_epi64(one, _mm512_sub_epi64(r.sho, one));
  return r;
}

QRT_INLINE __m512i requant16(__m512i acc, __m512i m0, const shift512 *s, __m512i zp, __m512i lo, __m512i hi) {
  __m512i pe = _mm512_mul_epi32(acc, m0);
  __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), _mm512_srli_epi64(m0, 32));
  pe = _mm512_srav_epi64(_mm512_add_epi64(pe, s->rde), s->she);
  po = _mm512_srav_epi64(_mm512_add_epi64(po, s->rdo), s->sho);
  /* y < lo ? lo : y > hi ? hi : y, in qrt_requant1's order (it matters
   * only if lo > hi) */
  pe = _mm512_add_epi64(pe, zp);
  po = _mm512_add_epi64(po, zp);
  pe = _mm512_mask_mov_epi64(_mm512_min_epi64(pe, hi), _mm512_cmplt_epi64_mask(pe, lo), lo);
  po = _mm512_mask_mov_epi64(_mm512_min_epi64(po, hi), _mm512_cmplt_epi64_mask(po, lo), lo);
  return _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
}

/* Epilogue constants of one store: per channel vectors are loaded per tile. */
typedef struct ep512 {
  const qrt_requant *rq;
  __m512i zp, lo, hi;
  __m512i m0;  /* per tensor only */
  shift512 sh; /* per tensor only */
} ep512;

QRT_INLINE ep512 ep512_make(const qrt_requant *rq) {
  ep512 e;
  memset(&e, 0, sizeof e);
  e.rq = rq;
  if (rq) {
    e.zp = _mm512_set1_epi64(rq->zp);
    e.lo = _mm512_set1_epi64(rq->lo);
    e.hi = _mm512_set1_epi64(rq->hi);
    if (!rq->per_channel) {
      e.m0 = _mm512_set1_epi32(rq->m0[0]);
      e.sh = shift512_make(_mm512_set1_epi32(rq->shift[0]));
    }
  }
  return e;
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
    shift512 sh = shift512_make(_mm512_mask_loadu_epi32(_mm512_set1_epi32(1), k, rq->shift + col));
    r = requant16(acc, _mm512_maskz_loadu_epi32(k, rq->m0 + col), &sh, e->zp, e->lo, e->hi);
  } else {
    r = requant16(acc, e->m0, &e->sh, e->zp, e->lo, e->hi);
  }
  _mm512_mask_cvtepi32_storeu_epi8((uint8_t *)C + m * ldc + col, k, r);
}

/* Stores 16 lanes of row m at column col: channel = row m. */
QRT_INLINE void store_row(const ep512 *e, __m512i acc, __mmask16 k, int64_t m, int64_t col, void *C, int64_t ldc) {
  const qrt_requant *rq = e->rq;
  if (!rq) {
    _mm512_mask_storeu_epi32((int32_t *)C + m * ldc + col, k, acc);
    return;
  }
  if (rq->bias) acc = _mm512_add_epi32(acc, _mm512_set1_epi32(rq->bias[m]));
  __m512i r;
  if (rq->per_channel) {
    shift512 sh = shift512_make(_mm512_set1_epi32(rq->shift[m]));
    r = requant16(acc, _mm512_set1_epi32(rq->m0[m]), &sh, e->zp, e->lo, e->hi);
  } else {
    r = requant16(acc, e->m0, &e->sh, e->zp, e->lo, e->hi);
  }
  _mm512_mask_cvtepi32_storeu_epi8((uint8_t *)C + m * ldc + col, k, r);
}

QRT_INLINE __mmask16 colmask(int64_t n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1); }

#endif
