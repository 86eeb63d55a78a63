/* Normalization kernels (k_norm.c) on small hand-made cases. Each expected
 * array comes from the numpy formula in the comment above it (evaluated in
 * float64 with /usr/bin/python3, printed to 9 digits), written from the
 * ONNX operator spec; none comes from the kernel or the ONNX node tests.
 * Plus error cases. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_cases.h"

#define V KT_V
#define F32 IR_ELEM_F32
#define SIG1 "%a0: tensor<*xf32>"
#define SIG3 "%a0: tensor<*xf32>, %a1: tensor<*xf32>, %a2: tensor<*xf32>"
#define SIG5 SIG3 ", %a3: tensor<*xf32>, %a4: tensor<*xf32>"
#define LN_BODY(attrs)                                                                                      \
  "%y0, %y1, %y2 = LayerNormalization(%a0, %a1, %a2) {" attrs "} : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>\n" \
  "return %y0, %y1, %y2"
#define BODY1(op, attrs) "%y0 = " op "(%a0) {" attrs "} : tensor<*xf32>\nreturn %y0"
#define BN3_BODY(attrs)                                                                                           \
  "%y0, %y1, %y2 = BatchNormalization(%a0, %a1, %a2, %a3, %a4) {" attrs "} : tensor<*xf32>, tensor<*xf32>, " \
  "tensor<*xf32>\nreturn %y0, %y1, %y2"
#define GN_BODY "%y0 = GroupNormalization(%a0, %a1, %a2) {num_groups = 2} : tensor<*xf32>\nreturn %y0"
/* a 1-D f32 operand; inputs shared by several cases */
#define VEC(n, ...) {F32, 1, {n}, V(__VA_ARGS__)}
#define X142 {F32, 3, {1, 4, 2}, V(1, 2, 3, 5, 0, -2, 6, 4)}
#define XL {F32, 3, {1, 4, 2}, V(1, -2, 2, 0, 3, 1, -1, 4)}
#define X23 {F32, 2, {2, 3}, V(3, 4, -1, 1, -4, 8)}
#define X2212 {F32, 4, {2, 2, 1, 2}, V(1, 2, 3, 5, 0, 4, -2, 2)}

static void test_norm_errors(void **state) {
  (void)state;
  int64_t d4[4] = {1, 4, 2, 2}, d1 = 4, d3 = 3;
  /* x has 4 channels: v[0] fits them, v[1] (3 values) does not */
  Tensor *x = kt_f32(4, d4, NULL), *v[2] = {kt_f32(1, &d1, NULL), kt_f32(1, &d3, NULL)};
  Tensor *bn[5] = {x, v[0], v[0], v[0], v[0]}, *bn3[5] = {x, v[0], v[1], v[0], v[0]}, *gn[3] = {x, v[1], v[1]};
  const KtErrCase errs[] = {
      {SIG5, BN3_BODY(""), bn, "op 'BatchNormalization': running_mean and running_var results need training_mode = 1"},
      {SIG5, "%y0 = BatchNormalization(%a0, %a1, %a2, %a3, %a4) : tensor<*xf32>\nreturn %y0", bn3,
       "bias must have shape [4], got 3 elements"},
      {SIG3, "%y0 = GroupNormalization(%a0, %a1, %a2) {num_groups = 3} : tensor<*xf32>\nreturn %y0", gn,
       "num_groups 3 must divide the 4 channels"},
      {SIG1, BODY1("LpNormalization", "p = 3"), &x, "p must be 1 or 2, got 3"},
      {"%a0: tensor<*xf32>, %a1: tensor<*xf32>",
       "%y0 = LayerNormalization(%a0, %a1) {axis = 4} : tensor<*xf32>\nreturn %y0", gn,
       "axis 4 is out of range for rank 4"},
  };
  kt_errors(errs, KT_COUNT(errs));
  tensor_free(x);
  tensor_free(v[0]);
  tensor_free(v[1]);
}

static const NodeCase NORM_CASES[] = {
    /* x [2,2,3]; s = [2, .5], b = [1, -1], m = [2, 4], v = [.1875, .9375],
     * eps = .0625 (so sqrt(v + eps) = [.5, 1]).
     * numpy: (x - m[:, None]) / np.sqrt(v[:, None] + eps) * s[:, None] + b[:, None] */
    {"batchnorm", SIG5,
     "%y0 = BatchNormalization(%a0, %a1, %a2, %a3, %a4) {epsilon = 0.0625} : tensor<*xf32>\nreturn %y0", 5,
     {{F32, 3, {2, 2, 3}, V(1, 2, 3, 4, 5, 6, -1, 0, 7, 2, -2, 8)}, VEC(2, 2, 0.5), VEC(2, 1, -1), VEC(2, 2, 4),
      VEC(2, 0.1875, 0.9375)},
     1, {{3, {2, 2, 3}, V(-3, 1, 5, -1, -0.5, 0, -11, -7, 21, -2, -4, 1)}}},
    /* Training mode, the same operands, momentum .75: batch statistics over
     * axes (0, 2) (population variance, as the ONNX reference):
     * numpy: bm = x.mean((0, 2)); bv = x.var((0, 2))
     *        y = (x - bm[:, None]) / np.sqrt(bv[:, None] + eps) * s[:, None] + b[:, None]
     *        running_mean = m * mom + bm * (1 - mom); running_var = v * mom + bv * (1 - mom) */
    {"batchnorm_training", SIG5, BN3_BODY("epsilon = 0.0625, momentum = 0.75, training_mode = 1"), 5,
     {{F32, 3, {2, 2, 3}, V(1, 2, 3, 4, 5, 6, -1, 0, 7, 2, -2, 8)}, VEC(2, 2, 0.5), VEC(2, 1, -1), VEC(2, 2, 4),
      VEC(2, 0.1875, 0.9375)},
     3,
     {{3, {2, 2, 3},
       V(0.229008921, 1, 1.77099108, -0.973909097, -0.817363682, -0.660818267, -1.31297324, -0.541982159, 4.8549554,
         -1.28699993, -1.91318159, -0.347727437)},
      {1, {2}, V(2, 3.95833333)},
      {1, {2}, V(1.80729167, 3.23784722)}}},
    /* Training mode with only Y, x [2,3] (N x C), default eps 1e-5; the
     * input mean/var do not matter:
     * numpy: bm = x.mean(0); bv = x.var(0); y = (x - bm) / np.sqrt(bv + eps) * s + b */
    {"batchnorm_training_y_only", SIG5,
     "%y0 = BatchNormalization(%a0, %a1, %a2, %a3, %a4) {training_mode = 1} : tensor<*xf32>\nreturn %y0", 5,
     {X23, VEC(3, 1, 2, 0.5), VEC(3, 0, 1, -1), VEC(3, 7, 7, 7), VEC(3, 9, 9, 9)}, 1,
     {{2, {2, 3}, V(0.999995, 2.99999938, -1.49999988, -0.999995, -0.999999375, -0.500000123)}}},
    /* x [2,3], axis -1, eps 1e-5:
     * numpy: mu = x.mean(-1, keepdims=True); inv = 1 / np.sqrt(x.var(-1, keepdims=True) + eps)
     *        y = (x - mu) * inv * s + b; results y, mu, inv */
    {"layernorm_axis_last", SIG3, LN_BODY("axis = -1"), 3,
     {{F32, 2, {2, 3}, V(1, 2, 4, -3, 0, 3)}, VEC(3, 1, 2, 0.5), VEC(3, 0, 1, -1)}, 3,
     {{2, {2, 3}, V(-1.06904153, 0.465479234, -0.331849043, -1.22474385, 1, -0.387628075)},
      {2, {2, 1}, V(2.33333333, 0)},
      {2, {2, 1}, V(0.801781149, 0.40824795)}}},
    /* x [2,2,2], axis 1, eps .25, scale [2] broadcast over the normalized
     * [2,2], bias [2,2]:
     * numpy: mu = x.mean((1, 2), keepdims=True); inv = 1 / np.sqrt(x.var((1, 2), keepdims=True) + eps)
     *        y = (x - mu) * inv * s + b */
    {"layernorm_axis1", SIG3, LN_BODY("axis = 1, epsilon = 0.25"), 3,
     {{F32, 3, {2, 2, 2}, V(1, 2, 3, 6, 0, -1, 4, 1)}, VEC(2, 2, -1), {F32, 2, {2, 2}, V(0, 1, 2, 3)}}, 3,
     {{3, {2, 2, 2}, V(-2.06559112, 1.51639778, 2, 1.45080666, -1.03279556, 2.03279556, 5.09838668, 3)},
      {3, {2, 1, 1}, V(3, 1)},
      {3, {2, 1, 1}, V(0.516397779, 0.516397779)}}},
    /* x [2,2,3] (N, C, W), eps 1e-5:
     * numpy: (x - x.mean(2, keepdims=True)) / np.sqrt(x.var(2, keepdims=True) + eps) * s[:, None] + b[:, None] */
    {"instancenorm", SIG3, "%y0 = InstanceNormalization(%a0, %a1, %a2) : tensor<*xf32>\nreturn %y0", 3,
     {{F32, 3, {2, 2, 3}, V(1, 2, 3, 0, 4, 8, 5, 5, 8, -1, 1, -3)}, VEC(2, 1, 2), VEC(2, 0, -1)}, 1,
     {{3, {2, 2, 3}, V(-1.22473569, 0, 1.22473569, -3.44948859, -1, 1.44948859, -0.707105013, -0.707105013,
                       1.41421003, -1, 1.44948515, -3.44948515)}}},
    /* x [1,4,2], num_groups 2, eps 1e-5, opset 21 (scale/bias per channel):
     * numpy: g = x.reshape(1, 2, 4); xn = ((g - g.mean(-1, keepdims=True))
     *          / np.sqrt(g.var(-1, keepdims=True) + eps)).reshape(1, 4, 2)
     *        y = xn * s[:, None] + b[:, None] */
    {"groupnorm_per_channel", SIG3, GN_BODY, 3, {X142, VEC(4, 1, 2, 0.5, -1), VEC(4, 0, 1, 2, 3)}, 1,
     {{3, {1, 4, 2}, V(-1.18321325, -0.507091394, 1.33806093, 4.04254836, 1.68377239, 1.36754478, 1.73508957,
                       2.36754478)}}},
    /* The same x, opset 18 (scale/bias per group): xn as above,
     * numpy: y = xn * s[[0, 0, 1, 1]][:, None] + b[[0, 0, 1, 1]][:, None] */
    {"groupnorm_per_group", SIG3, GN_BODY, 3, {X142, VEC(2, 2, -0.5), VEC(2, 1, -1)}, 1,
     {{3, {1, 4, 2}, V(-1.3664265, -0.0141827875, 1.33806093, 4.04254836, -0.683772392, -0.367544784, -1.63245522,
                       -1.31622761)}}},
    /* x [1,4,2]; channels c - floor((size-1)/2) .. c + ceil((size-1)/2):
     * numpy: sq[c] = (x[:, max(0, c - lo):min(C - 1, c + hi) + 1] ** 2).sum(1)
     *        y[:, c] = x[:, c] / (bias + alpha / size * sq[c]) ** beta
     * size 3, alpha .75, beta .5, bias 1 (y[0,0] = 1 / sqrt(1 + .25 * 5) = 2/3). */
    {"lrn_size3", SIG1, BODY1("LRN", "alpha = 0.75, beta = 0.5, bias = 1.0, size = 3"), 1, {XL}, 1,
     {{3, {1, 4, 2}, V(0.666666667, -1.41421356, 0.942809042, 0, 1.41421356, 0.43643578, -0.534522484, 1.74574312)}}},
    /* size 2 (window c .. c + 1), alpha .5, beta .75, bias 2; formula as above */
    {"lrn_size2", SIG1, BODY1("LRN", "alpha = 0.5, beta = 0.75, bias = 2.0, size = 2"), 1, {XL}, 1,
     {{3, {1, 4, 2}, V(0.41313071, -0.877382675, 0.576647639, 0, 0.970983543, 0.252982213, -0.544331054, 1.04338972)}}},
    /* numpy: x / np.abs(x).sum(0, keepdims=True) */
    {"lpnorm_p1_axis0", SIG1, BODY1("LpNormalization", "axis = 0, p = 1"), 1, {X23}, 1,
     {{2, {2, 3}, V(0.75, 0.5, -0.111111111, 0.25, -0.5, 0.888888889)}}},
    /* defaults axis -1, p 2. numpy: x / np.sqrt((x ** 2).sum(-1, keepdims=True)) */
    {"lpnorm_p2_default", SIG1, BODY1("LpNormalization", ""), 1, {X23}, 1,
     {{2, {2, 3}, V(0.588348405, 0.784464541, -0.196116135, 0.111111111, -0.444444444, 0.888888889)}}},
    /* x [2,2,1,2], default axes [0, 2, 3]:
     * numpy: mu = x.mean(axes, keepdims=True)
     *        y = (x - mu) / (np.sqrt(((x - mu) ** 2).mean(axes, keepdims=True)) + 1e-9) */
    {"mvn_default_axes", SIG1, BODY1("MeanVarianceNormalization", ""), 1, {X2212}, 1,
     {{4, {2, 2, 1, 2},
       V(-0.507092552, 0.169030851, 0.39223227, 1.17669681, -1.18321596, 1.52127766, -1.56892908, 0)}}},
    /* axes [-1]: every pair (a, b) with a < b becomes (-1, 1) */
    {"mvn_axes_last", SIG1, BODY1("MeanVarianceNormalization", "axes = [-1]"), 1, {X2212}, 1,
     {{4, {2, 2, 1, 2}, V(-1, 1, -1, 1, -1, 1, -1, 1)}}},
};

/* Regression (fuzz_interp, UBSan): BatchNormalization of an empty input
 * gives an empty output without offsetting the input's NULL data. */
static void test_batchnorm_empty_input(void **state) {
  (void)state;
  int64_t xd[3] = {1, 2, 0}, cd = 2;
  float one[2] = {1, 1};
  Tensor *in[5] = {kt_f32(3, xd, NULL), kt_f32(1, &cd, one), kt_f32(1, &cd, one), kt_f32(1, &cd, one),
                   kt_f32(1, &cd, one)};
  KtRun r = kt_run(SIG5, "%y0 = BatchNormalization(%a0, %a1, %a2, %a3, %a4) : tensor<*xf32>\nreturn %y0", in);
  assert_true(r.ok);
  kt_expect(r.out[0], 3, xd, NULL, 0);
  kt_free(&r);
  for (int i = 0; i < 5; i++) tensor_free(in[i]);
}

static void test_norm_cases(void **state) {
  (void)state;
  kt_cases(NORM_CASES, KT_COUNT(NORM_CASES), 1e-6);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_norm_cases), cmocka_unit_test(test_norm_errors),
                                     cmocka_unit_test(test_batchnorm_empty_input)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
