/* osplus's channel shift, scale rule and clipping-point search (Wei et
 * al., "Outlier Suppression+: Accurate quantization of large language
 * models by equivalent and optimal shifting and scaling", EMNLP 2023;
 * ModelTC/Outlier_Suppression_Plus migration.py; ../shared/ALGORITHMS.md
 * section 2).
 *
 * The reference searches t on raw activation samples, measuring
 * ||Q(X~/s) Q(diag(s)B) - X~B||^2. The pass has statistics, not samples, so
 * it minimizes smoothquant's uniform-noise proxy of that error
 * (sq_proxy_error in passes/smoothquant_search.c) on the shifted ranges.
 * Documented in docs/passes/osplus.md; tested by test/unit/test_osplus.c. */
#include <math.h>
#include <stdlib.h>

#include "passes/osplus.h"
#include "passes/smoothquant.h"

void os_shift(int64_t k, const double *lo, const double *hi, double *z) {
  for (int64_t j = 0; j < k; j++) z[j] = (lo[j] + hi[j]) / 2.0;
}

void os_scales(int64_t k, const double *lo, const double *hi, double t, double *s) {
  for (int64_t j = 0; j < k; j++) s[j] = fmax(1.0, fmax(hi[j] / t, lo[j] / -t));
}

double os_search(int64_t k, int64_t n, const double *b, const double *lo, const double *hi, const double *ex2,
                 int steps, double *s, double *best_err) {
  double *a = malloc((size_t)k * sizeof *a), *cand = malloc((size_t)k * sizeof *cand);
  double big = 0;
  for (int64_t j = 0; j < k; j++) {
    a[j] = fmax(fabs(lo[j]), fabs(hi[j]));
    big = fmax(big, a[j]);
  }
  double best_t = 0, best_e = INFINITY;
  for (int64_t j = 0; j < k; j++) s[j] = 1.0;
  if (big > 0) {
    double lowest = big * OS_FLOOR;
    for (int i = 0; i < steps; i++) {
      double t = big - (big - lowest) * i / (steps - 1);
      os_scales(k, lo, hi, t, cand);
      double e = sq_proxy_error(k, n, b, a, ex2, cand);
      if (e < best_e) {
        best_e = e, best_t = t;
        for (int64_t j = 0; j < k; j++) s[j] = cand[j];
      }
    }
  } else {
    best_e = sq_proxy_error(k, n, b, a, ex2, s);
  }
  free(a);
  free(cand);
  if (best_err) *best_err = best_e;
  return best_t;
}
