/* Shared by the runtime kernel tests (test_qrt_gemm.c, test_qrt_dwconv.c):
 * a fixed-seed generator, the requantization written independently of
 * qrt.h, and random epilogue parameters. Plain C (also cross-compiled for
 * aarch64). */
#ifndef QRT_TEST_UTIL_H
#define QRT_TEST_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include "qrt.h"

#if defined(__linux__) && defined(QRT_PATH_NEON_DOT)
#include <sys/auxv.h>
#endif

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static inline uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 16);
}
static inline int32_t rnd_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1)); }


static inline void *xmalloc(int64_t n) {
  void *p = malloc((size_t)(n > 0 ? n : 1));
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}
/* floor((v + 2^(n-1)) / 2^n), clamp(zp + that): written independently of qrt.h */
static inline int32_t ref_requant(int64_t acc, int32_t m0, int32_t sh, int32_t zp, int32_t lo, int32_t hi) {
  int64_t v = acc * m0, d = (int64_t)1 << sh;
  int64_t s = v + d / 2;
  int64_t q = s >= 0 ? s / d : -((-s + d - 1) / d);
  int64_t y = zp + q;
  return (int32_t)(y < lo ? lo : y > hi ? hi : y);
}

/* Epilogue parameters for nch channels, with shifts fitted to the largest
 * accumulator of each channel so that results spread over the output range
 * (and some clamp); a few m0/shift extremes. */
typedef struct rq_case {
  qrt_requant rq;
  int32_t *bias, *m0, *sh;
} rq_case;

static inline int bits_of(int64_t v) {
  int b = 0;
  while (v > 0)
    v >>= 1, b++;
  return b;
}

static inline void rq_make(rq_case *c, int64_t nch, const int64_t *amax, int per_channel, int out_signed, int with_bias) {
  c->bias = xmalloc(nch * 4);
  c->m0 = xmalloc(nch * 4);
  c->sh = xmalloc(nch * 4);
  int64_t gmax = 0;
  for (int64_t i = 0; i < nch; i++) {
    c->bias[i] = with_bias ? rnd_in(-3000, 3000) : 0;
    if (amax[i] + 3000 > gmax) gmax = amax[i] + 3000;
  }
  for (int64_t i = 0; i < (per_channel ? nch : 1); i++) {
    int64_t a = per_channel ? amax[i] + 3000 : gmax;
    int s = 31 + bits_of(a) - 7 + rnd_in(-1, 1);
    c->m0[i] = rnd_in(1 << 30, 0x7fffffff);
    if (rnd() % 8 == 0) c->m0[i] = rnd_in(1, 1000), s = rnd_in(1, 4);
    c->sh[i] = s < 1 ? 1 : s > 62 ? 62 : s;
  }
  c->rq.bias = with_bias ? c->bias : NULL;
  c->rq.m0 = c->m0;
  c->rq.shift = c->sh;
  c->rq.per_channel = per_channel;
  c->rq.out_signed = out_signed;
  if (out_signed) {
    c->rq.zp = rnd_in(-20, 20), c->rq.lo = -128, c->rq.hi = 127;
  } else {
    c->rq.zp = rnd_in(0, 255);
    c->rq.hi = rnd() % 2 ? 255 : 200;
    c->rq.lo = rnd() % 2 || c->rq.zp > c->rq.hi ? 0 : c->rq.zp; /* fused ReLU sometimes */
  }
}

static inline void rq_free(rq_case *c) { free(c->bias), free(c->m0), free(c->sh); }

static inline int32_t rq_want(const rq_case *c, int64_t dot, int64_t ch) {
  int64_t ci = c->rq.per_channel ? ch : 0;
  return ref_requant(dot + (c->rq.bias ? c->bias[ch] : 0), c->m0[ci], c->sh[ci], c->rq.zp, c->rq.lo, c->rq.hi);
}

/* fill: 0 random, 1 a = 255 and w = 127, 2 a = 255 and w = -128 */
static inline void fill_u8(uint8_t *p, int64_t n, int fill) {
  for (int64_t i = 0; i < n; i++)
    p[i] = fill ? 255 : (uint8_t)rnd();
}
static inline void fill_s8(int8_t *p, int64_t n, int fill) {
  for (int64_t i = 0; i < n; i++)
    p[i] = fill == 1 ? 127 : fill == 2 ? -128 : (int8_t)rnd();
}

/* 0 when this binary was built for the path it expects (QRT_TEST_EXPECT_PATH)
 * and the CPU has that path's instructions; else the exit code: 1 (flags
 * did not take) or 77 (skip: ctest SKIP_RETURN_CODE). */
static inline int qrt_test_path_check(void) {
#if defined(QRT_TEST_EXPECT_PATH)
  if (strcmp(QRT_PATH_NAME, QRT_TEST_EXPECT_PATH) != 0) {
    fprintf(stderr, "built for path %s, expected %s: the path flags did not take\n", QRT_PATH_NAME,
            QRT_TEST_EXPECT_PATH);
    return 1;
  }
#endif
#if defined(__x86_64__) && defined(QRT_PATH_AVX512VNNI)
  if (!__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512bw")) {
    printf("skipped: this CPU lacks AVX-512 VNNI\n");
    return 77;
  }
#elif defined(__x86_64__) && defined(QRT_PATH_AVX2)
  if (!__builtin_cpu_supports("avx2")) {
    printf("skipped: this CPU lacks AVX2\n");
    return 77;
  }
#elif defined(__linux__) && defined(QRT_PATH_NEON_DOT)
  if (!(getauxval(AT_HWCAP) & (1ul << 20))) { /* HWCAP_ASIMDDP */
    printf("skipped: this CPU lacks the dotprod extension\n");
    return 77;
  }
#endif
  return 0;
}

#endif
