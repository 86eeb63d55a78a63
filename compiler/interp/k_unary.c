/* Kernels: unary math (Abs, Neg, Sqrt, Exp, Log, Reciprocal, Erf, Floor,
 * Ceil, Round, Sign, the trigonometric and hyperbolic functions), Not,
 * IsInf, IsNaN, and the unary driver the activations share. Each op's
 * formula is written once and instantiated for float and double through
 * <tgmath.h>, so f32 computes in float as numpy's float32 does. */
#include <stdint.h>
#include <tgmath.h>

#include "interp/k_elementwise.h"

bool ew_unary(KernelCtx *k, const UnOp *u, const UnParams *p) {
  const Tensor *x = kernel_in(k, 0);
  IrElem e = x->elem;
  if (!ew_check_elem(k, 0, kernel_result_elem(k, 0))) return false;
  bool fl = ir_elem_is_float(e);
  if (!(fl || (ir_elem_is_int(e) && u->i)))
    return kernel_fail(k, "type %s is not supported", ir_elem_name(e));
  Tensor *y = kernel_output(k, 0, e, x->rank, x->dims);
  if (!y) return false;
  int64_t n = x->numel;
  if (e == IR_ELEM_F32) {
    const float *xp = x->data;
    float *yp = y->data;
    if (u->f32_loop) {
      u->f32_loop(yp, xp, n, p);
    } else {
      for (int64_t i = 0; i < n; i++) yp[i] = u->f(xp[i], p);
    }
  } else if (e == IR_ELEM_F64) {
    const double *xp = x->data;
    double *yp = y->data;
    for (int64_t i = 0; i < n; i++) yp[i] = u->d(xp[i], p);
  } else if (fl) {
    for (int64_t i = 0; i < n; i++) tensor_set_f64(y, i, u->f((float)tensor_get_f64(x, i), p));
  } else {
    for (int64_t i = 0; i < n; i++) tensor_set_i64(y, i, u->i(tensor_get_i64(x, i), p));
  }
  return true;
}

UN_FLOAT(abs, fabs(x))
UN_FLOAT(neg, -x)
UN_FLOAT(sqrt, sqrt(x))
UN_FLOAT(exp, exp(x))
UN_FLOAT(log, log(x))
UN_FLOAT(recip, (T)1 / x)
UN_FLOAT(erf, erf(x))
UN_FLOAT(floor, floor(x))
UN_FLOAT(ceil, ceil(x))
UN_FLOAT(round, nearbyint(x)) /* the default rounding mode: half to even */
UN_FLOAT(sign, x > 0 ? (T)1 : x < 0 ? (T)-1 : x)
UN_FLOAT(sin, sin(x))
UN_FLOAT(cos, cos(x))
UN_FLOAT(tan, tan(x))
UN_FLOAT(asin, asin(x))
UN_FLOAT(acos, acos(x))
UN_FLOAT(atan, atan(x))
UN_FLOAT(sinh, sinh(x))
UN_FLOAT(cosh, cosh(x))
UN_FLOAT(asinh, asinh(x))
UN_FLOAT(acosh, acosh(x))
UN_FLOAT(atanh, atanh(x))

/* Integer forms wrap like the result type (the driver truncates). */
static int64_t abs_i(int64_t x, const UnParams *p) {
  (void)p;
  return x < 0 ? (int64_t)(0 - (uint64_t)x) : x;
}
static int64_t neg_i(int64_t x, const UnParams *p) {
  (void)p;
  return (int64_t)(0 - (uint64_t)x);
}
static int64_t sign_i(int64_t x, const UnParams *p) {
  (void)p;
  return (x > 0) - (x < 0);
}

UN_LOOP(exp)
UN_LOOP(erf)
UN_LOOP(sqrt)
UN_LOOP(log)

static void abs_loop(float *y, const float *x, int64_t n, const UnParams *p) {
  (void)p;
  for (int64_t i = 0; i < n; i++) y[i] = fabs(x[i]);
}
static void neg_loop(float *y, const float *x, int64_t n, const UnParams *p) {
  (void)p;
  for (int64_t i = 0; i < n; i++) y[i] = -x[i];
}

#define UNARY_KERNEL(NAME, INT_FN, LOOP)                     \
  static bool k_##NAME(KernelCtx *k) {                       \
    static const UnOp u = {NAME##_f, NAME##_d, INT_FN, LOOP}; \
    return ew_unary(k, &u, &(UnParams){0});                  \
  }

UNARY_KERNEL(abs, abs_i, abs_loop)
UNARY_KERNEL(neg, neg_i, neg_loop)
UNARY_KERNEL(sqrt, NULL, sqrt_loop)
UNARY_KERNEL(exp, NULL, exp_loop)
UNARY_KERNEL(log, NULL, log_loop)
UNARY_KERNEL(recip, NULL, NULL)
UNARY_KERNEL(erf, NULL, erf_loop)
UNARY_KERNEL(floor, NULL, NULL)
UNARY_KERNEL(ceil, NULL, NULL)
UNARY_KERNEL(round, NULL, NULL)
UNARY_KERNEL(sign, sign_i, NULL)
UNARY_KERNEL(sin, NULL, NULL)
UNARY_KERNEL(cos, NULL, NULL)
UNARY_KERNEL(tan, NULL, NULL)
UNARY_KERNEL(asin, NULL, NULL)
UNARY_KERNEL(acos, NULL, NULL)
UNARY_KERNEL(atan, NULL, NULL)
UNARY_KERNEL(sinh, NULL, NULL)
UNARY_KERNEL(cosh, NULL, NULL)
UNARY_KERNEL(asinh, NULL, NULL)
UNARY_KERNEL(acosh, NULL, NULL)
UNARY_KERNEL(atanh, NULL, NULL)

static bool k_not(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  if (x->elem != IR_ELEM_BOOL || kernel_result_elem(k, 0) != IR_ELEM_BOOL)
    return kernel_fail(k, "operand and result must be bool, got %s", ir_elem_name(x->elem));
  Tensor *y = kernel_output(k, 0, IR_ELEM_BOOL, x->rank, x->dims);
  if (!y) return false;
  const uint8_t *xp = x->data;
  uint8_t *yp = y->data;
  for (int64_t i = 0; i < x->numel; i++) yp[i] = !xp[i];
  return true;
}

/* IsInf (detect_positive, detect_negative) and IsNaN: float in, bool out. */
static bool classify(KernelCtx *k, bool nan, bool pos, bool neg) {
  const Tensor *x = kernel_in(k, 0);
  if (!ir_elem_is_float(x->elem)) return kernel_fail(k, "type %s is not supported", ir_elem_name(x->elem));
  Tensor *y = kernel_output(k, 0, kernel_result_elem(k, 0), x->rank, x->dims);
  if (!y) return false;
  for (int64_t i = 0; i < x->numel; i++) {
    double v = tensor_get_f64(x, i);
    tensor_set_i64(y, i, nan ? isnan(v) : (pos && v == INFINITY) || (neg && v == -INFINITY));
  }
  return true;
}

static bool k_is_nan(KernelCtx *k) { return classify(k, true, false, false); }
static bool k_is_inf(KernelCtx *k) {
  return classify(k, false, ir_op_attr_int(k->op, "detect_positive", 1) != 0,
                  ir_op_attr_int(k->op, "detect_negative", 1) != 0);
}

void kernels_register_unary(KernelFn *table) {
  table[IR_OP_ABS] = k_abs;
  table[IR_OP_NEG] = k_neg;
  table[IR_OP_SQRT] = k_sqrt;
  table[IR_OP_EXP] = k_exp;
  table[IR_OP_LOG] = k_log;
  table[IR_OP_RECIPROCAL] = k_recip;
  table[IR_OP_ERF] = k_erf;
  table[IR_OP_FLOOR] = k_floor;
  table[IR_OP_CEIL] = k_ceil;
  table[IR_OP_ROUND] = k_round;
  table[IR_OP_SIGN] = k_sign;
  table[IR_OP_SIN] = k_sin;
  table[IR_OP_COS] = k_cos;
  table[IR_OP_TAN] = k_tan;
  table[IR_OP_ASIN] = k_asin;
  table[IR_OP_ACOS] = k_acos;
  table[IR_OP_ATAN] = k_atan;
  table[IR_OP_SINH] = k_sinh;
  table[IR_OP_COSH] = k_cosh;
  table[IR_OP_ASINH] = k_asinh;
  table[IR_OP_ACOSH] = k_acosh;
  table[IR_OP_ATANH] = k_atanh;
  table[IR_OP_NOT] = k_not;
  table[IR_OP_IS_NAN] = k_is_nan;
  table[IR_OP_IS_INF] = k_is_inf;
}
