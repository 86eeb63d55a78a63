/* Unit tests for compiler/pm/equivalence.c, the rule of --verify-equivalence
 * (../shared/ALGORITHMS.md section 0: max|y - y'| <= tol * max(1, max|y|)),
 * on hand-computed cases, and for compiler/interp/tensor_random.c, whose
 * expected values come from the xorshift64* definition computed separately
 * (Python, state = seed * 0x9E3779B97F4A7C15 + 1). The pass-manager side is
 * tested by test/lit/pm/equivalence*.qir. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "interp/tensor_random.h"
#include "pm/equivalence.h"

static Tensor *vec(IrElem e, const double *v, int64_t n) {
  Tensor *t = tensor_new(e, 1, &n);
  for (int64_t i = 0; i < n; i++) tensor_set_f64(t, i, v[i]);
  return t;
}

static EquivError compare(IrElem e, const double *after, const double *before, int64_t n) {
  Tensor *a = vec(e, after, n), *b = vec(e, before, n);
  EquivError r;
  assert_true(equiv_compare(a, b, &r));
  tensor_free(a);
  tensor_free(b);
  return r;
}

/* max|y| = 4 > 1: the error is relative to it. */
static void test_large_reference(void **state) {
  (void)state;
  const double y[] = {0.5, -4, 2}, y2[] = {0.5, -3.9375, 2};
  EquivError e = compare(IR_ELEM_F32, y2, y, 3);
  assert_float_equal(e.max_abs, 0.0625, 0);
  assert_float_equal(e.max_ref, 4, 0);
  assert_float_equal(e.rel, 0.015625, 0); /* 0.0625 / 4 */
  assert_int_equal(e.worst, 1);
  assert_true(equiv_within(&e, 0.015625)); /* the bound itself passes */
  assert_false(equiv_within(&e, 0.0156));
}

/* max|y| = 0.5 < 1: the floor of 1 makes it an absolute error. */
static void test_small_reference(void **state) {
  (void)state;
  const double y[] = {0.25, -0.5}, y2[] = {0.25, -0.5 + 0x1p-10};
  EquivError e = compare(IR_ELEM_F32, y2, y, 2);
  assert_float_equal(e.max_abs, 0x1p-10, 0);
  assert_float_equal(e.max_ref, 0.5, 0);
  assert_float_equal(e.rel, 0x1p-10, 0); /* not 2^-9 */
  assert_true(equiv_within(&e, 1e-3));    /* 2^-10 = 9.77e-4 */
  assert_false(equiv_within(&e, 9e-4));
}

/* The default tolerance on y = 1000: 1e-5 * 1000 = 0.01 allowed. */
static void test_default_tol(void **state) {
  (void)state;
  const double y[] = {1000, 0}, ok[] = {1000 + 0x1p-7, 0}, bad[] = {1000 + 0x1p-6, 0};
  EquivError e = compare(IR_ELEM_F32, ok, y, 2);
  assert_float_equal(e.rel, 0x1p-7 / 1000, 1e-18);
  assert_true(equiv_within(&e, EQUIV_DEFAULT_TOL));
  e = compare(IR_ELEM_F32, bad, y, 2);
  assert_float_equal(e.max_abs, 0x1p-6, 0);
  assert_false(equiv_within(&e, EQUIV_DEFAULT_TOL)); /* 0.015625 > 0.01 */
}

static void test_nan_and_inf(void **state) {
  (void)state;
  const double y[] = {NAN, INFINITY, 1};
  const double same[] = {NAN, INFINITY, 1};
  EquivError e = compare(IR_ELEM_F32, same, y, 3);
  assert_float_equal(e.max_abs, 0, 0);
  assert_float_equal(e.max_ref, 1, 0); /* the infinity is not a magnitude */
  assert_true(equiv_within(&e, 0));
  const double lost_nan[] = {1, INFINITY, 1};
  e = compare(IR_ELEM_F32, lost_nan, y, 3);
  assert_true(isinf(e.max_abs) && isinf(e.rel));
  assert_int_equal(e.worst, 0);
  assert_false(equiv_within(&e, 1e30));
  const double flipped[] = {NAN, -INFINITY, 1};
  e = compare(IR_ELEM_F32, flipped, y, 3);
  assert_int_equal(e.worst, 1);
  assert_false(equiv_within(&e, 1e30));
  /* A new NaN where the reference had a number also fails. */
  const double new_nan[] = {NAN, INFINITY, NAN};
  e = compare(IR_ELEM_F32, new_nan, y, 3);
  assert_int_equal(e.worst, 2);
  assert_false(equiv_within(&e, 1e30));
  /* Finite elements next to an infinity are measured as usual. */
  const double yi[] = {INFINITY, 2}, yi2[] = {INFINITY, 2.5};
  e = compare(IR_ELEM_F32, yi2, yi, 2);
  assert_float_equal(e.max_ref, 2, 0);
  assert_float_equal(e.rel, 0.25, 0);
}

/* Integers go through the same rule: 1 off out of 7. */
static void test_integers(void **state) {
  (void)state;
  const double y[] = {3, -7}, y2[] = {3, -6};
  EquivError e = compare(IR_ELEM_I64, y2, y, 2);
  assert_float_equal(e.rel, 1.0 / 7, 1e-15);
  assert_false(equiv_within(&e, EQUIV_DEFAULT_TOL));
  e = compare(IR_ELEM_I64, y, y, 2);
  assert_true(equiv_within(&e, 0));
}

static void test_shape_and_type(void **state) {
  (void)state;
  const double v[] = {1, 2, 3};
  Tensor *a = vec(IR_ELEM_F32, v, 3), *b = vec(IR_ELEM_F64, v, 3);
  int64_t dims[2] = {1, 3};
  Tensor *c = tensor_new(IR_ELEM_F32, 2, dims);
  EquivError e;
  assert_false(equiv_compare(a, b, &e)); /* f32 vs f64 */
  assert_false(equiv_within(&e, 1e30));
  assert_false(equiv_compare(c, a, &e)); /* [1x3] vs [3] */
  assert_false(e.shape_ok);
  int64_t zero = 0;
  Tensor *z1 = tensor_new(IR_ELEM_F32, 1, &zero), *z2 = tensor_new(IR_ELEM_F32, 1, &zero);
  assert_true(equiv_compare(z1, z2, &e)); /* no elements: nothing moved */
  assert_int_equal(e.worst, -1);
  assert_true(equiv_within(&e, 0));
  tensor_free(a);
  tensor_free(b);
  tensor_free(c);
  tensor_free(z1);
  tensor_free(z2);
}

/* The values quench-run --seed has always produced (the generator moved
 * from quench_run.c): seed 1 gives 0.0029661817, -0.95266479, 0.4999719 as
 * f64 and 8, 0, 11, 6, 8, 3 as integers; seed 7 integers 11, 14, 11, 0. */
static void test_random(void **state) {
  (void)state;
  IrDim d3[1] = {{3, NULL}}, d6[1] = {{6, NULL}}, sym[2] = {{-1, "n"}, {2, NULL}};
  IrType f = {IR_ELEM_F64, NULL, 1, d3}, i = {IR_ELEM_I64, NULL, 1, d6}, s = {IR_ELEM_F32, NULL, 2, sym};
  uint64_t st = tensor_random_state(1);
  Tensor *t = tensor_random(&f, &st);
  assert_non_null(t);
  assert_float_equal(tensor_get_f64(t, 0), 0.002966181660130518, 1e-15);
  assert_float_equal(tensor_get_f64(t, 1), -0.9526647889211264, 1e-15);
  assert_float_equal(tensor_get_f64(t, 2), 0.49997190271517034, 1e-15);
  tensor_free(t);
  st = tensor_random_state(1);
  t = tensor_random(&i, &st);
  const int64_t want1[] = {8, 0, 11, 6, 8, 3};
  for (int k = 0; k < 6; k++) assert_int_equal(tensor_get_i64(t, k), want1[k]);
  tensor_free(t);
  st = tensor_random_state(7);
  t = tensor_random(&i, &st);
  const int64_t want7[] = {11, 14, 11, 0};
  for (int k = 0; k < 4; k++) assert_int_equal(tensor_get_i64(t, k), want7[k]);
  tensor_free(t);
  assert_false(tensor_type_is_static(&s));
  assert_true(tensor_type_is_static(&f));
  assert_null(tensor_random(&s, &st));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_large_reference), cmocka_unit_test(test_small_reference),
      cmocka_unit_test(test_default_tol),     cmocka_unit_test(test_nan_and_inf),
      cmocka_unit_test(test_integers),        cmocka_unit_test(test_shape_and_type),
      cmocka_unit_test(test_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
