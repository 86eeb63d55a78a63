/* Quantization arithmetic, written once: choosing scales and zero points,
 * quantizing like ONNX QuantizeLinear, and the dyadic (integer-only)
 * requantization that the interpreter's lowered integer ops and every
 * backend reproduce bit for bit. docs/quantization.md gives the formulas. */
#ifndef QUENCH_QUANT_QMATH_H
#define QUENCH_QUANT_QMATH_H

#include <stdbool.h>
#include <stdint.h>

#include "quant/qformat.h"

/* Scale and zero point for quantizing values in [lo, hi] to f (an integer
 * or float format; block formats choose their own scales per block).
 * The range is widened to include 0; an empty or all-zero range becomes
 * [-1, 1]. Integers, asymmetric: s = (hi - lo) / (qmax - qmin),
 * z = clamp(qmin - rne(lo / s)). Integers, symmetric: s = max(|lo|, |hi|) /
 * ((qmax - qmin) / 2) and z the middle code (0 for signed, 2^(bits-1) for
 * unsigned). Floats: s = max(|lo|, |hi|) / q_format_max(f), z = 0, always
 * symmetric. The scale is returned as the f32 the graph will hold (never 0,
 * never subnormal). */
void q_choose_params(const QFormat *f, double lo, double hi, bool symmetric, float *scale, int64_t *zero_point);

/* ONNX QuantizeLinear for integer targets, computed as ONNX does in f32:
 * q = saturate(rne((float)x / scale) + zp) into [qmin, qmax]; NaN gives zp. */
int64_t q_quantize_int(float x, float scale, int64_t zero_point, int64_t qmin, int64_t qmax);

/* A dyadic multiplier M ~= m0 * 2^-shift with m0 in [2^30, 2^31) and shift
 * in [1, 62] (m0 = 0, shift = 1 for M = 0). */
typedef struct QDyadic {
  int32_t m0;
  int32_t shift;
} QDyadic;

/* The nearest dyadic to m (m0 = round-half-to-even of the normalized
 * mantissa times 2^31, renormalized on carry). False (nothing written) if m
 * is negative, not finite, or too large or too small to fit the ranges. */
bool q_dyadic_from_double(double m, QDyadic *d);
double q_dyadic_value(QDyadic d);

/* rounding_shift(v, n) = floor((v + 2^(n-1)) / 2^n): round half up, for
 * n >= 1, with the floor taken on negatives too (no reliance on C's
 * implementation-defined >> of negative numbers). v must satisfy
 * |v| < 2^62. */
int64_t q_rounding_shift(int64_t v, int32_t n);

/* Requantization: y = clamp(zp + rounding_shift(acc * m0, shift), lo, hi).
 * acc is an int32 accumulator (as int64); the product fits int64. */
int64_t q_requantize(int64_t acc, QDyadic d, int64_t zero_point, int64_t lo, int64_t hi);

#endif
