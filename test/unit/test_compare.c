/* Unit tests for compiler/interp/compare.c: the metrics on hand-derived
 * cases (max abs/rel error with the relative floor, SQNR, cosine), exact
 * comparison of integers, NaN and infinity rules, and allclose as
 * numpy.testing.assert_allclose defines it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "interp/compare.h"

static Tensor *vec(IrElem e, const double *v, int64_t n) {
  Tensor *t = tensor_new(e, 1, &n);
  for (int64_t i = 0; i < n; i++) tensor_set_f64(t, i, v[i]);
  return t;
}

static void test_metrics(void **state) {
  (void)state;
  const double a[] = {1, 2, 3}, b[] = {1, 2, 4};
  Tensor *ta = vec(IR_ELEM_F32, a, 3), *tb = vec(IR_ELEM_F32, b, 3);
  CompareStats s;
  assert_true(compare_tensors(ta, tb, &s));
  assert_false(s.exact);
  assert_int_equal(s.n, 3);
  assert_int_equal(s.mismatches, 1);
  assert_float_equal(s.max_abs, 1.0, 0);
  assert_float_equal(s.max_rel, 0.25, 0);                       /* 1 / |4| */
  assert_float_equal(s.sqnr_db, 10 * log10(21.0 / 1.0), 1e-12); /* (1+4+16)/1 */
  assert_float_equal(s.cosine, 17.0 / sqrt(14.0 * 21.0), 1e-12);
  tensor_free(ta);
  tensor_free(tb);
}

static void test_exact_match(void **state) {
  (void)state;
  const double v[] = {0.5, -3, 7};
  Tensor *ta = vec(IR_ELEM_F64, v, 3), *tb = vec(IR_ELEM_F64, v, 3);
  CompareStats s;
  assert_true(compare_tensors(ta, tb, &s));
  assert_int_equal(s.mismatches, 0);
  assert_true(isinf(s.sqnr_db) && s.sqnr_db > 0);
  assert_float_equal(s.cosine, 1.0, 1e-15);
  assert_float_equal(s.max_rel, 0, 0);
  tensor_free(ta);
  tensor_free(tb);
}

/* A reference element far below the largest one is measured against the
 * floor COMPARE_REL_FLOOR * max|b|, not against itself. */
static void test_rel_floor(void **state) {
  (void)state;
  const double a[] = {1000, 2e-6}, b[] = {1000, 1e-6};
  Tensor *ta = vec(IR_ELEM_F64, a, 2), *tb = vec(IR_ELEM_F64, b, 2);
  CompareStats s;
  compare_tensors(ta, tb, &s);
  assert_float_equal(s.max_rel, 1e-6 / (COMPARE_REL_FLOOR * 1000), 1e-18);
  tensor_free(ta);
  tensor_free(tb);
  /* All-zero reference: the floor is 1, so max_rel is the absolute error. */
  const double z[] = {0, 0}, e[] = {0, 0.5};
  ta = vec(IR_ELEM_F32, e, 2);
  tb = vec(IR_ELEM_F32, z, 2);
  compare_tensors(ta, tb, &s);
  assert_float_equal(s.max_rel, 0.5, 0);
  assert_true(isinf(s.sqnr_db) && s.sqnr_db < 0);
  assert_float_equal(s.cosine, 0, 0);
  tensor_free(ta);
  tensor_free(tb);
}

static void test_ints_exact(void **state) {
  (void)state;
  int64_t n = 3;
  Tensor *ta = tensor_new(IR_ELEM_I64, 1, &n), *tb = tensor_new(IR_ELEM_I64, 1, &n);
  /* Differ in the lowest bit of a value beyond double's 53-bit mantissa. */
  tensor_set_i64(ta, 0, INT64_MAX);
  tensor_set_i64(tb, 0, INT64_MAX - 1);
  CompareStats s;
  compare_tensors(ta, tb, &s);
  assert_true(s.exact);
  assert_int_equal(s.mismatches, 1);
  int64_t bad;
  assert_false(compare_allclose(ta, tb, 1, 1, &bad));
  assert_int_equal(bad, 0);
  tensor_set_i64(tb, 0, INT64_MAX);
  assert_true(compare_allclose(ta, tb, 0, 0, &bad));
  assert_int_equal(bad, -1);
  tensor_free(ta);
  tensor_free(tb);
}

static void test_nan_inf(void **state) {
  (void)state;
  const double a[] = {NAN, INFINITY, 1}, b[] = {NAN, INFINITY, 1};
  Tensor *ta = vec(IR_ELEM_F32, a, 3), *tb = vec(IR_ELEM_F32, b, 3);
  CompareStats s;
  compare_tensors(ta, tb, &s);
  assert_int_equal(s.mismatches, 0);
  assert_int_equal(s.nan_mismatch, 0);
  assert_true(compare_allclose(ta, tb, 0, 0, NULL));
  tensor_set_f64(ta, 1, -INFINITY);
  compare_tensors(ta, tb, &s);
  assert_int_equal(s.mismatches, 1);
  assert_true(isinf(s.max_abs));
  assert_false(compare_allclose(ta, tb, 1, 1, NULL));
  tensor_set_f64(ta, 1, INFINITY);
  tensor_set_f64(ta, 2, NAN);
  compare_tensors(ta, tb, &s);
  assert_int_equal(s.nan_mismatch, 1);
  assert_true(isinf(s.sqnr_db) && s.sqnr_db < 0);
  tensor_free(ta);
  tensor_free(tb);
}

/* |a-b| <= atol + rtol |b|, checked on both sides of the boundary. */
static void test_allclose(void **state) {
  (void)state;
  const double b[] = {100, 0};
  const double in[] = {100.1, 1e-7}, out[] = {100.1001, 0};
  Tensor *tb = vec(IR_ELEM_F64, b, 2), *ti = vec(IR_ELEM_F64, in, 2), *to = vec(IR_ELEM_F64, out, 2);
  int64_t bad;
  assert_true(compare_allclose(ti, tb, 1e-3, 1e-7, &bad)); /* 0.1 <= 1e-7 + 0.1; 1e-7 <= 1e-7 */
  assert_false(compare_allclose(to, tb, 1e-3, 1e-7, &bad));
  assert_int_equal(bad, 0);
  tensor_free(tb);
  tensor_free(ti);
  tensor_free(to);
}

static void test_shape_mismatch(void **state) {
  (void)state;
  const double v[] = {1, 2, 3};
  Tensor *ta = vec(IR_ELEM_F32, v, 3), *tb = vec(IR_ELEM_F32, v, 2), *tc = vec(IR_ELEM_F64, v, 3);
  CompareStats s;
  assert_false(compare_tensors(ta, tb, &s));
  assert_false(s.shape_ok);
  assert_false(compare_tensors(ta, tc, &s));
  int64_t bad = 7;
  assert_false(compare_allclose(ta, tc, 1, 1, &bad));
  assert_int_equal(bad, -1);
  tensor_free(ta);
  tensor_free(tb);
  tensor_free(tc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_metrics),     cmocka_unit_test(test_exact_match), cmocka_unit_test(test_rel_floor),
      cmocka_unit_test(test_ints_exact),  cmocka_unit_test(test_nan_inf),     cmocka_unit_test(test_allclose),
      cmocka_unit_test(test_shape_mismatch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
