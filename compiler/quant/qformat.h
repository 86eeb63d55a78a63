/* The format table: every numeric format quench quantizes to, in one place
 * (ggml-style traits). Integer formats of 2..8 bits and i16, the low-bit
 * float formats (f8E4M3FN, f8E5M2, f6E3M2, f6E2M3, f4E2M1, e8m0) and the
 * block formats (OCP MX: MXFP8/6/4 and MXINT8, 32 elements sharing an e8m0
 * scale; NVFP4: 16 f4E2M1 elements sharing an f8E4M3FN scale, times one f32
 * scale per tensor). Encoding rounds half to even and saturates.
 * docs/formats.md describes each format and the choices made here. */
#ifndef QUENCH_QUANT_QFORMAT_H
#define QUENCH_QUANT_QFORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "ir/elem.h"

typedef enum { Q_FMT_INT, Q_FMT_FLOAT, Q_FMT_BLOCK } QFormatKind;

typedef struct QFormat {
  const char *name;   /* as users write it: "i8", "u4", "i3", "i16", "f8E4M3FN", "mxfp4", "nvfp4" */
  QFormatKind kind;
  int bits;           /* bits per element (block formats: the element, scale excluded) */
  IrElem elem;        /* IR/ONNX type holding one element: i8 for i3..i8 (range narrowed),
                         u8 for u3..u8, i2/u2/i4/u4/i16 as themselves, the float type for
                         floats; for block formats the element type (f4E2M1, i8 for MXINT8) */
  int64_t qmin, qmax; /* integer formats (and MXINT8 elements): the code range */
  int block;          /* elements per shared scale: 32 (MX), 16 (NVFP4), 0 otherwise */
  IrElem scale_elem;  /* block formats: E8M0 (MX) or F8E4M3FN (NVFP4); F32 otherwise */
  bool tensor_scale;  /* NVFP4: a second, per-tensor f32 scale */
  int emax_elem;      /* MX: exponent of the element type's largest normal power of two
                         (E2M1 2, E2M3 2, E3M2 4, E4M3 8, E5M2 15, MXINT8 0) */
} QFormat;

/* The table, in a fixed order; *n gets the row count. */
const QFormat *q_format_table(int *n);
/* The row named `name` (exact, case-sensitive), or NULL. */
const QFormat *q_format_find(const char *name);
/* "i2, i3, ..., nvfp4": every name, for error messages. */
const char *q_format_names(void);

/* Largest finite element magnitude: qmax for integers (max(|qmin|, qmax)
 * for signed), the float's largest finite value, the element's for blocks. */
double q_format_max(const QFormat *f);

/* Element codec. Integers: v rounded half to even, then saturated to
 * [qmin, qmax]; NaN gives 0. Floats and block elements: round to nearest
 * even and saturate to ±max (NaN gives the canonical NaN where the type has
 * one, else 0). The code is the element's bit pattern (two's complement in
 * `bits` bits for signed integers, e.g. -1 in i4 is 0xF). */
uint64_t q_format_encode(const QFormat *f, double v);
double q_format_decode(const QFormat *f, uint64_t code);
/* Whether `code` is a valid code of f's element (bit width, range). */
bool q_format_code_valid(const QFormat *f, uint64_t code);

/* ---- block formats ----------------------------------------------------- */

/* NVFP4's per-tensor scale for a tensor whose absolute maximum is amax:
 * amax / (6 * 448), or 1 when amax is 0 (or not finite). */
float q_nvfp4_tensor_scale(double amax);

/* Quantizes one block of n (1..f->block) values. MX (OCP MX v1.0 §6.3): the
 * shared scale is X = 2^(floor(log2(amax)) - emax_elem), clamped to e8m0's
 * range 2^-127..2^127 (amax 0 gives 2^-127); elements are encode(x / X).
 * NVFP4: s_b = f8E4M3FN(amax / (6 * tensor_scale)) (0 gives 1.0), elements
 * encode(x / (s_b * tensor_scale)). *scale_code gets the scale's bits in
 * f->scale_elem, codes[i] each element's code. tensor_scale is ignored by
 * MX formats. */
void q_block_quantize(const QFormat *f, const float *x, int n, float tensor_scale, uint64_t *scale_code,
                      uint64_t *codes);
/* The real value of a block scale code (times tensor_scale for NVFP4). */
double q_block_scale_value(const QFormat *f, uint64_t scale_code, float tensor_scale);
/* out[i] = decode(codes[i]) * scale value. */
void q_block_dequantize(const QFormat *f, uint64_t scale_code, float tensor_scale, const uint64_t *codes, int n,
                        float *out);

#endif
