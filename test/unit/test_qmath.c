/* Unit tests for the quantization arithmetic (compiler/quant/qmath.c):
 * scale and zero-point choice by hand, ONNX QuantizeLinear's f32 ties and
 * saturation, the dyadic multiplier (rounding, carry, refusals), the
 * round-half-up shift on negatives, requantization against an exact
 * long-double reference on seeded random inputs, and q_quantize_int against
 * the interpreter's QuantizeLinear kernel. Expected values are worked out by
 * hand in the comments (f32 quotients checked with Python's struct/fractions),
 * never taken from the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>

#include "kernel_test.h"
#include "quant/qmath.h"

static const QFormat *fmt(const char *name) {
  const QFormat *f = q_format_find(name);
  if (!f) fail_msg("format %s missing", name);
  return f;
}

static void expect_params(const char *name, double lo, double hi, bool sym, float want_s, int64_t want_z) {
  float s = 0;
  int64_t z = -999;
  q_choose_params(fmt(name), lo, hi, sym, &s, &z);
  if (s != want_s || z != want_z)
    fail_msg("%s [%g, %g] %s: scale %.9g zp %lld, want %.9g %lld", name, lo, hi, sym ? "sym" : "asym", (double)s,
             (long long)z, (double)want_s, (long long)want_z);
}

static void test_choose_params(void **state) {
  (void)state;
  /* u8 asymmetric over [-1, 3]: s = f32(4/255), lo/s = -63.7499962 -> -64, z = 0 + 64. */
  expect_params("u8", -1, 3, false, (float)(4.0 / 255.0), 64);
  /* i8 asymmetric, same range: z = -128 + 64 = -64. */
  expect_params("i8", -1, 3, false, (float)(4.0 / 255.0), -64);
  /* i8 symmetric over [-2, 1]: s = 2 / ((127 - -128) / 2 = 127), z = 0. */
  expect_params("i8", -2, 1, true, (float)(2.0 / 127.0), 0);
  /* u8 symmetric: the same step, z = the middle code 128. */
  expect_params("u8", -2, 1, true, (float)(2.0 / 127.0), 128);
  /* i3 symmetric over [-3, 3]: (3 - -4) / 2 = 3, s = 1. */
  expect_params("i3", -3, 3, true, 1.0f, 0);
  /* A range without 0 is widened: [2, 5] -> [0, 5], s = 5/255, z = 0;
   * [-5, -2] -> [-5, 0], lo/s = -255, z = 255. */
  expect_params("u8", 2, 5, false, (float)(5.0 / 255.0), 0);
  expect_params("u8", -5, -2, false, (float)(5.0 / 255.0), 255);
  /* All-zero and empty ranges become [-1, 1]: u8 asym s = f32(2/255) =
   * 0.0078431377187..., a little above 2/255, so lo/s = -127.4999925 (not
   * the tie -127.5) -> -127, z = 127; i8 sym s = 1/127. */
  expect_params("u8", 0, 0, false, (float)(2.0 / 255.0), 127);
  expect_params("u8", 1, -1, false, (float)(2.0 / 255.0), 127);
  expect_params("i8", 0, 0, true, (float)(1.0 / 127.0), 0);
  expect_params("i8", NAN, NAN, true, (float)(1.0 / 127.0), 0);
  /* Floats: always symmetric, s = amax / max. f8E4M3FN amax 896: 896/448 = 2. */
  expect_params("f8E4M3FN", -896, 10, false, 2.0f, 0);
  expect_params("f8E4M3FN", -10, 896, true, 2.0f, 0);
  expect_params("f4E2M1", -3, 1.5, false, 0.5f, 0);
  /* The scale is never subnormal or 0: a range of 1e-45 gives FLT_MIN. */
  expect_params("u8", 0, 1e-45, false, FLT_MIN, 0);
}

static void test_quantize_int(void **state) {
  (void)state;
  /* Ties to even, also with a zero point; saturation at both ends. */
  assert_int_equal(q_quantize_int(2.5f, 1, 0, -128, 127), 2);
  assert_int_equal(q_quantize_int(3.5f, 1, 0, -128, 127), 4);
  assert_int_equal(q_quantize_int(-2.5f, 1, 0, -128, 127), -2);
  assert_int_equal(q_quantize_int(-3.5f, 1, 0, -128, 127), -4);
  assert_int_equal(q_quantize_int(0.5f, 1, 0, -128, 127), 0);
  assert_int_equal(q_quantize_int(1.25f, 0.5f, 10, -128, 127), 12); /* 2.5 -> 2, + 10 */
  assert_int_equal(q_quantize_int(1000, 1, 0, -128, 127), 127);
  assert_int_equal(q_quantize_int(-1000, 1, 0, -128, 127), -128);
  assert_int_equal(q_quantize_int(100, 0.5f, 128, 0, 255), 255); /* 200 + 128 */
  assert_int_equal(q_quantize_int(-100, 0.5f, 128, 0, 255), 0);
  assert_int_equal(q_quantize_int(3.0e38f, 1e-38f, 0, -8, 7), 7); /* quotient overflows f32 to Inf */
  /* NaN gives the zero point; x / 0 saturates, 0 / 0 is NaN. */
  assert_int_equal(q_quantize_int(NAN, 1, 5, -128, 127), 5);
  assert_int_equal(q_quantize_int(1, 0, 0, -128, 127), 127);
  assert_int_equal(q_quantize_int(-1, 0, 0, -128, 127), -128);
  assert_int_equal(q_quantize_int(0, 0, 3, -128, 127), 3);
  /* The quotient is rounded to f32 before the tie is broken (ONNX computes
   * in f32). s = f32(0.1) = 0.100000001490116...:
   * f32(0.35) / s = 3.49999988824... exactly, whose f32 is 3.5 -> 4 (double
   * arithmetic would give 3); f32 0.45000001788139343 / s =
   * 4.50000011175... exactly, f32 4.5 -> 4 (double would give 5). */
  assert_int_equal(q_quantize_int(0.35f, 0.1f, 0, -128, 127), 4);
  assert_int_equal(q_quantize_int(0.45000001788139343f, 0.1f, 0, -128, 127), 4);
}

static QDyadic dyadic(double m) {
  QDyadic d = {-7, -7};
  if (!q_dyadic_from_double(m, &d)) fail_msg("q_dyadic_from_double(%.17g) refused", m);
  return d;
}

static void expect_dyadic(double m, int32_t m0, int32_t shift) {
  QDyadic d = dyadic(m);
  if (d.m0 != m0 || d.shift != shift)
    fail_msg("%.17g: m0 %d shift %d, want %d %d", m, d.m0, d.shift, m0, shift);
}

static void test_dyadic_from_double(void **state) {
  (void)state;
  /* 0.5 = 2^30 * 2^-31; 0.75 = 3 * 2^29 * 2^-31; 1 = 2^30 * 2^-30. */
  expect_dyadic(0.5, 1 << 30, 31);
  expect_dyadic(0.75, 3 << 29, 31);
  expect_dyadic(1.0, 1 << 30, 30);
  /* 1e-6 = 0.524288 * 2^-19 (frexp); 0.524288 * 2^31 = 1125899906.84 -> 1125899907, shift 31 + 19. */
  expect_dyadic(1e-6, 1125899907, 50);
  /* Ties to even in m0: (0.5 + 2^-32) * 2^31 = 2^30 + 0.5 -> 2^30;
   * (0.5 + 3 * 2^-32) * 2^31 = 2^30 + 1.5 -> 2^30 + 2. */
  expect_dyadic(0.5 + 0x1p-32, 1 << 30, 31);
  expect_dyadic(0.5 + 0x3p-32, (1 << 30) + 2, 31);
  /* Carry: (1 - 2^-33) * 2^31 = 2^31 - 0.25 -> 2^31, renormalized to 2^30
   * with shift 30; (1 - 2^-32) gives the tie 2^31 - 0.5 -> even 2^31, the
   * same; (1 - 3 * 2^-33) gives 2^31 - 0.75 -> 2^31 - 1, no carry. */
  expect_dyadic(1 - 0x1p-33, 1 << 30, 30);
  expect_dyadic(1 - 0x1p-32, 1 << 30, 30);
  expect_dyadic(1 - 0x3p-33, INT32_MAX, 31);
  /* Range ends: 2^30 - 1 = (1 - 2^-30) * 2^30, shift 1, m0 2^31 - 2; 2^30
   * needs shift 0: refused. 2^-32 is shift 62; 2^-33 would be 63: refused;
   * just below 2^-32 carries up into range. */
  expect_dyadic(0x1p30 - 1, INT32_MAX - 1, 1);
  expect_dyadic(0x1p-32, 1 << 30, 62);
  expect_dyadic(0x1p-32 * (1 - 0x1p-40), 1 << 30, 62);
  expect_dyadic(0, 0, 1);
  QDyadic d = {-7, -7};
  assert_false(q_dyadic_from_double(0x1p30, &d));
  assert_false(q_dyadic_from_double(0x1p-33, &d));
  assert_false(q_dyadic_from_double(-1, &d));
  assert_false(q_dyadic_from_double(-1e-9, &d));
  assert_false(q_dyadic_from_double(NAN, &d));
  assert_false(q_dyadic_from_double(INFINITY, &d));
  assert_int_equal(d.m0, -7); /* nothing written */
  assert_int_equal(d.shift, -7);
  /* The value: m0 * 2^-shift. */
  assert_true(q_dyadic_value((QDyadic){3 << 29, 31}) == 0.75);
  assert_true(q_dyadic_value((QDyadic){0, 1}) == 0);
}

static void test_rounding_shift(void **state) {
  (void)state;
  /* floor((v + 2^(n-1)) / 2^n): halves go up, also below zero. */
  assert_int_equal(q_rounding_shift(-3, 1), -1); /* -1.5 -> -1 */
  assert_int_equal(q_rounding_shift(-1, 1), 0);  /* -0.5 -> 0 */
  assert_int_equal(q_rounding_shift(-5, 1), -2); /* -2.5 -> -2 */
  assert_int_equal(q_rounding_shift(5, 1), 3);   /* 2.5 -> 3 */
  assert_int_equal(q_rounding_shift(3, 1), 2);   /* 1.5 -> 2 */
  assert_int_equal(q_rounding_shift(-6, 2), -1); /* -1.5 -> -1 */
  assert_int_equal(q_rounding_shift(-7, 2), -2); /* -1.75 -> -2 */
  assert_int_equal(q_rounding_shift(-9, 2), -2); /* -2.25 -> -2 */
  assert_int_equal(q_rounding_shift(7, 2), 2);   /* 1.75 -> 2 */
  assert_int_equal(q_rounding_shift(-16, 4), -1);
  assert_int_equal(q_rounding_shift(0, 5), 0);
  /* Extremes: (-2^62 + 1) / 2^62 = -1 + 2^-62 -> -1; (2^62 - 1) / 2^62 -> 1. */
  assert_int_equal(q_rounding_shift(-((int64_t)1 << 62) + 1, 62), -1);
  assert_int_equal(q_rounding_shift(((int64_t)1 << 62) - 1, 62), 1);
  assert_int_equal(q_rounding_shift(-((int64_t)1 << 61), 62), 0); /* -0.5 -> 0 */
}

static void test_requantize(void **state) {
  (void)state;
  QDyadic half = {1 << 30, 31}, three_q = {3 << 29, 31};
  /* 1000 * 0.5 = 500, + zp 10 = 510, clamped to 127. */
  assert_int_equal(q_requantize(1000, half, 10, -128, 127), 127);
  assert_int_equal(q_requantize(1000, half, 10, -1000, 1000), 510);
  /* -1001 * 0.5 = -500.5 -> -500 (half up); clamped to -128 in i8. */
  assert_int_equal(q_requantize(-1001, half, 0, -1000, 1000), -500);
  assert_int_equal(q_requantize(-1001, half, 0, -128, 127), -128);
  /* 0.75: 3 -> 2.25 -> 2; -3 -> -2; 2 -> 1.5 -> 2; -2 -> -1.5 -> -1. */
  assert_int_equal(q_requantize(3, three_q, 0, -128, 127), 2);
  assert_int_equal(q_requantize(-3, three_q, 0, -128, 127), -2);
  assert_int_equal(q_requantize(2, three_q, 0, -128, 127), 2);
  assert_int_equal(q_requantize(-2, three_q, 0, -128, 127), -1);
  /* Relu folded into lo = zp. */
  assert_int_equal(q_requantize(-200, half, 5, 5, 127), 5);
  /* M = 0 gives the zero point. */
  assert_int_equal(q_requantize(123456, (QDyadic){0, 1}, 7, -128, 127), 7);
  /* Extreme accumulators do not overflow: INT32_MIN * (2^31 - 1) * 2^-62 =
   * -1 + 2^-31 -> -1; INT32_MIN * 2^30 * 2^-31 = -2^30. */
  assert_int_equal(q_requantize(INT32_MIN, (QDyadic){INT32_MAX, 62}, 0, -128, 127), -1);
  assert_int_equal(q_requantize(INT32_MIN, half, 0, INT64_MIN, INT64_MAX), -(1 << 30));
}

/* xorshift64*: a fixed, seeded sequence. */
static uint64_t rng_next(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * UINT64_C(2685821657736338717);
}

/* q_requantize(acc, d) == floor(acc * M + 0.5) with M = m0 * 2^-shift,
 * evaluated in long double: acc * m0 has at most 62 significant bits and
 * the sum's bits span 2^-shift..2^(62-shift) (shift >= 1), so a 64-bit
 * mantissa holds it exactly. */
static void test_requantize_random(void **state) {
  (void)state;
  if (LDBL_MANT_DIG < 64) skip();
  uint64_t s = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 200000; i++) {
    /* M log-uniform in [2^-31, 2^8), acc anywhere in int32, with small
     * accumulators (where ties live) over-represented. */
    double m = ldexp(1.0 + (double)(rng_next(&s) >> 11) * 0x1p-53, (int)(rng_next(&s) % 39) - 31);
    uint64_t r = rng_next(&s);
    int64_t acc = (int32_t)(uint32_t)r;
    if (i % 3 == 0) acc = (int64_t)(r % 2001) - 1000;
    QDyadic d = dyadic(m);
    assert_true(fabs(q_dyadic_value(d) - m) <= m * 0x1p-31);
    long double want = floorl((long double)acc * ldexpl((long double)d.m0, -d.shift) + 0.5L);
    int64_t got = q_requantize(acc, d, 0, INT64_MIN, INT64_MAX);
    if ((long double)got != want)
      fail_msg("acc %lld m0 %d shift %d: got %lld, want %.0Lf", (long long)acc, d.m0, d.shift, (long long)got, want);
  }
}

/* q_quantize_int against the interpreter's QuantizeLinear on the same
 * inputs: seeded random values over about +-1.5 times the range, exact ties
 * (k + 0.5) * s, values whose f32 quotient rounds onto a tie, and specials. */
static void check_against_kernel(IrElem ye, float scale, int64_t zp) {
  enum { N = 400 };
  int64_t dims[1] = {N};
  Tensor *x = tensor_new(IR_ELEM_F32, 1, dims);
  float *xv = x->data;
  int64_t lo, hi;
  ir_elem_int_range(ye, &lo, &hi);
  double span = (double)(hi - lo) * 1.5 * (double)scale;
  uint64_t s = 12345 + (uint64_t)ye;
  for (int i = 0; i < N; i++) {
    uint64_t r = rng_next(&s);
    double u = (double)(r >> 11) * 0x1p-53 - 0.5;
    if (i % 3 == 0)
      xv[i] = (float)(((double)(int64_t)(r % 600) - 300 + 0.5) * (double)scale); /* a tie where exact */
    else if (i % 3 == 1)
      xv[i] = (float)(u * span); /* anywhere */
    else
      xv[i] = nextafterf((float)(((double)(int64_t)(r % 600) - 300 + 0.5) * (double)scale), (r & 1) ? 1e30f : -1e30f);
  }
  xv[0] = NAN, xv[1] = INFINITY, xv[2] = -INFINITY, xv[3] = -0.0f;
  Tensor *sc = tensor_new(IR_ELEM_F32, 0, NULL);
  tensor_set_f64(sc, 0, scale);
  Tensor *z = tensor_new(ye, 0, NULL);
  tensor_set_i64(z, 0, zp);
  char sig[160], body[160];
  snprintf(sig, sizeof sig, "%%x: tensor<*xf32>, %%s: tensor<*xf32>, %%z: tensor<*x%s>", ir_elem_name(ye));
  snprintf(body, sizeof body, "%%y = QuantizeLinear(%%x, %%s, %%z) : tensor<*x%s>\nreturn %%y", ir_elem_name(ye));
  Tensor *in[3] = {x, sc, z};
  KtRun run = kt_run(sig, body, in);
  if (!run.ok) fail_msg("%s", run.err);
  for (int i = 0; i < N; i++) {
    int64_t want = tensor_get_i64(run.out[0], i);
    int64_t got = q_quantize_int(xv[i], scale, zp, lo, hi);
    if (got != want)
      fail_msg("%s x=%.9g s=%.9g zp=%lld: q_quantize_int %lld, kernel %lld", ir_elem_name(ye), (double)xv[i],
               (double)scale, (long long)zp, (long long)got, (long long)want);
  }
  kt_free(&run);
  tensor_free(x);
  tensor_free(sc);
  tensor_free(z);
}

static void test_quantize_matches_kernel(void **state) {
  (void)state;
  check_against_kernel(IR_ELEM_I8, 0.25f, 0);
  check_against_kernel(IR_ELEM_I8, 0.1f, -3);
  check_against_kernel(IR_ELEM_U8, (float)(4.0 / 255.0), 64);
  check_against_kernel(IR_ELEM_U8, 0.0625f, 128);
  check_against_kernel(IR_ELEM_I4, 0.3f, 1);
  check_against_kernel(IR_ELEM_U4, 0.5f, 8);
  check_against_kernel(IR_ELEM_I16, 0.01f, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_choose_params),      cmocka_unit_test(test_quantize_int),
      cmocka_unit_test(test_dyadic_from_double), cmocka_unit_test(test_rounding_shift),
      cmocka_unit_test(test_requantize),         cmocka_unit_test(test_requantize_random),
      cmocka_unit_test(test_quantize_matches_kernel),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
