/* SmoothQuant's scale rule and the alpha-search error proxy
 * (passes/smoothquant_search.c), on cases small enough to derive by hand.
 * The rewrite itself is checked by test/lit/quant/smoothquant*.qir. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "passes/smoothquant.h"

static void near(double got, double want) {
  if (fabs(got - want) > 1e-12 * fmax(1.0, fabs(want))) fail_msg("got %.17g, want %.17g", got, want);
}

/* s_j = a_j^alpha / w_j^(1-alpha), both clamped at 1e-5. */
static void test_scales(void **state) {
  (void)state;
  double a[3] = {8, 1, 0}, w[3] = {2, 4, 4}, s[3];
  sq_scales(3, a, w, 0.5, s);
  near(s[0], 2.0);                  /* sqrt(8/2) */
  near(s[1], 0.5);                  /* sqrt(1/4) */
  near(s[2], sqrt(1e-5) / 2.0);     /* a clamped to 1e-5 */
  sq_scales(3, a, w, 1.0, s);
  near(s[0], 8.0), near(s[1], 1.0), near(s[2], 1e-5);
  sq_scales(3, a, w, 0.0, s);
  near(s[0], 0.5), near(s[1], 0.25), near(s[2], 0.25);
  double wz[1] = {0}, az[1] = {4}, sz[1];
  sq_scales(1, az, wz, 0.5, sz); /* w clamped: sqrt(4) / sqrt(1e-5) */
  near(sz[0], 2.0 / sqrt(1e-5));
}

static void test_weight_max(void **state) {
  (void)state;
  double b[6] = {1, -3, 2, -0.5, 0.25, 0}, w[2];
  sq_weight_max(2, 3, b, w);
  near(w[0], 3.0), near(w[1], 0.5);
}

/* K = N = 2, B = diag(1, 1), a = [4, 1], E[x^2] = [4, 1].
 * s = [1, 1]: da = 4/127; columns dw = [1/127, 1/127];
 *   E = da^2/12 * (1 + 1) + (4 + 1) * 2 * (1/127)^2 / 12
 *     = (32 + 10) / (12 * 127^2) = 42 / 193548.
 * s = [2, 1] (alpha = 0.5: sqrt(4/1) = 2, sqrt(1/1) = 1): x' ranges [2, 1],
 * da = 2/127; W' = diag(2, 1), dw = [2/127, 1/127];
 *   E = (2/127)^2/12 * (4 + 1) + (4/4 + 1/1) * (4 + 1)/(12 * 127^2)
 *     = (20 + 10) / (12 * 127^2) = 30 / 193548: smaller, so the search
 * over {0, 0.5} picks 0.5. */
static void test_proxy_2x2(void **state) {
  (void)state;
  double b[4] = {1, 0, 0, 1}, a[2] = {4, 1}, ex2[2] = {4, 1};
  double one[2] = {1, 1}, two[2] = {2, 1};
  double d = 12.0 * 127 * 127;
  near(sq_proxy_error(2, 2, b, a, ex2, one), 42.0 / d);
  near(sq_proxy_error(2, 2, b, a, ex2, two), 30.0 / d);
  double alphas[2] = {0.0, 0.5}, err;
  /* alpha 0: s = 1 / w = [1, 1], the unsmoothed error. */
  near(sq_search_alpha(2, 2, b, a, ex2, alphas, 2, &err), 0.5);
  near(err, 30.0 / d);
  /* alpha 1: s = a = [4, 1]: x' ranges [1, 1], da = 1/127, W' = diag(4, 1),
   * dw = [4/127, 1/127]: E = (16 + 1 + (4/16 + 1) * 17) / d = 38.25 / d,
   * worse than 0.5 but better than 0. */
  double four[2] = {4, 1};
  near(sq_proxy_error(2, 2, b, a, ex2, four), 38.25 / d);
  double all[3] = {1.0, 0.0, 0.5};
  near(sq_search_alpha(2, 2, b, a, ex2, all, 3, NULL), 0.5);
}

/* Ties keep the first alpha: with a = w = [1, 1] every alpha gives
 * s = [1, 1] and so exactly the same error. */
static void test_tie(void **state) {
  (void)state;
  double b[4] = {1, 0, 0, 1}, a[2] = {1, 1}, ex2[2] = {1, 1};
  double alphas[3] = {0.3, 0.0, 1.0};
  near(sq_search_alpha(2, 2, b, a, ex2, alphas, 3, NULL), 0.3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scales),
      cmocka_unit_test(test_weight_max),
      cmocka_unit_test(test_proxy_2x2),
      cmocka_unit_test(test_tie),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
