/* Bit-exact codecs for every float element type. f64 is a bit cast; every
 * other format, f32 included, goes through one generic minifloat codec
 * driven by the table below (exponent bits, mantissa bits, bias, how the
 * format spells Inf, NaN and -0). Encoding rounds to nearest, ties to even,
 * in code space: codes of one sign are ordered like their values, so a
 * mantissa that rounds up past its field simply carries into the exponent,
 * and rounding into subnormals uses the same arithmetic.
 *
 * Formats: IEEE 754 binary16/32 and bfloat16; the OCP 8-bit floats (OFP8,
 * E4M3 "FN": no Inf, NaN = S.1111.111; E5M2: IEEE-like); the Graphcore
 * "FNUZ" variants (no Inf, no -0, NaN = 0x80 only); the OCP MX 6- and 4-bit
 * floats (no Inf, no NaN); and the MX scale E8M0 (unsigned, 2^(e-127),
 * 0xFF = NaN, no zero).
 *
 * Overflow (docs: floatfmt.h): a finite value whose rounded code lies past
 * the largest finite code is handled per QOverflow: ERROR fails, SATURATE
 * gives ±max, INF gives ±Inf where the format has it, else its canonical
 * NaN, else fails (f6, f4). An infinite input is exact, not an overflow,
 * in formats with Inf: ERROR and INF keep it; SATURATE clamps it to ±max
 * (ONNX saturate=1). In formats without Inf it overflows like a finite
 * value. NaN input always gives the canonical NaN (sign dropped), or fails
 * for formats without NaN.
 *
 * E8M0 encoding (our choice, matching ONNX's "nearest" round mode): the
 * value rounds to the nearest power of two in the linear domain, ties
 * (1.5 * 2^k) to the even code; positive values below 2^-127 give the
 * smallest code 0x00, their nearest value. Zero and negative values have no
 * representation: SATURATE gives 0x00, the other modes fail. Inf and values
 * past 2^127 overflow like any other format (INF mode gives NaN 0xFF). */
#include "quant/floatfmt.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <string.h>

typedef enum {
  NAN_NONE,     /* f6, f4 */
  NAN_IEEE,     /* exponent all ones, mantissa non-zero */
  NAN_ALL_ONES, /* exponent and mantissa all ones (E4M3FN, E8M0) */
  NAN_NEG_ZERO  /* the -0 code 1.000...0 (FNUZ) */
} NanRule;

typedef struct MiniFmt {
  int ebits, mbits, bias;
  bool has_sign;
  bool has_inf;       /* exponent all ones, mantissa zero */
  NanRule nan;
  bool subnormals;    /* exponent field 0 is subnormal (all but E8M0) */
  uint64_t canon_nan; /* the NaN code encode produces */
} MiniFmt;

/* Indexed by IrElem; ebits 0 marks non-float rows and f64. */
static const MiniFmt *fmt_of(IrElem e) {
  static const MiniFmt f16 = {5, 10, 15, true, true, NAN_IEEE, true, 0x7E00};
  static const MiniFmt bf16 = {8, 7, 127, true, true, NAN_IEEE, true, 0x7FC0};
  static const MiniFmt f32 = {8, 23, 127, true, true, NAN_IEEE, true, 0x7FC00000};
  static const MiniFmt e4m3fn = {4, 3, 7, true, false, NAN_ALL_ONES, true, 0x7F};
  static const MiniFmt e4m3fnuz = {4, 3, 8, true, false, NAN_NEG_ZERO, true, 0x80};
  /* ONNX's reference casts write E5M2 NaN as 0x7F, a quiet NaN. */
  static const MiniFmt e5m2 = {5, 2, 15, true, true, NAN_IEEE, true, 0x7F};
  static const MiniFmt e5m2fnuz = {5, 2, 16, true, false, NAN_NEG_ZERO, true, 0x80};
  static const MiniFmt e3m2 = {3, 2, 3, true, false, NAN_NONE, true, 0};
  static const MiniFmt e2m3 = {2, 3, 1, true, false, NAN_NONE, true, 0};
  static const MiniFmt e2m1 = {2, 1, 1, true, false, NAN_NONE, true, 0};
  static const MiniFmt e8m0 = {8, 0, 127, false, false, NAN_ALL_ONES, false, 0xFF};
  switch (e) {
  case IR_ELEM_F16: return &f16;
  case IR_ELEM_BF16: return &bf16;
  case IR_ELEM_F32: return &f32;
  case IR_ELEM_F8E4M3FN: return &e4m3fn;
  case IR_ELEM_F8E4M3FNUZ: return &e4m3fnuz;
  case IR_ELEM_F8E5M2: return &e5m2;
  case IR_ELEM_F8E5M2FNUZ: return &e5m2fnuz;
  case IR_ELEM_F6E3M2: return &e3m2;
  case IR_ELEM_F6E2M3: return &e2m3;
  case IR_ELEM_F4E2M1: return &e2m1;
  case IR_ELEM_E8M0: return &e8m0;
  default: return NULL;
  }
}

static uint64_t sign_bit(const MiniFmt *f) { return (uint64_t)1 << (f->ebits + f->mbits); }
static uint64_t mag_mask(const MiniFmt *f) { return sign_bit(f) - 1; }
static uint64_t exp_max(const MiniFmt *f) { return ((uint64_t)1 << f->ebits) - 1; }
static uint64_t mant_mask(const MiniFmt *f) { return ((uint64_t)1 << f->mbits) - 1; }

static bool code_is_nan(const MiniFmt *f, uint64_t bits) {
  uint64_t mag = bits & mag_mask(f);
  switch (f->nan) {
  case NAN_NONE: return false;
  case NAN_IEEE: return (mag >> f->mbits) == exp_max(f) && (mag & mant_mask(f)) != 0;
  case NAN_ALL_ONES: return mag == mag_mask(f);
  case NAN_NEG_ZERO: return bits == sign_bit(f);
  }
  return false;
}

/* Largest finite magnitude code. */
static uint64_t max_code(const MiniFmt *f) {
  if (f->has_inf) return ((exp_max(f) - 1) << f->mbits) | mant_mask(f); /* IEEE */
  if (f->nan == NAN_ALL_ONES) return mag_mask(f) - 1;
  return mag_mask(f); /* FNUZ, f6, f4: every magnitude is finite */
}

static double mini_decode(const MiniFmt *f, uint64_t bits) {
  bits &= f->has_sign ? (sign_bit(f) << 1) - 1 : mag_mask(f);
  if (code_is_nan(f, bits)) return (f->has_sign && (bits & sign_bit(f))) ? -NAN : NAN;
  bool neg = f->has_sign && (bits & sign_bit(f));
  uint64_t ex = (bits & mag_mask(f)) >> f->mbits, mant = bits & mant_mask(f);
  double v;
  if (f->has_inf && ex == exp_max(f))
    v = INFINITY;
  else if (ex == 0 && f->subnormals)
    v = ldexp((double)mant, 1 - f->bias - f->mbits);
  else
    v = ldexp((double)(mant | ((uint64_t)1 << f->mbits)), (int)ex - f->bias - f->mbits);
  return neg ? -v : v;
}

/* Rounds x >= 0 to an integer, ties to even. Exact: floor and the
 * difference of doubles this close are exact. */
static uint64_t round_half_even(double x, uint64_t base) {
  double fl = floor(x);
  double d = x - fl;
  uint64_t r = base + (uint64_t)fl;
  if (d > 0.5 || (d == 0.5 && (r & 1))) r++;
  return r;
}

/* Magnitude code of a > 0 finite, or UINT64_MAX if it is certainly beyond
 * the format's range (so huge that the exponent would not fit). May return
 * a code above max_code (overflow), or 0 (rounds to zero). */
static uint64_t magnitude_code(const MiniFmt *f, double a) {
  int k;
  double fr = frexp(a, &k); /* a = fr * 2^k, fr in [0.5, 1) */
  int64_t biased = (int64_t)k - 1 + f->bias;
  if (biased > (int64_t)exp_max(f) + 1) return UINT64_MAX;
  if (biased <= 0 && f->subnormals) {
    /* Subnormal range: count quanta of 2^(1-bias-mbits). a is below
     * 2^(1-bias), so the scaled value is below 2^mbits, and exact; a
     * result of 2^mbits is the smallest normal code. */
    return round_half_even(ldexp(a, f->bias - 1 + f->mbits), 0);
  }
  /* No subnormals (E8M0): every positive value below the smallest code is
   * nearest to it. */
  if (biased < 0) return 0;
  /* Normal: code = biased << mbits + (2fr - 1) * 2^mbits, the fraction
   * rounded with the parity of the whole code. */
  double frac = ldexp(2.0 * fr - 1.0, f->mbits);
  return round_half_even(frac, (uint64_t)biased << f->mbits);
}

static bool mini_encode(const MiniFmt *f, double v, QOverflow ov, uint64_t *bits) {
  if (isnan(v)) {
    if (f->nan == NAN_NONE) return false;
    *bits = f->canon_nan;
    return true;
  }
  bool neg = signbit(v) != 0;
  double a = fabs(v);
  uint64_t sign = neg && f->has_sign ? sign_bit(f) : 0;
  if (!f->has_sign && (neg || a == 0.0)) {
    /* E8M0 has neither zero nor negative values. */
    if (ov != Q_OVERFLOW_SATURATE) return false;
    *bits = 0;
    return true;
  }
  if (isinf(a) && f->has_inf && ov != Q_OVERFLOW_SATURATE) {
    *bits = sign | (exp_max(f) << f->mbits);
    return true;
  }
  uint64_t c = isinf(a) ? UINT64_MAX : (a == 0.0 ? 0 : magnitude_code(f, a));
  if (c == UINT64_MAX || c > max_code(f)) {
    switch (ov) {
    case Q_OVERFLOW_ERROR: return false;
    case Q_OVERFLOW_SATURATE: *bits = sign | max_code(f); return true;
    case Q_OVERFLOW_INF:
      if (f->has_inf) {
        *bits = sign | (exp_max(f) << f->mbits);
        return true;
      }
      if (f->nan == NAN_NONE) return false;
      *bits = f->canon_nan;
      return true;
    }
    return false;
  }
  /* FNUZ formats have no -0: negative values rounding to zero give +0. */
  if (c == 0 && f->nan == NAN_NEG_ZERO) sign = 0;
  *bits = sign | c;
  return true;
}

double q_float_decode(IrElem e, uint64_t bits) {
  if (e == IR_ELEM_F64) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
  }
  if (e == IR_ELEM_F32) {
    uint32_t b = (uint32_t)bits;
    float x;
    memcpy(&x, &b, sizeof x);
    return x;
  }
  const MiniFmt *f = fmt_of(e);
  assert(f && "q_float_decode on a non-float element type");
  return mini_decode(f, bits);
}

bool q_float_encode(IrElem e, double v, QOverflow ov, uint64_t *bits) {
  if (e == IR_ELEM_F64) {
    if (isnan(v)) {
      *bits = UINT64_C(0x7FF8000000000000);
      return true;
    }
    if (isinf(v) && ov == Q_OVERFLOW_SATURATE) v = v < 0 ? -DBL_MAX : DBL_MAX;
    memcpy(bits, &v, sizeof v);
    return true;
  }
  const MiniFmt *f = fmt_of(e);
  assert(f && "q_float_encode on a non-float element type");
  return mini_encode(f, v, ov, bits);
}

bool q_float_canonical_nan(IrElem e, uint64_t *bits) {
  if (e == IR_ELEM_F64) {
    *bits = UINT64_C(0x7FF8000000000000);
    return true;
  }
  const MiniFmt *f = fmt_of(e);
  assert(f && "q_float_canonical_nan on a non-float element type");
  if (f->nan == NAN_NONE) return false;
  *bits = f->canon_nan;
  return true;
}

double q_float_max(IrElem e) {
  if (e == IR_ELEM_F64) return DBL_MAX;
  const MiniFmt *f = fmt_of(e);
  assert(f && "q_float_max on a non-float element type");
  return mini_decode(f, max_code(f));
}
