/* libquench_rt: the runtime that code emitted by `quench compile` links
 * against. Its integer arithmetic mirrors compiler/quant/qmath.h bit for bit
 * (docs/backends/c.md says how, and which kernel runs on which target).
 *
 * The path a kernel takes is chosen when this code is compiled, from the
 * compiler's target macros: __AMX_INT8__ (with AVX-512 VNNI), __AVX512VNNI__
 * (with AVX-512BW), __AVX2__,
 * __ARM_FEATURE_DOTPROD, else portable scalar C. QRT_FORCE_SCALAR picks the
 * scalar path whatever the flags. Every path gives the same bits. */
#ifndef QRT_H
#define QRT_H
#include <stddef.h>
#include <stdint.h>

#if !defined(QRT_FORCE_SCALAR) && defined(__AVX512VNNI__) && defined(__AVX512BW__)
#define QRT_PATH_AVX512VNNI 1
#define QRT_PATH_NAME "avx512vnni"
#elif !defined(QRT_FORCE_SCALAR) && defined(__AVX2__)
#define QRT_PATH_AVX2 1
#define QRT_PATH_NAME "avx2"
#elif !defined(QRT_FORCE_SCALAR) && defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#define QRT_PATH_NEON_DOT 1
#define QRT_PATH_NAME "aarch64-dotprod"
#else
#define QRT_PATH_SCALAR 1
#define QRT_PATH_NAME "scalar"
#endif
/* AMX int8 (-mamx-tile -mamx-int8 on top of the AVX-512 VNNI flags): form A
 * of the GEMM runs on tiles (tdpbusd); every other kernel stays on the VNNI
 * path, whose macros stay defined. At run time it falls back to VNNI when
 * the kernel refuses the tile state (qrt_gemm_x86.c). */
/* (GCC spells the macros __AMX_INT8__, clang __AMXINT8__.) */
#if defined(QRT_PATH_AVX512VNNI) && (defined(__AMX_INT8__) || defined(__AMXINT8__)) &&                                  \
    (defined(__AMX_TILE__) || defined(__AMXTILE__))
#define QRT_PATH_AMX 1
#undef QRT_PATH_NAME
#define QRT_PATH_NAME "amx"
#endif

/* Keeps a small vectorizable loop a loop of its own: GCC's -O3
 * unroll-and-jam otherwise fuses two calls' loops into one scalar loop. */
#if defined(__GNUC__)
#define QRT_NOINLINE __attribute__((noinline))
#else
#define QRT_NOINLINE
#endif

static inline int64_t qrt_round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/* rounding_shift(v, n) = floor((v + 2^(n-1)) / 2^n), n in [1, 62], |v| < 2^62:
 * q_rounding_shift in compiler/quant/qmath.c. The floor of a negative s is
 * ~(~s >> n) (~s = -s - 1 >= 0), so no >> of a negative number is needed
 * (implementation-defined in C) and the select vectorizes. */
static inline int64_t qrt_rounding_shift(int64_t v, int32_t n) {
  int64_t s = v + ((int64_t)1 << (n - 1));
  return s >= 0 ? s >> n : ~(~s >> n);
}

/* y = clamp(zp + rounding_shift(acc * m0, shift), lo, hi): q_requantize. */
static inline int32_t qrt_requant1(int32_t acc, int32_t m0, int32_t shift, int32_t zp, int32_t lo, int32_t hi) {
  int64_t y = zp + qrt_rounding_shift((int64_t)acc * m0, shift);
  return (int32_t)(y < lo ? lo : y > hi ? hi : y);
}

/* The epilogue fused into integer GEMM and convolution kernels:
 *   acc = sum_k a*w + bias[c]              (int32; the emitter proves at
 *                                            compile time that it cannot
 *                                            overflow)
 *   y   = clamp(zp + rounding_shift(acc * m0[c], shift[c]), lo, hi)
 * c is the output channel; bias may be NULL (0); m0/shift have one entry
 * when per_channel is 0. Zero points of the inputs are folded into bias by
 * the emitter (bias' = bias - x_zp - a_zp * colsum(w)). */
typedef struct qrt_requant {
  const int32_t *bias;
  const int32_t *m0, *shift;
  int per_channel;
  int32_t zp, lo, hi;
  int out_signed; /* store s8 (1) or u8 (0) */
} qrt_requant;

#endif
