/* Blocked f32 GEMM (the Goto/BLIS scheme): B is packed into kc x NR strips,
 * A into MR x kc strips, and a register-blocked MR x NR micro-kernel runs
 * over them. The micro-kernel uses GNU vector types (gcc and clang), so one
 * source gives SSE code everywhere and AVX2 code when the CPU has it
 * (checked once at run time). No fused multiply-add: the interpreter is
 * the reference, and mul + add rounds the same on every host. */
#include "interp/gemm_f32.h"

#include <stdlib.h>
#include <string.h>

enum { MR = 6, NR = 16, KC = 256, MC = 96, NC = 2048 };

typedef float v8f __attribute__((vector_size(32)));

/* acc rows += a[i] * b over kc; then C (mr x nr valid) = or += acc. */
#define MICRO_KERNEL_BODY                                                                        \
  v8f c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};                          \
  v8f c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};                          \
  for (int64_t p = 0; p < kc; p++, ap += MR, bp += NR) {                                         \
    v8f b0, b1;                                                                                  \
    memcpy(&b0, bp, sizeof b0);                                                                  \
    memcpy(&b1, bp + 8, sizeof b1);                                                              \
    c00 += ap[0] * b0, c01 += ap[0] * b1;                                                        \
    c10 += ap[1] * b0, c11 += ap[1] * b1;                                                        \
    c20 += ap[2] * b0, c21 += ap[2] * b1;                                                        \
    c30 += ap[3] * b0, c31 += ap[3] * b1;                                                        \
    c40 += ap[4] * b0, c41 += ap[4] * b1;                                                        \
    c50 += ap[5] * b0, c51 += ap[5] * b1;                                                        \
  }                                                                                              \
  v8f acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};      \
  if (mr == MR && nr == NR) {                                                                    \
    for (int i = 0; i < MR; i++) {                                                               \
      float *row = c + i * ldc;                                                                  \
      if (accumulate) {                                                                          \
        v8f o0, o1;                                                                              \
        memcpy(&o0, row, sizeof o0);                                                             \
        memcpy(&o1, row + 8, sizeof o1);                                                         \
        acc[i][0] += o0, acc[i][1] += o1;                                                        \
      }                                                                                          \
      memcpy(row, &acc[i][0], sizeof acc[i][0]);                                                 \
      memcpy(row + 8, &acc[i][1], sizeof acc[i][1]);                                             \
    }                                                                                            \
    return;                                                                                      \
  }                                                                                              \
  float tile[MR * NR];                                                                           \
  memcpy(tile, acc, sizeof tile);                                                                \
  for (int i = 0; i < mr; i++)                                                                   \
    for (int j = 0; j < nr; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i * NR + j] \
                                                             : tile[i * NR + j];

typedef void (*MicroFn)(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, int mr, int nr,
                        bool accumulate);

static void micro_generic(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, int mr, int nr,
                          bool accumulate) {
  MICRO_KERNEL_BODY
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2"))) static void micro_avx2(int64_t kc, const float *ap, const float *bp, float *c,
                                                       int64_t ldc, int mr, int nr, bool accumulate) {
  MICRO_KERNEL_BODY
}

static MicroFn pick_micro(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") ? micro_avx2 : micro_generic;
}
#else
static MicroFn pick_micro(void) { return micro_generic; }
#endif

/* A[ic.., pc..] (mc x kc) into MR-row strips, zero-padded to a multiple of
 * MR rows: strip s, step p holds A[s*MR + 0..MR-1][p]. */
static void pack_a(int64_t mc, int64_t kc, GemmMat a, float *dst) {
  for (int64_t s = 0; s < mc; s += MR) {
    int64_t rows = mc - s < MR ? mc - s : MR;
    for (int64_t p = 0; p < kc; p++) {
      for (int64_t i = 0; i < rows; i++) dst[i] = a.p[(s + i) * a.rs + p * a.cs];
      for (int64_t i = rows; i < MR; i++) dst[i] = 0;
      dst += MR;
    }
  }
}

/* B[pc.., jc..] (kc x nc) into NR-column strips, zero-padded. */
static void pack_b(int64_t kc, int64_t nc, GemmMat b, float *dst) {
  for (int64_t s = 0; s < nc; s += NR) {
    int64_t cols = nc - s < NR ? nc - s : NR;
    for (int64_t p = 0; p < kc; p++) {
      const float *src = b.p + p * b.rs + s * b.cs;
      if (b.cs == 1 && cols == NR)
        memcpy(dst, src, NR * sizeof *dst);
      else {
        for (int64_t j = 0; j < cols; j++) dst[j] = src[j * b.cs];
        for (int64_t j = cols; j < NR; j++) dst[j] = 0;
      }
      dst += NR;
    }
  }
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

bool gemm_f32(int64_t m, int64_t n, int64_t k, GemmMat a, GemmMat b, float *c, int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return true;
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof *c);
    return true;
  }
  MicroFn micro = pick_micro();
  int64_t kcap = min64(k, KC), ncap = round_up(min64(n, NC), NR), mcap = round_up(min64(m, MC), MR);
  float *bpack = malloc((size_t)(kcap * ncap) * sizeof *bpack);
  float *apack = malloc((size_t)(kcap * mcap) * sizeof *apack);
  if (!bpack || !apack) {
    free(bpack);
    free(apack);
    return false;
  }
  for (int64_t jc = 0; jc < n; jc += NC) {
    int64_t nc = min64(n - jc, NC);
    for (int64_t pc = 0; pc < k; pc += KC) {
      int64_t kc = min64(k - pc, KC);
      bool acc = accumulate || pc > 0;
      pack_b(kc, nc, (GemmMat){b.p + pc * b.rs + jc * b.cs, b.rs, b.cs}, bpack);
      for (int64_t ic = 0; ic < m; ic += MC) {
        int64_t mc = min64(m - ic, MC);
        pack_a(mc, kc, (GemmMat){a.p + ic * a.rs + pc * a.cs, a.rs, a.cs}, apack);
        for (int64_t jr = 0; jr < nc; jr += NR)
          for (int64_t ir = 0; ir < mc; ir += MR)
            micro(kc, apack + ir * kc, bpack + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, (int)min64(mc - ir, MR),
                  (int)min64(nc - jr, NR), acc);
      }
    }
  }
  free(bpack);
  free(apack);
  return true;
}

void gemm_f64(int64_t m, int64_t n, int64_t k, const double *a, int64_t ars, int64_t acs, const double *b,
              int64_t brs, int64_t bcs, double *c, int64_t ldc, bool accumulate) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t p = 0; p < k; p++) s += a[i * ars + p * acs] * b[p * brs + j * bcs];
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
    }
}
