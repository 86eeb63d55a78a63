/* int8 GEMM of libquench_rt: the packers, the scalar reference path (plain
 * C, the one every SIMD path must match bit for bit), the shared scalar
 * epilogue, and the dispatch to the path chosen at compile time (qrt.h).
 * SIMD kernels: qrt_gemm_x86.c (AVX-512 VNNI, AVX2), qrt_gemm_neon.c.
 * Layouts: qrt_gemm.h; docs/backends/gemm.md. Test: test/unit/qrt/. */
#include "qrt_gemm_internal.h"

#include <string.h>

/* ---- packing ------------------------------------------------------------- */

size_t qrt_pack_b_size(int64_t K, int64_t N) {
  int64_t Kp = qrt_round_up(K, 4), Np = qrt_round_up(N, 16);
  return (size_t)(Kp * Np + Np * 4);
}

void qrt_pack_b(const int8_t *B, int64_t sk, int64_t sn, int64_t K, int64_t N, void *packed) {
  int64_t Kp = qrt_round_up(K, 4), Np = qrt_round_up(N, 16);
  int8_t *p = packed;
  int32_t colsum[16];
  memset(p, 0, (size_t)(Kp * Np));
  for (int64_t nb = 0; nb < Np / 16; nb++) {
    int8_t *panel = p + nb * Kp * 16;
    for (int64_t j = 0; j < 16; j++) {
      int64_t n = nb * 16 + j;
      colsum[j] = 0;
      if (n >= N) continue;
      for (int64_t k = 0; k < K; k++) {
        int8_t v = B[k * sk + n * sn];
        panel[(k >> 2) * 64 + j * 4 + (k & 3)] = v;
        colsum[j] += v;
      }
    }
    /* The sums may start unaligned for the int32 type: copy bytes. */
    memcpy(p + Kp * Np + nb * 64, colsum, sizeof colsum);
  }
}

const int32_t *qrt_packed_b_colsum(const void *packed, int64_t K, int64_t N) {
  /* Kp * Np is a multiple of 64, so the sums are aligned as the buffer is. */
  return (const int32_t *)(const void *)((const int8_t *)packed + qrt_round_up(K, 4) * qrt_round_up(N, 16));
}

int64_t qrt_pack_a_rowsum_offset(int64_t M, int64_t K) {
  return qrt_round_up(qrt_round_up(M, QRT_PACK_A_MR) * qrt_round_up(K, 4), 64);
}

size_t qrt_pack_a_size(int64_t M, int64_t K) {
  return (size_t)(qrt_pack_a_rowsum_offset(M, K) + qrt_round_up(M, QRT_PACK_A_MR) * 4);
}

void qrt_pack_a(const int8_t *W, int64_t M, int64_t K, void *packed) {
  const int64_t MR = QRT_PACK_A_MR;
  int64_t Kp = qrt_round_up(K, 4), Mp = qrt_round_up(M, MR), off = qrt_pack_a_rowsum_offset(M, K);
  int8_t *p = packed;
  memset(p, 0, (size_t)off);
  for (int64_t m = 0; m < Mp; m++) {
    int32_t s = 0;
    if (m < M)
      for (int64_t k = 0; k < K; k++) {
        int8_t v = W[m * K + k];
        p[((m / MR) * (Kp / 4) + (k >> 2)) * MR * 4 + (m % MR) * 4 + (k & 3)] = v;
        s += v;
      }
    memcpy(p + off + m * 4, &s, 4);
  }
}

const int32_t *qrt_packed_a_rowsum(const void *packed, int64_t M, int64_t K) {
  return (const int32_t *)(const void *)((const int8_t *)packed + qrt_pack_a_rowsum_offset(M, K));
}

/* ---- epilogue -------------------------------------------------------------- */

void qrt_gemm_store_tile(const int32_t *t, int64_t ts, int64_t mr, int64_t nc, int64_t row0, int64_t col0,
                         const qrt_requant *rq, int chan_is_row, void *C, int64_t ldc) {
  for (int64_t i = 0; i < mr; i++) {
    int64_t m = row0 + i;
    if (!rq) {
      int32_t *c = (int32_t *)C + m * ldc + col0;
      memcpy(c, t + i * ts, (size_t)nc * 4);
      continue;
    }
    uint8_t *c = (uint8_t *)C + m * ldc + col0;
    for (int64_t j = 0; j < nc; j++) {
      int64_t ch = chan_is_row ? m : col0 + j;
      int64_t ci = rq->per_channel ? ch : 0;
      int32_t acc = t[i * ts + j] + (rq->bias ? rq->bias[ch] : 0);
      /* s8 results store their two's complement byte */
      c[j] = (uint8_t)qrt_requant1(acc, rq->m0[ci], rq->shift[ci], rq->zp, rq->lo, rq->hi);
    }
  }
}

/* ---- scalar path ------------------------------------------------------------ */

#if defined(QRT_PATH_SCALAR)
/* One row x one 16-column panel at a time, straight from the layouts. */
static void gemm_u8s8_scalar(int64_t M, int64_t K, const uint8_t *A, int64_t lda, const int8_t *Bp, int64_t n0,
                             int64_t n1, const qrt_requant *rq, void *C, int64_t ldc) {
  int64_t Kp = qrt_round_up(K, 4);
  for (int64_t m = 0; m < M; m++)
    for (int64_t c0 = n0; c0 < n1; c0 += 16) {
      const int8_t *panel = Bp + (c0 / 16) * Kp * 16;
      int32_t t[16] = {0};
      for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < 16; j++)
          t[j] += (int32_t)A[m * lda + k] * panel[(k >> 2) * 64 + j * 4 + (k & 3)];
      qrt_gemm_store_tile(t, 16, 1, n1 - c0 < 16 ? n1 - c0 : 16, m, c0, rq, 0, C, ldc);
    }
}

static void gemm_s8u8_scalar(int64_t M, int64_t N, int64_t K, const int8_t *Ap, const uint8_t *panel,
                             const qrt_requant *rq, void *C, int64_t ldc) {
  const int64_t MR = QRT_PACK_A_MR;
  int64_t Kp = qrt_round_up(K, 4);
  for (int64_t m = 0; m < M; m++) {
    const int8_t *w = Ap + (m / MR) * (Kp / 4) * MR * 4 + (m % MR) * 4;
    for (int64_t c0 = 0; c0 < N; c0 += 16) {
      const uint8_t *p = panel + (c0 / 16) * Kp * 16;
      int32_t t[16] = {0};
      for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < 16; j++)
          t[j] +=
              (int32_t)w[(k >> 2) * MR * 4 + (k & 3)] * (uint8_t)(p[(k >> 2) * 64 + j * 4 + (k & 3)] ^ QRT_PANEL_XOR);
      qrt_gemm_store_tile(t, 16, 1, N - c0 < 16 ? N - c0 : 16, m, c0, rq, 1, C, ldc);
    }
  }
}
#endif

/* ---- entry points ------------------------------------------------------------ */

void qrt_gemm_u8s8(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda, const void *Bpacked, int64_t n0,
                   int64_t n1, const qrt_requant *rq, void *C, int64_t ldc) {
  if (n1 > N) n1 = N;
  if (M <= 0 || n0 >= n1 || K < 0) return;
#if defined(QRT_PATH_SCALAR)
  gemm_u8s8_scalar(M, K, A, lda, Bpacked, n0, n1, rq, C, ldc);
#else
  qrt_gemm_u8s8_simd(M, N, K, A, lda, Bpacked, n0, n1, rq, C, ldc);
#endif
}

void qrt_gemm_s8u8(int64_t M, int64_t N, int64_t K, const void *Apacked, const uint8_t *panel, const qrt_requant *rq,
                   void *C, int64_t ldc) {
  if (M <= 0 || N <= 0 || K < 0) return;
#if defined(QRT_PATH_SCALAR)
  gemm_s8u8_scalar(M, N, K, Apacked, panel, rq, C, ldc);
#else
  qrt_gemm_s8u8_simd(M, N, K, Apacked, panel, rq, C, ldc);
#endif
}
