/* Kernels: activations (Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish,
 * Tanh, Softplus, Softsign, Elu, Selu, Celu, Mish, Gelu, Shrink,
 * ThresholdedRelu) and Clip. Formulas follow the ONNX spec, instantiated
 * for float and double through <tgmath.h>; Sigmoid and Softplus use the
 * overflow-free forms. */
#include <stdint.h>
#include <string.h>
#include <tgmath.h>

#include "interp/k_elementwise.h"
#include "interp/ort_numerics.h"

#define A ((T)p->alpha)
#define B ((T)p->beta)
#define G ((T)p->gamma)
/* log(1 + e^x) without overflow */
#define SOFTPLUS(x) ((x) > 0 ? (x) + log1p(exp(-(x))) : log1p(exp(x)))

UN_FLOAT(relu, x < 0 ? (T)0 : x) /* keeps NaN */
UN_FLOAT(leaky, x < 0 ? A * x : x)
UN_FLOAT(sigmoid, x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)))
UN_FLOAT(hsigmoid, fmax((T)0, fmin((T)1, A * x + B)))
UN_FLOAT(hswish, x * fmax((T)0, fmin((T)1, x / 6 + (T)0.5)))
UN_FLOAT(tanh, tanh(x))
UN_FLOAT(softplus, SOFTPLUS(x))
UN_FLOAT(softsign, x / (1 + fabs(x)))
UN_FLOAT(elu, x < 0 ? A * (exp(x) - 1) : x)
UN_FLOAT(selu, x <= 0 ? G * (A * exp(x) - A) : G * x)
UN_FLOAT(celu, fmax((T)0, x) + fmin((T)0, A * (exp(x / A) - 1)))
UN_FLOAT(mish, x * tanh(SOFTPLUS(x)))
UN_FLOAT(gelu, (T)0.5 * x * (1 + erf(x / sqrt((T)2))))
UN_FLOAT(gelu_tanh, (T)0.5 * x * (1 + tanh(sqrt(2 / (T)3.14159265358979323846) * (x + (T)0.044715 * x * x * x))))
/* alpha = lambd, beta = bias */
UN_FLOAT(shrink, x < -A ? x + B : x > A ? x - B : (T)0)
UN_FLOAT(thresh, x > A ? x : (T)0)

static int64_t relu_i(int64_t x, const UnParams *p) {
  (void)p;
  return x > 0 ? x : 0;
}
static int64_t shrink_i(int64_t x, const UnParams *p) {
  double v = (double)x;
  return (int64_t)(v < -p->alpha ? v + p->beta : v > p->alpha ? v - p->beta : 0);
}

UN_LOOP(sigmoid)
UN_LOOP(tanh)
UN_LOOP(gelu)
UN_LOOP(gelu_tanh)

static void relu_loop(float *y, const float *x, int64_t n, const UnParams *p) {
  (void)p;
  for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0 ? 0.0f : x[i];
}
static void leaky_loop(float *y, const float *x, int64_t n, const UnParams *p) {
  float a = p->alpha;
  for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0 ? a * x[i] : x[i];
}

static bool act(KernelCtx *k, float (*f)(float, const UnParams *), double (*d)(double, const UnParams *),
                int64_t (*i)(int64_t, const UnParams *), void (*loop)(float *, const float *, int64_t, const UnParams *),
                UnParams p) {
  UnOp u = {f, d, i, loop};
  return ew_unary(k, &u, &p);
}

#define ATTR(name, dflt) ir_op_attr_float(k->op, name, dflt)

/* InterpNumerics ORT on an f32 input: ONNX Runtime's approximation
 * (ort_numerics.h); other types keep the exact formula. */
static bool ort_f32(const KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0);
  return k->numerics == INTERP_NUMERICS_ORT && x && x->elem == IR_ELEM_F32;
}
#define ORT_UNARY(NAME, FN)                                                          \
  static float NAME##_ort_f(float x, const UnParams *p) {                            \
    (void)p;                                                                         \
    return FN(x);                                                                    \
  }                                                                                  \
  static void NAME##_ort_loop(float *y, const float *x, int64_t n, const UnParams *p) { \
    (void)p;                                                                         \
    for (int64_t i = 0; i < n; i++) y[i] = FN(x[i]);                                 \
  }
ORT_UNARY(sigmoid, ortnum_sigmoid)
ORT_UNARY(tanh, ortnum_tanh)

static bool k_relu(KernelCtx *k) { return act(k, relu_f, relu_d, relu_i, relu_loop, (UnParams){0}); }
static bool k_leaky(KernelCtx *k) {
  return act(k, leaky_f, leaky_d, NULL, leaky_loop, (UnParams){ATTR("alpha", 0.01f), 0, 0});
}
static bool k_sigmoid(KernelCtx *k) {
  if (ort_f32(k)) return act(k, sigmoid_ort_f, sigmoid_d, NULL, sigmoid_ort_loop, (UnParams){0});
  return act(k, sigmoid_f, sigmoid_d, NULL, sigmoid_loop, (UnParams){0});
}
static bool k_hsigmoid(KernelCtx *k) {
  return act(k, hsigmoid_f, hsigmoid_d, NULL, NULL, (UnParams){ATTR("alpha", 0.2f), ATTR("beta", 0.5f), 0});
}
static bool k_hswish(KernelCtx *k) { return act(k, hswish_f, hswish_d, NULL, NULL, (UnParams){0}); }
static bool k_tanh(KernelCtx *k) {
  if (ort_f32(k)) return act(k, tanh_ort_f, tanh_d, NULL, tanh_ort_loop, (UnParams){0});
  return act(k, tanh_f, tanh_d, NULL, tanh_loop, (UnParams){0});
}
static bool k_softplus(KernelCtx *k) { return act(k, softplus_f, softplus_d, NULL, NULL, (UnParams){0}); }
static bool k_softsign(KernelCtx *k) { return act(k, softsign_f, softsign_d, NULL, NULL, (UnParams){0}); }
static bool k_elu(KernelCtx *k) { return act(k, elu_f, elu_d, NULL, NULL, (UnParams){ATTR("alpha", 1.0f), 0, 0}); }
static bool k_selu(KernelCtx *k) {
  UnParams p = {ATTR("alpha", 1.67326319217681884765625f), 0, ATTR("gamma", 1.05070102214813232421875f)};
  return act(k, selu_f, selu_d, NULL, NULL, p);
}
static bool k_celu(KernelCtx *k) { return act(k, celu_f, celu_d, NULL, NULL, (UnParams){ATTR("alpha", 1.0f), 0, 0}); }
static bool k_mish(KernelCtx *k) { return act(k, mish_f, mish_d, NULL, NULL, (UnParams){0}); }
static bool k_shrink(KernelCtx *k) {
  return act(k, shrink_f, shrink_d, shrink_i, NULL, (UnParams){ATTR("lambd", 0.5f), ATTR("bias", 0.0f), 0});
}
static bool k_thresh(KernelCtx *k) {
  return act(k, thresh_f, thresh_d, NULL, NULL, (UnParams){ATTR("alpha", 1.0f), 0, 0});
}

static bool k_gelu(KernelCtx *k) {
  const char *ap = ir_op_attr_string(k->op, "approximate", "none");
  if (strcmp(ap, "tanh") == 0) return act(k, gelu_tanh_f, gelu_tanh_d, NULL, gelu_tanh_loop, (UnParams){0});
  if (strcmp(ap, "none") != 0) return kernel_fail(k, "approximate must be 'none' or 'tanh', got '%s'", ap);
  return act(k, gelu_f, gelu_d, NULL, gelu_loop, (UnParams){0});
}

/* Clip(x, min?, max?) = min(max(x, min), max): min > max gives max, as
 * the spec says; NaN stays NaN. */
static bool clip_bound(KernelCtx *k, uint32_t i, const Tensor **out) {
  const Tensor *t = kernel_in(k, i);
  *out = t;
  if (!t) return true;
  if (t->numel != 1) return kernel_fail(k, "%s must be a scalar, got %lld elements", i == 1 ? "min" : "max",
                                        (long long)t->numel);
  return ew_check_elem(k, i, kernel_in(k, 0)->elem);
}

static bool k_clip(KernelCtx *k) {
  const Tensor *x = kernel_in(k, 0), *lo, *hi;
  IrElem e = x->elem;
  if (!ew_check_elem(k, 0, kernel_result_elem(k, 0)) || !clip_bound(k, 1, &lo) || !clip_bound(k, 2, &hi))
    return false;
  if (e == IR_ELEM_BOOL) return kernel_fail(k, "type bool is not supported");
  Tensor *y = kernel_output(k, 0, e, x->rank, x->dims);
  if (!y) return false;
  if (e == IR_ELEM_F32) {
    float l = lo ? *(const float *)lo->data : -INFINITY, h = hi ? *(const float *)hi->data : INFINITY;
    const float *xp = x->data;
    float *yp = y->data;
    for (int64_t i = 0; i < x->numel; i++) {
      float v = xp[i] < l ? l : xp[i];
      yp[i] = v > h ? h : v;
    }
  } else if (ir_elem_is_float(e)) {
    double l = lo ? tensor_get_f64(lo, 0) : -INFINITY, h = hi ? tensor_get_f64(hi, 0) : INFINITY;
    for (int64_t i = 0; i < x->numel; i++) {
      double v = tensor_get_f64(x, i);
      v = v < l ? l : v;
      tensor_set_f64(y, i, v > h ? h : v);
    }
  } else if (e == IR_ELEM_U64) {
    uint64_t l = lo ? (uint64_t)tensor_get_i64(lo, 0) : 0, h = hi ? (uint64_t)tensor_get_i64(hi, 0) : UINT64_MAX;
    for (int64_t i = 0; i < x->numel; i++) {
      uint64_t v = (uint64_t)tensor_get_i64(x, i);
      v = v < l ? l : v;
      tensor_set_i64(y, i, (int64_t)(v > h ? h : v));
    }
  } else {
    int64_t l = lo ? tensor_get_i64(lo, 0) : INT64_MIN, h = hi ? tensor_get_i64(hi, 0) : INT64_MAX;
    for (int64_t i = 0; i < x->numel; i++) {
      int64_t v = tensor_get_i64(x, i);
      v = v < l ? l : v;
      tensor_set_i64(y, i, v > h ? h : v);
    }
  }
  return true;
}

void kernels_register_activation(KernelFn *table) {
  table[IR_OP_RELU] = k_relu;
  table[IR_OP_LEAKY_RELU] = k_leaky;
  table[IR_OP_SIGMOID] = k_sigmoid;
  table[IR_OP_HARD_SIGMOID] = k_hsigmoid;
  table[IR_OP_HARD_SWISH] = k_hswish;
  table[IR_OP_TANH] = k_tanh;
  table[IR_OP_SOFTPLUS] = k_softplus;
  table[IR_OP_SOFTSIGN] = k_softsign;
  table[IR_OP_ELU] = k_elu;
  table[IR_OP_SELU] = k_selu;
  table[IR_OP_CELU] = k_celu;
  table[IR_OP_MISH] = k_mish;
  table[IR_OP_GELU] = k_gelu;
  table[IR_OP_SHRINK] = k_shrink;
  table[IR_OP_THRESHOLDED_RELU] = k_thresh;
  table[IR_OP_CLIP] = k_clip;
}
