/* The quench integer ops of lower-int (compiler/interp/k_qint.c) on small
 * cases computed by hand from the semantics in docs/passes/lower-int.md:
 *   rshift(v, n) = floor((v + 2^(n-1)) / 2^n)   (round half up)
 * With m0 = 2^30 a shift of 31 multiplies by 1/2, 32 by 1/4, 33 by 1/8 and
 * 29 by 2; 1610612736 = 0.75 * 2^31. The arithmetic is in the comments;
 * nothing here comes from the kernels. Plus error cases, which must name
 * the op. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_test.h"

#define V(...) ((const double[]){__VA_ARGS__})
#define D(...) ((const int64_t[]){__VA_ARGS__})

static Tensor *mk(IrElem e, int32_t rank, const int64_t *dims, const double *v) {
  Tensor *t = tensor_new(e, rank, dims);
  for (int64_t i = 0; i < t->numel; i++) tensor_set_f64(t, i, v[i]);
  return t;
}

static void expect_exact(const Tensor *t, IrElem e, int32_t rank, const int64_t *dims, const double *want) {
  assert_non_null(t);
  assert_int_equal(t->elem, e);
  assert_int_equal(t->rank, rank);
  for (int32_t i = 0; i < rank; i++) assert_int_equal(t->dims[i], dims[i]);
  for (int64_t i = 0; i < t->numel; i++)
    if (tensor_get_f64(t, i) != want[i])
      fail_msg("element %lld: got %.17g, want %.17g", (long long)i, tensor_get_f64(t, i), want[i]);
}

static void check(const char *sig, const char *body, Tensor **ins, int n, IrElem e, int32_t rank,
                  const int64_t *dims, const double *want) {
  KtRun r = kt_run(sig, body, ins);
  if (!r.ok) fail_msg("%s", r.err);
  expect_exact(r.out[0], e, rank, dims, want);
  kt_free(&r);
  for (int i = 0; i < n; i++) tensor_free(ins[i]);
}

static void check_error(const char *sig, const char *body, Tensor **ins, int n, const char *needle) {
  KtRun r = kt_run(sig, body, ins);
  kt_expect_error(&r, needle);
  if (!strstr(r.err, "quench.")) fail_msg("error '%s' does not name the op", r.err);
  kt_free(&r);
  for (int i = 0; i < n; i++) tensor_free(ins[i]);
}

/* M = 1/2 (m0 = 2^30, shift 31) on i32 accumulators into i8, zero point 0:
 *   acc    -3    -1    0    1    3    5    1000   -1000
 *   acc/2  -1.5  -0.5  0    0.5  1.5  2.5  500    -500
 *   rshift -1    0     0    1    2    3    500    -500   (ties go up)
 *   clamp  -1    0     0    1    2    3    127    -128  */
static void test_requantize_ties_and_saturation(void **state) {
  (void)state;
  Tensor *in[1] = {mk(IR_ELEM_I32, 1, D(8), V(-3, -1, 0, 1, 3, 5, 1000, -1000))};
  check("%x: tensor<*xi32>",
        "%y = quench.Requantize(%x) {multiplier = [1073741824], output_dtype = 3, shift = [31]} : tensor<*xi8>\n"
        "return %y",
        in, 1, IR_ELEM_I8, 1, D(8), V(-1, 0, 0, 1, 2, 3, 127, -128));
}

/* Per channel along axis 1 of [1, 2, 2], bias [10, -10], M = [1/2, 3/4],
 * y_zero_point 5, bounds [5, 20] (a Relu and a Clip folded), u8:
 *   ch 0: acc = [0, 7] + 10 = [10, 17]; * 1/2 = [5, 8.5] -> [5, 9]; + 5 = [10, 14]
 *   ch 1: acc = [-4, 34] - 10 = [-14, 24]; * 3/4 = [-10.5, 18] -> [-10, 18];
 *         + 5 = [-5, 23] -> clamp [5, 20] = [5, 20] */
static void test_requantize_per_channel_bias(void **state) {
  (void)state;
  Tensor *in[2] = {mk(IR_ELEM_I32, 3, D(1, 2, 2), V(0, 7, -4, 34)), mk(IR_ELEM_I32, 1, D(2), V(10, -10))};
  check("%x: tensor<*xi32>, %b: tensor<*xi32>",
        "%y = quench.Requantize(%x, %b) {axis = 1, hi = 20, lo = 5, multiplier = [1073741824, 1610612736], "
        "output_dtype = 2, shift = [31, 31], y_zero_point = 5} : tensor<*xu8>\nreturn %y",
        in, 2, IR_ELEM_U8, 3, D(1, 2, 2), V(10, 14, 5, 20));
}

/* u8 codes with x_zero_point 128 to u8 with zero point 128 at M = 2
 * (m0 = 2^30, shift 29): (x - 128) * 2 + 128 = [-128, 128, 382] -> [0, 128, 255].
 * A negative axis picks the last dim. */
static void test_requantize_from_u8(void **state) {
  (void)state;
  Tensor *in[1] = {mk(IR_ELEM_U8, 2, D(1, 3), V(0, 128, 255))};
  check("%x: tensor<*xu8>",
        "%y = quench.Requantize(%x) {axis = -1, multiplier = [1073741824], output_dtype = 2, shift = [29], "
        "x_zero_point = 128, y_zero_point = 128} : tensor<*xu8>\nreturn %y",
        in, 1, IR_ELEM_U8, 2, D(1, 3), V(0, 128, 255));
}

/* QAdd with one shift n = 31 and m_a = m_b = 2^30 (both 1/2), i8:
 *   a = [1, -1, 3, -3], b = 2 (broadcast) with b_zero_point 2 (so b - z = 0)
 *   v / 2^31 = [0.5, -0.5, 1.5, -1.5] -> rshift [1, 0, 2, -1] */
static void test_qadd_ties(void **state) {
  (void)state;
  Tensor *in[2] = {mk(IR_ELEM_I8, 1, D(4), V(1, -1, 3, -3)), mk(IR_ELEM_I8, 1, D(1), V(2))};
  check("%a: tensor<*xi8>, %b: tensor<*xi8>",
        "%y = quench.QAdd(%a, %b) {a_multiplier = 1073741824, b_multiplier = 1073741824, b_zero_point = 2, "
        "shift = 31} : tensor<*xi8>\nreturn %y",
        in, 2, IR_ELEM_I8, 1, D(4), V(1, 0, 2, -1));
}

/* QAdd, u8, a_zero_point 128, b_zero_point 100, m_a = 2^30 (0.5),
 * m_b = 1717986944 (0.79999999981), shift 31, y_zero_point 90, lo 90 (Relu),
 * b = [[101], [100]] broadcast against a = [130, 120, 255]:
 *   row 0 (b - z = 1): 0.5 * [2, -8, 127] + 0.8 = [1.8, -3.2, 64.3] -> [2, -3, 64]
 *          + 90 = [92, 87, 154] -> lo 90: [92, 90, 154]
 *   row 1 (b - z = 0): 0.5 * [2, -8, 127] = [1, -4, 63.5] -> [1, -4, 64] + 90 -> [91, 90, 154] */
static void test_qadd_broadcast_relu(void **state) {
  (void)state;
  Tensor *in[2] = {mk(IR_ELEM_U8, 1, D(3), V(130, 120, 255)), mk(IR_ELEM_U8, 2, D(2, 1), V(101, 100))};
  check("%a: tensor<*xu8>, %b: tensor<*xu8>",
        "%y = quench.QAdd(%a, %b) {a_multiplier = 1073741824, a_zero_point = 128, b_multiplier = 1717986944, "
        "b_zero_point = 100, lo = 90, shift = 31, y_zero_point = 90} : tensor<*xu8>\nreturn %y",
        in, 2, IR_ELEM_U8, 2, D(2, 3), V(92, 90, 154, 91, 90, 154));
}

/* QMul, i8: (a - 0) * (b - 1) = [3 * 4, -3 * 4, 100 * 99] = [12, -12, 9900];
 * M = 1/8 (shift 33): [1.5, -1.5, 1237.5] -> [2, -1, 1238]; + y_zero_point -2
 * = [0, -3, 1236] -> saturate [0, -3, 127]. */
static void test_qmul(void **state) {
  (void)state;
  Tensor *in[2] = {mk(IR_ELEM_I8, 1, D(3), V(3, -3, 100)), mk(IR_ELEM_I8, 1, D(3), V(5, 5, 100))};
  check("%a: tensor<*xi8>, %b: tensor<*xi8>",
        "%y = quench.QMul(%a, %b) {b_zero_point = 1, multiplier = 1073741824, shift = 33, y_zero_point = -2} "
        ": tensor<*xi8>\nreturn %y",
        in, 2, IR_ELEM_I8, 1, D(3), V(0, -3, 127));
}

/* QAveragePool on x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] (u8), x_zero_point 1:
 * 2x2 windows, stride 1: sums of x - 1 = [0+1+3+4, 1+2+4+5, 3+4+6+7, 4+5+7+8]
 * = [8, 12, 20, 24]; M = 1/8 (shift 33): [1, 1.5, 2.5, 3] -> [1, 2, 3, 3]. */
static void test_qaverage_pool(void **state) {
  (void)state;
  Tensor *in[1] = {mk(IR_ELEM_U8, 4, D(1, 1, 3, 3), V(1, 2, 3, 4, 5, 6, 7, 8, 9))};
  check("%x: tensor<*xu8>",
        "%y = quench.QAveragePool(%x) {kernel_shape = [2, 2], multiplier = 1073741824, shift = 33, "
        "x_zero_point = 1} : tensor<*xu8>\nreturn %y",
        in, 1, IR_ELEM_U8, 4, D(1, 1, 2, 2), V(1, 2, 3, 3));
}

/* Padding counts as real 0 (x - x_zero_point = 0), the divisor stays 4:
 * pads [1, 1, 0, 0], stride 2 on the same x: output 2x2 with windows
 *   rows -1..0 x cols -1..0: x[0][0] = 1            -> 0
 *   rows -1..0 x cols  1..2: 2, 3                   -> 1 + 2 = 3
 *   rows  1..2 x cols -1..0: 4, 7                   -> 3 + 6 = 9
 *   rows  1..2 x cols  1..2: 5, 6, 8, 9             -> 4 + 5 + 7 + 8 = 24
 * M = 1/4 (shift 32): [0, 0.75, 2.25, 6] -> [0, 1, 2, 6]; + y_zero_point 3. */
static void test_qaverage_pool_pads(void **state) {
  (void)state;
  Tensor *in[1] = {mk(IR_ELEM_U8, 4, D(1, 1, 3, 3), V(1, 2, 3, 4, 5, 6, 7, 8, 9))};
  check("%x: tensor<*xu8>",
        "%y = quench.QAveragePool(%x) {kernel_shape = [2, 2], multiplier = 1073741824, pads = [1, 1, 0, 0], "
        "shift = 32, strides = [2, 2], x_zero_point = 1, y_zero_point = 3} : tensor<*xu8>\nreturn %y",
        in, 1, IR_ELEM_U8, 4, D(1, 1, 2, 2), V(3, 4, 5, 9));
}

/* A sum beyond int32 saturates before the multiply: x - 0 = 2^31 - 1 + 1
 * (bias 1) saturates to 2^31 - 1; times 1/2 -> 2^30 (round half up of
 * 1073741823.5), which saturates i16 at 32767. */
static void test_requantize_int32_saturation(void **state) {
  (void)state;
  Tensor *in[2] = {mk(IR_ELEM_I32, 1, D(1), V(2147483647.0)), mk(IR_ELEM_I32, 1, D(1), V(1))};
  check("%x: tensor<*xi32>, %b: tensor<*xi32>",
        "%y = quench.Requantize(%x, %b) {multiplier = [1073741824], output_dtype = 5, shift = [31]} : "
        "tensor<*xi16>\nreturn %y",
        in, 2, IR_ELEM_I16, 1, D(1), V(32767));
}

static void test_errors(void **state) {
  (void)state;
  Tensor *a[1] = {mk(IR_ELEM_I32, 1, D(2), V(1, 2))};
  check_error("%x: tensor<*xi32>",
              "%y = quench.Requantize(%x) {multiplier = [1073741824], shift = [0]} : tensor<*xi8>\nreturn %y", a, 1,
              "shift 0 in [1, 62]");
  Tensor *b[1] = {mk(IR_ELEM_I32, 2, D(1, 3), V(1, 2, 3))};
  check_error("%x: tensor<*xi32>",
              "%y = quench.Requantize(%x) {multiplier = [1, 2], shift = [31, 31]} : tensor<*xi8>\nreturn %y", b, 1,
              "'multiplier' must list 1 or 3 values");
  Tensor *c[1] = {mk(IR_ELEM_I32, 1, D(2), V(1, 2))};
  check_error("%x: tensor<*xi32>",
              "%y = quench.Requantize(%x) {hi = 3, lo = 4, multiplier = [1], shift = [31]} : tensor<*xi8>\nreturn %y",
              c, 1, "bounds [4, 3]");
  Tensor *d[2] = {mk(IR_ELEM_I32, 1, D(2), V(1, 2)), mk(IR_ELEM_I8, 1, D(2), V(1, 2))};
  check_error("%x: tensor<*xi32>, %b: tensor<*xi8>",
              "%y = quench.Requantize(%x, %b) {multiplier = [1], shift = [31]} : tensor<*xi8>\nreturn %y", d, 2,
              "bias must be i32");
  Tensor *e[2] = {mk(IR_ELEM_F32, 1, D(2), V(1, 2)), mk(IR_ELEM_I8, 1, D(2), V(1, 2))};
  check_error("%a: tensor<*xf32>, %b: tensor<*xi8>",
              "%y = quench.QMul(%a, %b) {multiplier = 1, shift = 31} : tensor<*xi8>\nreturn %y", e, 2,
              "operand #0 is f32");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_requantize_ties_and_saturation),
      cmocka_unit_test(test_requantize_per_channel_bias),
      cmocka_unit_test(test_requantize_from_u8),
      cmocka_unit_test(test_qadd_ties),
      cmocka_unit_test(test_qadd_broadcast_relu),
      cmocka_unit_test(test_qmul),
      cmocka_unit_test(test_qaverage_pool),
      cmocka_unit_test(test_qaverage_pool_pads),
      cmocka_unit_test(test_requantize_int32_saturation),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
