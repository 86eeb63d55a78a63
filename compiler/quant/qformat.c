/* The format table and its element and block codecs (qformat.h). Integer
 * formats round half to even and saturate; float elements go through the
 * bit-exact minifloat codec of floatfmt.c with saturation; the block formats
 * follow the OCP Microscaling Formats (MX) v1.0 spec, §5 and §6.3 (shared
 * scale X = 2^(floor(log2 amax) - emax_elem)), and NVIDIA's NVFP4 (two-level
 * scale: f8E4M3FN per 16 elements times an f32 per tensor).
 *
 * Codes of signed integer formats are two's complement in the width of the
 * storage element (qformat.h's `elem`): i2 and i4 in 2 and 4 bits, i3..i8
 * in 8 bits (i3's -1 is 0xFF), i16 in 16 bits. That is the byte an IR
 * constant of that element type holds, so ir_elem_store_bits(f->elem, ...)
 * of a code and ir_elem_load_int of it give back the value.
 * docs/formats.md describes every format and decision; the tests are
 * test/unit/test_qformat.c. */
#include "quant/qformat.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "quant/floatfmt.h"

#define INT_ROW(nm, b, e, lo, hi) {nm, Q_FMT_INT, b, IR_ELEM_##e, lo, hi, 0, IR_ELEM_F32, false, 0}
#define FLOAT_ROW(nm, b, e) {nm, Q_FMT_FLOAT, b, IR_ELEM_##e, 0, 0, 0, IR_ELEM_F32, false, 0}
#define MX_ROW(nm, b, e, emax) {nm, Q_FMT_BLOCK, b, IR_ELEM_##e, 0, 0, 32, IR_ELEM_E8M0, false, emax}

static const QFormat table[] = {
    INT_ROW("i2", 2, I2, -2, 1),
    INT_ROW("i3", 3, I8, -4, 3),
    INT_ROW("i4", 4, I4, -8, 7),
    INT_ROW("i5", 5, I8, -16, 15),
    INT_ROW("i6", 6, I8, -32, 31),
    INT_ROW("i7", 7, I8, -64, 63),
    INT_ROW("i8", 8, I8, -128, 127),
    INT_ROW("u2", 2, U2, 0, 3),
    INT_ROW("u3", 3, U8, 0, 7),
    INT_ROW("u4", 4, U4, 0, 15),
    INT_ROW("u5", 5, U8, 0, 31),
    INT_ROW("u6", 6, U8, 0, 63),
    INT_ROW("u7", 7, U8, 0, 127),
    INT_ROW("u8", 8, U8, 0, 255),
    INT_ROW("i16", 16, I16, -32768, 32767),
    FLOAT_ROW("f8E4M3FN", 8, F8E4M3FN),
    FLOAT_ROW("f8E5M2", 8, F8E5M2),
    FLOAT_ROW("f6E3M2", 6, F6E3M2),
    FLOAT_ROW("f6E2M3", 6, F6E2M3),
    FLOAT_ROW("f4E2M1", 4, F4E2M1),
    FLOAT_ROW("e8m0", 8, E8M0),
    MX_ROW("mxfp8_e4m3", 8, F8E4M3FN, 8),
    MX_ROW("mxfp8_e5m2", 8, F8E5M2, 15),
    MX_ROW("mxfp6_e3m2", 6, F6E3M2, 4),
    MX_ROW("mxfp6_e2m3", 6, F6E2M3, 2),
    MX_ROW("mxfp4", 4, F4E2M1, 2),
    /* MXINT8: code/64, restricted to the symmetric -127..127 (OCP MX v1.0
     * §5.3 allows it; docs/formats.md says why). */
    {"mxint8", Q_FMT_BLOCK, 8, IR_ELEM_I8, -127, 127, 32, IR_ELEM_E8M0, false, 0},
    /* emax_elem is an MX notion; 2 is E2M1's, for the record. */
    {"nvfp4", Q_FMT_BLOCK, 4, IR_ELEM_F4E2M1, 0, 0, 16, IR_ELEM_F8E4M3FN, true, 2},
};
#define NROWS ((int)(sizeof table / sizeof table[0]))
_Static_assert(sizeof table / sizeof table[0] == 28, "update q_format_names and docs/formats.md with the table");

const QFormat *q_format_table(int *n) {
  *n = NROWS;
  return table;
}

const QFormat *q_format_find(const char *name) {
  if (!name) return NULL;
  for (int i = 0; i < NROWS; i++)
    if (strcmp(table[i].name, name) == 0) return &table[i];
  return NULL;
}

/* Kept literal (thread-safe, no buffer); test_qformat.c checks it against
 * the table. */
const char *q_format_names(void) {
  return "i2, i3, i4, i5, i6, i7, i8, u2, u3, u4, u5, u6, u7, u8, i16, f8E4M3FN, f8E5M2, f6E3M2, f6E2M3, "
         "f4E2M1, e8m0, mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4, mxint8, nvfp4";
}

/* MXINT8 elements are integers scaled by 2^-6. */
static bool is_mxint(const QFormat *f) { return f->kind == Q_FMT_BLOCK && f->elem == IR_ELEM_I8; }
/* Whether the element codec is the integer one (integer formats, MXINT8). */
static bool int_elems(const QFormat *f) { return f->kind == Q_FMT_INT || is_mxint(f); }

static int storage_bits(const QFormat *f) { return ir_elem_bits(f->elem); }
static uint64_t storage_mask(const QFormat *f) {
  int b = storage_bits(f);
  return b >= 64 ? UINT64_MAX : ((uint64_t)1 << b) - 1;
}

double q_format_max(const QFormat *f) {
  if (f->kind == Q_FMT_INT) return (double)(-f->qmin > f->qmax ? -f->qmin : f->qmax);
  if (is_mxint(f)) return ldexp((double)(-f->qmin > f->qmax ? -f->qmin : f->qmax), -6);
  return q_float_max(f->elem);
}

/* v rounded half to even and saturated to [lo, hi]; NaN gives 0 (clamped).
 * Clamping first keeps the conversion defined; lo and hi are integers, so
 * clamp-then-round equals round-then-clamp. */
static int64_t rne_sat(double v, int64_t lo, int64_t hi) {
  if (isnan(v)) return 0 < lo ? lo : 0 > hi ? hi : 0;
  if (v <= (double)lo) return lo;
  if (v >= (double)hi) return hi;
  double fl = floor(v), d = v - fl; /* exact: |v| < 2^53 here */
  int64_t r = (int64_t)fl;
  if (d > 0.5 || (d == 0.5 && (r & 1))) r++;
  return r;
}

static uint64_t int_code(const QFormat *f, int64_t q) { return (uint64_t)q & storage_mask(f); }

/* The integer a code stands for: sign-extended from the storage width. */
static int64_t int_value(const QFormat *f, uint64_t code) {
  code &= storage_mask(f);
  if (!ir_elem_is_signed(f->elem)) return (int64_t)code;
  uint64_t sign = (uint64_t)1 << (storage_bits(f) - 1);
  return (int64_t)(code ^ sign) - (int64_t)sign;
}

uint64_t q_format_encode(const QFormat *f, double v) {
  if (f->kind == Q_FMT_INT) return int_code(f, rne_sat(v, f->qmin, f->qmax));
  if (is_mxint(f)) return int_code(f, rne_sat(ldexp(v, 6), f->qmin, f->qmax));
  uint64_t bits = 0;
  /* Saturating encode fails only for NaN in a format without NaN (f6, f4):
   * those give 0. */
  if (!q_float_encode(f->elem, v, Q_OVERFLOW_SATURATE, &bits)) bits = 0;
  return bits;
}

double q_format_decode(const QFormat *f, uint64_t code) {
  if (f->kind == Q_FMT_INT) return (double)int_value(f, code);
  if (is_mxint(f)) return ldexp((double)int_value(f, code), -6);
  return q_float_decode(f->elem, code);
}

bool q_format_code_valid(const QFormat *f, uint64_t code) {
  if (code & ~storage_mask(f)) return false;
  if (int_elems(f)) {
    int64_t q = int_value(f, code);
    return q >= f->qmin && q <= f->qmax;
  }
  /* Every other float pattern is a value or a NaN; ±Inf (E5M2) lies outside
   * the saturated range that encode produces. */
  return !isinf(q_float_decode(f->elem, code));
}

/* ---- block formats ----------------------------------------------------- */

float q_nvfp4_tensor_scale(double amax) {
  amax = fabs(amax);
  if (amax == 0 || !isfinite(amax)) return 1.0f;
  float s = (float)(amax / (6.0 * 448.0));
  /* An amax so small that its scale underflows f32 has only zeros to show. */
  return s > 0 ? s : 1.0f;
}

/* Largest finite magnitude of the block; NaN and Inf are left out (they
 * encode as NaN or saturate, they do not choose the scale). */
static double block_amax(const float *x, int n) {
  double a = 0;
  for (int i = 0; i < n; i++) {
    double v = fabs((double)x[i]);
    if (isfinite(v) && v > a) a = v;
  }
  return a;
}

/* E8M0's 1.0 is 0x7F: the code is the unbiased exponent plus 127. */
#define E8M0_BIAS 127
/* f8E4M3FN's 1.0: sign 0, exponent 7 (bias 7), mantissa 0. */
#define E4M3_ONE 0x38u

void q_block_quantize(const QFormat *f, const float *x, int n, float tensor_scale, uint64_t *scale_code,
                      uint64_t *codes) {
  assert(f->kind == Q_FMT_BLOCK && n >= 1 && n <= f->block);
  double amax = block_amax(x, n);
  if (f->scale_elem == IR_ELEM_E8M0) {
    /* OCP MX v1.0 §6.3: X = 2^(floor(log2 amax) - emax_elem). frexp gives
     * amax = fr * 2^k with fr in [0.5, 1), so floor(log2 amax) = k - 1
     * exactly (no log2 rounding). */
    int e = -E8M0_BIAS;
    if (amax > 0) {
      int k;
      (void)frexp(amax, &k);
      e = k - 1 - f->emax_elem;
      if (e < -E8M0_BIAS) e = -E8M0_BIAS;
      if (e > E8M0_BIAS) e = E8M0_BIAS;
    }
    *scale_code = (uint64_t)(e + E8M0_BIAS);
    for (int i = 0; i < n; i++) codes[i] = q_format_encode(f, ldexp((double)x[i], -e)); /* exact */
    return;
  }
  /* NVFP4: s_b = e4m3(amax / (6 s_t)), computed in double and rounded once;
   * a block scale that is 0 (an all-zero block, or one that small) is 1. */
  double st = (double)tensor_scale;
  uint64_t sb = 0;
  bool ok = q_float_encode(IR_ELEM_F8E4M3FN, amax / (6.0 * st), Q_OVERFLOW_SATURATE, &sb);
  double sbv = q_float_decode(IR_ELEM_F8E4M3FN, sb);
  if (!ok || !(sbv > 0)) sb = E4M3_ONE; /* zero, or NaN from a NaN tensor scale */
  *scale_code = sb;
  /* s_b * s_t is exact in double (4 + 24 significant bits). */
  double d = q_float_decode(IR_ELEM_F8E4M3FN, sb) * st;
  for (int i = 0; i < n; i++) codes[i] = q_format_encode(f, (double)x[i] / d);
}

double q_block_scale_value(const QFormat *f, uint64_t scale_code, float tensor_scale) {
  double s = q_float_decode(f->scale_elem, scale_code);
  return f->tensor_scale ? s * (double)tensor_scale : s;
}

void q_block_dequantize(const QFormat *f, uint64_t scale_code, float tensor_scale, const uint64_t *codes, int n,
                        float *out) {
  double s = q_block_scale_value(f, scale_code, tensor_scale);
  for (int i = 0; i < n; i++) out[i] = (float)(q_format_decode(f, codes[i]) * s);
}
