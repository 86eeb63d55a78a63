/* Unit tests of compiler/quant/wclip.c: MSE-optimal clipping of weight
 * scales. Expected ratios and errors are derived by hand below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "quant/qmath.h"
#include "quant/wclip.h"

/* Seven weights of 0.5 and one outlier of 7, i4 symmetric (s = r * 7 / 7 = r).
 * r = 1: s = 1, 0.5 / 1 rounds half to even to 0 (error 0.5 each), 7 is
 * exact: E(1) = 7 * 0.5^p = 1.32625 for p = 2.4.
 * 0.5 < r < 1: 0.5 / r > 0.5 rounds to 1 (error r - 0.5), 7 clips to 7r
 * (error 7 - 7r): E(r) = 7 (r - 0.5)^p + 7^p (1 - r)^p, zero derivative at
 * r - 0.5 = 7 (1 - r), r = 0.9375 for every p. E is convex there, so the
 * grid's best is 0.93 or 0.94: E(0.94) = 1.10053 < E(0.93) = 1.10397.
 * r <= 0.5 clips the outlier to at most 3.5: E >= 3.5^2.4 > E(1). */
static const double outlier[8] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 7.0};

static void test_outlier_symmetric(void **state) {
  (void)state;
  const QFormat *i4 = q_format_find("i4");
  float s;
  int64_t z;
  double r = q_wclip_params(i4, outlier, 8, true, Q_WCLIP_MSE, &s, &z);
  assert_float_equal(r, 0.94, 1e-12);
  assert_float_equal(s, 0.94, 1e-6);
  assert_int_equal(z, 0);
  double e = q_wclip_error(i4, outlier, 8, s, z, Q_WCLIP_NORM);
  assert_float_equal(e, 1.10053357, 1e-5);
  /* amax: s = 1, the error derived above. */
  float s1;
  int64_t z1;
  assert_float_equal(q_wclip_params(i4, outlier, 8, true, Q_WCLIP_NONE, &s1, &z1), 1.0, 0);
  assert_float_equal(s1, 1.0, 0);
  assert_float_equal(q_wclip_error(i4, outlier, 8, s1, z1, Q_WCLIP_NORM), 7 * pow(0.5, 2.4), 1e-9);
  assert_true(e < q_wclip_error(i4, outlier, 8, s1, z1, Q_WCLIP_NORM));
  /* The squared error falls too: 7 * 0.44^2 + 0.42^2 = 1.5316 < 1.75. */
  assert_float_equal(q_wclip_error(i4, outlier, 8, s, z, 2), 7 * 0.44 * 0.44 + 0.42 * 0.42, 1e-5);
}

/* Asymmetric, u4 over [0, 7] (0 included): s = 7r / 15, z = 0. r = 1:
 * s = 7/15, 0.5 / s = 1.071 -> 1, error 0.5 - 7/15 = 1/30 each, 7 exact:
 * E(1) = 7 (1/30)^2.4 = 1.936e-3, already small: the search may keep it
 * but must never do worse. */
static void test_outlier_asymmetric(void **state) {
  (void)state;
  const QFormat *u4 = q_format_find("u4");
  float s1, s;
  int64_t z1, z;
  q_wclip_params(u4, outlier, 8, false, Q_WCLIP_NONE, &s1, &z1);
  assert_float_equal(s1, 7.0 / 15, 1e-6);
  assert_int_equal(z1, 0);
  double e1 = q_wclip_error(u4, outlier, 8, s1, z1, Q_WCLIP_NORM);
  assert_float_equal(e1, 7 * pow(0.5 - 7.0 / 15, 2.4), 1e-6);
  double r = q_wclip_params(u4, outlier, 8, false, Q_WCLIP_MSE, &s, &z);
  assert_true(r <= 1.0 && r >= 0.21);
  assert_true(q_wclip_error(u4, outlier, 8, s, z, Q_WCLIP_NORM) <= e1);
}

/* Values on the amax grid have no error: ties keep r = 1 (the amax scale). */
static void test_on_grid_keeps_amax(void **state) {
  (void)state;
  const QFormat *i4 = q_format_find("i4");
  const double v[4] = {-7, -3, 0, 7};
  float s;
  int64_t z;
  assert_float_equal(q_wclip_params(i4, v, 4, true, Q_WCLIP_MSE, &s, &z), 1.0, 0);
  assert_float_equal(s, 1.0, 0);
}

/* all zeros, empty, non-finite and float formats: the q_choose_params scale. */
static void test_degenerate(void **state) {
  (void)state;
  const QFormat *i8 = q_format_find("i8"), *f8 = q_format_find("f8E4M3FN");
  const double zeros[3] = {0, 0, 0}, inf[3] = {INFINITY, 1.0, NAN};
  float s, s2;
  int64_t z, z2;
  assert_float_equal(q_wclip_params(i8, zeros, 3, true, Q_WCLIP_MSE, &s, &z), 1.0, 0);
  q_choose_params(i8, -1, 1, true, &s2, &z2);
  assert_float_equal(s, s2, 0);
  assert_float_equal(q_wclip_params(i8, zeros, 0, true, Q_WCLIP_MSE, &s, &z), 1.0, 0);
  assert_float_equal(q_wclip_params(i8, inf, 3, true, Q_WCLIP_MSE, &s, &z), 1.0, 0); /* one finite value: exact */
  assert_float_equal(s, 1.0 / 127, 1e-9);
  assert_float_equal(q_wclip_params(f8, outlier, 8, true, Q_WCLIP_MSE, &s, &z), 1.0, 0);
  assert_float_equal(s, 7.0 / 448, 1e-9);
}

static void test_names(void **state) {
  (void)state;
  QWClip c;
  assert_true(q_wclip_from_name("mse", &c));
  assert_int_equal(c, Q_WCLIP_MSE);
  assert_true(q_wclip_from_name("none", &c));
  assert_int_equal(c, Q_WCLIP_NONE);
  assert_false(q_wclip_from_name("MSE", &c));
  assert_string_equal(q_wclip_name(Q_WCLIP_MSE), "mse");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_outlier_symmetric), cmocka_unit_test(test_outlier_asymmetric),
      cmocka_unit_test(test_on_grid_keeps_amax), cmocka_unit_test(test_degenerate), cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
