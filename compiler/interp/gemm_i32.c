/* Exact integer GEMM for zero-point-shifted 8-bit operands (values in
 * [-255, 255], held as int16): C (int64) = A * B.
 *
 * Why int32 is exact: each product has |a*b| <= 255*255 = 65025, so a sum
 * of KC <= 32768 of them stays below 2^31 (32768 * 65025 < 2^31 - 1). The
 * k loop runs in blocks of KC = 256 into int32 accumulators and each block's
 * sum is added into the int64 result, so any k is exact.
 *
 * Layout: B is packed once per call into zero-padded panels of JB columns
 * (row p of panel jp contiguous), and a 4-row micro-kernel does
 * c[r][j] += a[r][p] * b[p][j] over a fixed JB, so gcc -O2 (very-cheap cost
 * model) vectorizes it as int16 x int16 -> int32 widening multiplies
 * (SSE2, or AVX2 where the CPU has it, chosen at run time).
 * Test: test/unit/test_k_qlinear_fast.c. */
#include "interp/gemm_i32.h"

#include <stdlib.h>
#include <string.h>

enum { JB = 32, KC = 256, MR = 4 };
_Static_assert((int64_t)KC * GEMM_I16_MAX_ABS * GEMM_I16_MAX_ABS < INT32_MAX, "int32 block sum may overflow");

/* Rows 0..3 of A (from a, row stride lda) times the kc x JB panel bp,
 * added into the int64 rows of c (first nj columns). A macro so that the
 * same body compiles for baseline x86-64 and, dispatched at run time, for
 * AVX2 (integer sums: every ISA gives the same bits). */
#define MICRO4_BODY                                                       \
  int32_t c0[JB] = {0}, c1[JB] = {0}, c2[JB] = {0}, c3[JB] = {0};         \
  const int16_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda; \
  for (int64_t p = 0; p < kc; p++) {                                      \
    const int16_t *b = bp + p * JB;                                       \
    int16_t v0 = a0[p], v1 = a1[p], v2 = a2[p], v3 = a3[p];               \
    for (int j = 0; j < JB; j++) {                                        \
      c0[j] += v0 * b[j];                                                 \
      c1[j] += v1 * b[j];                                                 \
      c2[j] += v2 * b[j];                                                 \
      c3[j] += v3 * b[j];                                                 \
    }                                                                     \
  }                                                                       \
  for (int64_t j = 0; j < nj; j++) {                                      \
    c[j] += c0[j];                                                        \
    c[ldc + j] += c1[j];                                                  \
    c[2 * ldc + j] += c2[j];                                              \
    c[3 * ldc + j] += c3[j];                                              \
  }

/* One row of A: the same with one accumulator row. */
#define MICRO1_BODY                                        \
  int32_t c0[JB] = {0};                                    \
  for (int64_t p = 0; p < kc; p++) {                       \
    const int16_t *b = bp + p * JB;                        \
    int16_t v0 = a[p];                                     \
    for (int j = 0; j < JB; j++) c0[j] += v0 * b[j];       \
  }                                                        \
  for (int64_t j = 0; j < nj; j++) c[j] += c0[j];

typedef void (*Micro4Fn)(int64_t kc, const int16_t *a, int64_t lda, const int16_t *bp, int64_t *c, int64_t ldc,
                         int64_t nj);
typedef void (*Micro1Fn)(int64_t kc, const int16_t *a, const int16_t *bp, int64_t *c, int64_t nj);

static void micro4(int64_t kc, const int16_t *a, int64_t lda, const int16_t *bp, int64_t *c, int64_t ldc,
                   int64_t nj) {
  MICRO4_BODY
}

static void micro1(int64_t kc, const int16_t *a, const int16_t *bp, int64_t *c, int64_t nj) { MICRO1_BODY }

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2"))) static void micro4_avx2(int64_t kc, const int16_t *a, int64_t lda,
                                                        const int16_t *bp, int64_t *c, int64_t ldc, int64_t nj) {
  MICRO4_BODY
}

__attribute__((target("avx2"))) static void micro1_avx2(int64_t kc, const int16_t *a, const int16_t *bp, int64_t *c,
                                                        int64_t nj) {
  MICRO1_BODY
}

static bool have_avx2(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
#else
#define micro4_avx2 micro4
#define micro1_avx2 micro1
static bool have_avx2(void) { return false; }
#endif

bool gemm_i16_exact(int64_t m, int64_t n, int64_t k, const int16_t *a, int64_t lda, const int16_t *b, int64_t ldb,
                    int64_t *c, int64_t ldc) {
  for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof *c);
  if (m <= 0 || n <= 0 || k <= 0) return true;
  int64_t npan = (n + JB - 1) / JB;
  int16_t *pk = calloc((size_t)(npan * k * JB), sizeof *pk);
  if (!pk) return false;
  for (int64_t jp = 0; jp < npan; jp++) {
    int64_t j0 = jp * JB, nj = n - j0 < JB ? n - j0 : JB;
    for (int64_t p = 0; p < k; p++) memcpy(pk + (jp * k + p) * JB, b + p * ldb + j0, (size_t)nj * sizeof *pk);
  }
  bool avx2 = have_avx2();
  Micro4Fn m4 = avx2 ? micro4_avx2 : micro4;
  Micro1Fn m1 = avx2 ? micro1_avx2 : micro1;
  for (int64_t jp = 0; jp < npan; jp++) {
    int64_t j0 = jp * JB, nj = n - j0 < JB ? n - j0 : JB;
    for (int64_t k0 = 0; k0 < k; k0 += KC) {
      int64_t kc = k - k0 < KC ? k - k0 : KC;
      const int16_t *bp = pk + (jp * k + k0) * JB;
      int64_t i = 0;
      for (; i + MR <= m; i += MR) m4(kc, a + i * lda + k0, lda, bp, c + i * ldc + j0, ldc, nj);
      for (; i < m; i++) m1(kc, a + i * lda + k0, bp, c + i * ldc + j0, nj);
    }
  }
  free(pk);
  return true;
}
