/* Unit tests for shortest round-tripping float text (compiler/ir/numfmt.c):
 * hand-chosen values with their expected spelling, and a sweep of random
 * bit patterns that must read back bit for bit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <stdbool.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/numfmt.h"

static void check_f(float f, const char *want) {
  char buf[NUMFMT_BUFSZ];
  assert_string_equal(numfmt_float(buf, f), want);
}

static void check_d(double d, const char *want) {
  char buf[NUMFMT_BUFSZ];
  assert_string_equal(numfmt_double(buf, d), want);
}

static void test_float_spellings(void **state) {
  (void)state;
  check_f(0.1f, "0.1");
  check_f(1.0f, "1.0");
  check_f(-2.0f, "-2.0");
  check_f(0.5f, "0.5");
  check_f(-2.5e-3f, "-0.0025");
  check_f(1e10f, "10000000000.0");
  check_f(1e16f, "1e+16");
  check_f(1.5e17f, "1.5e+17");
  check_f(100.0f, "100.0");
  check_f(240.0f, "240.0");
  check_f(1234.5f, "1234.5");
  check_f(0.0001f, "0.0001");
  check_f(0.00001f, "1e-05");
  check_f(-1.25e-5f, "-1.25e-05");
  check_f(1.2345678e15f, "1234567800000000.0");
  check_f(123456.0f, "123456.0");
  check_f(16777216.0f, "16777216.0");
  check_f(3.14159265f, "3.1415927");
  check_f(FLT_MAX, "3.4028235e+38");
  check_f(FLT_MIN, "1.1754944e-38");
  check_f(0x1p-149f, "1e-45");  /* smallest denormal */
  check_f(0x1p-148f, "3e-45");
  check_f(0.0f, "0.0");
  check_f(-0.0f, "-0.0");
  check_f(INFINITY, "inf");
  check_f(-INFINITY, "-inf");
  check_f(NAN, "nan");
  check_f(-NAN, "nan");
}

static void test_double_spellings(void **state) {
  (void)state;
  check_d(0.1, "0.1");
  check_d(1.0, "1.0");
  check_d(1.0 / 3.0, "0.3333333333333333");
  check_d((double)0.1f, "0.10000000149011612");
  check_d(DBL_MAX, "1.7976931348623157e+308");
  check_d(0x1p-1074, "5e-324");
  check_d(-0.0, "-0.0");
  check_d(1e300, "1e+300");
  check_d(1e15, "1000000000000000.0");
  check_d(123.456, "123.456");
  check_d(9999999999999998.0, "9999999999999998.0");
  check_d(INFINITY, "inf");
  check_d(-INFINITY, "-inf");
  check_d(NAN, "nan");
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static bool looks_float(const char *s) {
  return strpbrk(s, ".e") || strcmp(s, "inf") == 0 || strcmp(s, "-inf") == 0 || strcmp(s, "nan") == 0;
}

static void test_float_sweep(void **state) {
  (void)state;
  char buf[NUMFMT_BUFSZ];
  for (int i = 0; i < 1000000; i++) {
    uint32_t b = (uint32_t)rng();
    float f;
    memcpy(&f, &b, 4);
    numfmt_float(buf, f);
    assert_true(looks_float(buf));
    assert_true(strlen(buf) <= 19); /* -dddddddddddddddd.0 at worst */
    if (isnan(f)) {
      assert_string_equal(buf, "nan");
      continue;
    }
    float back = strtof(buf, NULL);
    uint32_t bb;
    memcpy(&bb, &back, 4);
    assert_int_equal(bb, b);
  }
}

static void test_double_sweep(void **state) {
  (void)state;
  char buf[NUMFMT_BUFSZ];
  for (int i = 0; i < 100000; i++) {
    uint64_t b = rng();
    double d;
    memcpy(&d, &b, 8);
    numfmt_double(buf, d);
    assert_true(looks_float(buf));
    if (isnan(d)) continue;
    double back = strtod(buf, NULL);
    uint64_t bb;
    memcpy(&bb, &back, 8);
    assert_int_equal(bb, b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float_spellings),
      cmocka_unit_test(test_double_spellings),
      cmocka_unit_test(test_float_sweep),
      cmocka_unit_test(test_double_sweep),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
