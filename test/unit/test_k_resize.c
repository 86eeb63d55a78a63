/* Resize kernel (k_resize.c) on small hand-made cases, plus error cases.
 * Expected values come from a separable numpy reference written from the
 * ONNX Resize spec (evaluated with /usr/bin/python3, 9 digits) or by hand;
 * none comes from the kernel or the ONNX node tests. Per axis of input
 * length n, output length m, scale s (sizes: s = m / n), output index x:
 *   half_pixel          xo = (x + .5) / s - .5
 *   pytorch_half_pixel  xo = m > 1 ? (x + .5) / s - .5 : -.5 (the spec's 0
 *                       gives the same linear result)
 *   align_corners       xo = x * (n - 1) / (m - 1)
 *   asymmetric          xo = x / s
 *   tf_crop_and_resize  xo = r0 * (n - 1) + x * (r1 - r0) * (n - 1) / (m - 1)
 *                       (outside [0, n - 1]: extrapolation_value)
 *   nearest  round_prefer_floor ceil(xo - .5), round_prefer_ceil
 *            floor(xo + .5), floor, ceil; index clamped to [0, n - 1]
 *   linear   f = floor(xo), r = xo - f: (1 - r) * v[f] + r * v[f + 1]
 *   cubic    sum over k in -1..2 of W(r - k) * v[f + k], with
 *            W(t) = (a+2)|t|^3 - (a+3)|t|^2 + 1 (|t| <= 1),
 *                   a|t|^3 - 5a|t|^2 + 8a|t| - 4a (1 < |t| < 2);
 *            exclude_outside drops taps outside the input and renormalizes
 *   neighbours outside the input take the edge value. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_cases.h"

#define V KT_V
#define F32 IR_ELEM_F32
#define ABSENT {F32, -1, {0}, NULL}
#define SC(n, ...) {F32, 1, {n}, V(__VA_ARGS__)}
#define SZ(n, ...) {IR_ELEM_I64, 1, {n}, V(__VA_ARGS__)}
#define SIG_SCALES "%a0: tensor<*xf32>, %a1: tensor<*xf32>"
#define SIG_SIZES "%a0: tensor<*xf32>, %a1: tensor<*xi64>"
#define SCALES(attrs) "%y0 = Resize(%a0, none, %a1) {" attrs "} : tensor<*xf32>\nreturn %y0"
#define SIZES(attrs) "%y0 = Resize(%a0, none, none, %a1) {" attrs "} : tensor<*xf32>\nreturn %y0"
#define X14 {F32, 2, {1, 4}, V(1, 2, 3, 4)}
#define X22 {F32, 2, {2, 2}, V(1, 2, 3, 4)}
#define X13 {F32, 2, {1, 3}, V(1, 3, 7)}
#define X18 {F32, 2, {1, 4}, V(1, 2, 4, 8)}

/* [1, 4] scaled by [1, .75] (half_pixel): xo = 1/6, 1.5, 17/6 */
#define NEAREST_CASE(mode, ...)                                                                                  \
  {"nearest_" mode, SIG_SCALES, SCALES("nearest_mode = \"" mode "\""), 3, {X14, ABSENT, SC(2, 1, 0.75)}, 1, \
   {{2, {1, 3}, V(__VA_ARGS__)}}}

static void test_resize_errors(void **state) {
  (void)state;
  int64_t d4[4] = {1, 4, 2, 2}, d1 = 4, d3 = 3;
  float ones[4] = {1, 1, 2, 2};
  Tensor *x = kt_f32(4, d4, NULL), *v3 = kt_f32(1, &d3, ones), *sc = kt_f32(1, &d1, ones);
  Tensor *none[4] = {x, NULL, NULL, NULL}, *three[4] = {x, NULL, v3, NULL}, *four[4] = {x, NULL, sc, NULL};
  const char *sig = "%x: tensor<*xf32>, %r: tensor<*xf32>, %s: tensor<*xf32>, %z: tensor<*xi64>";
  const KtErrCase errs[] = {
      {sig, "%y = Resize(%x, none, none, none) : tensor<*xf32>\nreturn %y", none,
       "op 'Resize': exactly one of 'scales' and 'sizes' must be given"},
      {sig, "%y = Resize(%x, none, %s) : tensor<*xf32>\nreturn %y", three, "'scales' has 3 values, expected 4"},
      {sig, "%y = Resize(%x, none, %s) {mode = \"bilinear\"} : tensor<*xf32>\nreturn %y", four,
       "unknown mode 'bilinear'"},
  };
  kt_errors(errs, KT_COUNT(errs));
  tensor_free(x);
  tensor_free(v3);
  tensor_free(sc);
}

static const NodeCase RESIZE_CASES[] = {
    NEAREST_CASE("round_prefer_floor", 1, 2, 4),
    NEAREST_CASE("round_prefer_ceil", 1, 3, 4),
    NEAREST_CASE("floor", 1, 2, 3),
    NEAREST_CASE("ceil", 2, 3, 4),
    /* sizes [3, 5] (s = 1.5, 2.5), default nearest: rows xo = -1/6, .5,
     * 7/6 -> 0, 0, 1; columns -.3, .1, .5, .9, 1.3 -> 0, 0, 0, 1, 1 */
    {"nearest_sizes", SIG_SIZES, SIZES(""), 4, {X22, ABSENT, ABSENT, SZ(2, 3, 5)}, 1,
     {{2, {3, 5}, V(1, 1, 1, 2, 2, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4)}}},
    /* scales [2, 2]: xo = -.25, .25, .75, 1.25 on both axes */
    {"linear_half_pixel", SIG_SCALES, SCALES("mode = \"linear\""), 3, {X22, ABSENT, SC(2, 2, 2)}, 1,
     {{2, {4, 4}, V(1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4)}}},
    /* sizes [1, 5]: xo = 0, .5, 1, 1.5, 2 */
    {"linear_align_corners", SIG_SIZES, SIZES("coordinate_transformation_mode = \"align_corners\", mode = \"linear\""),
     4, {X13, ABSENT, ABSENT, SZ(2, 1, 5)}, 1, {{2, {1, 5}, V(1, 2, 3, 5, 7)}}},
    /* scales [1, 2]: xo = 0, .5, .., 2.5 (the last clamps to v[2]) */
    {"linear_asymmetric", SIG_SCALES, SCALES("coordinate_transformation_mode = \"asymmetric\", mode = \"linear\""), 3,
     {X13, ABSENT, SC(2, 1, 2)}, 1, {{2, {1, 6}, V(1, 2, 3, 5, 7, 7)}}},
    /* [3, 4] to sizes [1, 2]: row xo = -.5 -> row 0; columns xo = .5, 2.5 */
    {"linear_pytorch_half_pixel", SIG_SIZES,
     SIZES("coordinate_transformation_mode = \"pytorch_half_pixel\", mode = \"linear\""), 4,
     {{F32, 2, {3, 4}, V(1, 2, 4, 8, 0, 3, 1, 5, 6, 2, 9, 4)}, ABSENT, ABSENT, SZ(2, 1, 2)}, 1,
     {{2, {1, 2}, V(1.5, 6)}}},
    /* axes [1] with scales [2], asymmetric: columns xo = 0, .5, 1, 1.5 */
    {"linear_axes_scales", SIG_SCALES,
     SCALES("axes = [1], coordinate_transformation_mode = \"asymmetric\", mode = \"linear\""), 3,
     {X22, ABSENT, SC(1, 2)}, 1, {{2, {2, 4}, V(1, 1.5, 2, 2, 3, 3.5, 4, 4)}}},
    /* cubic, default a = -.75, half_pixel, scales [1, 2] */
    {"cubic", SIG_SCALES, SCALES("mode = \"cubic\""), 3, {X18, ABSENT, SC(2, 1, 2)}, 1,
     {{2, {1, 8}, V(0.89453125, 1.15625, 1.5625, 2.41796875, 3.16015625, 5.1171875, 7.1640625, 8.421875)}}},
    /* the same with exclude_outside */
    {"cubic_exclude_outside", SIG_SCALES, SCALES("cubic_coeff_a = -0.75, exclude_outside = 1, mode = \"cubic\""), 3,
     {X18, ABSENT, SC(2, 1, 2)}, 1,
     {{2, {1, 8},
       V(0.863636364, 1.14134276, 1.54339623, 2.41796875, 3.16015625, 5.21509434, 7.24381625, 8.54545455)}}},
    /* a = -.5, downsampling 6 -> 4 by sizes (s = 2/3) */
    {"cubic_down_sizes", SIG_SIZES, SIZES("cubic_coeff_a = -0.5, mode = \"cubic\""), 4,
     {{F32, 2, {1, 6}, V(1, 5, 2, 8, 3, 0)}, ABSENT, ABSENT, SZ(2, 1, 4)}, 1,
     {{2, {1, 4}, V(1.8828125, 2.28125, 7.4765625, 0.4921875)}}},
    /* axes [1, 0], sizes [4, 1]: rows xo = .5 -> 0; columns -> 0, 0, 1, 1 */
    {"nearest_axes_reversed", SIG_SIZES, SIZES("axes = [1, 0]"), 4, {X22, ABSENT, ABSENT, SZ(2, 4, 1)}, 1,
     {{2, {1, 4}, V(1, 1, 2, 2)}}},
    /* sizes [3, 6], not_larger: s = min(1.5, 3) on both axes -> 3 x 3 */
    {"keep_aspect_not_larger", SIG_SIZES, SIZES("keep_aspect_ratio_policy = \"not_larger\""), 4,
     {X22, ABSENT, ABSENT, SZ(2, 3, 6)}, 1, {{2, {3, 3}, V(1, 1, 2, 1, 1, 2, 3, 3, 4)}}},
    /* not_smaller: s = 3 -> 6 x 6, xo = -1/3, 0, 1/3, 2/3, 1, 4/3 */
    {"keep_aspect_not_smaller", SIG_SIZES, SIZES("keep_aspect_ratio_policy = \"not_smaller\""), 4,
     {X22, ABSENT, ABSENT, SZ(2, 3, 6)}, 1,
     {{2, {6, 6}, V(1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                    3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4)}}},
    /* 4x4 (1..16), roi rows [0, 1.5], columns [.5, 1], sizes [3, 3]:
     * rows xo = 0, 2.25, 4.5 (outside: 10); columns xo = 1.5, 2.25, 3 */
    {"tf_crop_and_resize_extrapolation", "%a0: tensor<*xf32>, %a1: tensor<*xf32>, %a2: tensor<*xi64>",
     "%y0 = Resize(%a0, %a1, none, %a2) {coordinate_transformation_mode = \"tf_crop_and_resize\", "
     "extrapolation_value = 10.0, mode = \"linear\"} : tensor<*xf32>\nreturn %y0",
     4, {{F32, 2, {4, 4}, V(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)}, SC(4, 0, 0.5, 1.5, 1), ABSENT,
         SZ(2, 3, 3)},
     1, {{2, {3, 3}, V(2.5, 3.25, 4, 11.5, 12.25, 13, 10, 10, 10)}}},
};

static void test_resize_cases(void **state) {
  (void)state;
  kt_cases(RESIZE_CASES, KT_COUNT(RESIZE_CASES), 1e-6);
}

KT_MAIN(test_resize_cases, test_resize_errors)
