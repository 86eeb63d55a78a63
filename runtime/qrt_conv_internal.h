/* Shared by the convolution files (qrt_conv.c, qrt_dwconv.c), not part of
 * the generated code's interface. */
#ifndef QRT_CONV_INTERNAL_H
#define QRT_CONV_INTERNAL_H
#include "qrt_conv.h"

/* Bytes per output element: requantized bytes, or int32 without rq. */
static inline size_t qrt_conv_out_bytes(const qrt_requant *rq) { return rq ? 1 : 4; }

/* y[r * ld + i] = lut[y[r * ld + i]] over rows x n: the fused chain applied
 * to a tile just stored (still in cache). */
void qrt_conv_apply_lut(uint8_t *y, int64_t rows, int64_t n, int64_t ld, const uint8_t *lut);

/* Writes the padded planes (qrt_conv_padded_h x qrt_conv_padded_w, input
 * bytes XORed with in_xor, padding = pad) into c->scratch; phases > 1
 * stores each row as that many column phases (qrt_conv.h). */
void qrt_conv_make_padded(const qrt_conv *c, const uint8_t *x, int64_t phases, uint8_t in_xor, uint8_t pad,
                          qrt_pool *pool);

#endif
