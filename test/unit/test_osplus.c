/* Outlier Suppression+'s shift, scale rule and clipping-point search
 * (passes/osplus_search.c), on cases small enough to derive by hand. The
 * rewrite itself is checked by test/lit/quant/osplus*.qir. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "passes/osplus.h"

static void near(double got, double want) {
  if (fabs(got - want) > 1e-12 * fmax(1.0, fabs(want))) fail_msg("got %.17g, want %.17g", got, want);
}

/* z_j = (min_j + max_j) / 2. */
static void test_shift(void **state) {
  (void)state;
  double lo[3] = {-6, 0, -2}, hi[3] = {10, 1, -1}, z[3];
  os_shift(3, lo, hi, z);
  near(z[0], 2.0), near(z[1], 0.5), near(z[2], -1.5);
}

/* s_j = max(1, hi_j/t, lo_j/(-t)): channels narrower than t keep 1. */
static void test_scales(void **state) {
  (void)state;
  double lo[3] = {-8, -0.5, -3}, hi[3] = {8, 0.5, 1}, s[3];
  os_scales(3, lo, hi, 4.0, s);
  near(s[0], 2.0), near(s[1], 1.0), near(s[2], 1.0);
  os_scales(3, lo, hi, 0.25, s);
  near(s[0], 32.0), near(s[1], 2.0), near(s[2], 12.0); /* the wider side decides: 3/0.25 */
  os_scales(3, lo, hi, 1.0, s);
  near(s[2], 3.0);
}

/* K = 2, N = 1, B = [1, 1]^T, shifted ranges +-8 and +-1, E[x~^2] = [64/3,
 * 1/3], steps 3: t in {8, 4.04, 0.08} (T = 8 down to T/100). In units of
 * 1/(12*127^2), with da = max_j(a_j/s_j)/127 and dw = max_j(s_j)/127:
 *   t = 8:    s = [1, 1]:         64*2 + (64/3 + 1/3)              = 149.67
 *   t = 4.04: s = [8/4.04, 1]:    4.04^2 (s0^2 + 1) + 64/3 + s0^2/3 = 102.96
 *   t = 0.08: s = [100, 12.5]:    0.0064*10156.25 + 21.33 + 21.33   = 107.67
 * so t = 4.04 wins: the outlier channel is squeezed, but not to the floor. */
static void test_search(void **state) {
  (void)state;
  double b[2] = {1, 1}, lo[2] = {-8, -1}, hi[2] = {8, 1}, ex2[2] = {64.0 / 3, 1.0 / 3}, s[2], err;
  double t = os_search(2, 1, b, lo, hi, ex2, 3, s, &err);
  near(t, 4.04);
  double s0 = 8 / 4.04;
  near(s[0], s0), near(s[1], 1.0);
  near(err, (4.04 * 4.04 * (s0 * s0 + 1) + 64.0 / 3 + s0 * s0 / 3) / (12.0 * 127 * 127));
  /* Two steps: only T and T/100; T/100 (107.67) beats T (149.67). */
  t = os_search(2, 1, b, lo, hi, ex2, 2, s, &err);
  near(t, 0.08), near(s[0], 100.0), near(s[1], 12.5);
  near(err, (0.0064 * 10156.25 + 64.0 / 3 + 64.0 / 3) / (12.0 * 127 * 127));
}

/* An all-zero activation: nothing to clip, every scale 1, t = 0. */
static void test_zero(void **state) {
  (void)state;
  double b[2] = {1, 2}, lo[2] = {0, 0}, hi[2] = {0, 0}, ex2[2] = {0, 0}, s[2] = {7, 7};
  double t = os_search(2, 1, b, lo, hi, ex2, 100, s, NULL);
  near(t, 0.0), near(s[0], 1.0), near(s[1], 1.0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shift),
      cmocka_unit_test(test_scales),
      cmocka_unit_test(test_search),
      cmocka_unit_test(test_zero),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
