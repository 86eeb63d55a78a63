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
 *   0; zero point = saturate(round(0 - min / scale))). */
#include <math.h>
#include <stdlib.h>

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
