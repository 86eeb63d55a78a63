/* ONNX Runtime's float orders (interp/ort_numerics.c) on hand-worked cases.
 * Inputs are 2^24 and ones: at 2^24 the f32 spacing is 2, so a lone +1 is a
 * tie that rounds to the even significand and is lost, and each order of
 * additions gives its own sum. Every expected value is derived in the
 * comment above it; the Tanh and Sigmoid values are ONNX Runtime 1.32's
 * outputs. The
 * bit-for-bit comparison with ONNX Runtime itself is ctest ort/numerics. */
#include <math.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "interp/ort_numerics.h"

#define B24 16777216.0f

static void test_eigen_sum_alignment(void **state) {
  (void)state;
  const float x[8] = {1, 1, 1, B24, 1, 1, 1, 1};
  /* aligned: p0 = [1,1,1,2^24] + p1 = [1,1,1,1] -> [2,2,2,2^24] (the +1
   * lost); folded (2 + 2) + (2 + 2^24) = 4 + (2^24 + 2) = 2^24 + 6. */
  assert_true(ortnum_eigen_sum(x, 8, 0) == 16777222.0f);
  /* offset 1: the body starts at x[3]: one packet [2^24,1,1,1], folded
   * (2^24 + 1) + (1 + 1) = 2^24 + 2; then the head x[0..2] one by one:
   * 2^24 + 3 -> 2^24 + 4 (tie, even), +1 and +1 lost; then the tail x[7]:
   * lost. */
  assert_true(ortnum_eigen_sum(x, 8, 1) == 16777220.0f);
  /* offset 5 is offset 1 again (only the position modulo 4 counts). */
  assert_true(ortnum_eigen_sum(x, 8, 5) == 16777220.0f);
}

static void test_eigen_sum_short(void **state) {
  (void)state;
  const float x[3] = {B24, 1, 1};
  /* no whole packet: a left fold, every +1 lost. */
  assert_true(ortnum_eigen_sum(x, 3, 0) == B24);
  /* 4 elements starting at offset 2: the body would start at x[2] with
   * only 2 left, so a left fold too. */
  const float y[4] = {B24, 1, 1, 1};
  assert_true(ortnum_eigen_sum(y, 4, 2) == B24);
  assert_true(ortnum_eigen_sum(y, 0, 0) == 0.0f);
}

static void test_reduce_patterns(void **state) {
  (void)state;
  /* [2, 7, 2], column 0 of each outer block is [2^24, 1 x 6], column 1 all
   * ones, reduced over axis 1: groups of rows 0-3 (2^24), 4-5 (2) -> 2^24 + 2,
   * then row 6: 2^24 + 3 -> 2^24 + 4. Column 1: 4 + 2 + 1 = 7. */
  float x[28], y[4];
  for (int i = 0; i < 28; i++) x[i] = 1;
  x[0] = x[14] = B24;
  const int64_t d3[3] = {2, 7, 2};
  const bool mid[3] = {false, true, false};
  assert_true(ortnum_reduce_sum(x, 3, d3, mid, false, y));
  assert_true(y[0] == 16777220.0f && y[1] == 7.0f && y[2] == 16777220.0f && y[3] == 7.0f);
  /* The same 7 x 2 block reduced over its leading axis: row 0, then each
   * row added: every +1 of column 0 lost. */
  const int64_t d2[2] = {7, 2};
  const bool lead[2] = {true, false};
  assert_true(ortnum_reduce_sum(x, 2, d2, lead, false, y));
  assert_true(y[0] == B24 && y[1] == 7.0f);
  /* Rows of 14 (axes 1 and 2 of [2, 7, 2]), each [2^24, 1 x 13].
   * Row 0 starts on a boundary: p0 = [2^24,1,1,1] + p1 = [1,1,1,1] ->
   * [2^24,2,2,2], + the packet x[8..11] -> [2^24,3,3,3]; folded
   * (2^24 + 3 -> 2^24 + 4) + (3 + 3) = 2^24 + 10; the tail x[12], x[13]:
   * 2^24 + 11 -> 2^24 + 12 (tie, even), 2^24 + 13 -> 2^24 + 12 (tie, even).
   * Row 1 starts at element 14, two past a boundary: the body x[16..27] (12
   * ones) sums to 12, then the head x[14], x[15]: 2^24 + 12, then 2^24 + 13
   * -> 2^24 + 12. ReduceMean divides that float by 14 in float. */
  const bool rows[3] = {false, true, true};
  assert_true(ortnum_reduce_sum(x, 3, d3, rows, false, y));
  assert_true(y[0] == 16777228.0f && y[1] == 16777228.0f);
  assert_true(ortnum_reduce_sum(x, 3, d3, rows, true, y));
  assert_true(y[0] == 16777228.0f / 14.0f);
}

static void test_reduce_refused(void **state) {
  (void)state;
  float x[8] = {0}, y[8];
  /* axes 0 and 2 with a kept axis of 2 between them: not one block. */
  const int64_t d[3] = {2, 2, 2};
  const bool gap[3] = {true, false, true};
  assert_false(ortnum_reduce_sum(x, 3, d, gap, false, y));
  /* an empty reduced axis keeps the exact path's identities. */
  const int64_t e[2] = {3, 0};
  const bool last[2] = {false, true};
  assert_false(ortnum_reduce_sum(x, 2, e, last, true, y));
}

static void test_tanh(void **state) {
  (void)state;
  /* ONNX Runtime 1.32 (CPU, x86-64): one ulp from the correctly rounded
   * 0.635148942, 0.905148268, 0.995054781. */
  assert_true(ortnum_tanh(0.75f) == 0.635149002f);
  assert_true(ortnum_tanh(1.5f) == 0.905148208f);
  assert_true(ortnum_tanh(3.0f) == 0.995054722f);
  assert_true(ortnum_tanh(-3.0f) == -0.995054722f);
  /* ONNX Runtime: tanh(9), tanh(20), tanh(+-inf) = +-1; NaN stays NaN;
   * the sign of zero is kept. */
  assert_true(ortnum_tanh(9.0f) == 1.0f && ortnum_tanh(20.0f) == 1.0f);
  assert_true(ortnum_tanh(INFINITY) == 1.0f && ortnum_tanh(-INFINITY) == -1.0f);
  assert_true(isnan(ortnum_tanh(NAN)));
  assert_true(ortnum_tanh(-0.0f) == 0.0f && signbit(ortnum_tanh(-0.0f)));
}

static void test_sigmoid(void **state) {
  (void)state;
  /* ONNX Runtime 1.32 (CPU, x86-64); the correctly rounded values are
   * 0.562176526, 0.0474258736, 1 and 4.13993746e-08: MLAS is 1-2 ulps off,
   * overshoots 1 near the clamp and is far off (in relative terms) for tiny
   * outputs. */
  assert_true(ortnum_sigmoid(0.25f) == 0.562176466f);
  assert_true(ortnum_sigmoid(-3.0f) == 0.0474258661f);
  float big = ortnum_sigmoid(17.844f);
  uint32_t bits;
  memcpy(&bits, &big, sizeof bits);
  assert_int_equal(bits, 0x3f800001u);
  assert_true(ortnum_sigmoid(-17.0f) == 8.94069672e-08f);
  /* Clamped at -18: the polynomial's value there is below 0, clamped to 0. */
  assert_true(ortnum_sigmoid(-20.0f) == 0.0f && ortnum_sigmoid(-INFINITY) == 0.0f);
  assert_true(ortnum_sigmoid(INFINITY) == 1.0f && ortnum_sigmoid(0.0f) == 0.5f);
  assert_true(isnan(ortnum_sigmoid(NAN)));
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_eigen_sum_alignment), cmocka_unit_test(test_eigen_sum_short),
                                     cmocka_unit_test(test_reduce_patterns), cmocka_unit_test(test_reduce_refused),
                                     cmocka_unit_test(test_tanh), cmocka_unit_test(test_sigmoid)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
