/* smoothquant's scale rule and the per-layer alpha search (Xiao et al.,
 * "SmoothQuant", ICML 2023; ../shared/ALGORITHMS.md section 1).
 *
 * The pass has statistics, not raw activations, so the search minimizes a
 * proxy of the quantized product's error, not a measured one: with
 * uniform rounding noise (variance step^2/12) on both the smoothed
 * activations and the smoothed weights, the error of x'W' is
 *   sum_j [ da^2/12 * ||W'_j||^2 + E[x_j^2]/s_j^2 * sum_c dw_c^2/12 ]
 * (cross terms vanish for independent noise). It captures the trade-off
 * SmoothQuant makes: a larger alpha narrows the activation range (smaller
 * da) and widens the weight columns (larger dw_c). Documented in
 * docs/passes/smoothquant.md; tested by test/unit/test_smoothquant.c. */
#include <math.h>
#include <stdlib.h>

#include "passes/smoothquant.h"

void sq_scales(int64_t k, const double *a, const double *w, double alpha, double *s) {
  for (int64_t j = 0; j < k; j++) s[j] = pow(fmax(a[j], SQ_CLAMP), alpha) / pow(fmax(w[j], SQ_CLAMP), 1.0 - alpha);
}

void sq_weight_max(int64_t k, int64_t n, const double *b, double *w) {
  for (int64_t j = 0; j < k; j++) {
    double m = 0;
    for (int64_t c = 0; c < n; c++) m = fmax(m, fabs(b[j * n + c]));
    w[j] = m;
  }
}

double sq_proxy_error(int64_t k, int64_t n, const double *b, const double *a, const double *ex2, const double *s) {
  double amax = 0, wsum = 0;
  for (int64_t j = 0; j < k; j++) amax = fmax(amax, a[j] / s[j]);
  double da = amax / 127.0;
  for (int64_t c = 0; c < n; c++) {
    double m = 0;
    for (int64_t j = 0; j < k; j++) m = fmax(m, fabs(s[j] * b[j * n + c]));
    double dw = m / 127.0;
    wsum += dw * dw / 12.0;
  }
  double err = 0;
  for (int64_t j = 0; j < k; j++) {
    double row = 0;
    for (int64_t c = 0; c < n; c++) {
      double v = s[j] * b[j * n + c];
      row += v * v;
    }
    err += da * da / 12.0 * row + ex2[j] / (s[j] * s[j]) * wsum;
  }
  return err;
}

double sq_search_alpha(int64_t k, int64_t n, const double *b, const double *a, const double *ex2,
                       const double *alphas, int nalphas, double *best_err) {
  double *w = malloc((size_t)k * sizeof *w), *s = malloc((size_t)k * sizeof *s);
  sq_weight_max(k, n, b, w);
  double best = alphas[0], best_e = INFINITY;
  for (int i = 0; i < nalphas; i++) {
    sq_scales(k, a, w, alphas[i], s);
    double e = sq_proxy_error(k, n, b, a, ex2, s);
    if (e < best_e) best_e = e, best = alphas[i];
  }
  free(w);
  free(s);
  if (best_err) *best_err = best_e;
  return best;
}
