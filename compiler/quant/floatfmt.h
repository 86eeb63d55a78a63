/* Bit-exact encode/decode of every float element type (f16, bf16, the f8,
 * f6 and f4 formats, e8m0), by one generic minifloat codec driven by a
 * table of (exponent bits, mantissa bits, bias, special-value rules).
 * Rounding is to nearest, ties to even, as ONNX and the OCP specs require. */
#ifndef QUENCH_QUANT_FLOATFMT_H
#define QUENCH_QUANT_FLOATFMT_H

#include <stdbool.h>
#include <stdint.h>

#include "ir/elem.h"

/* Decodes a bit pattern of float element type e (f32 and f64 included). */
double q_float_decode(IrElem e, uint64_t bits);

typedef enum {
  Q_OVERFLOW_ERROR,    /* beyond the largest finite value: fail (±Inf stays ±Inf where e has it) */
  Q_OVERFLOW_SATURATE, /* clamp to ±largest finite (ONNX saturate=1) */
  Q_OVERFLOW_INF       /* to ±inf where the format has it, else NaN (ONNX saturate=0) */
} QOverflow;

/* Encodes v into e's bit pattern with round-half-to-even. NaN maps to the
 * format's canonical NaN (false if it has none, e.g. f6/f4). Returns false
 * when v cannot be represented under `ov`. */
bool q_float_encode(IrElem e, double v, QOverflow ov, uint64_t *bits);
/* The canonical NaN pattern (what q_float_encode gives for NaN), or false. */
bool q_float_canonical_nan(IrElem e, uint64_t *bits);
/* Largest finite value of e. */
double q_float_max(IrElem e);

#endif
