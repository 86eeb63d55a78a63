/* Pooling kernels (k_pool.c) on small hand-made cases, plus error cases.
 * Expected values come from a loop-per-window numpy reference written from
 * the ONNX spec (sketched in the comments; evaluated with /usr/bin/python3,
 * 9 digits) or by hand; none comes from the kernel or the ONNX node tests.
 * Reference, 2-D, per output (i, j), window taps (a, b):
 *   h = i * s0 + a * d0 - pad_top, w = j * s1 + b * d1 - pad_left
 *   max: max of x[h, w] over taps inside the input (padding never wins)
 *   avg: sum over taps inside the input / (taps inside the input, or with
 *        count_include_pad taps with h < H + pad_bottom, w < W + pad_right)
 *   out = floor-or-ceil((n + p0 + p1 - ((k - 1) * d + 1)) / s) + 1, with
 *   ceil_mode dropping a last window that starts in the right padding. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_cases.h"

#define V KT_V
#define SIG "%a0: tensor<*xf32>"
#define BODY(op, attrs) "%y0 = " op "(%a0) {" attrs "} : tensor<*xf32>\nreturn %y0"
#define BODY_IDX(attrs) "%y0, %y1 = MaxPool(%a0) {" attrs "} : tensor<*xf32>, tensor<*xi64>\nreturn %y0, %y1"

/* 4x4 (a permutation of 1..16), 5x5 (of 0..24) and 2 channels of 3x3 */
#define X44 {IR_ELEM_F32, 4, {1, 1, 4, 4}, V(13, 5, 6, 1, 10, 4, 2, 11, 8, 15, 3, 12, 7, 16, 14, 9)}
#define X55                                                                                                    \
  {IR_ELEM_F32, 4, {1, 1, 5, 5},                                                                               \
   V(14, 13, 17, 3, 21, 10, 18, 19, 4, 2, 20, 6, 7, 22, 1, 16, 0, 15, 24, 23, 9, 8, 12, 11, 5)}
#define X233 {IR_ELEM_F32, 4, {1, 2, 3, 3}, V(1, 8, 3, 4, 2, 6, 7, 5, 0, 2, 1, 0, 3, -9, 4, 6, 5, -7)}

static void test_pool_errors(void **state) {
  (void)state;
  int64_t d2[2] = {2, 3}, d4[4] = {1, 1, 4, 4};
  Tensor *x2 = kt_f32(2, d2, NULL), *x4 = kt_f32(4, d4, NULL);
  const KtErrCase errs[] = {
      {SIG, BODY("MaxPool", "kernel_shape = [2]"), &x2, "op 'MaxPool': input must be N x C x D1"},
      {SIG, BODY("AveragePool", "kernel_shape = [2]"), &x4, "attribute 'kernel_shape' has 1 values, expected 2"},
      {SIG, BODY("MaxPool", "strides = [1, 1]"), &x4, "attribute 'kernel_shape' is required"},
      {SIG, BODY("MaxPool", "kernel_shape = [5, 5]"), &x4, "window of extent 5 does not fit input 4"},
  };
  kt_errors(errs, KT_COUNT(errs));
  tensor_free(x2);
  tensor_free(x4);
}

static const NodeCase POOL_CASES[] = {
    /* k 3x3, strides 2, pads 1: windows rows/cols {-1..1, 1..3} */
    {"maxpool_pads_strides", SIG, BODY("MaxPool", "kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]"), 1,
     {X44}, 1, {{4, {1, 1, 2, 2}, V(13, 11, 16, 16)}}},
    /* k 2, s 2, ceil_mode: out ceil(3 / 2) + 1 = 3, the last row/column
     * windows hold one input row/column */
    {"maxpool_ceil", SIG, BODY("MaxPool", "ceil_mode = 1, kernel_shape = [2, 2], strides = [2, 2]"), 1, {X55}, 1,
     {{4, {1, 1, 3, 3}, V(18, 19, 21, 20, 24, 23, 9, 12, 5)}}},
    /* k 2, dilations 2: taps {i, i + 2} x {j, j + 2} */
    {"maxpool_dilations", SIG, BODY("MaxPool", "dilations = [2, 2], kernel_shape = [2, 2]"), 1, {X44}, 1,
     {{4, {1, 1, 2, 2}, V(13, 15, 14, 16)}}},
    /* Indices over the flattened N x C x H x W tensor: row-major
     * c * 9 + h * 3 + w (storage_order 0) ... */
    {"maxpool_indices_row_major", SIG, BODY_IDX("kernel_shape = [2, 2]"), 1, {X233}, 2,
     {{4, {1, 2, 2, 2}, V(8, 8, 7, 6, 3, 4, 6, 5)}, {4, {1, 2, 2, 2}, V(1, 1, 6, 5, 12, 14, 15, 16)}}},
    /* ... and column-major c * 9 + w * 3 + h (storage_order 1) */
    {"maxpool_indices_col_major", SIG, BODY_IDX("kernel_shape = [2, 2], storage_order = 1"), 1, {X233}, 2,
     {{4, {1, 2, 2, 2}, V(8, 8, 7, 6, 3, 4, 6, 5)}, {4, {1, 2, 2, 2}, V(3, 3, 2, 7, 10, 16, 11, 14)}}},
    /* 1-D u8, k 3, s 2: max(4, 200, 7), max(7, 9, 255) */
    {"maxpool_1d_u8", "%a0: tensor<*xu8>",
     "%y0 = MaxPool(%a0) {kernel_shape = [3], strides = [2]} : tensor<*xu8>\nreturn %y0", 1,
     {{IR_ELEM_U8, 3, {1, 1, 6}, V(4, 200, 7, 9, 255, 0)}}, 1, {{3, {1, 1, 2}, V(200, 255)}}},
    /* SAME_UPPER, k 2, s 2 on 5: out 3, total pad 1 at the end:
     * windows {1, 5}, {2, 4}, {3, pad} */
    {"maxpool_same_upper", SIG, BODY("MaxPool", "auto_pad = \"SAME_UPPER\", kernel_shape = [2], strides = [2]"), 1,
     {{IR_ELEM_F32, 3, {1, 1, 5}, V(1, 5, 2, 4, 3)}}, 1, {{3, {1, 1, 3}, V(5, 4, 3)}}},
    /* SAME_LOWER: the pad at the start: windows {pad, 1}, {5, 2}, {4, 3} */
    {"maxpool_same_lower", SIG, BODY("MaxPool", "auto_pad = \"SAME_LOWER\", kernel_shape = [2], strides = [2]"), 1,
     {{IR_ELEM_F32, 3, {1, 1, 5}, V(1, 5, 2, 4, 3)}}, 1, {{3, {1, 1, 3}, V(1, 5, 4)}}},
    /* as maxpool_pads_strides, averaging over the input taps only
     * (top-left: (13 + 5 + 10 + 4) / 4 = 8) */
    {"avgpool_exclude_pad", SIG, BODY("AveragePool", "kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]"),
     1, {X44}, 1, {{4, {1, 1, 2, 2}, V(8, 4.83333333, 10, 9.55555556)}}},
    /* count_include_pad: always / 9 (top-left 32 / 9) */
    {"avgpool_include_pad", SIG,
     BODY("AveragePool", "count_include_pad = 1, kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]"), 1,
     {X44}, 1, {{4, {1, 1, 2, 2}, V(3.55555556, 3.22222222, 6.66666667, 9.55555556)}}},
    /* ceil_mode adds a third window at 3..5, whose row/column 5 lies beyond
     * the pads and is not counted: the corner is 9 / 4 */
    {"avgpool_ceil_include_pad", SIG,
     BODY("AveragePool",
          "ceil_mode = 1, count_include_pad = 1, kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]"),
     1, {X44}, 1,
     {{4, {1, 1, 3, 3}, V(3.55555556, 3.22222222, 2, 6.66666667, 9.55555556, 5.33333333, 3.83333333, 6.5, 2.25)}}},
    /* ceil_mode without pads: partial windows average their input taps */
    {"avgpool_ceil", SIG, BODY("AveragePool", "ceil_mode = 1, kernel_shape = [2, 2], strides = [2, 2]"), 1, {X55}, 1,
     {{4, {1, 1, 3, 3}, V(13.75, 10.75, 11.5, 10.5, 17, 12, 8.5, 11.5, 5)}}},
    /* 3-D, one 2x2x2 window: mean(1..8) */
    {"avgpool_3d", SIG, BODY("AveragePool", "kernel_shape = [2, 2, 2]"), 1,
     {{IR_ELEM_F32, 5, {1, 1, 2, 2, 2}, V(1, 2, 3, 4, 5, 6, 7, 8)}}, 1, {{5, {1, 1, 1, 1, 1}, V(4.5)}}},
    /* numpy: x.mean((2, 3), keepdims=True) */
    {"globalaveragepool", SIG, "%y0 = GlobalAveragePool(%a0) : tensor<*xf32>\nreturn %y0", 1,
     {{IR_ELEM_F32, 4, {1, 3, 2, 2}, V(1, -2, 5, 0, 3, 3, -1, 7, -4, -8, -6, -5)}}, 1,
     {{4, {1, 3, 1, 1}, V(1, 3, -5.75)}}},
    /* numpy: x.max((2, 3), keepdims=True) */
    {"globalmaxpool", SIG, "%y0 = GlobalMaxPool(%a0) : tensor<*xf32>\nreturn %y0", 1,
     {{IR_ELEM_F32, 4, {1, 3, 2, 2}, V(1, -2, 5, 0, 3, 3, -1, 7, -4, -8, -6, -5)}}, 1,
     {{4, {1, 3, 1, 1}, V(5, 7, -4)}}},
};

static void test_pool_cases(void **state) {
  (void)state;
  kt_cases(POOL_CASES, KT_COUNT(POOL_CASES), 1e-6);
}

KT_MAIN(test_pool_cases, test_pool_errors)
