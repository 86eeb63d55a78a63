/* Integer convolution and matrix multiplication with the fused requantizing
 * epilogue: what `quench compile` emits for ConvInteger / MatMulInteger
 * (followed by quench.Requantize). Both run on the GEMM micro-kernels of
 * qrt_gemm.h. docs/backends/c.md describes the lowering. */
#ifndef QRT_CONV_H
#define QRT_CONV_H
#include "qrt.h"
#include "qrt_pool.h"

/* A 2-d convolution over NCHW u8 (or s8, see x_xor) activations with s8
 * weights. Weights are packed per group by qrt_pack_a (w + g * w_group_bytes);
 * the epilogue's bias already holds bias - x_zp * rowsum(w) and the
 * accumulator's own zero point, so padding taps read x_zp (they contribute
 * (x_zp - x_zp) * w = 0, as ConvInteger defines). */
typedef struct qrt_conv {
  int64_t N, C, H, W;       /* input */
  int64_t M, OH, OW;        /* output channels and size */
  int64_t KH, KW, SH, SW, DH, DW, PT, PL;
  int64_t group;
  uint8_t pad;              /* the byte padding taps read (x_zp after x_xor) */
  uint8_t x_xor;            /* 0x80 for s8 activations (read as x + 128), else 0 */
  const void *w;            /* packed weights of group 0 */
  int64_t w_group_bytes;
  const qrt_requant *rq;    /* NULL: int32 output (acc + bias not applied) */
  void *scratch;            /* qrt_conv_scratch_bytes(c) bytes: the padded input */
  const uint8_t *lut;       /* NULL, or 256 bytes applied to every stored byte (a
                               fused elementwise chain: codegen/c/cgen_lut.c) */
  int x_slack;              /* 1: at least 16 readable bytes follow x (an arena
                               buffer), so an unpadded input is read in place */
} qrt_conv;

/* The padded input both kernels read, so no tap needs a bounds check: every
 * plane is PH x PW with the input at (PT, PL) and x_zp elsewhere; the
 * depthwise kernel stores each row as SW column phases (column i at phase
 * i % SW, index i / SW) so strided taps are consecutive bytes. */
static inline int64_t qrt_conv_padded_h(const qrt_conv *c) {
  int64_t need = (c->OH - 1) * c->SH + (c->KH - 1) * c->DH + 1;
  return need > c->H + c->PT ? need : c->H + c->PT;
}
static inline int64_t qrt_conv_padded_w(const qrt_conv *c) {
  int64_t need = (c->OW - 1) * c->SW + (c->KW - 1) * c->DW + 1;
  need = need > c->W + c->PL ? need : c->W + c->PL;
  return qrt_round_up(need, c->SW);
}
/* Spare bytes after the padded planes: the depthwise kernel's last 16-wide
 * block may read (never use) up to 15 bytes past the last row. */
#define QRT_CONV_SCRATCH_SLACK 64
static inline int64_t qrt_conv_scratch_bytes(const qrt_conv *c) {
  return c->N * c->C * qrt_conv_padded_h(c) * qrt_conv_padded_w(c) + QRT_CONV_SCRATCH_SLACK;
}

/* Through the GEMM micro-kernel: output pixels are cut into panels; each
 * panel's im2col columns are packed on the stack (never a whole im2col). */
void qrt_conv_q8(const qrt_conv *c, const void *x, void *y, qrt_pool *pool);

/* Depthwise (group == C == M): direct, per channel, from the phase-split
 * padded input; w is what qrt_dwconv_pack wrote: the raw [C][KH*KW] s8
 * weights, then (for KH <= 16 and KW <= 8) per channel and kernel row the
 * taps as two dwords and their sum, the form the AVX-512 kernel reads. */
void qrt_dwconv_q8(const qrt_conv *c, const int8_t *w, const void *x, void *y, qrt_pool *pool);
int64_t qrt_dwconv_weights_bytes(const qrt_conv *c);
void qrt_dwconv_pack(const qrt_conv *c, const int8_t *w, void *out);

/* Direct (no im2col): w is the weights packed by qrt_conv_direct_pack. Any
 * shape; on AVX-512 VNNI, shapes for which qrt_conv_direct_fits holds run
 * a sliding-window kernel (qrt_dconv.c), faster than the GEMM when few
 * input channels feed small kernels; elsewhere a plain loop. */
void qrt_conv_direct_q8(const qrt_conv *c, const void *w, const void *x, void *y, qrt_pool *pool);

/* Bytes of the packed weights, and the packing of w ([M][C/group][KH][KW]
 * s8) into them (at compile time: qrt_dconv_pack.c; the same bytes for
 * every path). */
int64_t qrt_conv_direct_packed_bytes(const qrt_conv *c);
void qrt_conv_direct_pack(const qrt_conv *c, const int8_t *w, void *out);

/* The sliding-window kernel's shapes: unit column dilation, at most 8 taps
 * per column phase (ceil(KW / SW)), (C / group) * KH * SW <= 256 kernel
 * rows and KH <= 16 (its weights are repacked on the stack). */
#define QRT_DCONV_MAX_ROWS 256
#define QRT_DCONV_MAX_KH 16
static inline int qrt_conv_direct_fits(const qrt_conv *c) {
  return c->DW == 1 && c->SW <= 8 && (c->KW + c->SW - 1) / c->SW <= 8 && c->KH <= QRT_DCONV_MAX_KH &&
         c->C / c->group * c->KH * c->SW <= QRT_DCONV_MAX_ROWS;
}

/* Y[M, N] = A[M, K] x B (packed by qrt_pack_b), requantized by rq (channel =
 * column) or int32 when rq is NULL. A is u8; a_xor 0x80 reads s8 rows as
 * u8 through a copy into scratch (scratch_bytes >= M * K when a_xor). lut
 * (NULL or 256 bytes) maps every stored byte, as for qrt_conv. */
void qrt_matmul_q8(int64_t M, int64_t N, int64_t K, const void *a, uint8_t a_xor, const void *bpacked,
                   const qrt_requant *rq, const uint8_t *lut, void *y, void *scratch, qrt_pool *pool);

#endif
