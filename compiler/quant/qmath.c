/* Quantization arithmetic (qmath.h): choosing scales and zero points
 * (Krishnamoorthi 2018, "Quantizing deep convolutional networks for
 * efficient inference", §2; ALGORITHMS.md §0), ONNX QuantizeLinear for
 * integer targets in f32 exactly as the interpreter's kernel computes it, and
 * dyadic requantization (Jacob et al. 2018, "Quantization and Training of
 * Neural Networks for Efficient Integer-Arithmetic-Only Inference", §2.2;
 * I-ViT, ALGORITHMS.md §7): M ~= m0 * 2^-shift with a 31-bit m0, applied with
 * a round-half-up shift that every backend reproduces bit for bit.
 * docs/quantization.md gives the formulas; the tests are
 * test/unit/test_qmath.c. */
#include "quant/qmath.h"

#include <assert.h>
#include <float.h>
#include <math.h>

/* Half to even, for |v| < 2^53 (exact: floor and the difference are). */
static double rne(double v) {
  double fl = floor(v), d = v - fl;
  if (d > 0.5 || (d == 0.5 && fmod(fl, 2.0) != 0)) fl += 1.0;
  return fl;
}

static int64_t clamp_i64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The f32 a scale is stored as: never 0, subnormal or infinite. */
static float scale_f32(double s) {
  if (!(s >= FLT_MIN)) return FLT_MIN; /* also NaN */
  if (s > FLT_MAX) return FLT_MAX;
  float r = (float)s;
  return r < FLT_MIN ? FLT_MIN : r;
}

static double finite_or_max(double v) {
  if (isinf(v)) return v < 0 ? -FLT_MAX : FLT_MAX;
  return v;
}

void q_choose_params(const QFormat *f, double lo, double hi, bool symmetric, float *scale, int64_t *zero_point) {
  /* Empty (lo > hi, as an unset min/max leaves it) or NaN: [-1, 1]. */
  if (!(lo <= hi)) lo = hi = 0;
  lo = fmin(finite_or_max(lo), 0);
  hi = fmax(finite_or_max(hi), 0);
  if (lo == 0 && hi == 0) lo = -1, hi = 1;
  double amax = fmax(-lo, hi);
  if (f->kind != Q_FMT_INT) {
    /* Floats (and block elements, should a caller ask): symmetric, z = 0. */
    *scale = scale_f32(amax / q_format_max(f));
    *zero_point = 0;
    return;
  }
  if (symmetric) {
    /* (qmax - qmin) / 2 in integers: 2^(b-1) - 1 for both signednesses
     * (i8: 127, u8: 127 around 128), as ALGORITHMS.md §0 has it. */
    *scale = scale_f32(amax / (double)((f->qmax - f->qmin) / 2));
    *zero_point = f->qmin < 0 ? 0 : (f->qmax - f->qmin + 1) / 2;
    return;
  }
  float s = scale_f32((hi - lo) / (double)(f->qmax - f->qmin));
  /* With the scale the graph holds, so that 0 maps to z exactly. lo / s is
   * at most (qmax - qmin) in magnitude, far from overflow. */
  double z = (double)f->qmin - rne(lo / (double)s);
  *scale = s;
  *zero_point = clamp_i64((int64_t)z, f->qmin, f->qmax);
}

int64_t q_quantize_int(float x, float scale, int64_t zero_point, int64_t qmin, int64_t qmax) {
  /* One f32 division, correctly rounded (a double quotient of two floats
   * rounded to float is), as the interpreter's kernel does. */
  float v = (float)((double)x / (double)scale);
  if (isnan(v)) return clamp_i64(zero_point, qmin, qmax);
  /* Beyond 2^40 every code saturates anyway; keeps the cast defined. */
  double r = rne(fmin(fmax((double)v, -0x1p40), 0x1p40));
  return clamp_i64((int64_t)r + zero_point, qmin, qmax);
}

bool q_dyadic_from_double(double m, QDyadic *d) {
  if (!(m >= 0) || !isfinite(m)) return false;
  if (m == 0) {
    *d = (QDyadic){0, 1};
    return true;
  }
  int k;
  double fr = frexp(m, &k); /* m = fr * 2^k, fr in [0.5, 1) */
  /* fr * 2^31 has at most 22 fraction bits: rne is exact. */
  double m0 = rne(ldexp(fr, 31));
  if (m0 == 0x1p31) { /* carry: 2^31 * 2^-s = 2^30 * 2^-(s-1) */
    m0 = 0x1p30;
    k++;
  }
  int shift = 31 - k; /* m ~= m0 * 2^(k - 31) */
  if (shift < 1 || shift > 62) return false;
  *d = (QDyadic){(int32_t)m0, (int32_t)shift};
  return true;
}

double q_dyadic_value(QDyadic d) { return ldexp((double)d.m0, -d.shift); }

int64_t q_rounding_shift(int64_t v, int32_t n) {
  assert(n >= 1 && n <= 62 && v > -((int64_t)1 << 62) && v < ((int64_t)1 << 62));
  int64_t t = (int64_t)1 << n;
  int64_t s = v + t / 2; /* |s| < 2^62 + 2^61: no overflow */
  /* Floor division by t: C's / truncates toward zero; step down when a
   * negative quotient was inexact. */
  int64_t q = s / t;
  if (s % t != 0 && s < 0) q--;
  return q;
}

int64_t q_requantize(int64_t acc, QDyadic d, int64_t zero_point, int64_t lo, int64_t hi) {
  /* |acc| <= 2^31 and m0 < 2^31: the product is below 2^62 in magnitude. */
  int64_t r = q_rounding_shift(acc * (int64_t)d.m0, d.shift);
  return clamp_i64(zero_point + r, lo, hi);
}
