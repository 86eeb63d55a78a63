/* Kernels: QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear,
 * following the ONNX spec and its reference implementation
 * (onnx/reference/ops/op_quantize_linear.py and friends):
 *
 * - scale and zero point per tensor (one element), per axis (1-D along
 *   `axis`) or blocked (block_size > 0: same rank as x, ceil(D / block_size)
 *   along `axis`, a short last block allowed as in the reference);
 * - quantize: x and scale are cast to the computation type (the `precision`
 *   attribute, else the scale's type, as QuantizeLinear-25 says), x / scale
 *   is rounded to it before round-half-to-even, then the zero point is added and
 *   the result saturates to the output type; NaN quantizes to the zero
 *   point and a zero scale is no error (x / 0 saturates, as in the reference). f8 outputs follow the Cast table of the spec (saturate=1: finite
 *   overflow and Inf clamp to ±max, Inf becomes NaN in the FNUZ types;
 *   saturate=0: overflow to Inf or NaN); f8 zero points must be 0 and f4E2M1
 *   adds its zero point before the cast, as the reference does;
 * - dequantize: (x - zero point) * scale, exact in double and rounded once to
 *   the result type (the reference's float32 steps are exact for |x - zp| <
 *   2^24);
 * - DynamicQuantizeLinear computes in float32, step by step as the spec's
 *   formula (scale = (max(0, max x) - min(0, min x)) / 255, 1 when that is
 *   0; zero point = saturate(round(0 - min / scale))).
 *
 * QuantizeLinear from f32 with an f32 scale to integer codes of up to 16 bits
 * or f8E4M3FN, and DequantizeLinear from integer codes of up to 32 bits to f32
 * with an f32 scale, take fast paths (runs of elements sharing parameters,
 * vectorizable loops) that give the generic loops' bits; everything else
 * runs the generic loops. Tests: test/unit/test_k_quant.c (hand-made cases),
 * test/unit/test_k_quant_fast.c (fast paths against the formulas and the
 * generic loops). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "interp/dense_util.h"
#include "quant/floatfmt.h"

/* Where each element of x finds its scale and zero point. */
typedef struct QParamMap {
  int kind;             /* 0 per tensor, 1 per axis, 2 blocked */
  int64_t d, inner, nb; /* x's axis extent, elements after the axis, params along the axis */
  int64_t block;
} QParamMap;

static int64_t qp_index(const QParamMap *m, int64_t i) {
  if (m->kind == 0) return 0;
  int64_t d = i / m->inner % m->d;
  if (m->kind == 1) return d;
  int64_t o = i / (m->inner * m->d);
  return (o * m->nb + d / m->block) * m->inner + i % m->inner;
}

static bool qp_layout(KernelCtx *k, const Tensor *x, const Tensor *s, const Tensor *zp, QParamMap *m) {
  char b1[128], b2[128];
  if (zp && !tensor_same_shape(s, zp) && (s->numel != 1 || zp->numel != 1))
    return kernel_fail(k, "zero point shape %s differs from scale shape %s", tensor_describe(zp, b1, sizeof b1),
                       tensor_describe(s, b2, sizeof b2));
  int64_t block = ir_op_attr_int(k->op, "block_size", 0);
  if (block < 0) return kernel_fail(k, "block_size must not be negative, got %lld", (long long)block);
  *m = (QParamMap){.kind = 0};
  if (s->numel == 1 && s->rank <= 1) return true;
  int32_t axis;
  if (!dense_axis(k, ir_op_attr_int(k->op, "axis", 1), x->rank, false, &axis)) return false;
  m->d = x->dims[axis];
  m->inner = dense_span(x, axis + 1, x->rank);
  if (block == 0) {
    if (s->rank != 1 || s->dims[0] != m->d)
      return kernel_fail(k, "per-axis scale must be 1-D with %lld elements (input %s, axis %d), got %s",
                         (long long)m->d, tensor_describe(x, b1, sizeof b1), axis, tensor_describe(s, b2, sizeof b2));
    m->kind = 1;
    return true;
  }
  bool ok = s->rank == x->rank;
  for (int32_t i = 0; ok && i < x->rank; i++)
    ok = s->dims[i] == (i == axis ? (x->dims[i] + block - 1) / block : x->dims[i]);
  if (!ok)
    return kernel_fail(k, "blocked scale %s does not match input %s with block_size %lld along axis %d",
                       tensor_describe(s, b1, sizeof b1), tensor_describe(x, b2, sizeof b2), (long long)block, axis);
  m->kind = 2;
  m->block = block;
  m->nb = s->dims[axis];
  return true;
}

/* v rounded to float type e (to nearest even; out of range gives ±Inf). */
static double round_to(IrElem e, double v) {
  if (e == IR_ELEM_F64 || isnan(v)) return v;
  if (e == IR_ELEM_F32) return (double)(float)v;
  uint64_t bits;
  if (!q_float_encode(e, v, Q_OVERFLOW_INF, &bits)) return v;
  return q_float_decode(e, bits);
}

static bool elem_from_onnx(int64_t code, IrElem *e) {
  for (int i = 0; i < IR_ELEM_COUNT; i++)
    if (code != 0 && ir_elem_info[i].onnx == code) {
      *e = (IrElem)i;
      return true;
    }
  return false;
}

static bool is_quant_int(IrElem e) { return ir_elem_is_int(e) && ir_elem_bits(e) <= 16; }
static bool is_f8(IrElem e) {
  return e == IR_ELEM_F8E4M3FN || e == IR_ELEM_F8E4M3FNUZ || e == IR_ELEM_F8E5M2 || e == IR_ELEM_F8E5M2FNUZ;
}

/* A float zero point (f8) must be all zeros. */
static bool check_zero_zp(KernelCtx *k, const Tensor *zp) {
  for (int64_t i = 0; zp && i < zp->numel; i++)
    if (tensor_get_f64(zp, i) != 0) return kernel_fail(k, "a %s zero point must be 0", ir_elem_name(zp->elem));
  return true;
}

/* The type x / scale is computed in: the precision attribute, else the
 * scale's type (ONNX QuantizeLinear-25; the reference casts both operands
 * to it before dividing). */
static bool quant_precision(KernelCtx *k, IrElem se, IrElem *pe) {
  int64_t code = ir_op_attr_int(k->op, "precision", 0);
  *pe = se;
  if (code && (!elem_from_onnx(code, pe) || !ir_elem_is_float(*pe)))
    return kernel_fail(k, "precision %lld is not a float type", (long long)code);
  if (ir_elem_bits(*pe) < 16) *pe = IR_ELEM_F32;
  return true;
}

static bool store_float(KernelCtx *k, Tensor *y, int64_t i, double v, bool saturate) {
  IrElem e = y->elem;
  uint64_t bits;
  bool fnuz = e == IR_ELEM_F8E4M3FNUZ || e == IR_ELEM_F8E5M2FNUZ;
  bool ok;
  if (isinf(v) && saturate && fnuz)
    ok = q_float_canonical_nan(e, &bits); /* the spec's Cast table: Inf has no saturated value in FNUZ */
  else
    ok = q_float_encode(e, v, saturate || !is_f8(e) ? Q_OVERFLOW_SATURATE : Q_OVERFLOW_INF, &bits);
  if (!ok) return kernel_fail(k, "value %g cannot be represented in %s", v, ir_elem_name(e));
  tensor_set_bits(y, i, bits);
  return true;
}

/* Fast paths (f32 x and scale, f32 division, integer or f8E4M3FN codes;
 * DequantizeLinear from integer codes to f32). Same results as the generic
 * loops below, bit for bit (test/unit/test_k_quant_fast.c checks both against
 * the ONNX formula): the walk hands out runs of elements that share one scale
 * and zero point (or read them with stride 1), so the inner loops have no
 * index arithmetic and no per-element type dispatch, and vectorize. */

/* Calls fn once per run: x elements [off, off + n) whose parameters are at
 * poff (pstride 0: all the same) or at poff + j (pstride 1). */
typedef void (*QRunFn)(void *ctx, int64_t off, int64_t n, int64_t poff, int pstride);

static void qp_walk(const QParamMap *m, int64_t numel, QRunFn fn, void *ctx) {
  if (m->kind == 0) {
    fn(ctx, 0, numel, 0, 0);
    return;
  }
  int64_t d = m->d, inner = m->inner, row = d * inner;
  int64_t outer = row ? numel / row : 0;
  for (int64_t o = 0; o < outer; o++) {
    int64_t base = o * row;
    if (m->kind == 1 && inner == 1) {
      fn(ctx, base, d, 0, 1);
    } else if (m->kind == 1) {
      for (int64_t a = 0; a < d; a++) fn(ctx, base + a * inner, inner, a, 0);
    } else if (inner == 1) {
      int64_t pb = o * m->nb;
      for (int64_t a = 0, b = 0; a < d; a += m->block, b++)
        fn(ctx, base + a, m->block < d - a ? m->block : d - a, pb + b, 0);
    } else {
      int64_t pb = o * m->nb * inner;
      for (int64_t a = 0, b = 0, in_block = 0; a < d; a++) {
        fn(ctx, base + a * inner, inner, pb + b * inner, 1);
        if (++in_block == m->block) { /* the next row starts the next block */
          in_block = 0;
          b++;
        }
      }
    }
  }
}

/* The zero points as int64 (0 without a zero point), one per scale. */
static int64_t *qp_zero_points(const Tensor *s, const Tensor *zp) {
  int64_t *z = calloc((size_t)s->numel, sizeof *z);
  if (!z) return NULL;
  for (int64_t i = 0; zp && i < s->numel; i++) z[i] = ir_elem_load_int(zp->elem, zp->data, zp->numel == 1 ? 0 : i);
  return z;
}

/* rne(v) for |v| <= 2^22: v + 1.5 * 2^23 lands in [2^23, 2^24), where the
 * f32 spacing is 1, so the addition rounds to an integer half to even under
 * the default rounding mode, as rintf does; the subtraction is exact. */
static inline float q_rne_small(float v) { return (v + 0x1.8p23f) - 0x1.8p23f; }

/* One code: saturate(rne(x / s) + z) into [lo, hi], NaN gives z. Clamping v
 * to the integers lo - z, hi - z before rounding equals clamping after. */
static inline int32_t q_code(float x, float s, int32_t z, int32_t lo, int32_t hi) {
  float v = x / s, flo = (float)(lo - z), fhi = (float)(hi - z);
  float c = v == v ? v : 0.0f; /* NaN first: 0 lies in [lo - z, hi - z] */
  c = c < flo ? flo : c;
  c = c > fhi ? fhi : c;
  return (int32_t)q_rne_small(c) + z;
}

/* Runs STMT for i in [0, n): chunks of 16 with a constant trip count, which
 * GCC's -O2 vectorizer (the very-cheap cost model) takes, then the tail. */
#define Q_FOR(n, STMT)                           \
  do {                                           \
    int64_t q_i0 = 0;                            \
    for (; q_i0 + 16 <= (n); q_i0 += 16)         \
      for (int q_j = 0; q_j < 16; q_j++) {       \
        int64_t i = q_i0 + q_j;                  \
        STMT;                                    \
      }                                          \
    for (int64_t i = q_i0; i < (n); i++) STMT;   \
  } while (0)

/* f32 to f8E4M3FN, as q_float_encode does it: NaN to 0x7F, overflow to
 * sign | 0x7E (saturate) or 0x7F, rounding half to even, subnormals below
 * 2^-6 in quanta of 2^-9. */
static inline uint8_t q_e4m3fn(float v, bool saturate) {
  uint32_t b;
  memcpy(&b, &v, sizeof b);
  uint32_t sign = (b >> 24) & 0x80, u = b & 0x7FFFFFFFu;
  if (u > 0x7F800000u) return 0x7F;
  uint32_t code;
  if (u < 0x3C800000u) { /* below 2^-6: |v| * 2^9 is exact and below 2^3 */
    float a;
    memcpy(&a, &u, sizeof a);
    code = (uint32_t)q_rne_small(a * 512.0f);
  } else if (u > 0x43E80000u) { /* above 464 (Inf too) rounds beyond 448; 464 is a tie to 448 */
    return saturate ? (uint8_t)(sign | 0x7E) : 0x7F;
  } else { /* drop 20 mantissa bits, ties to even; rebias 127 -> 7 */
    code = ((u + 0x7FFFFu + ((u >> 20) & 1)) >> 20) - (120u << 3);
  }
  return (uint8_t)(sign | code);
}

typedef struct QFast {
  const float *x, *s;
  const int64_t *z;
  void *y;
  int32_t lo, hi;
  uint32_t mask;
  int bytes; /* container of the codes: 1 or 2; 0 for f8E4M3FN */
  bool saturate;
} QFast;

/* The rows, one per container and parameter stride (restrict parameters:
 * what lets the vectorizer go). */
static void quant_row8(const float *restrict x, uint8_t *restrict y, int64_t n, float s0, int32_t z0, int32_t lo,
                       int32_t hi, uint32_t mask) {
  Q_FOR(n, y[i] = (uint8_t)((uint32_t)q_code(x[i], s0, z0, lo, hi) & mask));
}
static void quant_row8v(const float *restrict x, uint8_t *restrict y, int64_t n, const float *restrict s,
                        const int64_t *restrict z, int32_t lo, int32_t hi, uint32_t mask) {
  Q_FOR(n, y[i] = (uint8_t)((uint32_t)q_code(x[i], s[i], (int32_t)z[i], lo, hi) & mask));
}
static void quant_row16(const float *restrict x, uint16_t *restrict y, int64_t n, float s0, int32_t z0, int32_t lo,
                        int32_t hi, uint32_t mask) {
  Q_FOR(n, y[i] = (uint16_t)((uint32_t)q_code(x[i], s0, z0, lo, hi) & mask));
}
static void quant_row16v(const float *restrict x, uint16_t *restrict y, int64_t n, const float *restrict s,
                         const int64_t *restrict z, int32_t lo, int32_t hi, uint32_t mask) {
  Q_FOR(n, y[i] = (uint16_t)((uint32_t)q_code(x[i], s[i], (int32_t)z[i], lo, hi) & mask));
}

static void quant_run(void *ctx, int64_t off, int64_t n, int64_t poff, int pstride) {
  const QFast *q = ctx;
  const float *x = q->x + off, *s = q->s + poff;
  const int64_t *z = q->z + poff;
  if (q->bytes == 0) {
    uint8_t *y = (uint8_t *)q->y + off;
    for (int64_t i = 0; i < n; i++) y[i] = q_e4m3fn(x[i] / s[pstride * i], q->saturate);
  } else if (q->bytes == 1 && pstride == 0) {
    quant_row8(x, (uint8_t *)q->y + off, n, s[0], (int32_t)z[0], q->lo, q->hi, q->mask);
  } else if (q->bytes == 1) {
    quant_row8v(x, (uint8_t *)q->y + off, n, s, z, q->lo, q->hi, q->mask);
  } else if (pstride == 0) {
    quant_row16(x, (uint16_t *)q->y + off, n, s[0], (int32_t)z[0], q->lo, q->hi, q->mask);
  } else {
    quant_row16v(x, (uint16_t *)q->y + off, n, s, z, q->lo, q->hi, q->mask);
  }
}

/* QuantizeLinear without the generic loop where it applies; false (nothing
 * written) otherwise. x / s in f32 is what round_to(F32, ...) of the double
 * quotient gives: the division of two floats is correctly rounded either way. */
static bool quant_fast(const Tensor *x, const Tensor *s, const Tensor *zp, const QParamMap *m, IrElem pe,
                       bool saturate, Tensor *y) {
  IrElem ye = y->elem;
  if (x->elem != IR_ELEM_F32 || s->elem != IR_ELEM_F32 || pe != IR_ELEM_F32 || x->numel == 0) return false;
  QFast q = {.x = x->data, .s = s->data, .y = y->data, .saturate = saturate};
  if (ye == IR_ELEM_F8E4M3FN) {
    q.bytes = 0;
  } else if (is_quant_int(ye)) {
    int64_t lo, hi;
    ir_elem_int_range(ye, &lo, &hi);
    q.lo = (int32_t)lo;
    q.hi = (int32_t)hi;
    q.bytes = ir_elem_bytes(ye);
    q.mask = (uint32_t)(((uint64_t)1 << ir_elem_bits(ye)) - 1);
  } else {
    return false;
  }
  int64_t *z = qp_zero_points(s, q.bytes ? zp : NULL);
  if (!z) return false;
  q.z = z;
  qp_walk(m, x->numel, quant_run, &q);
  free(z);
  return true;
}

typedef struct DqFast {
  const void *x;
  const float *s;
  const int64_t *z;
  float *y;
  int bytes;           /* container of the codes: 1, 2 or 4 */
  uint32_t mask, sign; /* codes: ((bits & mask) ^ sign) - sign */
  bool is_signed;
} DqFast;

/* (q - z) * s for codes of up to 16 bits, q = ((bits & m) ^ sg) - sg:
 * |q - z| < 2^17 is exact in f32 and the f32 product is the double product
 * (exact) rounded once, as the generic loop computes it. */
static void dequant_row8(const uint8_t *restrict x, float *restrict y, int64_t n, float s0, int32_t z0, int32_t m,
                         int32_t sg) {
  Q_FOR(n, y[i] = (float)((((int32_t)x[i] & m) ^ sg) - sg - z0) * s0);
}
static void dequant_row8v(const uint8_t *restrict x, float *restrict y, int64_t n, const float *restrict s,
                          const int64_t *restrict z, int32_t m, int32_t sg) {
  Q_FOR(n, y[i] = (float)((((int32_t)x[i] & m) ^ sg) - sg - (int32_t)z[i]) * s[i]);
}
static void dequant_row16(const uint16_t *restrict x, float *restrict y, int64_t n, float s0, int32_t z0, int32_t m,
                          int32_t sg) {
  Q_FOR(n, y[i] = (float)((((int32_t)x[i] & m) ^ sg) - sg - z0) * s0);
}
static void dequant_row16v(const uint16_t *restrict x, float *restrict y, int64_t n, const float *restrict s,
                           const int64_t *restrict z, int32_t m, int32_t sg) {
  Q_FOR(n, y[i] = (float)((((int32_t)x[i] & m) ^ sg) - sg - (int32_t)z[i]) * s[i]);
}

static void dequant_run(void *ctx, int64_t off, int64_t n, int64_t poff, int pstride) {
  const DqFast *d = ctx;
  float *y = d->y + off;
  const float *s = d->s + poff;
  const int64_t *z = d->z + poff;
  int32_t m = (int32_t)d->mask, sg = (int32_t)d->sign;
  if (d->bytes == 1 && pstride == 0) {
    dequant_row8((const uint8_t *)d->x + off, y, n, s[0], (int32_t)z[0], m, sg);
  } else if (d->bytes == 1) {
    dequant_row8v((const uint8_t *)d->x + off, y, n, s, z, m, sg);
  } else if (d->bytes == 2 && pstride == 0) {
    dequant_row16((const uint16_t *)d->x + off, y, n, s[0], (int32_t)z[0], m, sg);
  } else if (d->bytes == 2) {
    dequant_row16v((const uint16_t *)d->x + off, y, n, s, z, m, sg);
  } else if (d->is_signed) { /* i32: the generic double product, rounded once more to f32 */
    const int32_t *x = (const int32_t *)d->x + off;
    for (int64_t i = 0; i < n; i++) y[i] = (float)((double)((int64_t)x[i] - z[pstride * i]) * (double)s[pstride * i]);
  } else {
    const uint32_t *x = (const uint32_t *)d->x + off;
    for (int64_t i = 0; i < n; i++) y[i] = (float)((double)((int64_t)x[i] - z[pstride * i]) * (double)s[pstride * i]);
  }
}

/* DequantizeLinear from integer codes up to 32 bits with f32 scale and
 * result; false (nothing written) otherwise. */
static bool dequant_fast(const Tensor *x, const Tensor *s, const Tensor *zp, const QParamMap *m, Tensor *y) {
  IrElem xe = x->elem;
  if (!ir_elem_is_int(xe) || ir_elem_bytes(xe) > 4 || s->elem != IR_ELEM_F32 || y->elem != IR_ELEM_F32 ||
      x->numel == 0)
    return false;
  int bits = ir_elem_bits(xe);
  DqFast d = {.x = x->data, .s = s->data, .y = y->data, .bytes = ir_elem_bytes(xe), .is_signed = ir_elem_is_signed(xe)};
  d.mask = bits >= 32 ? 0xFFFFFFFFu : (uint32_t)(((uint64_t)1 << bits) - 1);
  d.sign = d.is_signed && bits < 32 ? (uint32_t)1 << (bits - 1) : 0;
  int64_t *z = qp_zero_points(s, zp);
  if (!z) return false;
  d.z = z;
  qp_walk(m, x->numel, dequant_run, &d);
  free(z);
  return true;
}

static bool k_quantize_linear(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *s = kernel_in(k, 1), *zp = kernel_in(k, 2);
  if (!x || !s) return kernel_fail(k, "inputs x and y_scale are required");
  IrElem ye = kernel_result_elem(k, 0), pe = IR_ELEM_F32;
  if (!is_quant_int(ye) && !is_f8(ye) && ye != IR_ELEM_F4E2M1)
    return kernel_fail(k, "result type %s is not a quantized type", ir_elem_name(ye));
  if (!ir_elem_is_float(x->elem) && x->elem != IR_ELEM_I32)
    return kernel_fail(k, "input type %s is not float or i32", ir_elem_name(x->elem));
  if (!ir_elem_is_float(s->elem)) return kernel_fail(k, "scale type %s is not a float type", ir_elem_name(s->elem));
  if (zp && zp->elem != ye)
    return kernel_fail(k, "zero point is %s but the result is %s", ir_elem_name(zp->elem), ir_elem_name(ye));
  IrElem oe;
  int64_t od = ir_op_attr_int(k->op, "output_dtype", 0);
  if (od && (!elem_from_onnx(od, &oe) || oe != ye))
    return kernel_fail(k, "output_dtype %lld disagrees with the result type %s", (long long)od, ir_elem_name(ye));
  QParamMap m;
  if (!qp_layout(k, x, s, zp, &m) || !quant_precision(k, s->elem, &pe)) return false;
  if (is_f8(ye) && !check_zero_zp(k, zp)) return false;
  bool saturate = ir_op_attr_int(k->op, "saturate", 1) != 0;
  Tensor *y = kernel_output(k, 0, ye, x->rank, x->dims);
  if (!y) return false;
  int64_t lo = 0, hi = 0;
  if (is_quant_int(ye)) ir_elem_int_range(ye, &lo, &hi);
  if (quant_fast(x, s, zp, &m, pe, saturate, y)) return true;
  for (int64_t i = 0; i < x->numel; i++) {
    int64_t pi = qp_index(&m, i);
    double sc = tensor_get_f64(s, pi);
    double v = round_to(pe, round_to(pe, tensor_get_f64(x, i)) / round_to(pe, sc));
    if (!is_quant_int(ye)) {
      if (ye == IR_ELEM_F4E2M1 && zp) v = round_to(pe, v + tensor_get_f64(zp, pi));
      if (!store_float(k, y, i, v, saturate)) return false;
      continue;
    }
    int64_t z = zp ? tensor_get_i64(zp, pi) : 0;
    double r = isnan(v) ? 0 : rint(fmin(fmax(v, -0x1p40), 0x1p40));
    int64_t q = (int64_t)r + z;
    tensor_set_i64(y, i, q < lo ? lo : q > hi ? hi : q);
  }
  return true;
}

static bool k_dequantize_linear(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *s = kernel_in(k, 1), *zp = kernel_in(k, 2);
  if (!x || !s) return kernel_fail(k, "inputs x and x_scale are required");
  IrElem ye = kernel_result_elem(k, 0), xe = x->elem;
  if (!ir_elem_is_float(ye)) return kernel_fail(k, "result type %s is not a float type", ir_elem_name(ye));
  if (!ir_elem_is_int(xe) && !is_f8(xe) && xe != IR_ELEM_F4E2M1)
    return kernel_fail(k, "input type %s is not a quantized type", ir_elem_name(xe));
  if (!ir_elem_is_float(s->elem)) return kernel_fail(k, "scale type %s is not a float type", ir_elem_name(s->elem));
  if (zp && zp->elem != xe)
    return kernel_fail(k, "zero point is %s but the input is %s", ir_elem_name(zp->elem), ir_elem_name(xe));
  if (ir_elem_is_float(xe) && !check_zero_zp(k, zp)) return false;
  QParamMap m;
  if (!qp_layout(k, x, s, zp, &m)) return false;
  Tensor *y = kernel_output(k, 0, ye, x->rank, x->dims);
  if (!y) return false;
  if (dequant_fast(x, s, zp, &m, y)) return true;
  bool isint = ir_elem_is_int(xe);
  for (int64_t i = 0; i < x->numel; i++) {
    int64_t pi = qp_index(&m, i);
    double d = isint ? (double)(tensor_get_i64(x, i) - (zp ? tensor_get_i64(zp, pi) : 0)) : tensor_get_f64(x, i);
    tensor_set_f64(y, i, d * tensor_get_f64(s, pi));
  }
  return true;
}

static bool k_dynamic_quantize_linear(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  if (!x) return kernel_fail(k, "input x is required");
  if (!ir_elem_is_float(x->elem)) return kernel_fail(k, "input type %s is not a float type", ir_elem_name(x->elem));
  if (kernel_result_elem(k, 0) != IR_ELEM_U8 || kernel_result_elem(k, 2) != IR_ELEM_U8)
    return kernel_fail(k, "results y and y_zero_point must be u8");
  float mx = 0, mn = 0;
  for (int64_t i = 0; i < x->numel; i++) {
    float v = (float)tensor_get_f64(x, i);
    mx = fmaxf(mx, v);
    mn = fminf(mn, v);
  }
  float scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
  float zpf = 0.0f - mn / scale;
  zpf = rintf(fminf(fmaxf(zpf, 0.0f), 255.0f));
  Tensor *y = kernel_output(k, 0, IR_ELEM_U8, x->rank, x->dims);
  Tensor *ys = y ? kernel_output(k, 1, kernel_result_elem(k, 1), 0, NULL) : NULL;
  Tensor *yz = ys ? kernel_output(k, 2, IR_ELEM_U8, 0, NULL) : NULL;
  if (!yz) return false;
  for (int64_t i = 0; i < x->numel; i++) {
    float q = rintf((float)tensor_get_f64(x, i) / scale) + zpf;
    tensor_set_i64(y, i, isnan(q) ? (int64_t)zpf : (int64_t)fminf(fmaxf(q, 0.0f), 255.0f));
  }
  tensor_set_f64(ys, 0, scale);
  tensor_set_i64(yz, 0, (int64_t)zpf);
  return true;
}

void kernels_register_quant(KernelFn *table) {
  table[IR_OP_QUANTIZE_LINEAR] = k_quantize_linear;
  table[IR_OP_DEQUANTIZE_LINEAR] = k_dequantize_linear;
  table[IR_OP_DYNAMIC_QUANTIZE_LINEAR] = k_dynamic_quantize_linear;
  kernels_register_qlinear(table);
}
