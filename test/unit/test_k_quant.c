/* Quantization kernels (k_quant.c, k_qlinear.c) on small hand-made cases.
 * Expected values come from the numpy formula in the comment above each
 * case, written from the ONNX spec (evaluated with /usr/bin/python3, f32 =
 * np.float32), or are derived by hand where the comment says so; none comes
 * from the kernels. Plus error cases, which must name the op. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_test.h"

#define V(...) ((const double[]){__VA_ARGS__})
#define D(...) ((const int64_t[]){__VA_ARGS__})

/* A tensor of type e with the given values (through the generic accessor:
 * exact for every value used here). */
static Tensor *mk(IrElem e, int32_t rank, const int64_t *dims, const double *v) {
  Tensor *t = tensor_new(e, rank, dims);
  for (int64_t i = 0; i < t->numel; i++) tensor_set_f64(t, i, v[i]);
  return t;
}

/* t has the given dims and exactly the values want (NaN matches NaN). */
static void expect_exact(const Tensor *t, int32_t rank, const int64_t *dims, const double *want) {
  assert_non_null(t);
  assert_int_equal(t->rank, rank);
  for (int32_t i = 0; i < rank; i++) assert_int_equal(t->dims[i], dims[i]);
  for (int64_t i = 0; i < t->numel; i++) {
    double got = tensor_get_f64(t, i);
    if (!(got == want[i] || (isnan(got) && isnan(want[i]))))
      fail_msg("element %lld: got %.17g, want %.17g", (long long)i, got, want[i]);
  }
}

/* Runs body on ins[0..n), checks result 0 against want, frees all. */
static void check(const char *sig, const char *body, Tensor **ins, int n, int32_t rank, const int64_t *dims,
                  const double *want) {
  KtRun r = kt_run(sig, body, ins);
  if (!r.ok) fail_msg("%s", r.err);
  expect_exact(r.out[0], rank, dims, want);
  kt_free(&r);
  for (int i = 0; i < n; i++) tensor_free(ins[i]);
}

static void check_error(const char *sig, const char *body, Tensor **ins, int n, const char *op, const char *needle) {
  KtRun r = kt_run(sig, body, ins);
  kt_expect_error(&r, needle);
  if (!strstr(r.err, op)) fail_msg("error '%s' does not name %s", r.err, op);
  kt_free(&r);
  for (int i = 0; i < n; i++) tensor_free(ins[i]);
}

#define QSIG(X, Z) "%x: tensor<*x" X ">, %s: tensor<*xf32>, %z: tensor<*x" Z ">"

/* x = [0, 2.5, 3.5, -2.5, 5, 1000, -1000, 1.5], scale 1:
 * np.clip(np.rint(x / s) + z, lo, hi): ties go to even (2.5 -> 2, 3.5 -> 4, -2.5 -> -2), both ends saturate. */
static void test_quantize_per_tensor(void **state) {
  (void)state;
  static const double x[] = {0, 2.5, 3.5, -2.5, 5, 1000, -1000, 1.5};
  Tensor *in[3] = {mk(IR_ELEM_F32, 1, D(8), x), mk(IR_ELEM_F32, 0, NULL, V(1)), mk(IR_ELEM_I8, 0, NULL, V(0))};
  check(QSIG("f32", "i8"), "%y = QuantizeLinear(%x, %s, %z) : tensor<*xi8>\nreturn %y", in, 3, 1, D(8),
        V(0, 2, 4, -2, 5, 127, -128, 2));
  /* u8 with zero point 128 */
  Tensor *in2[3] = {mk(IR_ELEM_F32, 1, D(8), x), mk(IR_ELEM_F32, 0, NULL, V(1)), mk(IR_ELEM_U8, 0, NULL, V(128))};
  check(QSIG("f32", "u8"), "%y = QuantizeLinear(%x, %s, %z) : tensor<*xu8>\nreturn %y", in2, 3, 1, D(8),
        V(128, 130, 132, 126, 133, 255, 0, 130));
  /* no zero point: u8 (the importer types the result), zero point 0 */
  Tensor *in3[2] = {mk(IR_ELEM_F32, 1, D(8), x), mk(IR_ELEM_F32, 0, NULL, V(1))};
  check("%x: tensor<*xf32>, %s: tensor<*xf32>", "%y = QuantizeLinear(%x, %s) : tensor<*xu8>\nreturn %y", in3, 2, 1,
        D(8), V(0, 2, 4, 0, 5, 255, 0, 2));
}

/* x = [[1, 2, 3], [-4, 5.5, -6]], axis -1, s = [1, .5, 2], z = [0, 1, -1] (i8):
 * np.clip(np.rint(x / s[None]) + z[None], -128, 127) */
static void test_quantize_per_axis(void **state) {
  (void)state;
  Tensor *in[3] = {mk(IR_ELEM_F32, 2, D(2, 3), V(1, 2, 3, -4, 5.5, -6)), mk(IR_ELEM_F32, 1, D(3), V(1, 0.5, 2)),
                   mk(IR_ELEM_I8, 1, D(3), V(0, 1, -1))};
  check(QSIG("f32", "i8"), "%y = QuantizeLinear(%x, %s, %z) {axis = -1} : tensor<*xi8>\nreturn %y", in, 3, 2,
        D(2, 3), V(1, 5, 1, -4, 12, -4));
}

/* x = np.arange(10).reshape(2, 5) * 1.5 - 3, axis 1, block 2 (last block short):
 * s = [[1, 2, 4], [.5, 1, 2]], z = [[0, 1, 2], [3, 4, 5]] (u8);
 * S = np.repeat(s, 2, 1)[:, :5] (Z likewise); np.clip(np.rint(x / S) + Z, 0, 255) */
static void test_quantize_blocked(void **state) {
  (void)state;
  Tensor *in[3] = {mk(IR_ELEM_F32, 2, D(2, 5), V(-3, -1.5, 0, 1.5, 3, 4.5, 6, 7.5, 9, 10.5)),
                   mk(IR_ELEM_F32, 2, D(2, 3), V(1, 2, 4, 0.5, 1, 2)), mk(IR_ELEM_U8, 2, D(2, 3), V(0, 1, 2, 3, 4, 5))};
  check(QSIG("f32", "u8"), "%y = QuantizeLinear(%x, %s, %z) {axis = 1, block_size = 2} : tensor<*xu8>\nreturn %y", in,
        3, 2, D(2, 5), V(0, 0, 1, 2, 3, 12, 15, 12, 13, 10));
}

/* x = [-10, -8.5, -7.5, 6.5, 7.5, 20], scale 1: i4 range [-8, 7]; u4 zero point 3 range [0, 15]
 * np.clip(np.rint(x) + z, lo, hi) */
static void test_quantize_int4(void **state) {
  (void)state;
  static const double x[] = {-10, -8.5, -7.5, 6.5, 7.5, 20};
  Tensor *in[3] = {mk(IR_ELEM_F32, 1, D(6), x), mk(IR_ELEM_F32, 0, NULL, V(1)), mk(IR_ELEM_I4, 0, NULL, V(0))};
  check(QSIG("f32", "i4"), "%y = QuantizeLinear(%x, %s, %z) : tensor<*xi4>\nreturn %y", in, 3, 1, D(6),
        V(-8, -8, -8, 6, 7, 7));
  Tensor *in2[3] = {mk(IR_ELEM_F32, 1, D(6), x), mk(IR_ELEM_F32, 0, NULL, V(1)), mk(IR_ELEM_U4, 0, NULL, V(3))};
  check(QSIG("f32", "u4"), "%y = QuantizeLinear(%x, %s, %z) : tensor<*xu4>\nreturn %y", in2, 3, 1, D(6),
        V(0, 0, 0, 9, 11, 15));
}

/* f8 by hand from the spec's Cast table; scale 1. E4M3FN: max 448, no Inf; 0.3 lies between 0.28125 and
 * 0.3125 (step 1/32 in [0.25, 0.5)) and rounds to 0.3125. saturate=1: overflow and Inf -> +-448;
 * saturate=0: overflow and Inf -> NaN. E5M2: max 57344; 1e5 -> 57344 (saturate) or Inf (not).
 * E4M3FNUZ saturate=1: Inf -> NaN. */
static void test_quantize_f8(void **state) {
  (void)state;
  static const double x[] = {1000, -1000, 1, INFINITY, 0.3};
  const char *sig = "%x: tensor<*xf32>, %s: tensor<*xf32>";
  Tensor *in[2] = {mk(IR_ELEM_F32, 1, D(5), x), mk(IR_ELEM_F32, 0, NULL, V(1))};
  check(sig, "%y = QuantizeLinear(%x, %s) {output_dtype = 17} : tensor<*xf8E4M3FN>\nreturn %y", in, 2, 1, D(5),
        V(448, -448, 1, 448, 0.3125));
  Tensor *in2[2] = {mk(IR_ELEM_F32, 1, D(5), x), mk(IR_ELEM_F32, 0, NULL, V(1))};
  check(sig, "%y = QuantizeLinear(%x, %s) {saturate = 0} : tensor<*xf8E4M3FN>\nreturn %y", in2, 2, 1, D(5),
        V(NAN, NAN, 1, NAN, 0.3125));
  Tensor *in3[2] = {mk(IR_ELEM_F32, 1, D(2), V(1e5, -1e5)), mk(IR_ELEM_F32, 0, NULL, V(1))};
  check(sig, "%y = QuantizeLinear(%x, %s) : tensor<*xf8E5M2>\nreturn %y", in3, 2, 1, D(2), V(57344, -57344));
  Tensor *in4[2] = {mk(IR_ELEM_F32, 1, D(2), V(1e5, -1e5)), mk(IR_ELEM_F32, 0, NULL, V(1))};
  check(sig, "%y = QuantizeLinear(%x, %s) {saturate = 0} : tensor<*xf8E5M2>\nreturn %y", in4, 2, 1, D(2),
        V(INFINITY, -INFINITY));
  Tensor *in5[2] = {mk(IR_ELEM_F32, 1, D(2), V(INFINITY, 1000)), mk(IR_ELEM_F32, 0, NULL, V(1))};
  check(sig, "%y = QuantizeLinear(%x, %s) : tensor<*xf8E4M3FNUZ>\nreturn %y", in5, 2, 1, D(2), V(NAN, 240));
}

/* (x - z) * s, exact here. u8 zero point 128, s .5: x [0, 128, 255, 130] -> [-64, 0, 63.5, 1].
 * axis 0 on i8 [[3, -1], [6, -10]], s [2, .25], z [1, -2] -> [[4, -4], [2, -2]].
 * blocked i4 [1, 4], axis 1, block 3: s [[.5, 4]], z [[1, -1]], x [-8, 7, 1, 2] -> [-4.5, 3, 0, 12].
 * i32 without zero point, s .125: [100000, -3] -> [12500, -0.375].
 * f8E4M3FN [448, -1.5], s 2 -> [896, -3]. */
static void test_dequantize(void **state) {
  (void)state;
  Tensor *a[3] = {mk(IR_ELEM_U8, 1, D(4), V(0, 128, 255, 130)), mk(IR_ELEM_F32, 0, NULL, V(0.5)),
                  mk(IR_ELEM_U8, 0, NULL, V(128))};
  check(QSIG("u8", "u8"), "%y = DequantizeLinear(%x, %s, %z) : tensor<*xf32>\nreturn %y", a, 3, 1, D(4),
        V(-64, 0, 63.5, 1));
  Tensor *b[3] = {mk(IR_ELEM_I8, 2, D(2, 2), V(3, -1, 6, -10)), mk(IR_ELEM_F32, 1, D(2), V(2, 0.25)),
                  mk(IR_ELEM_I8, 1, D(2), V(1, -2))};
  check(QSIG("i8", "i8"), "%y = DequantizeLinear(%x, %s, %z) {axis = 0} : tensor<*xf32>\nreturn %y", b, 3, 2,
        D(2, 2), V(4, -4, 2, -2));
  Tensor *c[3] = {mk(IR_ELEM_I4, 2, D(1, 4), V(-8, 7, 1, 2)), mk(IR_ELEM_F32, 2, D(1, 2), V(0.5, 4)),
                  mk(IR_ELEM_I4, 2, D(1, 2), V(1, -1))};
  check(QSIG("i4", "i4"), "%y = DequantizeLinear(%x, %s, %z) {axis = 1, block_size = 3} : tensor<*xf32>\nreturn %y",
        c, 3, 2, D(1, 4), V(-4.5, 3, 0, 12));
  Tensor *d[2] = {mk(IR_ELEM_I32, 1, D(2), V(100000, -3)), mk(IR_ELEM_F32, 0, NULL, V(0.125))};
  check("%x: tensor<*xi32>, %s: tensor<*xf32>", "%y = DequantizeLinear(%x, %s) : tensor<*xf32>\nreturn %y", d, 2, 1,
        D(2), V(12500, -0.375));
  Tensor *e[2] = {mk(IR_ELEM_F8E4M3FN, 1, D(2), V(448, -1.5)), mk(IR_ELEM_F32, 0, NULL, V(2))};
  check("%x: tensor<*xf8E4M3FN>, %s: tensor<*xf32>", "%y = DequantizeLinear(%x, %s) : tensor<*xf32>\nreturn %y", e,
        2, 1, D(2), V(896, -3));
}

/* x = f32([0, 2, -3, 255/7, -1.25, 7]):
 * maxx = f32(max(0, x.max())); minx = f32(min(0, x.min())); sc = f32(maxx - minx) / f32(255)
 * zp = np.rint(clip(f32(0) - minx / sc, 0, 255)); y = np.clip(np.rint(x / sc) + zp, 0, 255)
 * -> sc 0.15462183952331543, zp 19, y [19, 32, 0, 255, 11, 64] */
static void test_dynamic_quantize(void **state) {
  (void)state;
  Tensor *in[1] = {mk(IR_ELEM_F32, 1, D(6), V(0, 2, -3, 255.0 / 7, -1.25, 7))};
  KtRun r = kt_run("%x: tensor<*xf32>",
                   "%y, %s, %z = DynamicQuantizeLinear(%x) : tensor<*xu8>, tensor<*xf32>, tensor<*xu8>\n"
                   "return %y, %s, %z",
                   in);
  if (!r.ok) fail_msg("%s", r.err);
  expect_exact(r.out[0], 1, D(6), V(19, 32, 0, 255, 11, 64));
  expect_exact(r.out[1], 0, NULL, V(0.15462183952331543));
  expect_exact(r.out[2], 0, NULL, V(19));
  kt_free(&r);
  tensor_free(in[0]);
}

#define QLMM_SIG                                                                                    \
  "%a: tensor<*xu8>, %as: tensor<*xf32>, %az: tensor<*xu8>, %b: tensor<*xi8>, %bs: tensor<*xf32>, " \
  "%bz: tensor<*xi8>, %ys: tensor<*xf32>, %yz: tensor<*xu8>"

/* a = [[5, 20, 255], [0, 7, 100]] (u8), a_scale .1, a_zp 5; b = [[1, -2], [127, -128], [-5, 3]] (i8),
 * b_scale per column [.2, .05], b_zp per column [1, -2]; y_scale .3, y_zp 10 (u8):
 * C = (a - 5) @ (b - [1, -2]); M = (f32(.1) * f32([.2, .05])) / f32(.3)   (float32, as the reference)
 * np.clip(np.rint(C * M + 10), 0, 255) -> C [390, -640, -318, 223] -> [36, 0, 0, 14] */
static void test_qlinear_matmul(void **state) {
  (void)state;
  Tensor *in[8] = {mk(IR_ELEM_U8, 2, D(2, 3), V(5, 20, 255, 0, 7, 100)), mk(IR_ELEM_F32, 0, NULL, V(0.1)),
                   mk(IR_ELEM_U8, 0, NULL, V(5)), mk(IR_ELEM_I8, 2, D(3, 2), V(1, -2, 127, -128, -5, 3)),
                   mk(IR_ELEM_F32, 1, D(2), V(0.2, 0.05)), mk(IR_ELEM_I8, 1, D(2), V(1, -2)),
                   mk(IR_ELEM_F32, 0, NULL, V(0.3)), mk(IR_ELEM_U8, 0, NULL, V(10))};
  check(QLMM_SIG, "%y = QLinearMatMul(%a, %as, %az, %b, %bs, %bz, %ys, %yz) : tensor<*xu8>\nreturn %y", in, 8, 2,
        D(2, 2), V(36, 0, 0, 14));
}

/* A = np.arange(12).reshape(2, 1, 2, 3) (u8), a_zp per row [1, 2]; B = np.arange(18)[::-1].reshape(3, 3, 2)
 * (u8), b_zp per column [3, 4]: (A - [[1], [2]]) @ (B - [3, 4]) -> shape [2, 3, 2, 2] */
static void test_matmul_integer(void **state) {
  (void)state;
  double a[12], b[18];
  for (int i = 0; i < 12; i++) a[i] = i;
  for (int i = 0; i < 18; i++) b[i] = 17 - i;
  Tensor *in[4] = {mk(IR_ELEM_U8, 4, D(2, 1, 2, 3), a), mk(IR_ELEM_U8, 3, D(3, 3, 2), b), mk(IR_ELEM_U8, 1, D(2), V(1, 2)),
                   mk(IR_ELEM_U8, 1, D(2), V(3, 4))};
  check("%a: tensor<*xu8>, %b: tensor<*xu8>, %az: tensor<*xu8>, %bz: tensor<*xu8>",
        "%y = MatMulInteger(%a, %b, %az, %bz) : tensor<*xi32>\nreturn %y", in, 4, 4, D(2, 3, 2, 2),
        V(-4, -4, 68, 56, -4, -4, 32, 20, -4, -4, -4, -16, 212, 176, 284, 236, 104, 68, 140, 92, -4, -40, -4, -52));
}

/* conv(x, w, pads, strides): zero-pad x (pads = top, left, bottom, right), slide, sum (integers).
 * x = np.arange(1, 10).reshape(1, 1, 3, 3) (u8), x_zp 1; w = np.arange(1, 9).reshape(2, 1, 2, 2) (u8),
 * w_zp per channel [0, 2]; conv(x - 1, w - [0, 2][:, None, None, None], [1, 1, 1, 1], [2, 2]) */
static void test_conv_integer(void **state) {
  (void)state;
  Tensor *in[4] = {mk(IR_ELEM_U8, 4, D(1, 1, 3, 3), V(1, 2, 3, 4, 5, 6, 7, 8, 9)),
                   mk(IR_ELEM_U8, 4, D(2, 1, 2, 2), V(1, 2, 3, 4, 5, 6, 7, 8)), mk(IR_ELEM_U8, 0, NULL, V(1)),
                   mk(IR_ELEM_U8, 1, D(2), V(0, 2))};
  check("%x: tensor<*xu8>, %w: tensor<*xu8>, %xz: tensor<*xu8>, %wz: tensor<*xu8>",
        "%y = ConvInteger(%x, %w, %xz, %wz) {pads = [1, 1, 1, 1], strides = [2, 2]} : tensor<*xi32>\nreturn %y", in,
        4, 4, D(1, 2, 2, 2), V(0, 11, 30, 67, 0, 17, 48, 115));
}

#define QLC_SIG                                                                                     \
  "%x: tensor<*xu8>, %xs: tensor<*xf32>, %xz: tensor<*xu8>, %w: tensor<*xi8>, %ws: tensor<*xf32>, " \
  "%wz: tensor<*xi8>, %ys: tensor<*xf32>, %yz: tensor<*xu8>, %bias: tensor<*xi32>"

/* x = (np.arange(18) * 7 % 256).reshape(1, 2, 3, 3) (u8), x_scale .5, x_zp 3; w = (np.arange(16) - 8)
 * .reshape(2, 2, 2, 2) (i8), w_scale per channel [.25, .125], w_zp 0; y_scale .75, y_zp 100 (u8);
 * bias [10, -20]; pads [0, 1, 1, 0]:
 * acc = conv(x - 3, w, [0, 1, 1, 0], [1, 1]) + bias; M = (f32(.5) * f32([.25, .125])) / f32(.75)
 * np.clip(np.rint(acc * M[:, None, None] + 100), 0, 255) */
static void test_qlinear_conv(void **state) {
  (void)state;
  double x[18], w[16];
  for (int i = 0; i < 18; i++) x[i] = i * 7 % 256;
  for (int i = 0; i < 16; i++) w[i] = i - 8;
  Tensor *in[9] = {mk(IR_ELEM_U8, 4, D(1, 2, 3, 3), x), mk(IR_ELEM_F32, 0, NULL, V(0.5)), mk(IR_ELEM_U8, 0, NULL, V(3)),
                   mk(IR_ELEM_I8, 4, D(2, 2, 2, 2), w), mk(IR_ELEM_F32, 1, D(2), V(0.25, 0.125)),
                   mk(IR_ELEM_I8, 0, NULL, V(0)), mk(IR_ELEM_F32, 0, NULL, V(0.75)), mk(IR_ELEM_U8, 0, NULL, V(100)),
                   mk(IR_ELEM_I32, 1, D(2), V(10, -20))};
  check(QLC_SIG,
        "%y = QLinearConv(%x, %xs, %xz, %w, %ws, %wz, %ys, %yz, %bias) {pads = [0, 1, 1, 0]} : tensor<*xu8>\n"
        "return %y",
        in, 9, 4, D(1, 2, 3, 3), V(47, 0, 0, 0, 0, 0, 5, 0, 0, 175, 248, 255, 203, 255, 255, 144, 182, 187));
}

/* Requantization ties, by hand: 1x1 conv with w = 1, scales 1, 1, 2 (M = .5 exactly), zero points 0 (i8):
 * x = [1, 3, 5, -1, -3, -5] -> x / 2 = [.5, 1.5, 2.5, -.5, -1.5, -2.5] -> half to even [0, 2, 2, 0, -2, -2] */
static void test_qlinear_conv_ties(void **state) {
  (void)state;
  Tensor *in[8] = {mk(IR_ELEM_I8, 4, D(1, 1, 1, 6), V(1, 3, 5, -1, -3, -5)), mk(IR_ELEM_F32, 0, NULL, V(1)),
                   mk(IR_ELEM_I8, 0, NULL, V(0)), mk(IR_ELEM_I8, 4, D(1, 1, 1, 1), V(1)), mk(IR_ELEM_F32, 0, NULL, V(1)),
                   mk(IR_ELEM_I8, 0, NULL, V(0)), mk(IR_ELEM_F32, 0, NULL, V(2)), mk(IR_ELEM_I8, 0, NULL, V(0))};
  check("%x: tensor<*xi8>, %xs: tensor<*xf32>, %xz: tensor<*xi8>, %w: tensor<*xi8>, %ws: tensor<*xf32>, "
        "%wz: tensor<*xi8>, %ys: tensor<*xf32>, %yz: tensor<*xi8>",
        "%y = QLinearConv(%x, %xs, %xz, %w, %ws, %wz, %ys, %yz) : tensor<*xi8>\nreturn %y", in, 8, 4, D(1, 1, 1, 6),
        V(0, 2, 2, 0, -2, -2));
}

static void test_errors(void **state) {
  (void)state;
  /* per-axis scale count not matching the axis */
  Tensor *a[2] = {mk(IR_ELEM_F32, 2, D(2, 3), V(1, 2, 3, 4, 5, 6)), mk(IR_ELEM_F32, 1, D(2), V(1, 1))};
  check_error("%x: tensor<*xf32>, %s: tensor<*xf32>", "%y = QuantizeLinear(%x, %s) {axis = -1} : tensor<*xu8>\nreturn %y",
              a, 2, "QuantizeLinear", "per-axis scale must be 1-D with 3 elements");
  /* blocked scale whose block count does not fit: ceil(5 / 2) = 3 blocks, scale has 2 */
  Tensor *b[2] = {mk(IR_ELEM_I8, 2, D(1, 5), V(1, 2, 3, 4, 5)), mk(IR_ELEM_F32, 2, D(1, 2), V(1, 1))};
  check_error("%x: tensor<*xi8>, %s: tensor<*xf32>",
              "%y = DequantizeLinear(%x, %s) {axis = 1, block_size = 2} : tensor<*xf32>\nreturn %y", b, 2,
              "DequantizeLinear", "does not match input");
  /* axis out of range */
  Tensor *c[2] = {mk(IR_ELEM_F32, 1, D(2), V(1, 2)), mk(IR_ELEM_F32, 1, D(2), V(1, 1))};
  check_error("%x: tensor<*xf32>, %s: tensor<*xf32>", "%y = QuantizeLinear(%x, %s) {axis = 1} : tensor<*xu8>\nreturn %y",
              c, 2, "QuantizeLinear", "axis 1 is out of range");
  /* zero point type differing from the result */
  Tensor *d[3] = {mk(IR_ELEM_F32, 1, D(2), V(1, 2)), mk(IR_ELEM_F32, 0, NULL, V(1)), mk(IR_ELEM_I8, 0, NULL, V(0))};
  check_error(QSIG("f32", "i8"), "%y = QuantizeLinear(%x, %s, %z) : tensor<*xu8>\nreturn %y", d, 3, "QuantizeLinear",
              "zero point is i8");
  /* f8 zero point must be 0 */
  Tensor *e[3] = {mk(IR_ELEM_F32, 1, D(2), V(1, 2)), mk(IR_ELEM_F32, 0, NULL, V(1)),
                  mk(IR_ELEM_F8E4M3FN, 0, NULL, V(1))};
  check_error(QSIG("f32", "f8E4M3FN"), "%y = QuantizeLinear(%x, %s, %z) : tensor<*xf8E4M3FN>\nreturn %y", e, 3,
              "QuantizeLinear", "must be 0");
  /* missing required input of QLinearMatMul */
  Tensor *f[8] = {mk(IR_ELEM_U8, 2, D(1, 1), V(1)), mk(IR_ELEM_F32, 0, NULL, V(1)), NULL,
                  mk(IR_ELEM_U8, 2, D(1, 1), V(1)), mk(IR_ELEM_F32, 0, NULL, V(1)), mk(IR_ELEM_U8, 0, NULL, V(0)),
                  mk(IR_ELEM_F32, 0, NULL, V(1)), mk(IR_ELEM_U8, 0, NULL, V(0))};
  check_error("%a: tensor<*xu8>, %as: tensor<*xf32>, %b: tensor<*xu8>, %bs: tensor<*xf32>, %bz: tensor<*xu8>, "
              "%ys: tensor<*xf32>, %yz: tensor<*xu8>",
              "%y = QLinearMatMul(%a, %as, none, %b, %bs, %bz, %ys, %yz) : tensor<*xu8>\nreturn %y", f, 8,
              "QLinearMatMul", "missing required input #2");
  /* per-channel w_scale with the wrong count */
  Tensor *g[8] = {mk(IR_ELEM_U8, 4, D(1, 1, 1, 1), V(1)), mk(IR_ELEM_F32, 0, NULL, V(1)), mk(IR_ELEM_U8, 0, NULL, V(0)),
                  mk(IR_ELEM_U8, 4, D(2, 1, 1, 1), V(1, 1)), mk(IR_ELEM_F32, 1, D(3), V(1, 1, 1)),
                  mk(IR_ELEM_U8, 0, NULL, V(0)), mk(IR_ELEM_F32, 0, NULL, V(1)), mk(IR_ELEM_U8, 0, NULL, V(0))};
  check_error("%x: tensor<*xu8>, %xs: tensor<*xf32>, %xz: tensor<*xu8>, %w: tensor<*xu8>, %ws: tensor<*xf32>, "
              "%wz: tensor<*xu8>, %ys: tensor<*xf32>, %yz: tensor<*xu8>",
              "%y = QLinearConv(%x, %xs, %xz, %w, %ws, %wz, %ys, %yz) : tensor<*xu8>\nreturn %y", g, 8, "QLinearConv",
              "w_scale must have one element or shape [2]");
  /* MatMulInteger inner dims */
  Tensor *h[2] = {mk(IR_ELEM_U8, 2, D(2, 3), V(1, 2, 3, 4, 5, 6)), mk(IR_ELEM_U8, 2, D(2, 2), V(1, 2, 3, 4))};
  check_error("%a: tensor<*xu8>, %b: tensor<*xu8>", "%y = MatMulInteger(%a, %b) : tensor<*xi32>\nreturn %y", h, 2,
              "MatMulInteger", "inner dimensions differ");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantize_per_tensor), cmocka_unit_test(test_quantize_per_axis),
      cmocka_unit_test(test_quantize_blocked),    cmocka_unit_test(test_quantize_int4),
      cmocka_unit_test(test_quantize_f8),         cmocka_unit_test(test_dequantize),
      cmocka_unit_test(test_dynamic_quantize),    cmocka_unit_test(test_qlinear_matmul),
      cmocka_unit_test(test_matmul_integer),      cmocka_unit_test(test_conv_integer),
      cmocka_unit_test(test_qlinear_conv),        cmocka_unit_test(test_qlinear_conv_ties),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
