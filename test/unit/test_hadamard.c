/* Hadamard matrices, the fast Walsh-Hadamard transform and seeded random
 * orthogonal matrices (compiler/quant/hadamard.c), checked against their
 * definitions: H H^T = n I, H_2 by hand, FWHT = the dense product,
 * refusal of sizes without a stored matrix, Q Q^T = I. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "quant/hadamard.h"

static void near(double got, double want, double tol) {
  if (fabs(got - want) > tol) fail_msg("got %.17g, want %.17g", got, want);
}

/* A A^T = c I, to tol. */
static void check_gram(int64_t n, const double *a, double c, double tol) {
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) {
      double dot = 0;
      for (int64_t k = 0; k < n; k++) dot += a[i * n + k] * a[j * n + k];
      near(dot, i == j ? c : 0.0, tol);
    }
}

static void test_small_by_hand(void **state) {
  (void)state;
  double h1[1], h2[4], h4[16];
  assert_true(q_hadamard(1, h1));
  near(h1[0], 1, 0);
  assert_true(q_hadamard(2, h2));
  double want2[4] = {1, 1, 1, -1};
  for (int i = 0; i < 4; i++) near(h2[i], want2[i], 0);
  /* H_4 = [[H_2, H_2], [H_2, -H_2]]. */
  assert_true(q_hadamard(4, h4));
  double want4[16] = {1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1, -1, 1, -1, -1, 1};
  for (int i = 0; i < 16; i++) near(h4[i], want4[i], 0);
}

static void test_orthogonal(void **state) {
  (void)state;
  for (int64_t n = 1; n <= 256; n *= 2) {
    double *h = malloc((size_t)(n * n) * sizeof *h);
    assert_true(q_hadamard(n, h));
    check_gram(n, h, (double)n, 0); /* integers: exact */
    for (int64_t i = 0; i < n; i++)  /* Sylvester's matrix is symmetric */
      for (int64_t j = 0; j < n; j++) near(h[i * n + j], h[j * n + i], 0);
    free(h);
  }
}

static void test_fwht_is_dense_product(void **state) {
  (void)state;
  for (int64_t n = 1; n <= 64; n *= 2) {
    double *h = malloc((size_t)(n * n) * sizeof *h), *x = malloc((size_t)n * sizeof *x),
           *y = calloc((size_t)n, sizeof *y);
    assert_true(q_hadamard(n, h));
    for (int64_t i = 0; i < n; i++) x[i] = (double)((i * 7) % 11) - 5.0 + 0.25 * (double)i;
    for (int64_t j = 0; j < n; j++)
      for (int64_t k = 0; k < n; k++) y[j] += x[k] * h[k * n + j];
    assert_true(q_fwht(n, x));
    for (int64_t i = 0; i < n; i++) near(x[i], y[i], 1e-12 * (double)n);
    free(h), free(x), free(y);
  }
  double v[4] = {1, 2, 3, 4}; /* by hand: [10, -2, -4, 0] */
  assert_true(q_fwht(4, v));
  near(v[0], 10, 0), near(v[1], -2, 0), near(v[2], -4, 0), near(v[3], 0, 0);
}

static void test_refuses_other_sizes(void **state) {
  (void)state;
  int64_t bad[] = {0, -4, 3, 12, 20, 172, 5632};
  double h[4] = {7, 7, 7, 7}, x[3] = {1, 2, 3};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_false(q_hadamard_supported(bad[i]));
  }
  assert_false(q_hadamard(3, h));
  near(h[0], 7, 0); /* untouched */
  assert_false(q_fwht(3, x));
  near(x[0], 1, 0), near(x[2], 3, 0);
}

static void test_random(void **state) {
  (void)state;
  int64_t sizes[] = {1, 3, 64, 172};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    int64_t n = sizes[s];
    double *q = malloc((size_t)(n * n) * sizeof *q), *q2 = malloc((size_t)(n * n) * sizeof *q2);
    q_random_orthogonal(n, 5, q);
    check_gram(n, q, 1.0, 1e-12);
    q_random_orthogonal(n, 5, q2); /* the same seed gives the same matrix */
    for (int64_t i = 0; i < n * n; i++) near(q2[i], q[i], 0);
    if (n > 1) {
      q_random_orthogonal(n, 6, q2);
      double diff = 0;
      for (int64_t i = 0; i < n * n; i++) diff += fabs(q2[i] - q[i]);
      assert_true(diff > 0.1);
    }
    free(q), free(q2);
  }
  double sg[64];
  q_random_signs(64, 1, sg);
  int neg = 0;
  for (int i = 0; i < 64; i++) {
    assert_true(sg[i] == 1.0 || sg[i] == -1.0);
    neg += sg[i] < 0;
  }
  assert_true(neg > 8 && neg < 56); /* both signs occur */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_small_by_hand),       cmocka_unit_test(test_orthogonal),
      cmocka_unit_test(test_fwht_is_dense_product), cmocka_unit_test(test_refuses_other_sizes),
      cmocka_unit_test(test_random),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
