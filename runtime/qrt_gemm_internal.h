/* Shared between the files of the int8 GEMM (qrt_gemm*.c), not installed:
 * the per-path kernels qrt_gemm.c dispatches to and the scalar tile store
 * the non-AVX-512 paths end in. */
#ifndef QRT_GEMM_INTERNAL_H
#define QRT_GEMM_INTERNAL_H
#include "qrt_gemm.h"

/* Stores an mr x nc tile of dot products t[i*ts + j] to C at (row0, col0):
 * int32 when rq is NULL, else requantized bytes; the epilogue's channel is
 * the row (chan_is_row, form B) or the column (form A). */
void qrt_gemm_store_tile(const int32_t *t, int64_t ts, int64_t mr, int64_t nc, int64_t row0, int64_t col0,
                         const qrt_requant *rq, int chan_is_row, void *C, int64_t ldc);

/* Byte offset of the row sums in packed W (qrt_pack_a). */
int64_t qrt_pack_a_rowsum_offset(int64_t M, int64_t K);

#if defined(QRT_PATH_AVX512VNNI) || defined(QRT_PATH_AVX2) || defined(QRT_PATH_NEON_DOT)
/* The path's kernels: same contract as qrt_gemm_u8s8 / qrt_gemm_s8u8 with
 * arguments already checked (M, K >= 0, n0 < n1, N >= 1). */
void qrt_gemm_u8s8_simd(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda, const void *Bpacked, int64_t n0,
                        int64_t n1, const qrt_requant *rq, void *C, int64_t ldc);
void qrt_gemm_s8u8_simd(int64_t M, int64_t N, int64_t K, const void *Apacked, const uint8_t *panel,
                        const qrt_requant *rq, void *C, int64_t ldc);
#endif

#if defined(QRT_PATH_AMX)
/* 1 when this thread may run tile instructions (the CPU has AMX int8 and
 * the kernel granted the tile state, asked once per process), else 0: form
 * A then runs on AVX-512 VNNI. */
int qrt_gemm_amx_usable(void);
#endif

#endif
