/* SmoothQuant's scale rule and the error proxy its alpha search minimizes
 * (passes/smoothquant_search.c), shared by the pass (passes/smoothquant.c)
 * and its unit test (test/unit/test_smoothquant.c). Math:
 * ../shared/ALGORITHMS.md section 1, docs/passes/smoothquant.md. */
#ifndef QUENCH_PASSES_SMOOTHQUANT_H
#define QUENCH_PASSES_SMOOTHQUANT_H

#include <stdint.h>

/* Lower clamp of the activation and weight maxima (the reference's 1e-5). */
#define SQ_CLAMP 1e-5

/* s_j = max(a_j, 1e-5)^alpha / max(w_j, 1e-5)^(1 - alpha), j < k. */
void sq_scales(int64_t k, const double *a, const double *w, double alpha, double *s);

/* w_j = max_n |b[j*n + c]|: the weight maximum of input channel j over
 * every column of b, a k x n row-major matrix (all consumers side by side). */
void sq_weight_max(int64_t k, int64_t n, const double *b, double *w);

/* The estimated squared output error of the int8 product after smoothing by
 * s (uniform-noise model): per-tensor symmetric activations with step
 * da = max_j(a_j/s_j)/127, per-column symmetric weights with step
 * dw_c = max_j |s_j b_jc|/127,
 *   E = sum_j [ da^2/12 * sum_c (s_j b_jc)^2 + ex2_j/s_j^2 * sum_c dw_c^2/12 ],
 * ex2_j the mean square of activation channel j. */
double sq_proxy_error(int64_t k, int64_t n, const double *b, const double *a, const double *ex2, const double *s);

/* The alpha of alphas[0..nalphas) with the smallest sq_proxy_error (the
 * first on ties); *best_err gets its error when not NULL. */
double sq_search_alpha(int64_t k, int64_t n, const double *b, const double *a, const double *ex2,
                       const double *alphas, int nalphas, double *best_err);

#endif
