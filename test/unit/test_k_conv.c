/* Conv and ConvTranspose kernels (k_conv.c). Inputs hold the pattern
 * ((i * 7 + seed) % 11 - 5) / 4 (kt_pattern); expected values come from
 * plain numpy loops (direct definition of the ONNX ops: zero-pad, slide,
 * sum; ConvTranspose as the scatter-add of x * w at i * stride + k *
 * dilation, then cropped by the pads), so every value is a multiple of
 * 1/16 and exact in f32. The script is in the comment by each array:
 *   conv(x, w, b, group, strides, dilations, pads_begin, pads_end)
 *   convt(x, w, b, group, strides, dilations, pads_begin, pads_end,
 *         output_padding, out=output_shape) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_test.h"

/* result shape [1, 6, 2, 5] */
static const double want_conv2d[60] = {1.3125, -1.875, -0.9375, 2.0625, -0.8125, -2.25, -0.125, 3.375, -8.25, -1.625, 2.1875, 0.125, 2.875, 0.125, 1.5, 1, 2.75, -1, 4.1875, 2.375, -3.8125, 2.8125, -0.1875, -1.125, 1.0625, 3.5625, 0.125, -0.5625, 1.5, 0.1875, -0.625, 2.3125, -2.3125, -0.0625, -1.6875, 2.1875, -3, 0.75, -1, -0.75, 2.4375, -5.875, 3, 2.25, 0, -6.75, 4.875, 1.375, -0.75, 2.3125, -2.75, 3.125, -2, -3, 1.6875, 4.25, -2.375, -2.8125, 5, -1.5};
/* result shape [2, 4, 4] */
static const double want_conv1d_upper[32] = {0.0625, -3, -1.625, 3.3125, -2, -0.125, 3.9375, -2.6875, 2.8125, 2.0625, -4.25, 1.625, 0.0625, -3.3125, 0.625, 0.4375, -2.375, 1.125, 3.1875, -0.3125, 3.0625, 1.625, -3.9375, -1.3125, 0.25, -3.375, 0.625, 0.4375, -2.5625, 4, 0.375, -1.25};
/* result shape [2, 4, 4] */
static const double want_conv1d_lower[32] = {-0.875, 1.125, 3.1875, -2.125, 1.625, 1.625, -3.9375, -0.5, 1.375, -3.375, 0.625, 2.5, -0.9375, 4, 0.375, -2.75, 2.75, 1.125, -3, -2.4375, -0.0625, -3.5, -0.125, 1.875, -2.875, 4.25, 2.0625, -2.75, 2.5625, -1.0625, -3.3125, -0.5};
/* result shape [1, 3, 4, 5, 4] */
static const double want_conv3d[240] = {-0.8125, 3.875, -0.75, 0.1875, 1.125, 1.5625, -0.25, 0.25, 1.0625, 1.1875, -0.625, -0.1875, 1, 2.1875, -2.375, 2.8125, 2.875, -0.875, -0.8125, 3.375, -3.125, 4.5, -0.1875, -1.0625, 0.75, 0.5625, -1.5, 1.1875, 2.5, -0.8125, 1.9375, 0.8125, 0.8125, 1.9375, -0.8125, 2.5, 3.4375, -0.375, -3.25, 4.5, -1.5, -0.375, 4.5625, -3, 0.1875, 1.9375, 0.5625, 0.375, 3.3125, -0.8125, 2.625, 0, 0.25, 0.5625, 2.625, -1.75, -0.8125, 4.5, -3.1875, 2.1875, 0.0625, -0.875, 3.875, -1, -2.0625, 2.1875, 1.9375, 1.1875, -0.25, 1.1875, 2.3125, 1.25, 0.1875, 1.5625, 2.6875, -1.4375, -1.375, 3.875, -1.125, -0.1875, -2.375, 2.875, -2.125, -1.1875, 4.1875, -3.6875, -0.75, 2.3125, -3.375, 3.9375, -0.6875, -1.5, 4.1875, -4.25, -4.0625, 3.625, -2.375, -1.5625, 3.625, -0.3125, 1.0625, -1.125, -1.0625, 0.0625, 4.6875, -1.6875, -3.875, 3.125, -3.75, -4.9375, 5.25, -0.5625, -0.5, 1.4375, -1.4375, 3.3125, -1.8125, -3.3125, 4.0625, -1.75, 0.875, -0.8125, 1.3125, -2.3125, -4.3125, 5.25, -1.75, 0.0625, 1.6875, -1.4375, 6, -3.625, -4, 5.625, -5.5, -3.1875, 2.4375, -3.5625, -1, 1.6875, -1.25, 3.3125, -1.9375, -0.75, 1.5, 1.8125, -1.25, -1.0625, 0.625, -1.5, -1.125, -0.9375, 0.4375, -1.375, -3.0625, 1.9375, 1.875, -1.9375, -1.8125, 1.875, 0.875, -2.9375, -2.8125, 0.875, -1, -2.75, 0.125, -2.5, -0.9375, 1.1875, -3.5, 1.3125, -0.875, -5.1875, 2.5, -3.125, -2.8125, -0.875, -0.875, -2.625, 0.4375, -1.9375, 0.8125, -2.9375, -1.6875, -4.625, 3.375, -0.4375, -4.5, 1.25, -1.0625, -4, -3.1875, -0.4375, -0.6875, -2.0625, -1.5625, 1.3125, 1.0625, -5.25, -2.9375, 0.8125, -1.9375, 0.4375, -1.25, -1.0625, -3.375, 0.4375, 0.75, -0.6875, -1.625, -3.125, 0.6875, 0.375, -6.0625, 2.9375, 0.1875, -2.6875, -0.1875, -3.625, 0.875, -2.8125, -2.9375, 0.875, 0.9375, -4.0625, -2.375, -0.5625, -1.9375, -2.125, -2.5, -0.375, -2.0625, -2.25, 0.8125, 0.5, -1.75, -2.9375, 2.3125, -2.25};
/* result shape [1, 3, 3, 3] */
static const double want_dw[27] = {-1.5625, -3.0625, 0.375, -1.3125, -0.125, -1.3125, 0.5, -3.5625, -1.0625, 1.375, 1.4375, 0.25, 2.8125, -2.125, -0.0625, -2.625, 0.0625, 1.875, -2.6875, -1.8125, 0.6875, 0.5625, 1.4375, -0.375, 0.9375, -3.8125, -0.875};
/* result shape [2, 5, 3, 3] */
static const double want_pw[90] = {2.25, -1.8125, -1.0625, 2.4375, -1.625, -0.875, 0.5625, -1.4375, 2.0625, -1.5625, 2.125, -1.0625, -1.5, 2.1875, -1, 0.625, 2.25, -1.625, 2.1875, -1.5, -1.0625, 2.125, -1.5625, -1.125, 0.6875, -1.625, 2.25, -1.625, 2.4375, -1.0625, -1.8125, 2.25, -1.25, 0.75, 2.0625, -1.4375, -0.625, -1.1875, 1.6875, -0.25, -0.8125, 2.0625, -0.5625, -0.4375, -1, 2.4375, -1.625, -0.875, 0.5625, -1.4375, 2.0625, 0.75, -1.25, 2.25, -1.5, 2.1875, -1, 0.625, 2.25, -1.625, 0.6875, -1.125, -1.5625, 2.125, -1.5625, -1.125, 0.6875, -1.625, 2.25, 0.625, -1, 2.1875, -1.8125, 2.25, -1.25, 0.75, 2.0625, -1.4375, 0.5625, -0.875, -1.625, -0.25, -0.8125, 2.0625, -0.5625, -0.4375, -1, -0.1875, 1.3125, -0.625};
/* result shape [1, 3, 7, 8] */
static const double want_ct[168] = {0.25, -1.875, 0.1875, 1.3125, 0.375, 1.0625, -0.125, -1.9375, -0.1875, -3.3125, -0.125, 1.6875, -0.4375, 1.875, -0.0625, -2.75, -0.5, 1.25, 0.25, 1, -0.25, -2, -0.0625, 1.1875, -1, 2.25, -0.6875, 2.4375, -0.3125, -2.1875, 0.0625, 0.75, 0.125, 0.9375, -0.375, -2.0625, -0.1875, 1.125, 0, -1.875, 0.5, 1.3125, 0.1875, -1.875, 0, 1.125, -0.1875, -2.0625, 0, 0, 0, 0, 0, 0, 0, 0, -1.3125, 0, -2.5, -0.125, -1.375, -1.625, -0.9375, -0.375, -3.875, 0.5625, 0.625, -1.75, -0.5625, -1.3125, -3.125, -0.1875, -2.25, -0.5, -0.75, -2, -0.3125, -0.75, -1.25, -0.875, 1.125, -2.5, 0, -2.0625, -2.5625, -0.9375, 0.375, 0.1875, 0.25, -2.375, 0.3125, -1.125, -0.625, -1.25, -1.5625, 0, -0.0625, -2, -2.5625, -0.9375, 0.9375, -1.25, -3.125, -0.1875, -1, -1, -1, -1, -1, -1, -1, -1, 1.9375, 1.1875, 1.6875, 0.5, -1.75, 0.5, 1.6875, 1.1875, 2.75, 1, 0, -0.375, 0, 1, 4.125, 1, 1.5, 0.5, -1.75, 0.5, 1.6875, 1.1875, 1.6875, 0.5, 2.5625, -0.375, 0, 1, 4.125, 1, -3.4375, 1, -1, 0.5, 1.6875, 1.1875, 1.6875, 0.5, 1.6875, 1.1875, -0.625, 0.875, 1.5625, 1.375, -1.5625, 0.5, 2.875, 1, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75};
/* result shape [1, 2, 5, 5] */
static const double want_ct_group[50] = {0.5, -1.3125, -0.3125, 1.625, -0.25, 0.5625, -1.25, -0.375, 1.5, -0.375, 0.9375, -2.125, 1.375, -0.0625, -0.5, 0, -1.25, 1.6875, -1.25, 0.1875, -0.3125, -1.5625, 1.5625, -1.0625, 0.375, -1.3125, 0.5, 1.5, -0.4375, -1.4375, 0.6875, 0.4375, -0.875, -0.6875, 1.75, 2.375, -0.3125, -2.0625, -0.5, 2.1875, -1.4375, -0.4375, 1.5, 0.5, -1.3125, -1.1875, -0.1875, 1.8125, 0.5625, -1.25};
/* result shape [1, 2, 6, 6] */
static const double want_ct_oshape[72] = {0.75, 0, -1, 0, -1, 0, 0.5625, -0.1875, -1.125, 0.0625, -0.625, 0.3125, 0.875, -0.375, -0.1875, 0.125, 0.8125, 0.625, 0.375, -0.125, -1, 0.125, 1.5625, -0.3125, 0.5, -0.25, -0.625, 0.25, 1.75, -0.625, 0.1875, -0.0625, -0.875, 0.1875, 1.6875, -0.25, 0.1875, -0.5625, 0.6875, 0.1875, -0.5625, 0.9375, 0, -0.75, 0.5625, 0.25, -0.1875, 1.25, -0.0625, -1.3125, 0.8125, 0.6875, 0, 0.625, 0, -0.5, 0.375, 0.5, -0.375, -1.25, -0.0625, -0.8125, 0.4375, 1.1875, -1.0625, -2.3125, 0, -0.25, 0.1875, 0.75, -0.5625, -1};

static const char *SIG = "%x: tensor<*xf32>, %w: tensor<*xf32>, %b: tensor<*xf32>";
static const char *SIG64 = "%x: tensor<*xf64>, %w: tensor<*xf64>, %b: tensor<*xf64>";

typedef struct Case {
  IrElem elem;
  const char *body;
  int32_t xr, wr, br;
  int64_t xd[5], wd[5], bd[1];
  int xs, ws, bs; /* pattern seeds */
  int32_t yr;
  int64_t yd[5];
  const double *want;
} Case;

static void run_case(const Case *c) {
  Tensor *in[3] = {kt_pattern(c->elem, c->xr, c->xd, c->xs), kt_pattern(c->elem, c->wr, c->wd, c->ws),
                   c->br ? kt_pattern(c->elem, c->br, c->bd, c->bs) : NULL};
  KtRun r = kt_run(c->elem == IR_ELEM_F64 ? SIG64 : SIG, c->body, in);
  if (!r.ok) fail_msg("%s", r.err);
  kt_expect(r.out[0], c->yr, c->yd, c->want, 1e-6);
  kt_free(&r);
  for (int i = 0; i < 3; i++) tensor_free(in[i]);
}

/* x = pat(1*4*5*6, 1); w = pat(6*2*3*2, 2); b = pat(6, 3)
 * conv(x, w, b, 2, [2,1], [1,2], [1,0], [0,1]), in f32 (im2col + GEMM) and f64 (direct, in double) */
static void test_conv2d_group_stride_dilation(void **state) {
  (void)state;
  Case c = {IR_ELEM_F32,
            "%y = Conv(%x, %w, %b) {dilations = [1, 2], group = 2, pads = [1, 0, 0, 1], strides = [2, 1]} : "
            "tensor<*xf32>\nreturn %y",
            4, 4, 1, {1, 4, 5, 6}, {6, 2, 3, 2}, {6}, 1, 2, 3, 4, {1, 6, 2, 5}, want_conv2d};
  run_case(&c);
  c.elem = IR_ELEM_F64;
  c.body = "%y = Conv(%x, %w, %b) {dilations = [1, 2], group = 2, kernel_shape = [3, 2], pads = [1, 0, 0, 1], "
           "strides = [2, 1]} : tensor<*xf64>\nreturn %y";
  run_case(&c);
}

/* x = pat(2*3*7, 4); w = pat(4*3*4, 5); stride 2: output ceil(7/2) = 4, total padding (4-1)*2 + 4 - 7 = 3:
 * SAME_UPPER = conv(x, w, None, 1, [2], [1], [1], [2]); SAME_LOWER = conv(..., [2], [1]) */
static void test_conv1d_auto_pad(void **state) {
  (void)state;
  Case c = {IR_ELEM_F32, "%y = Conv(%x, %w) {auto_pad = \"SAME_UPPER\", strides = [2]} : tensor<*xf32>\nreturn %y",
            3, 3, 0, {2, 3, 7}, {4, 3, 4}, {0}, 4, 5, 0, 3, {2, 4, 4}, want_conv1d_upper};
  run_case(&c);
  c.body = "%y = Conv(%x, %w) {auto_pad = \"SAME_LOWER\", strides = [2]} : tensor<*xf32>\nreturn %y";
  c.want = want_conv1d_lower;
  run_case(&c);
  c.elem = IR_ELEM_F64;
  c.body = "%y = Conv(%x, %w) {auto_pad = \"SAME_LOWER\", strides = [2]} : tensor<*xf64>\nreturn %y";
  run_case(&c);
}

/* x = pat(1*2*3*4*4, 6); w = pat(3*2*2*2*3, 7); b = pat(3, 8); conv(x, w, b, 1, [1]*3, [1]*3, [1]*3, [1]*3) */
static void test_conv3d(void **state) {
  (void)state;
  Case c = {IR_ELEM_F32, "%y = Conv(%x, %w, %b) {pads = [1, 1, 1, 1, 1, 1]} : tensor<*xf32>\nreturn %y",
            5, 5, 1, {1, 2, 3, 4, 4}, {3, 2, 2, 2, 3}, {3}, 6, 7, 8, 5, {1, 3, 4, 5, 4}, want_conv3d};
  run_case(&c);
}

/* x = pat(1*3*6*5, 9); w = pat(3*1*3*3, 10); b = pat(3, 11); conv(x, w, b, 3, [2,2], [1,1], [1,1], [1,1]) */
static void test_conv_depthwise(void **state) {
  (void)state;
  Case c = {IR_ELEM_F32,
            "%y = Conv(%x, %w, %b) {group = 3, pads = [1, 1, 1, 1], strides = [2, 2]} : tensor<*xf32>\nreturn %y",
            4, 4, 1, {1, 3, 6, 5}, {3, 1, 3, 3}, {3}, 9, 10, 11, 4, {1, 3, 3, 3}, want_dw};
  run_case(&c);
}

/* x = pat(2*4*3*3, 12); w = pat(5*4, 13).reshape(5,4,1,1); conv(x, w, None, 1, [1,1], [1,1], [0,0], [0,0]) */
static void test_conv_pointwise(void **state) {
  (void)state;
  Case c = {IR_ELEM_F32, "%y = Conv(%x, %w) : tensor<*xf32>\nreturn %y",
            4, 4, 0, {2, 4, 3, 3}, {5, 4, 1, 1}, {0}, 12, 13, 0, 4, {2, 5, 3, 3}, want_pw};
  run_case(&c);
}

/* x = pat(1*2*3*4, 14); w = pat(2*3*3*3, 15); b = pat(3, 16)
 * convt(x, w, b, 1, [2,2], [1,1], [1,0], [0,1], output_padding [1,0]) */
static void test_conv_transpose(void **state) {
  (void)state;
  Case c = {IR_ELEM_F32,
            "%y = ConvTranspose(%x, %w, %b) {output_padding = [1, 0], pads = [1, 0, 0, 1], strides = [2, 2]} : "
            "tensor<*xf32>\nreturn %y",
            4, 4, 1, {1, 2, 3, 4}, {2, 3, 3, 3}, {3}, 14, 15, 16, 4, {1, 3, 7, 8}, want_ct};
  run_case(&c);
  c.elem = IR_ELEM_F64;
  c.body = "%y = ConvTranspose(%x, %w, %b) {output_padding = [1, 0], pads = [1, 0, 0, 1], strides = [2, 2]} : "
           "tensor<*xf64>\nreturn %y";
  run_case(&c);
}

/* x = pat(1*4*3*3, 17); w = pat(4*1*2*2, 18); convt(x, w, None, 2, [1,1], [2,2], [0,0], [0,0], [0,0]) */
static void test_conv_transpose_group_dilation(void **state) {
  (void)state;
  Case c = {IR_ELEM_F32, "%y = ConvTranspose(%x, %w) {dilations = [2, 2], group = 2} : tensor<*xf32>\nreturn %y",
            4, 4, 0, {1, 4, 3, 3}, {4, 1, 2, 2}, {0}, 17, 18, 0, 4, {1, 2, 5, 5}, want_ct_group};
  run_case(&c);
}

/* x = pat(9, 19).reshape(1,1,3,3); w = pat(18, 20).reshape(1,2,3,3); output_shape [6,6], stride 2:
 * full size 2*2 + 3 = 7, total padding 1, SAME_UPPER puts it at the end:
 * convt(x, w, None, 1, [2,2], [1,1], [0,0], [1,1], [0,0], out=[6,6]) */
static void test_conv_transpose_output_shape(void **state) {
  (void)state;
  Case c = {IR_ELEM_F32,
            "%y = ConvTranspose(%x, %w) {auto_pad = \"SAME_UPPER\", output_shape = [6, 6], strides = [2, 2]} : "
            "tensor<*xf32>\nreturn %y",
            4, 4, 0, {1, 1, 3, 3}, {1, 2, 3, 3}, {0}, 19, 20, 0, 4, {1, 2, 6, 6}, want_ct_oshape};
  run_case(&c);
  /* auto_pad SAME_UPPER alone gives in * stride = 6 too */
  c.body = "%y = ConvTranspose(%x, %w) {auto_pad = \"SAME_UPPER\", strides = [2, 2]} : tensor<*xf32>\nreturn %y";
  run_case(&c);
}

static void expect_conv_error(const char *body, int32_t xr, const int64_t *xd, int32_t wr, const int64_t *wd,
                              const int64_t *bd, const char *needle) {
  Tensor *in[3] = {kt_pattern(IR_ELEM_F32, xr, xd, 0), kt_pattern(IR_ELEM_F32, wr, wd, 0),
                   bd ? kt_pattern(IR_ELEM_F32, 1, bd, 0) : NULL};
  KtRun r = kt_run(SIG, body, in);
  kt_expect_error(&r, needle);
  kt_free(&r);
  for (int i = 0; i < 3; i++) tensor_free(in[i]);
}

static void test_conv_errors(void **state) {
  (void)state;
  int64_t x[4] = {1, 4, 5, 5}, w3[4] = {2, 3, 3, 3}, w2[4] = {6, 2, 3, 3}, w1[4] = {3, 1, 3, 3}, b5 = 5;
  expect_conv_error("%y = Conv(%x, %w) : tensor<*xf32>\nreturn %y", 4, x, 4, w3, NULL,
                    "op 'Conv': input has 4 channels but the weight expects 3 (3 per group x 1 groups)");
  expect_conv_error("%y = Conv(%x, %w) {group = 3} : tensor<*xf32>\nreturn %y", 4, x, 4, w1, NULL,
                    "group 3 does not divide the 4 input and 3 output channels");
  expect_conv_error("%y = Conv(%x, %w, %b) {group = 2} : tensor<*xf32>\nreturn %y", 4, x, 4, w2, &b5,
                    "bias must have shape [6]");
  expect_conv_error("%y = Conv(%x, %w) {group = 2, kernel_shape = [3, 2]} : tensor<*xf32>\nreturn %y", 4, x, 4,
                    w2, NULL, "kernel_shape[1] = 2 but the weight's dim is 3");
  expect_conv_error("%y = Conv(%x, %w) {group = 2, pads = [0, 0]} : tensor<*xf32>\nreturn %y", 4, x, 4, w2, NULL,
                    "attribute 'pads' has 2 values, expected 4");
  int64_t big[4] = {2, 2, 7, 7};
  expect_conv_error("%y = Conv(%x, %w) {group = 2} : tensor<*xf32>\nreturn %y", 4, x, 4, big, NULL,
                    "window of extent 7 does not fit input 5");
  expect_conv_error("%y = ConvTranspose(%x, %w) {group = 3} : tensor<*xf32>\nreturn %y", 4, x, 4, w2, NULL,
                    "input has 4 channels, the weight 6");
}

/* Regression (fuzz_interp, UBSan): an input with a zero dim under padding
 * gives a non-empty output that is the bias alone; the empty input's NULL
 * data must not be offset. */
static void test_conv_empty_input_gives_bias(void **state) {
  (void)state;
  int64_t xd[4] = {1, 1, 0, 2}, wd[4] = {2, 1, 1, 1}, bd = 2;
  float wv[2] = {1, 1}, bv[2] = {3, -4};
  Tensor *in[3] = {kt_f32(4, xd, NULL), kt_f32(4, wd, wv), kt_f32(1, &bd, bv)};
  KtRun r = kt_run(SIG, "%y = Conv(%x, %w, %b) {pads = [1, 0, 1, 0]} : tensor<*xf32>\nreturn %y", in);
  assert_true(r.ok);
  /* Output rows: 0 + 1 + 1 - 1 + 1 = 2, columns 2: 2 x 2 per channel. */
  int64_t yd[4] = {1, 2, 2, 2};
  double want[8] = {3, 3, 3, 3, -4, -4, -4, -4};
  kt_expect(r.out[0], 4, yd, want, 0);
  kt_free(&r);
  /* ConvTranspose: weight (C_in 1, C_out 2, 3, 1); rows (0 - 1) + 3 = 2. */
  int64_t wtd[4] = {1, 2, 3, 1};
  float wtv[6] = {1, 1, 1, 1, 1, 1};
  Tensor *tin[3] = {in[0], kt_f32(4, wtd, wtv), in[2]};
  KtRun t = kt_run(SIG, "%y = ConvTranspose(%x, %w, %b) : tensor<*xf32>\nreturn %y", tin);
  assert_true(t.ok);
  kt_expect(t.out[0], 4, yd, want, 0);
  kt_free(&t);
  tensor_free(tin[1]);
  for (int i = 0; i < 3; i++) tensor_free(in[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conv2d_group_stride_dilation),
      cmocka_unit_test(test_conv_empty_input_gives_bias),
      cmocka_unit_test(test_conv1d_auto_pad),
      cmocka_unit_test(test_conv3d),
      cmocka_unit_test(test_conv_depthwise),
      cmocka_unit_test(test_conv_pointwise),
      cmocka_unit_test(test_conv_transpose),
      cmocka_unit_test(test_conv_transpose_group_dilation),
      cmocka_unit_test(test_conv_transpose_output_shape),
      cmocka_unit_test(test_conv_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
