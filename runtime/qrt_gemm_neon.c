/* aarch64 dotprod kernels of the int8 GEMM (qrt_gemm.h). sdot (vdotq_s32)
 * multiplies s8 x s8, so the u8 operand enters as u ^ 0x80 = u - 128 and the
 * kernel adds 128 * (sum of the s8 operand) back: the column sums of packed
 * B (form A) or the row sums of packed W (form B; the caller XORs the panel,
 * QRT_PANEL_XOR). Exact: |sum (u-128) w| < 2^31 for K <= 65536.
 * Compiled on every target; only built on QRT_PATH_NEON_DOT.
 * Test: test/unit/qrt/ (under qemu-aarch64). */
#include "qrt_gemm_internal.h"

#if defined(QRT_PATH_NEON_DOT)
#include <arm_neon.h>
#include <string.h>

/* Form A: 4 rows x one 16-column panel (4 vectors of 4 columns x 4 k).
 * Rows past mr repeat row mr-1 and are not stored. */
static void ka_neon(int64_t mr, int64_t K, const uint8_t *A, int64_t lda, const int8_t *B, const int32_t *colsum,
                    const qrt_requant *rq, int64_t row0, int64_t col0, int64_t ncols, void *C, int64_t ldc) {
  int32x4_t acc[4][4];
  const uint8_t *a[4];
  for (int i = 0; i < 4; i++) {
    a[i] = A + (i < mr ? i : mr - 1) * lda;
    for (int q = 0; q < 4; q++)
      acc[i][q] = vdupq_n_s32(0);
  }
  for (int64_t g = 0; g * 4 < K; g++) {
    int8x16_t b[4];
    for (int q = 0; q < 4; q++)
      b[q] = vld1q_s8(B + g * 64 + q * 16);
    int64_t n = K - g * 4 < 4 ? K - g * 4 : 4;
    for (int i = 0; i < 4; i++) {
      /* bytes past K meet packed B's zeros: any value works */
      uint8_t ab[4] = {0x80, 0x80, 0x80, 0x80};
      memcpy(ab, a[i] + g * 4, (size_t)n);
      uint32_t w;
      memcpy(&w, ab, 4);
      int8x16_t av = vreinterpretq_s8_u32(vdupq_n_u32(w ^ 0x80808080u));
      for (int q = 0; q < 4; q++)
        acc[i][q] = vdotq_s32(acc[i][q], b[q], av);
    }
  }
  int32x4_t corr[4];
  for (int q = 0; q < 4; q++)
    corr[q] = vshlq_n_s32(vld1q_s32(colsum + q * 4), 7);
  int32_t t[4 * 16];
  for (int i = 0; i < 4; i++)
    for (int q = 0; q < 4; q++)
      vst1q_s32(t + i * 16 + q * 4, vaddq_s32(acc[i][q], corr[q]));
  qrt_gemm_store_tile(t, 16, mr, ncols, row0, col0, rq, 0, C, ldc);
}

void qrt_gemm_u8s8_simd(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda, const void *Bpacked, int64_t n0,
                        int64_t n1, const qrt_requant *rq, void *C, int64_t ldc) {
  int64_t ps = qrt_round_up(K, 4) * 16;
  const int8_t *Bp = Bpacked;
  const int32_t *colsum = qrt_packed_b_colsum(Bpacked, K, N);
  for (int64_t c0 = n0; c0 < n1; c0 += 16) {
    int64_t nc = n1 - c0 < 16 ? n1 - c0 : 16;
    for (int64_t r0 = 0; r0 < M; r0 += 4) {
      int64_t mr = M - r0 < 4 ? M - r0 : 4;
      ka_neon(mr, K, A + r0 * lda, lda, Bp + (c0 / 16) * ps, colsum + c0, rq, r0, c0, nc, C, ldc);
    }
  }
}

/* Form B: 4 rows (half a packed block) x one panel; one 16-byte load holds
 * the 4 rows' 4 weights of a k-group, taken lane by lane (sdot by element). */
static void kb_neon(int64_t mr, int64_t Kp, const int8_t *W, const int8_t *P, const int32_t *rowsum,
                    const qrt_requant *rq, int64_t row0, int64_t col0, int64_t ncols, void *C, int64_t ldc) {
  int32x4_t acc[4][4];
  for (int i = 0; i < 4; i++)
    for (int q = 0; q < 4; q++)
      acc[i][q] = vdupq_n_s32(0);
  for (int64_t g = 0; g < Kp / 4; g++) {
    int8x16_t p[4];
    for (int q = 0; q < 4; q++)
      p[q] = vld1q_s8(P + g * 64 + q * 16);
    int8x16_t w = vld1q_s8(W + g * QRT_PACK_A_MR * 4);
    for (int q = 0; q < 4; q++) {
      acc[0][q] = vdotq_laneq_s32(acc[0][q], p[q], w, 0);
      acc[1][q] = vdotq_laneq_s32(acc[1][q], p[q], w, 1);
      acc[2][q] = vdotq_laneq_s32(acc[2][q], p[q], w, 2);
      acc[3][q] = vdotq_laneq_s32(acc[3][q], p[q], w, 3);
    }
  }
  int32_t t[4 * 16];
  for (int i = 0; i < 4; i++) {
    int32x4_t corr = vdupq_n_s32(rowsum[i] * 128);
    for (int q = 0; q < 4; q++)
      vst1q_s32(t + i * 16 + q * 4, vaddq_s32(acc[i][q], corr));
  }
  qrt_gemm_store_tile(t, 16, mr, ncols, row0, col0, rq, 1, C, ldc);
}

void qrt_gemm_s8u8_simd(int64_t M, int64_t N, int64_t K, const void *Apacked, const uint8_t *panel,
                        const qrt_requant *rq, void *C, int64_t ldc) {
  int64_t Kp = qrt_round_up(K, 4), ps = Kp * 16;
  const int8_t *Ap = Apacked;
  const int32_t *rowsum = qrt_packed_a_rowsum(Apacked, M, K);
  for (int64_t r0 = 0; r0 < M; r0 += 4) {
    int64_t mr = M - r0 < 4 ? M - r0 : 4;
    const int8_t *W = Ap + (r0 / QRT_PACK_A_MR) * Kp * QRT_PACK_A_MR + (r0 % QRT_PACK_A_MR) * 4;
    for (int64_t c0 = 0; c0 < N; c0 += 16) {
      int64_t nc = N - c0 < 16 ? N - c0 : 16;
      kb_neon(mr, Kp, W, (const int8_t *)panel + (c0 / 16) * ps, rowsum + r0, rq, r0, c0, nc, C, ldc);
    }
  }
}

#else
typedef int qrt_gemm_neon_unused; /* ISO C wants a non-empty translation unit */
#endif
