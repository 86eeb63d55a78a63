/* The deterministic 1-D k-means of compiler/quant/kmeans.c (used by the
 * split pass) on data whose clusters are known by construction: three
 * separated groups, ties at a boundary, constant data, fewer distinct
 * values than k, and order independence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "quant/kmeans.h"

static void near(double got, double want) {
  if (fabs(got - want) > 1e-12 * fmax(1.0, fabs(want))) fail_msg("got %.17g, want %.17g", got, want);
}

/* Three groups around -10, 0 and 10 (each symmetric, so its mean is the
 * centre), given out of order. */
static void test_three_groups(void **state) {
  (void)state;
  double x[9] = {10, -1, -9, 0, 11, -10, 1, 9, -11}, c[3];
  assert_int_equal(q_kmeans_1d(x, 9, 3, c), 3);
  near(c[0], -10), near(c[1], 0), near(c[2], 10);
  /* Boundaries -5 and 5. */
  assert_int_equal(q_kmeans_1d_group(c, 3, -5.0), 0);
  assert_int_equal(q_kmeans_1d_group(c, 3, -4.9), 1);
  assert_int_equal(q_kmeans_1d_group(c, 3, 4.9), 1);
  assert_int_equal(q_kmeans_1d_group(c, 3, 5.0), 2);
}

/* Lloyd moves the quantile start: {0, 1, 2, 3, 100}, k = 2 starts from
 * chunks {0, 1} and {2, 3, 100} (means 0.5, 35), boundary 17.75, then
 * {0..3} and {100}: centroids 1.5 and 100. */
static void test_lloyd_moves(void **state) {
  (void)state;
  double x[5] = {100, 3, 2, 1, 0}, c[2];
  assert_int_equal(q_kmeans_1d(x, 5, 2, c), 2);
  near(c[0], 1.5), near(c[1], 100);
}

/* A value on a boundary goes to the lower group, except on the last
 * boundary, which belongs to the upper one (W<=t1, t1<W<t2, W>=t2). */
static void test_ties(void **state) {
  (void)state;
  double c[4] = {0, 2, 4, 6};
  assert_int_equal(q_kmeans_1d_group(c, 4, 1.0), 0);
  assert_int_equal(q_kmeans_1d_group(c, 4, 3.0), 1);
  assert_int_equal(q_kmeans_1d_group(c, 4, 5.0), 3);
  assert_int_equal(q_kmeans_1d_group(c, 4, 4.999), 2);
  assert_int_equal(q_kmeans_1d_group(c, 1, 7.0), 0);
  /* Data {0, 1, 1, 2}, k = 2: chunks {0, 1} and {1, 2} have means 0.5 and
   * 1.5, boundary 1, the last one: both 1s go up, {0} and {1, 1, 2}, so
   * the centroids are 0 and 4/3 (boundary 2/3 keeps them). */
  double x[4] = {1, 2, 0, 1}, d[2];
  assert_int_equal(q_kmeans_1d(x, 4, 2, d), 2);
  near(d[0], 0), near(d[1], 4.0 / 3.0);
}

/* Constant data give one cluster; fewer distinct values than k give as
 * many clusters as values; no data, none. */
static void test_degenerate(void **state) {
  (void)state;
  double z[5] = {0, 0, 0, 0, 0}, c[3];
  assert_int_equal(q_kmeans_1d(z, 5, 3, c), 1);
  near(c[0], 0);
  double two[4] = {1, 1, 1, 5};
  assert_int_equal(q_kmeans_1d(two, 4, 3, c), 2);
  near(c[0], 1), near(c[1], 5);
  double one[1] = {-2};
  assert_int_equal(q_kmeans_1d(one, 1, 3, c), 1);
  near(c[0], -2);
  assert_int_equal(q_kmeans_1d(one, 0, 3, c), 0);
}

/* The result depends on the multiset only: the same data in another order,
 * and a second call, give bit-identical centroids. */
static void test_deterministic(void **state) {
  (void)state;
  enum { N = 997 };
  double a[N], b[N], ca[3], cb[3], cc[3];
  uint32_t r = 12345;
  for (int i = 0; i < N; i++) {
    r = r * 1664525u + 1013904223u;
    a[i] = ((double)(r >> 8) / (1 << 24) - 0.5) * ((i % 7) ? 1.0 : 9.0);
  }
  for (int i = 0; i < N; i++) b[i] = a[(i * 389) % N]; /* 389 is prime to 997: a permutation */
  int ma = q_kmeans_1d(a, N, 3, ca), mb = q_kmeans_1d(b, N, 3, cb), mc = q_kmeans_1d(a, N, 3, cc);
  assert_int_equal(ma, 3);
  assert_int_equal(mb, 3);
  assert_int_equal(mc, 3);
  for (int i = 0; i < 3; i++) {
    assert_true(ca[i] == cb[i]);
    assert_true(ca[i] == cc[i]);
  }
  assert_true(ca[0] < ca[1] && ca[1] < ca[2]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_three_groups), cmocka_unit_test(test_lloyd_moves), cmocka_unit_test(test_ties),
      cmocka_unit_test(test_degenerate),   cmocka_unit_test(test_deterministic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
