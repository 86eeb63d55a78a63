/* int8 GEMM micro-kernels of libquench_rt: u8 x s8 -> exact int32, with the
 * requantizing epilogue of qrt.h fused into the store. Two forms:
 *   A (MatMul/Gemm)     C[M,N] = A_u8[M,K] x B_s8[K,N], B packed at compile time;
 *   B (conv via GEMM)   C[M,N] = W_s8[M,K] x P_u8[K,N], W packed at compile time,
 *                       P (im2col columns) packed at run time by the caller.
 * One path per build (qrt.h): AVX-512 VNNI, AVX2, aarch64 dotprod, scalar C;
 * all give the same bits, and the packed layouts (qrt_pack_a/b) are the same
 * on every path, so the compiler packs weights for any target with this
 * code. docs/backends/gemm.md describes layouts, paths and blocking;
 * test/unit/qrt/test_qrt_gemm.c checks every path against a naive reference.
 * Nothing here allocates: scratch lives on the stack, bounded. */
#ifndef QRT_GEMM_H
#define QRT_GEMM_H
#include "qrt.h"

/* The byte the caller XORs into every byte of a form-B activation panel
 * (including the padding for k >= K and for columns >= N). On the aarch64
 * dotprod path sdot multiplies s8 x s8, so the panel holds p ^ 0x80 = p - 128
 * as s8 and the kernel adds 128 * rowsum(W) back; elsewhere the panel holds
 * p itself. So: k >= K and padding columns hold QRT_PANEL_XOR ("0" after
 * un-XOR). (Padding values never reach a stored result: padded weights are 0
 * and padded columns are not stored; 0 is required only to keep the rule
 * simple.) */
#if defined(QRT_PATH_NEON_DOT)
#define QRT_PANEL_XOR 0x80
#else
#define QRT_PANEL_XOR 0
#endif

/* ---- form A: MatMul / Gemm --------------------------------------------------
 * Packed B: Kp = round_up(K,4), Np = round_up(N,16); for each 16-column panel
 * nb and each k-group g, 64 bytes with byte [j*4+t] = B[4g+t][16nb+j] (0
 * outside K or N); panels stored nb-major (panel nb starts at nb*Kp*16). Then
 * Np int32 column sums sum_k B[k][n] (0 for padding columns). Element (k,n) of
 * the source is B[k*sk + n*sn] (transposed weights pack without a copy). */
size_t qrt_pack_b_size(int64_t K, int64_t N);
void qrt_pack_b(const int8_t *B, int64_t sk, int64_t sn, int64_t K, int64_t N, void *packed);
const int32_t *qrt_packed_b_colsum(const void *packed, int64_t K, int64_t N);

/* Computes columns [n0, n1) only (n0 a multiple of 16, n1 <= N), all M rows:
 * the caller's threads split N. A is read only inside rows [0,M) x [0,K).
 * rq == NULL: C is int32, C[m*ldc+n] = sum_k A[m][k]*B[k][n] exactly.
 * rq != NULL: C is bytes (u8 or s8 per rq->out_signed),
 *   C[m*ldc+n] = qrt_requant1(dot + bias[n], m0[c], shift[c], zp, lo, hi)
 *   with c = n when rq->per_channel, else 0. */
void qrt_gemm_u8s8(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda, const void *Bpacked, int64_t n0,
                   int64_t n1, const qrt_requant *rq, void *C, int64_t ldc);

/* ---- form B: convolution through GEMM (NCHW) --------------------------------
 * Packed W: rows in blocks of QRT_PACK_A_MR (M padded with zero rows to Mp =
 * round_up(M, QRT_PACK_A_MR)), Kp = round_up(K,4); block b, k-group g holds
 * QRT_PACK_A_MR*4 bytes at (b*Kp/4 + g)*QRT_PACK_A_MR*4, byte [r*4+t] =
 * W[b*MR+r][4g+t] (0 outside M or K). Then Mp int32 row sums sum_k W[m][k]
 * (0 for padding rows), 64-byte aligned relative to the start.
 *
 * The activation panel (built by the caller, 64-byte alignment recommended):
 * the same K4xN16 layout as packed B, Kp = round_up(K,4), round_up(N,16)
 * columns in panels of 16, panel nb at nb*Kp*16, byte [g*64 + j*4 + t] of a
 * panel = P[4g+t][16nb+j] ^ QRT_PANEL_XOR, padding (k >= K, columns >= N)
 * = QRT_PANEL_XOR. */
#define QRT_PACK_A_MR 8
size_t qrt_pack_a_size(int64_t M, int64_t K);
void qrt_pack_a(const int8_t *W, int64_t M, int64_t K, void *packed); /* W row-major [M][K] */
const int32_t *qrt_packed_a_rowsum(const void *packed, int64_t M, int64_t K);

/* N = number of valid columns in the panel (the panel holds round_up(N,16)
 * columns). rq == NULL: int32 out C[m*ldc+n] = dot; else bytes as in form A
 * with channel index m (bias[m], and m0/shift[m] when per_channel). */
void qrt_gemm_s8u8(int64_t M, int64_t N, int64_t K, const void *Apacked, const uint8_t *panel, const qrt_requant *rq,
                   void *C, int64_t ldc);

#endif
